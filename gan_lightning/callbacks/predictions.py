"""SampleWriter: what `gan-lightning predict` does with the model's samples, the way `generate` writes them.

The predict batches (`MNISTDataModule.predict_dataloader`, `sampling.chunked.NoisePieces`) are pieces
of one seeded draw, dealt out to the processes so that each batch step of all of them covers
consecutive images. At every batch the writer gathers the step's pieces on rank zero and adds them,
in order, to a PNG grid (one row per digit for a conditional model) and an NPZ file with `images`
(N, C, H, W) float32 in [-1, 1] and `labels` (N,) (`sampling.images.PieceWriter`): the NPZ is written
as the pieces arrive and the grid keeps only their pixels, so no process holds all the images, and
an interrupted predict leaves no file. The CLI adds one to every `predict` run that has no
prediction writer of its own (and then keeps no predictions in memory: `return_predictions` false).
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
from gan_lightning.sampling.images import PieceWriter, check_out


class SampleWriter(BasePredictionWriter):
    """Write the samples of `trainer.predict` as a PNG grid and/or an NPZ file.

    Args:
        out: a file ending in ``.png`` or ``.npz``; ``None``: both, as ``predictions/samples.png``
            and ``predictions/samples.npz`` in the run folder (next free name, nothing overwritten).
        nrow: images per PNG row (default: the images per digit, or sqrt(N) for an unconditional model).
        overwrite: replace `out` if it exists (otherwise an existing `out` is an error before predicting).

    Raises:
        ValueError: `out` with another suffix, an existing `out` without `overwrite`, or a bad `nrow`.
        RuntimeError: predict batches that are not `MNISTDataModule.predict_dataloader`'s.
    """

    def __init__(self, out: str | None = None, nrow: int | None = None, overwrite: bool = False) -> None:
        super().__init__(write_interval="batch")
        if out is not None:
            check_out(Path(out), overwrite, argument="SampleWriter out")
        if nrow is not None and (isinstance(nrow, bool) or not isinstance(nrow, int) or nrow <= 0):
            raise ValueError(f"SampleWriter nrow must be a positive integer, got {nrow!r}")
        self.out, self.nrow, self.overwrite = out, nrow, overwrite
        self.written: list[Path] = []
        self._files: list[PieceWriter] = []  # rank zero's open outputs during a predict

    def on_predict_epoch_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._files, self.written = [], []
        if not trainer.is_global_zero:
            return
        labels = _all_labels(trainer)  # (N,) every process's, in index order
        conditional = bool(getattr(pl_module, "conditional", False))
        nrow = self.nrow or (_per_digit(labels) if conditional else math.ceil(math.sqrt(len(labels))))
        if self.out is not None:
            targets = [Path(self.out)]
        else:
            folder = run_dir(trainer) / "predictions"
            folder.mkdir(parents=True, exist_ok=True)
            targets = [fresh_path(folder / "samples.png"), fresh_path(folder / "samples.npz")]
        self._files = [PieceWriter(path, len(labels), nrow, self.overwrite) for path in targets]
        self._what = f"digits {sorted(set(labels.tolist()))}" if conditional else "unconditional"

    def write_on_batch_end(self, trainer, pl_module, prediction: dict, batch_indices, batch, batch_idx, dl_idx) -> None:
        parts = _gather(trainer, {key: value.detach().cpu() for key, value in prediction.items()})
        if not self._files:  # not rank zero
            return
        for part in parts:  # this batch step's pieces, in rank order: consecutive images
            keep = part["index"] >= 0  # -1: the filler of a process past the end
            if not keep.any():
                continue
            first, due = int(part["index"][keep][0]), self._files[0].written
            if first != due:
                self.on_exception(trainer, pl_module, RuntimeError())
                raise RuntimeError(f"SampleWriter: image {first} arrived where image {due} was due")
            for f in self._files:
                f.add(part["images"][keep], part["labels"][keep])

    def on_predict_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if not self._files:
            return
        for f in self._files:
            f.close()
        self.written, n = [f.out for f in self._files], self._files[0].n
        self._files = []
        print(f"wrote {n} images ({self._what}) to {', '.join(map(str, self.written))}")

    def on_exception(self, trainer: L.Trainer, pl_module: L.LightningModule, exception: BaseException) -> None:
        for f in self._files:  # an interrupted predict leaves no file behind
            f.abort()
        self._files = []


def _all_labels(trainer: L.Trainer) -> torch.Tensor:
    loader = trainer.predict_dataloaders
    loader = loader[0] if isinstance(loader, (list, tuple)) else loader
    labels = getattr(getattr(loader, "dataset", None), "labels", None)
    if not isinstance(labels, torch.Tensor):
        raise RuntimeError(
            "SampleWriter writes the batches of MNISTDataModule.predict_dataloader (pieces of one draw); "
            f"this predict reads {type(getattr(loader, 'dataset', loader)).__name__}"
        )
    return labels


def _gather(trainer: L.Trainer, piece: dict[str, torch.Tensor]) -> list[dict[str, torch.Tensor]]:
    if trainer.world_size == 1 or not dist.is_available() or not dist.is_initialized():
        return [piece]
    gathered: list[Any] = [None] * trainer.world_size
    dist.all_gather_object(gathered, piece)  # one batch of each process: a few hundred small images
    return gathered


def _per_digit(labels: torch.Tensor) -> int:
    return int(torch.bincount(labels[labels >= 0]).max().item()) if (labels >= 0).any() else len(labels)
