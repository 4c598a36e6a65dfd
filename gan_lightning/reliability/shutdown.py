"""Safe interruption: Ctrl-C (SIGINT) and SIGTERM (cluster preemption) stop `fit` between batches.

Python's default Ctrl-C raises `KeyboardInterrupt` wherever the code is, e.g. between the
discriminator's and the generator's optimizer step, and a checkpoint of that state would not
resume exactly. `GracefulShutdown` only notes the signal; after the running batch it raises
`TrainingInterrupted`, so Lightning's exception path runs: every `ModelCheckpoint` with
`save_on_exception` writes a mid-epoch checkpoint (this callback writes `last.ckpt` itself when
none does), loggers are finalized (flushed), and the CLI prints one line and exits with
128 + the signal number. A second Ctrl-C stops at once, without a checkpoint.

Lightning's own SIGTERM handler (DDP launchers, its broadcast to other ranks) still runs: ours
calls the handler it replaces. The CLI adds this callback to every `fit`.
"""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Any

import lightning as L
from lightning.pytorch.callbacks import Callback, ModelCheckpoint
from lightning.pytorch.utilities import rank_zero_info
from lightning.pytorch.utilities.exceptions import SIGTERMException

from gan_lightning.reliability.checkpoints import CheckpointWriteError

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class TrainingInterrupted(Exception):
    """Raised between batches after SIGINT/SIGTERM; carries what the CLI reports."""

    def __init__(self, signum: int, epoch: int, step: int, root: str) -> None:
        self.signum, self.epoch, self.step, self.root = signum, epoch, step, root
        super().__init__(f"{signal.Signals(signum).name} received: stopped at epoch {epoch}, step {step}")


class GracefulShutdown(Callback):
    def __init__(self) -> None:
        self.received: int | None = None
        self._previous: dict[int, Any] = {}

    # -- handlers live only while training runs -------------------------------------------------
    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self.received = None
        for signum in SIGNALS:
            try:
                self._previous[signum] = signal.signal(signum, self._handle)
            except ValueError:  # not the main thread (e.g. a notebook worker): keep the defaults
                return

    def _handle(self, signum: int, frame: Any) -> None:
        if signum == signal.SIGINT and self.received == signal.SIGINT:
            raise KeyboardInterrupt  # second Ctrl-C: the user wants out now
        self.received = signum
        rank_zero_info(f"\n{signal.Signals(signum).name}: stopping after this batch, saving a checkpoint ...")
        previous = self._previous.get(signum)
        if signum == signal.SIGTERM and callable(previous):
            previous(signum, frame)  # Lightning's: notes the SIGTERM for its loops and other ranks

    def _restore(self) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler if handler is not None else signal.SIG_DFL)
        self._previous = {}

    def on_train_batch_end(self, trainer: L.Trainer, pl_module: L.LightningModule, *args: Any) -> None:
        if self.received is not None:
            raise TrainingInterrupted(
                self.received, trainer.current_epoch, trainer.global_step, str(trainer.default_root_dir)
            )

    def on_train_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._restore()

    def on_exception(self, trainer: L.Trainer, pl_module: L.LightningModule, exception: BaseException) -> None:
        self._restore()
        if isinstance(exception, SIGTERMException):  # Lightning's own stop (e.g. SIGTERM during validation)
            exception.signum, exception.epoch = signal.SIGTERM, trainer.current_epoch
            exception.step = trainer.global_step
            exception.root = str(trainer.default_root_dir)  # what the CLI reports, as for TrainingInterrupted
        elif isinstance(exception, CheckpointWriteError):
            for cb in trainer.checkpoint_callbacks:  # a second write would fail alike: keep what is on disk
                if isinstance(cb, ModelCheckpoint):
                    cb.save_on_exception = False
            return
        elif not isinstance(exception, TrainingInterrupted):
            return
        checkpoints = [cb for cb in trainer.checkpoint_callbacks if isinstance(cb, ModelCheckpoint)]
        if any(cb.save_on_exception for cb in checkpoints):
            return  # they save (after this callback: Lightning runs checkpoint callbacks last)
        folder = Path(checkpoints[0].dirpath) if checkpoints and checkpoints[0].dirpath else None
        folder = folder or Path(trainer.log_dir or trainer.default_root_dir) / "checkpoints"
        trainer.save_checkpoint(folder / "last.ckpt")
