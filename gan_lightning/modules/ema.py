"""Exponential moving average of the generator's weights (a frozen copy, saved with the model).

GAN generators oscillate around good solutions; the average of their recent weights draws
cleaner, more stable digits than the last iterate (Yazici et al. 2019, "The Unusual
Effectiveness of Averaging in GAN Training"; used by ProGAN, StyleGAN and BigGAN).

torch's `AveragedModel` does the bookkeeping (a deep copy, `n_averaged`, parameters and BatchNorm
buffers averaged together). The decay warms up as min(decay, (1 + n) / (10 + n)) over the first
updates, so an early, random generator is forgotten quickly instead of lingering for 1 / (1 - decay)
steps.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.optim.swa_utils import AveragedModel


class ExponentialMovingAverage(AveragedModel):
    """`AveragedModel` with an EMA update and frozen parameters.

    Args:
        module: what to average (here the generator and its label encoder, as a `nn.ModuleDict`).
        decay: weight of the old average per update, in (0, 1).
    """

    def __init__(self, module: nn.Module, decay: float) -> None:
        if isinstance(decay, bool) or not isinstance(decay, (int, float)) or not 0.0 < decay < 1.0:
            raise ValueError(f"ema_decay must be a number in (0, 1) (e.g. 0.999) or None, got {decay!r}")
        super().__init__(module, multi_avg_fn=self._lerp, use_buffers=True)
        self.decay = float(decay)
        # Only updated by `update`, never by an optimizer; frozen so DDP and toggling ignore it. It
        # never runs a training forward: `GAN.decode` samples from it in eval mode.
        self.module.requires_grad_(False)

    def current_decay(self) -> float:
        n = int(self.n_averaged.item())
        return min(self.decay, (1.0 + n) / (10.0 + n))

    @torch.no_grad()
    def _lerp(self, averaged: list[torch.Tensor], current: list[torch.Tensor], n_averaged: torch.Tensor) -> None:
        weight = 1.0 - self.current_decay()
        if torch.is_floating_point(averaged[0]):
            torch._foreach_lerp_(averaged, current, weight)
        else:  # integer buffers (BatchNorm's num_batches_tracked): follow the live model
            for a, c in zip(averaged, current, strict=True):
                a.copy_(c)

    def update(self, module: nn.Module) -> None:
        """Fold `module`'s current weights (same structure as the copy) into the average."""
        self.update_parameters(module)
