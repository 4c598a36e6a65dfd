"""SampleWriter: what `gan-lightning predict` does with the model's samples, the way `generate` writes them.

The predict batches (`MNISTDataModule.predict_dataloader`) carry an index per sample; the writer
collects every batch, gathers them from all ranks, puts them back in index order and, on rank
zero, writes a PNG grid (one row per digit for a conditional model) and an NPZ file with `images`
(N, C, H, W) float32 in [-1, 1] and `labels` (N,) through `gan_lightning.sampling.images.write_output`.
The CLI adds one to every `predict` run that has no prediction writer of its own.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import lightning as L
import torch
import torch.distributed as dist
from lightning.pytorch.callbacks import BasePredictionWriter

from gan_lightning.callbacks.sinks import run_dir
from gan_lightning.reliability.runs import fresh_path
from gan_lightning.sampling.images import check_out, write_output


class SampleWriter(BasePredictionWriter):
    """Write the samples of `trainer.predict` as a PNG grid and/or an NPZ file.

    Args:
        out: a file ending in ``.png`` or ``.npz``; ``None``: both, as ``predictions/samples.png``
            and ``predictions/samples.npz`` in the run folder (next free name, nothing overwritten).
        nrow: images per PNG row (default: the images per digit, or sqrt(N) for an unconditional model).
        overwrite: replace `out` if it exists (otherwise an existing `out` is an error before predicting).

    Raises:
        ValueError: `out` with another suffix, an existing `out` without `overwrite`, or a bad `nrow`.
    """

    def __init__(self, out: str | None = None, nrow: int | None = None, overwrite: bool = False) -> None:
        super().__init__(write_interval="batch")
        if out is not None:
            check_out(Path(out), overwrite, argument="SampleWriter out")
        if nrow is not None and (isinstance(nrow, bool) or not isinstance(nrow, int) or nrow <= 0):
            raise ValueError(f"SampleWriter nrow must be a positive integer, got {nrow!r}")
        self.out, self.nrow, self.overwrite = out, nrow, overwrite
        self.written: list[Path] = []
        self._parts: list[dict[str, torch.Tensor]] = []

    def on_predict_epoch_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._parts = []

    def write_on_batch_end(self, trainer, pl_module, prediction: dict, batch_indices, batch, batch_idx, dl_idx) -> None:
        self._parts.append({key: value.detach().cpu() for key, value in prediction.items()})

    def on_predict_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        parts = self._gather(trainer)
        self._parts = []
        if not trainer.is_global_zero or not parts:
            return
        index = torch.cat([p["index"] for p in parts])
        images, labels = torch.cat([p["images"] for p in parts]), torch.cat([p["labels"] for p in parts])
        order = _unique_order(index)  # samplers pad the last rank with repeats
        images, labels = images[order], labels[order]  # (N, C, H, W), (N,)
        conditional = bool(getattr(pl_module, "conditional", False))
        nrow = self.nrow or (_per_digit(labels) if conditional else math.ceil(math.sqrt(len(labels))))
        if self.out is not None:
            targets = [Path(self.out)]
        else:
            folder = run_dir(trainer) / "predictions"
            folder.mkdir(parents=True, exist_ok=True)
            targets = [fresh_path(folder / "samples.png"), fresh_path(folder / "samples.npz")]
        for path in targets:
            write_output(images, labels, path, nrow, overwrite=self.overwrite)
        self.written = targets
        what = f"digits {sorted(set(labels.tolist()))}" if conditional else "unconditional"
        print(f"wrote {len(labels)} images ({what}) to {', '.join(map(str, targets))}")

    def _gather(self, trainer: L.Trainer) -> list[dict[str, torch.Tensor]]:
        if trainer.world_size == 1 or not dist.is_available() or not dist.is_initialized():
            return self._parts
        gathered: list[Any] = [None] * trainer.world_size
        dist.all_gather_object(gathered, self._parts)  # every rank's batches (a few hundred small images)
        return [part for rank_parts in gathered for part in rank_parts]


def _unique_order(index: torch.Tensor) -> torch.Tensor:
    """Positions that put `index` in ascending order, one per distinct index."""
    order = torch.argsort(index, stable=True)
    keep = torch.ones(len(order), dtype=torch.bool)
    keep[1:] = index[order][1:] != index[order][:-1]
    return order[keep]


def _per_digit(labels: torch.Tensor) -> int:
    return int(torch.bincount(labels[labels >= 0]).max().item()) if (labels >= 0).any() else len(labels)
