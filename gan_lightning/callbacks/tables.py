"""SampleTable: at every validation, a W&B table of samples with what the MNIST classifier reads in them.

A grid shows how samples look; the table says whether they are the digits they should be: one row
per sample with the digit asked for (conditional models), the image, the classifier's reading and
its confidence. W&B can sort and filter it (e.g. the wrong or unsure ones) and compare it across
steps. The samples come from fixed noise (`seed`), so rows of successive tables are the same inputs.

Rank zero only; a run without a W&B logger logs nothing (one info line says so).
"""

from __future__ import annotations

from typing import Any

import lightning as L
import torch
from lightning.pytorch.callbacks import Callback
from lightning.pytorch.loggers import WandbLogger
from lightning.pytorch.utilities import rank_zero_info

from gan_lightning.callbacks.sinks import logging_step, to_uint8
from gan_lightning.metrics.classifier import load_classifier, to_classifier_input

COLUMNS = ["asked", "sample", "reads_as", "confidence"]


class SampleTable(Callback):
    """Log a ``wandb.Table`` of samples at the end of every validation (not the sanity check).

    Args:
        per_digit: samples per digit (a conditional model), or `per_digit` x classes samples (an
            unconditional one, rows ordered by the classifier's reading).
        seed: seed of the fixed noise.
        key: the table's name in W&B.

    Raises:
        ValueError: `per_digit` is not a positive integer.
    """

    def __init__(self, per_digit: int = 4, seed: int = 0, key: str = "samples/table") -> None:
        if isinstance(per_digit, bool) or not isinstance(per_digit, int) or per_digit <= 0:
            raise ValueError(f"SampleTable per_digit must be a positive integer, got {per_digit!r}")
        self.per_digit, self.seed, self.key = per_digit, seed, key
        self._classifier: torch.nn.Module | None = None

    def setup(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        if stage in ("fit", "validate") and not _wandb_loggers(trainer):
            rank_zero_info("SampleTable: this run has no W&B logger, so it logs no sample tables")

    def on_validation_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        loggers = _wandb_loggers(trainer)
        if trainer.sanity_checking or not trainer.is_global_zero or not loggers:
            return
        rows = self.rows(pl_module)
        for logger in loggers:
            logger.log_table(self.key, columns=COLUMNS, data=rows, step=logging_step(trainer))

    @torch.no_grad()
    def rows(self, pl_module: L.LightningModule) -> list[list[Any]]:
        """The table's rows: [digit asked (None: unconditional), wandb.Image, digit read, confidence]."""
        import wandb

        device, classes = pl_module.device, pl_module.hparams.num_classes
        generator = torch.Generator(device=device).manual_seed(self.seed)
        labels = None
        if getattr(pl_module, "conditional", False):
            labels = torch.arange(classes, device=device).repeat_interleave(self.per_digit)  # (classes * k,)
        z = pl_module.sample_z(classes * self.per_digit, generator)  # (N, latent_dim)
        images = pl_module.decode(z.to(pl_module.dtype), labels).float()  # (N, C, H, W) in [-1, 1]
        if self._classifier is None:
            self._classifier = load_classifier()
        classifier = self._classifier.to(device)
        with torch.autocast(device.type, enabled=False):  # fp32 whatever the trainer's precision
            probs = classifier(to_classifier_input(images)).softmax(1)  # (N, 10)
        confidence, reading = probs.max(1)
        order = range(len(images)) if labels is not None else reading.argsort(stable=True).tolist()
        rows = []
        for i in order:
            pixels = to_uint8(images[i].add(1).div(2).expand(3, -1, -1).cpu())  # (H, W, 3)
            asked = int(labels[i]) if labels is not None else None
            rows.append([asked, wandb.Image(pixels[..., 0]), int(reading[i]), round(float(confidence[i]), 4)])
        return rows


def _wandb_loggers(trainer: L.Trainer) -> list[WandbLogger]:
    return [logger for logger in trainer.loggers if isinstance(logger, WandbLogger)]
