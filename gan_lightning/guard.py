"""Divergence guard: a non-finite D or G loss never reaches `backward()` and `optimizer.step()`.

A NaN or Inf loss poisons the weights (and Adam's moments) in one step, and every checkpoint
after it. `GAN.training_step` asks `NonFiniteGuard.ok(...)` before each backward pass:

- ``on_nonfinite="stop"`` (default): raise `DivergenceError` naming the step, the network and the
  last finite losses. The `ModelCheckpoint`s are told not to save on this exception, so
  `last.ckpt` stays the last good (pre-divergence) checkpoint.
- ``on_nonfinite="skip"``: leave that optimizer step out, count it (`train/skipped_steps`), go on.
"""

from __future__ import annotations

from typing import Any

import torch
from lightning.pytorch.callbacks import ModelCheckpoint

ON_NONFINITE = ("stop", "skip")


class DivergenceError(RuntimeError):
    """Training produced a non-finite loss and `on_nonfinite` is ``"stop"``."""


class NonFiniteGuard:
    def __init__(self, on_nonfinite: str = "stop") -> None:
        if on_nonfinite not in ON_NONFINITE:
            raise ValueError(f"on_nonfinite must be one of {ON_NONFINITE}, got {on_nonfinite!r}")
        self.on_nonfinite = on_nonfinite
        self.last_finite: dict[str, float] = {}  # "d_loss"/"g_loss" -> value
        self.last_finite_step: int | None = None
        self.skipped = 0

    def ok(self, module: Any, network: str, name: str, loss: torch.Tensor) -> bool:
        """True when `loss` is finite (and remembered); else stop or report a skip."""
        value = loss.detach()
        if bool(torch.isfinite(value).all()):
            self.last_finite[name] = float(value)
            self.last_finite_step = int(module.global_step)
            return True
        trainer = module._trainer  # None outside a Trainer (plain unit tests)
        where = f"step {module.global_step}" + (
            f" (epoch {trainer.current_epoch}, batch {trainer.fit_loop.epoch_loop.batch_idx})" if trainer else ""
        )
        if self.on_nonfinite == "skip":
            self.skipped += 1
            return False
        last = ", ".join(f"{k}={v:.4g}" for k, v in sorted(self.last_finite.items())) or "none yet"
        kept = ""
        if trainer is not None:
            for cb in trainer.checkpoint_callbacks:
                if isinstance(cb, ModelCheckpoint):
                    cb.save_on_exception = False  # keep last.ckpt: the weights now may already be diverged
                    kept = kept or cb.last_model_path or cb.best_model_path
        raise DivergenceError(
            f"training diverged at {where}: the {network} loss {name} is {float(value)}; "
            f"last finite losses: {last} (step {self.last_finite_step}); "
            + (f"last good checkpoint kept: {kept}" if kept else "no checkpoint written yet")
            + "; lower the learning rates, or set model.init_args.on_nonfinite: skip"
        )
