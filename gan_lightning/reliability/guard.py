"""Divergence guard: a non-finite D or G loss never ends up in a checkpoint.

A NaN or Inf loss poisons the weights (and Adam's moments) in one step, and every checkpoint
after it. Asking "is this loss finite?" before every backward pass would cost a host-device sync
per optimizer step, which on a GPU drains the launch queue every batch. So the check is deferred:

- ``on_nonfinite="stop"`` (default): the losses stay on the device (`TrainingScalars`) and are
  read once per log step, at the end of each epoch and before any checkpoint is written
  (`GAN.on_save_checkpoint`). A non-finite one raises `DivergenceError` naming the step, the
  network and the last finite losses. The `ModelCheckpoint`s are told not to save on this
  exception, so no diverged state is ever saved and `last.ckpt` stays the last good checkpoint.
  The steps between the bad one and the check do run (on weights that are already lost).
- ``on_nonfinite="skip"``: each loss is checked before its backward pass (one host sync per
  optimizer step: deciding to skip needs the value), the step is left out and counted
  (`train/skipped_steps`), and training goes on.
"""

from __future__ import annotations

from typing import Any, Literal

import torch
from lightning.fabric.utilities.cloud_io import get_filesystem
from lightning.pytorch.callbacks import ModelCheckpoint

from gan_lightning.checks import check_choice, choices

OnNonfinite = Literal["stop", "skip"]
ON_NONFINITE = choices(OnNonfinite)
NETWORKS = {"d_loss": "discriminator", "g_loss": "generator"}


class DivergenceError(RuntimeError):
    """Training produced a non-finite loss and `on_nonfinite` is ``"stop"``."""


class NonFiniteGuard:
    """What to do about a non-finite loss, and the error that names it.

    Args:
        on_nonfinite: ``"stop"`` or ``"skip"`` (see the module docstring).

    Raises:
        ValueError: `on_nonfinite` is not one of `ON_NONFINITE`.
    """

    def __init__(self, on_nonfinite: str = "stop") -> None:
        check_choice("on_nonfinite", on_nonfinite, OnNonfinite)
        self.on_nonfinite = on_nonfinite
        self.skipped = 0

    @property
    def checks_every_step(self) -> bool:
        return self.on_nonfinite == "skip"

    def skip(self, loss: torch.Tensor) -> bool:
        """``skip`` mode: True (and counted) when `loss` is not finite. One host sync."""
        if bool(torch.isfinite(loss.detach()).all()):
            return False
        self.skipped += 1
        return True

    def stop(self, trainer: Any, name: str, value: float, where: str, last: dict[str, float], last_step) -> None:
        """Raise `DivergenceError` for loss `name` (``d_loss``/``g_loss``) = `value` at `where`,
        after telling every `ModelCheckpoint` not to save the (diverged) state on the way out."""
        checkpoints = [cb for cb in getattr(trainer, "checkpoint_callbacks", []) if isinstance(cb, ModelCheckpoint)]
        for cb in checkpoints:
            cb.save_on_exception = False  # keep last.ckpt: the weights now are already diverged
        kept = kept_checkpoint(checkpoints)
        finite = ", ".join(f"{k}={v:.4g}" for k, v in sorted(last.items())) or "none yet"
        raise DivergenceError(
            f"training diverged at {where}: the {NETWORKS[name]} loss {name} is {value}; "
            f"last finite losses: {finite} (step {last_step}); "
            + (f"last good checkpoint kept: {kept}" if kept else "no checkpoint written yet")
            + "; lower the learning rates, or set model.init_args.on_nonfinite: skip"
        )


def kept_checkpoint(checkpoints: list[ModelCheckpoint]) -> str:
    """The checkpoint file the message may name as kept: the first of the callbacks' last, best and top-k
    paths that is a file. A `ModelCheckpoint` records a path before writing it, and this stop is raised
    from inside that write (`GAN.on_save_checkpoint`), so a recorded path may name a file never written."""
    for cb in checkpoints:
        for path in (cb.last_model_path, cb.best_model_path, *cb.best_k_models):
            if path and get_filesystem(path).isfile(path):
                return str(path)
    return ""
