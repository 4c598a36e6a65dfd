"""Sample grids from fixed inputs, drawn on a schedule during training.

`ImageGridLogger` draws the same noise (and, for a conditional model, the same labels: one row
per digit) every N epochs or N generator steps, so consecutive grids show the generator changing,
not the noise. The fixed inputs are part of the callback's state and so of every checkpoint:
after a resume the grids continue the same series.

Images come from `pl_module.decode(z, labels)`, the model's one sampling path (eval mode, no grad,
the averaged generator where the model keeps one). Only rank zero draws.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import lightning as L
import torch
from lightning.pytorch.callbacks import Callback

from gan_lightning.callbacks.sinks import publish_image, run_dir, save_png, to_grid


def _check_every(name: str, value: Any) -> None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value <= 0):
        raise ValueError(f"{name} must be a positive integer or None, got {value!r}")


def _check_count(name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")


def generator_steps(trainer: L.Trainer, pl_module: L.LightningModule) -> int:
    """Generator updates so far (`trainer.global_step` counts D and G optimizer steps together)."""
    g_steps = getattr(pl_module, "generator_steps", None)  # a Python int: reading it costs no host sync
    return g_steps if isinstance(g_steps, int) else trainer.global_step


class ScheduledImages(Callback):
    """Base of the image callbacks: when to draw, fixed inputs kept in the checkpoint, where to send.

    Subclasses say what to draw with `make_inputs` (fixed noise (N, latent_dim), labels (N,) or None,
    images per grid row).

    Args:
        every_n_epochs: draw at the end of every N-th training epoch (None: not by epoch).
        every_n_steps: draw every N *generator* steps (None: not by step).
        at_start: also draw before the first training step (the "pure noise" frame).
        seed: seed of the fixed noise.
        save_png: write each grid as a PNG under `<run folder>/images/`.
        name: file name prefix; loggers get the key ``samples/<name>``.
    """

    def __init__(
        self,
        every_n_epochs: int | None = 1,
        every_n_steps: int | None = None,
        at_start: bool = True,
        seed: int = 0,
        save_png: bool = True,
        name: str = "grid",
    ) -> None:
        _check_every("every_n_epochs", every_n_epochs)
        _check_every("every_n_steps", every_n_steps)
        self.every_n_epochs, self.every_n_steps = every_n_epochs, every_n_steps
        self.at_start, self.seed, self.save_png, self.name = at_start, seed, save_png, name
        self.z: torch.Tensor | None = None  # (N, latent_dim), kept on CPU
        self.labels: torch.Tensor | None = None  # (N,) or None for an unconditional model
        self.nrow = 10
        self.saved: list[dict[str, Any]] = []  # {"path", "epoch", "step"} of every PNG written, in order
        self._dir: Path | None = None
        self._last_step: int | None = None
        self._last_g_step: int | None = None

    @property
    def state_key(self) -> str:
        return f"{type(self).__qualname__}[{self.name}]"

    # -- what to draw (subclasses) -------------------------------------------------------------
    def make_inputs(
        self, pl_module: L.LightningModule, generator: torch.Generator
    ) -> tuple[torch.Tensor, torch.Tensor | None, int]:
        raise NotImplementedError

    # -- lifecycle ---------------------------------------------------------------------------
    def setup(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        self._dir = run_dir(trainer)  # every rank: it broadcasts
        if self.z is None:
            generator = torch.Generator(device=pl_module.device).manual_seed(self.seed)
            z, labels, self.nrow = self.make_inputs(pl_module, generator)
            self.z = z.detach().cpu()
            self.labels = None if labels is None else labels.detach().cpu()

    def on_fit_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        latent_dim = pl_module.hparams.get("latent_dim")
        if latent_dim is not None and self.z is not None and self.z.shape[1] != latent_dim:
            raise ValueError(
                f"{type(self).__name__}: the saved fixed noise has {self.z.shape[1]} dimensions but the model's "
                f"latent_dim is {latent_dim}; resume with the model the checkpoint was made with"
            )

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._last_g_step = generator_steps(trainer, pl_module)
        if self.at_start and trainer.global_step == 0:
            self.draw(trainer, pl_module)

    def on_train_batch_end(self, trainer: L.Trainer, pl_module: L.LightningModule, *args: Any) -> None:
        if not self.every_n_steps:
            return
        g_step = generator_steps(trainer, pl_module)
        # Once each time the G steps pass a multiple of every_n_steps: with n_critic > 1 some batches make no
        # G step, and a Lightning batch of several steps (data.steps_per_batch) can make more than one.
        if g_step // self.every_n_steps > self._last_g_step // self.every_n_steps:
            self.draw(trainer, pl_module)
        self._last_g_step = g_step

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if self.every_n_epochs and (trainer.current_epoch + 1) % self.every_n_epochs == 0:
            self.draw(trainer, pl_module)

    def on_train_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self.draw(trainer, pl_module)  # the final state, whatever stopped training (no-op if just drawn)

    # -- drawing -----------------------------------------------------------------------------
    def draw(self, trainer: L.Trainer, pl_module: L.LightningModule) -> torch.Tensor | None:
        """Draw the grid now and send it everywhere; returns it (3, H, W) in [0, 1] on rank zero."""
        step = trainer.global_step
        if not trainer.is_global_zero or self.z is None or step == self._last_step:
            return None
        self._last_step = step
        z = self.z.to(device=pl_module.device, dtype=pl_module.dtype)
        labels = None if self.labels is None else self.labels.to(pl_module.device)
        images = pl_module.decode(z, labels)  # (N, C, H, W) in [-1, 1]
        grid = to_grid(images, self.nrow)
        path = None
        if self.save_png and self._dir is not None:
            path = save_png(grid, self._dir / "images" / f"{self.name}_step={step:07d}.png")
            self.saved.append({"path": str(path), "epoch": trainer.current_epoch, "step": step})
        publish_image(trainer, f"samples/{self.name}", grid, png=path)  # W&B takes the file as it is
        return grid

    # -- checkpoint state --------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        return {"z": self.z, "labels": self.labels, "nrow": self.nrow, "saved": list(self.saved)}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.z, self.labels = state_dict["z"], state_dict["labels"]
        self.nrow = state_dict.get("nrow", self.nrow)
        self.saved = list(state_dict.get("saved", []))


class ImageGridLogger(ScheduledImages):
    """The classic figure: a fixed batch of samples; for a conditional model one row per digit, for a
    self-conditioned one one row per cluster it found.

    Args:
        columns: images per row (per digit for a conditional model, per cluster for a self-conditioned one).
        rows: rows of an unconditional model's grid (a conditional one has one per class); a self-conditioned
            one shows this many of its clusters (all of them when it has fewer).
        every_n_epochs, every_n_steps, at_start, seed, save_png, name: see `ScheduledImages`.

    Example (YAML, in `trainer.callbacks`)::

        - class_path: gan_lightning.callbacks.ImageGridLogger
          init_args: {every_n_epochs: 1, columns: 10}
    """

    def __init__(
        self,
        columns: int = 10,
        rows: int = 10,
        every_n_epochs: int | None = 1,
        every_n_steps: int | None = None,
        at_start: bool = True,
        seed: int = 0,
        save_png: bool = True,
        name: str = "grid",
    ) -> None:
        _check_count("columns", columns)
        _check_count("rows", rows)
        super().__init__(every_n_epochs, every_n_steps, at_start, seed, save_png, name)
        self.columns, self.rows = columns, rows

    def make_inputs(self, pl_module, generator):
        if getattr(pl_module, "clustered", False):  # one row per discovered cluster (SelfConditionedGAN)
            k = pl_module.label_count  # at most `rows` of them, evenly spread over the ids, when there are more
            shown = torch.linspace(0, k - 1, min(k, self.rows), device=pl_module.device).round().long()
            ids = shown.repeat_interleave(self.columns)
            # The ids ride along: a re-clustering changes the clusters' arcs of noise, not the rows.
            return pl_module.noise_in_clusters(ids, generator), ids, self.columns
        if getattr(pl_module, "conditional", False):
            classes = pl_module.hparams.num_classes
            labels = torch.arange(classes, device=pl_module.device).repeat_interleave(self.columns)  # (C * k,)
        else:
            labels = None
        n = len(labels) if labels is not None else self.rows * self.columns
        return pl_module.sample_z(n, generator), labels, self.columns
