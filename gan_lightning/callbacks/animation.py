"""The classic "digits emerging from noise" animation: a GIF of the grids drawn during training.

Built at the end of `fit` from the PNG files an `ImageGridLogger` wrote (its list of files is in
the checkpoint, so a resumed run animates the grids of the runs before it too), saved as
`<run folder>/images/training.gif` and sent to W&B as a video. TensorBoard has no GIF panel; its
image slider over `samples/grid` shows the same frames.
"""

from __future__ import annotations

from pathlib import Path

import lightning as L
from lightning.pytorch.callbacks import Callback
from lightning.pytorch.loggers import WandbLogger
from lightning.pytorch.utilities import rank_zero_info, rank_zero_warn
from PIL import Image, ImageDraw

from gan_lightning.callbacks.images import ImageGridLogger
from gan_lightning.callbacks.sinks import logging_step, run_dir
from gan_lightning.reliability.atomic import atomic_output
from gan_lightning.reliability.runs import fresh_path

_BANNER = 14  # pixel rows above each frame for its "epoch / step" caption


def _frame(path: str, caption: str) -> Image.Image:
    grid = Image.open(path).convert("L")
    frame = Image.new("L", (grid.width, grid.height + _BANNER), color=0)
    frame.paste(grid, (0, _BANNER))
    ImageDraw.Draw(frame).text((3, 1), caption, fill=255)
    return frame


def write_gif(frames: list[Image.Image], path: Path, fps: float, hold_last_s: float = 1.5) -> Path:
    """Write frames as a looping GIF; the last frame stays up a little longer."""
    durations = [round(1000 / fps)] * len(frames)
    durations[-1] = max(durations[-1], round(1000 * hold_last_s))
    path.parent.mkdir(parents=True, exist_ok=True)
    path = fresh_path(path)
    with atomic_output(path, overwrite=False) as f:  # whole or not at all, and never over another file
        frames[0].save(
            f, format="GIF", save_all=True, append_images=frames[1:], duration=durations, loop=0, optimize=True
        )
    return path


class TrainingAnimation(Callback):
    """At the end of `fit`, a GIF of the grids that an `ImageGridLogger` drew.

    Args:
        fps: frames per second.
        max_frames: keep at most this many grids, evenly spaced (always the first and the last).
        name: file name (``<name>.gif``) and W&B key (``samples/<name>``).
    """

    def __init__(self, fps: float = 4.0, max_frames: int = 120, name: str = "training") -> None:
        if isinstance(fps, bool) or not isinstance(fps, (int, float)) or fps <= 0:
            raise ValueError(f"fps must be a positive number, got {fps!r}")
        if isinstance(max_frames, bool) or not isinstance(max_frames, int) or max_frames < 2:
            raise ValueError(f"max_frames must be an integer >= 2, got {max_frames!r}")
        self.fps, self.max_frames, self.name = fps, max_frames, name
        self.path: Path | None = None  # the GIF written by the last fit
        self._dir: Path | None = None

    def setup(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        self._dir = run_dir(trainer)  # every rank: it broadcasts

    def on_fit_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if not trainer.is_global_zero:
            return
        grids = [cb for cb in trainer.callbacks if isinstance(cb, ImageGridLogger) and cb.save_png]
        if not grids:
            rank_zero_warn("TrainingAnimation: no ImageGridLogger with save_png=True among the callbacks; no GIF")
            return
        saved = [s for s in grids[0].saved if Path(s["path"]).is_file()]
        if len(saved) < 2:
            rank_zero_info(f"TrainingAnimation: {len(saved)} grid(s) drawn, need 2 for an animation; no GIF")
            return
        if len(saved) > self.max_frames:  # evenly spaced, first and last included
            picks = {round(i * (len(saved) - 1) / (self.max_frames - 1)) for i in range(self.max_frames)}
            saved = [saved[i] for i in sorted(picks)]
        frames = [_frame(s["path"], f"epoch {s['epoch']}  step {s['step']}") for s in saved]
        self.path = write_gif(frames, self._dir / "images" / f"{self.name}.gif", self.fps)
        for logger in trainer.loggers:
            if isinstance(logger, WandbLogger):
                logger.log_video(f"samples/{self.name}", [str(self.path)], step=logging_step(trainer), format=["gif"])
