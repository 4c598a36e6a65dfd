"""SampleQuality: what a GAN LightningModule's validation hooks do with `GANMetrics`.

Each validation epoch: the val loader's real test digits go to the real side (first complete
epoch only: their features never change, so they are cached for the run), the model draws as
many samples as real digits it saw (a conditional model gets the real batch's labels, so the
samples' digit mix matches the test split), and the epoch ends with every metric reduced over
DDP ranks. The sampling noise comes from its own seeded generator, reset each epoch: every
validation scores the same noise, and the training RNG stream is the same with metrics on or off.

Deliberately not an nn.Module: the classifier's weights stay out of the model's checkpoints.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import torch

from gan_lightning.metrics.gan_metrics import GANMetrics

VALIDATION_KID_SUBSETS = 10


class SampleQuality:
    """Validation-time metrics for a GAN module.

    Args:
        conditional: the module takes labels (``class_acc`` is measured).
        max_samples: at most this many real digits (and as many samples) per validation, over
            all ranks; ``None``: everything the val loader serves.
        inception_weights: optional FID Inception weights file (adds ``fid_inception``).
        seed: seed of the sampling noise (rank r uses seed + r).
        stage: ``"validation"`` or ``"test"``, named in the warning when too few digits were seen.
        prd: add precision, recall, density and coverage (`gan_lightning.metrics.prd`).
        kid_subsets: how many random subsets of 1,000 KID averages over. Validation takes
            `VALIDATION_KID_SUBSETS`: its KID is a curve to watch, and ten subsets cost a seventh of
            a hundred at nearly the same spread (docs/metrics.md); `test` and `evaluate` keep 100.
    """

    def __init__(
        self,
        conditional: bool,
        max_samples: int | None = None,
        inception_weights: str | None = None,
        seed: int = 0,
        stage: str = "validation",
        prd: bool = False,
        kid_subsets: int = 100,
    ) -> None:
        self.conditional, self.max_samples = conditional, max_samples
        self.inception_weights, self.seed, self.stage = inception_weights, seed, stage
        self.prd, self.kid_subsets = prd, kid_subsets
        self.metrics: GANMetrics | None = None  # built at the first validation, not at model construction
        self.real_cached = False
        self._noise: torch.Generator | None = None
        self._seen = 0

    def _rank_limit(self, module: Any) -> float:
        if self.max_samples is None:
            return math.inf
        return math.ceil(self.max_samples / module.trainer.world_size)

    def start(self, module: Any) -> None:
        if self.metrics is None:
            self.metrics = GANMetrics(
                self.conditional,
                inception_weights=self.inception_weights,
                kid_subsets=self.kid_subsets,
                seed=self.seed,
                prd=self.prd,
            )
        self.metrics.to(module.device)
        self.metrics.reset_fake()
        self._noise = torch.Generator(device=module.device).manual_seed(self.seed + module.global_rank)
        self._seen = 0

    def step(self, module: Any, batch: tuple[torch.Tensor, torch.Tensor]) -> None:
        real, labels = batch  # (B, C, H, W) in [-1, 1], (B,)
        take = int(min(len(real), self._rank_limit(module) - self._seen))
        if take <= 0:
            return
        real, labels = real[:take], labels[:take]
        self._seen += take
        if not self.real_cached:
            self.metrics.update_real(real, labels)
        cond = labels if self.conditional else None
        fake = module.decode(module.sample_z(take, generator=self._noise), cond)  # (take, C, H, W)
        self.metrics.update_fake(fake, cond)

    def end(self, module: Any) -> dict[str, float]:
        """The epoch's metrics (empty when too few digits were seen); every rank must call it."""
        try:
            values = self.metrics.compute()
        except ValueError as err:
            warnings.warn(f"{self.stage} metrics skipped: {err}", stacklevel=2)
            values = {}
        if module.trainer.sanity_checking:
            self.metrics.reset()  # a sanity check sees a few batches: do not cache those as the real side
        else:
            self.real_cached = True
        self.metrics.reset_fake()
        return {k: v for k, v in values.items() if k not in ("n_real", "n_fake")}
