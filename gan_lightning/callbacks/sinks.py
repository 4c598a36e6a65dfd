"""Where pictures go: W&B (`log_image`), TensorBoard (`add_image`) and plain files in the run folder.

W&B's `logger.experiment` has no `add_image` and TensorBoard's has no `log_image`, so every image
callback sends through `publish_image`, which knows both and ignores loggers that show no images
(CSV). PNG files are written whatever the loggers are: they are what the animation is built from,
and what a user without a dashboard looks at.
"""

from __future__ import annotations

from pathlib import Path

import lightning as L
import numpy as np
import torch
from lightning.pytorch.loggers import TensorBoardLogger, WandbLogger
from PIL import Image
from torchvision.utils import make_grid

from gan_lightning.grids import pixels_image
from gan_lightning.reliability.atomic import atomic_output
from gan_lightning.reliability.runs import fresh_path


def run_dir(trainer: L.Trainer) -> Path:
    """The run folder: the logger's version folder, or `default_root_dir` without a logger.
    Call on every rank: `trainer.log_dir` broadcasts rank zero's answer."""
    return Path(trainer.log_dir or trainer.default_root_dir)


def to_grid(images: torch.Tensor, nrow: int) -> torch.Tensor:
    """Images (N, C, H, W) in [-1, 1] -> one grid image (3, H', W') in [0, 1], `nrow` images per row."""
    return make_grid(
        images.detach().float().cpu(), nrow=nrow, padding=2, pad_value=0.5, normalize=True, value_range=(-1, 1)
    )


def to_uint8(grid: torch.Tensor) -> np.ndarray:
    """(3, H, W) in [0, 1] -> (H, W, 3) uint8, what PIL and W&B take."""
    return (grid.clamp(0, 1) * 255).round().to(torch.uint8).permute(1, 2, 0).numpy()


def logging_step(trainer: L.Trainer) -> int:
    """The step Lightning stamps on logged scalars (training batches done, not `trainer.global_step`,
    which counts D and G steps apart): images use it too, so they line up.

    Lightning counts a batch as completed before the validation that may follow it, but stamps that
    validation's values with the count before it: hence one less while validating during `fit`."""
    done = trainer.fit_loop.epoch_loop.batch_progress.total.completed
    return max(done - 1, 0) if trainer.validating and trainer.state.fn == "fit" else done


def publish_image(trainer: L.Trainer, key: str, grid: torch.Tensor, png: Path | None = None) -> None:
    """Send grid (3, H, W) in [0, 1] to every image-capable logger of `trainer` (rank zero only).
    `png`: the grid already written as a PNG (`save_png`), which W&B then takes as it is instead of
    encoding the pixels again (10-35 ms for a 10x10 grid on two CPU cores, against 3-5 ms)."""
    if not trainer.is_global_zero:
        return
    step = logging_step(trainer)
    for logger in trainer.loggers:
        if isinstance(logger, WandbLogger):
            logger.log_image(key, [str(png) if png is not None else to_uint8(grid)], step=step)
        elif isinstance(logger, TensorBoardLogger):
            logger.experiment.add_image(key, grid, global_step=step)


def grid_image(grid: torch.Tensor) -> Image.Image:
    """Grid (3, H, W) in [0, 1] as a PIL image, single-channel when grey (a third of the file size)."""
    return pixels_image(to_uint8(grid))


def save_png(grid: torch.Tensor, path: Path) -> Path:
    """Write grid (3, H, W) in [0, 1] as a PNG at `path`, or next to it if that name is taken."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path = fresh_path(path)
    with atomic_output(path, overwrite=False) as f:  # whole or not at all, and never over another file
        grid_image(grid).save(f, format="PNG")
    return path
