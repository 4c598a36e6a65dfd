"""Exponential moving average of the generator's weights (a frozen copy, saved with the model).

GAN generators oscillate around good solutions; the average of their recent weights draws
cleaner, more stable digits than the last iterate (Yazici et al. 2019, "The Unusual
Effectiveness of Averaging in GAN Training"; used by ProGAN, StyleGAN and BigGAN).

The decay warms up as min(decay, (1 + n) / (10 + n)) over the first updates, so an early, random
generator is forgotten quickly instead of lingering for 1 / (1 - decay) steps.

It runs after every generator step, so it is written for the hot path: the parameter and buffer
lists are gathered once, an update is one `_foreach_lerp_` over all floating-point tensors, and
the update count lives on the host (torch's `AveragedModel` reads its count tensor with
`n_averaged == 0` every update: a host-device sync). The state_dict layout is `AveragedModel`'s
(`n_averaged`, `module.*`), so checkpoints from either load in the other.
"""

from __future__ import annotations

import copy

import torch
from torch import nn


class ExponentialMovingAverage(nn.Module):
    """A frozen copy of `module` whose weights (parameters and buffers) follow an EMA of the live ones.

    Args:
        module: what to average (the generator and its label encoder, as a `nn.ModuleDict`).
        decay: weight of the old average per update, in (0, 1).

    Raises:
        ValueError: `decay` is not a number in (0, 1).
    """

    def __init__(self, module: nn.Module, decay: float) -> None:
        if isinstance(decay, bool) or not isinstance(decay, (int, float)) or not 0.0 < decay < 1.0:
            raise ValueError(f"ema_decay must be a number in (0, 1) (e.g. 0.999) or None, got {decay!r}")
        super().__init__()
        # Only updated by `update`, never by an optimizer; frozen so DDP and optimizers ignore it. It
        # never runs a training forward: `GAN.decode` samples from it in eval mode.
        self.module = copy.deepcopy(module).requires_grad_(False)
        self._live = [module]  # the live modules (a list: not a registered submodule, not in state_dict)
        self.register_buffer("n_averaged", torch.zeros((), dtype=torch.long))
        self.decay = float(decay)
        self._count: int | None = 0  # host copy of n_averaged; None: read it on the next update
        self._pairs: tuple[list, list, list, list] | None = None  # (avg float, live float, avg int, live int)
        self.register_load_state_dict_post_hook(_forget_host_state_after_load)

    def _forget_host_state(self) -> None:
        self._count = None

    def _apply(self, fn, recurse: bool = True):
        # .to() / .cuda() replace buffer tensors: the cached lists would point at the old ones.
        self._pairs = None
        return super()._apply(fn, recurse)

    def forward(self, *args, **kwargs):
        return self.module(*args, **kwargs)

    def count(self) -> int:
        if self._count is None:  # once after loading a checkpoint
            self._count = int(self.n_averaged)
        return self._count

    def current_decay(self) -> float:
        n = self.count()
        return min(self.decay, (1.0 + n) / (10.0 + n))

    def _tensor_pairs(self) -> tuple[list, list, list, list]:
        # Rebuilt after a move: parameters keep their identity across .to(), buffers do not.
        if self._pairs is None or self._pairs[0][0].device != self._pairs[1][0].device:
            live = self._live[0]
            pairs: tuple[list, list, list, list] = ([], [], [], [])
            mine = [*self.module.parameters(), *self.module.buffers()]
            theirs = [*live.parameters(), *live.buffers()]
            for a, c in zip(mine, theirs, strict=True):  # same order: `module` is a deep copy of `live`
                k = 0 if torch.is_floating_point(a) else 2  # integer buffers (BatchNorm's num_batches_tracked)
                pairs[k].append(a)
                pairs[k + 1].append(c)  # the tensor itself, not a view: it follows a parameter's moves
            self._pairs = pairs
        return self._pairs

    @torch.no_grad()
    def update(self, module: nn.Module | None = None) -> None:
        """Fold the live modules' current weights into the average (`module`: another live copy of the
        same structure, from now on). No host sync."""
        if module is not None and module is not self._live[0]:
            self._live, self._pairs = [module], None
        avg_f, live_f, avg_i, live_i = self._tensor_pairs()
        if self.count() == 0:
            torch._foreach_copy_(avg_f, live_f)  # the first update takes the weights as they are
        else:
            torch._foreach_lerp_(avg_f, live_f, 1.0 - self.current_decay())
        if avg_i:
            torch._foreach_copy_(avg_i, live_i)  # integer buffers follow the live model
        self.n_averaged.add_(1)
        self._count = self.count() + 1


def _forget_host_state_after_load(module: ExponentialMovingAverage, incompatible_keys) -> None:
    # A module-level function, not a lambda: the module must pickle (ddp_spawn sends it to its processes).
    module._forget_host_state()
