"""ValidationBudget: validation at epoch ends while it stays within a share of the run's wall time.

Why: a validation scores as many samples as there are test digits (10,000: about 2 s on two CPU
cores), which is one epoch of 1,000 training digits or a tenth of an epoch of the full 60,000. A
fixed `check_val_every_n_epoch` is therefore either wasteful (small data, fast epochs: a fifth of a
3-minute run went to validation) or sparse (large data), and the right number changes with the
machine. This callback decides from what validation actually costs on this run.

The rule, checked after the last batch of every epoch: validate when the time spent validating so far,
plus this validation and one more of the same cost kept back for the end, is within `share` of the
wall time since `fit` started. The first epoch always validates (nothing is known about the cost
before), and so does the end of the run: the last epoch, `max_steps`, and the stops at which Lightning
validates anyway (`max_time`, early stopping), so the best-FID checkpoint and the run's last numbers
always see the final weights. A config's `check_val_every_n_epoch` still holds: only its multiples are
candidates. On several processes rank 0 decides and the others follow (one broadcast per epoch).

It steers Lightning through `trainer.check_val_every_n_epoch`, set before each epoch-end check and
restored when fit ends, and stands aside (said once) when validation is batch- or time-based
(`check_val_every_n_epoch: null` or a `val_check_interval` other than 1.0).
"""

from __future__ import annotations

import math
import time
from typing import Any

import lightning as L
from lightning.pytorch.callbacks import Timer
from lightning.pytorch.utilities import rank_zero_info


class ValidationBudget(L.Callback):
    """Validates at the end of an epoch only while validation stays within `share` of fit's wall time.

    Args:
        share: the most of the wall time since fit started (resumes included) that validation may
            take, in (0, 1).

    Raises:
        ValueError: `share` outside (0, 1), naming it and the value given.
    """

    def __init__(self, share: float = 0.05) -> None:
        if isinstance(share, bool) or not isinstance(share, (int, float)) or not 0 < share < 1:
            raise ValueError(f"ValidationBudget share must be a number in (0, 1), got {share!r}")
        self.share = float(share)
        self.spent_s = 0.0  # validation so far, sanity check included
        self.last_s = 0.0  # what the last validation cost: the estimate of the next one
        self.elapsed_before_s = 0.0  # wall time of fit before this process (a resume)
        self.active = False
        self._every: int | None = None
        self._fit_start: float | None = None
        self._val_start: float | None = None
        self.clock = time.monotonic  # seconds; tests give a clock of their own

    # -- when fit starts and ends ---------------------------------------------------------------
    def on_fit_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._fit_start = self.clock()
        self._every = trainer.check_val_every_n_epoch
        self.active = self._every is not None and trainer.val_check_interval == 1.0
        if not self.active:
            rank_zero_info(
                "ValidationBudget stands aside: validation is batch- or time-based "
                f"(check_val_every_n_epoch={self._every}, val_check_interval={trainer.val_check_interval!r})"
            )

    def on_fit_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if self.active:
            trainer.check_val_every_n_epoch = self._every

    def elapsed_s(self) -> float:
        """Wall time of fit so far, resumed parts included."""
        return self.elapsed_before_s + (self.clock() - self._fit_start if self._fit_start is not None else 0.0)

    # -- what validation costs --------------------------------------------------------------------
    def on_validation_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._val_start = self.clock()

    def on_validation_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if self._val_start is None:
            return
        cost = self.clock() - self._val_start
        self.spent_s += cost
        if not trainer.sanity_checking:  # a sanity check scores two batches: no estimate of a full one
            self.last_s = cost
        self._val_start = None

    # -- the decision -------------------------------------------------------------------------------
    def on_train_epoch_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if self.active:
            trainer.check_val_every_n_epoch = 1  # a stop inside the epoch validates, as Lightning does

    def on_train_batch_end(self, trainer: L.Trainer, pl_module: L.LightningModule, *args: Any) -> None:
        if not self.active:
            return
        if trainer.fit_loop.epoch_loop.batch_idx + 1 < trainer.num_training_batches:
            if self.steps_done(trainer):  # max_steps ends the run inside an epoch: Lightning validates at a stop
                trainer.should_stop = True
            return
        due = trainer.strategy.broadcast(self.due(trainer), src=0)
        # Lightning validates an epoch when (epoch + 1) is a multiple of this; epoch + 2 is not.
        trainer.check_val_every_n_epoch = 1 if due else trainer.current_epoch + 2

    def due(self, trainer: L.Trainer) -> bool:
        """Whether the epoch that ends now validates (see the module's docstring)."""
        if (trainer.current_epoch + 1) % self._every:
            return self.ending(trainer)
        if self.last_s == 0.0 or self.ending(trainer):
            return True
        return self.spent_s + 2 * self.last_s <= self.share * (self.elapsed_s() + self.last_s)

    @staticmethod
    def ending(trainer: L.Trainer) -> bool:
        """The run stops after this batch: last epoch, max_steps, max_time or a requested stop."""
        max_epochs = trainer.max_epochs if trainer.max_epochs not in (None, -1) else math.inf
        remaining = [cb.time_remaining() for cb in trainer.callbacks if isinstance(cb, Timer)]
        timer_out = any(r is not None and r <= 0 for r in remaining)
        return (
            trainer.should_stop
            or timer_out
            or trainer.current_epoch + 1 >= max_epochs
            or ValidationBudget.steps_done(trainer)
        )

    @staticmethod
    def steps_done(trainer: L.Trainer) -> bool:
        return trainer.max_steps not in (None, -1) and trainer.global_step >= trainer.max_steps

    # -- resume -----------------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, float]:
        return {"spent_s": self.spent_s, "last_s": self.last_s, "elapsed_s": self.elapsed_s()}

    def load_state_dict(self, state_dict: dict[str, float]) -> None:
        self.spent_s, self.last_s = float(state_dict["spent_s"]), float(state_dict["last_s"])
        self.elapsed_before_s = float(state_dict["elapsed_s"])
