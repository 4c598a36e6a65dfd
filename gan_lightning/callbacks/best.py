"""BestCheckpoint: Lightning's `ModelCheckpoint` on a validation metric, which stands down (said once,
at the start) when the model computes no such metric instead of failing at the first validation.

Why: `model.init_args.metrics: false` is a documented switch (it saves validation time), and a plain
`ModelCheckpoint(monitor='val/fid')` ends such a run at its first validation with a Lightning traceback.
`last.ckpt` (the other checkpoint callback) is unaffected either way.
"""

from __future__ import annotations

from typing import Any

import lightning as L
from lightning.pytorch.callbacks import ModelCheckpoint
from lightning.pytorch.utilities import rank_zero_info


class BestCheckpoint(ModelCheckpoint):
    """`ModelCheckpoint` (same arguments) whose `monitor` is a ``val/...`` metric of the model's
    validation metrics; without them (``metrics: false``) it writes nothing and says so once."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.standing_down = False

    def setup(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        super().setup(trainer, pl_module, stage)
        hparams = getattr(pl_module, "hparams", {})
        self.standing_down = bool(self.monitor and self.monitor.startswith("val/") and hparams.get("metrics") is False)
        if self.standing_down and stage == "fit":
            rank_zero_info(
                f"no best-checkpoint on {self.monitor}: the model computes no validation metrics "
                "(model.init_args.metrics is false); last.ckpt is still written"
            )

    def _save_topk_checkpoint(self, trainer: L.Trainer, monitor_candidates: dict) -> None:
        if not self.standing_down:
            super()._save_topk_checkpoint(trainer, monitor_candidates)
