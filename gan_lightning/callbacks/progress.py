"""ProgressBar: Lightning's TQDM bar showing the GAN's losses without a host sync.

A value logged with ``prog_bar=True`` is turned into a Python number after every batch (by
Lightning's logger connector, whether or not the bar redraws), and a number read from a device
tensor is a host-device sync: the one thing a fast training step must not have. So the GAN
modules log without ``prog_bar`` and this bar shows the module's `training_log.last_window` instead: the means
of the last log step, already plain Python numbers. It redraws every `trainer.log_every_n_steps`
batches (and at the end of each epoch), when those values change. The CLI uses it in place of
Lightning's default bar.
"""

from __future__ import annotations

from typing import Any

import lightning as L
from lightning.pytorch.callbacks import TQDMProgressBar


class ProgressBar(TQDMProgressBar):
    """`TQDMProgressBar` whose refresh rate follows `trainer.log_every_n_steps` unless given.

    Args:
        refresh_rate: redraw every N batches; ``None`` (default): every `log_every_n_steps` batches.
        process_position, leave: as in `TQDMProgressBar`.

    Raises:
        ValueError: `refresh_rate` is not a positive integer or None.
    """

    def __init__(self, refresh_rate: int | None = None, process_position: int = 0, leave: bool = False) -> None:
        if refresh_rate is not None and (isinstance(refresh_rate, bool) or not isinstance(refresh_rate, int)
                                         or refresh_rate <= 0):  # fmt: skip
            raise ValueError(f"refresh_rate must be a positive integer or None, got {refresh_rate!r}")
        super().__init__(refresh_rate=refresh_rate or 1, process_position=process_position, leave=leave)
        self._follows_logging = refresh_rate is None
        self._log_every: int | None = None  # trainer.log_every_n_steps, known from `setup` on

    def setup(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        super().setup(trainer, pl_module, stage)
        self._log_every = trainer.log_every_n_steps

    @property
    def refresh_rate(self) -> int:
        if self._follows_logging and self._log_every is not None:
            return max(1, self._log_every)
        return super().refresh_rate

    def get_metrics(self, trainer: L.Trainer, pl_module: L.LightningModule) -> dict[str, Any]:
        items = super().get_metrics(trainer, pl_module)
        # {"step": int, "train/d_loss": float, ...} (the GAN modules' `training_log`)
        window = getattr(getattr(pl_module, "training_log", None), "last_window", None) or {}
        items.update({key.removeprefix("train/"): value for key, value in window.items() if key != "step"})
        return items
