"""TrainingLog: the module's part that carries the training scalars from the step to the loggers.

It holds `TrainingScalars` (the per-batch scalars, kept on the device until a log step), the
divergence guard that acts on each read (`gan_lightning.reliability.guard`), and the last logged
means (`last_window`: what the progress bar and LossCurves show); `due` (`logs_now`) says when the
module reads and logs them (`GAN.end_batch`, `GAN.log_training_scalars`).

`self.log(...)` every batch costs about 0.1 ms of Python per call, and anything that turns a
loss into a Python number (the progress bar, a finiteness check) waits for the device to catch
up: a host-device sync that, on a GPU, drains the launch queue every batch. So the training step
only appends each batch's scalars, still on the device, to a list; `read()` copies everything
gathered since the last read to the host in one transfer (one sync) at log steps, at the end of
an epoch and before a checkpoint is written, and checks it for NaN/Inf on the way.

What is logged at a log step is the mean over the batches since the previous log step (a
smoother curve than one batch's value); Lightning's epoch means come out exact because each
window is logged with its batch count as the weight.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch

from gan_lightning.reliability.guard import NonFiniteGuard

D_KEYS = ("d_loss", "d_real", "d_fake")  # one (3,) tensor per batch
G_KEYS = ("g_loss",)  # one scalar per generator step


@dataclass
class Divergence:
    """The first non-finite loss found by a read."""

    name: str  # "d_loss" or "g_loss"
    value: float
    step: int  # trainer.global_step of that optimizer step
    epoch: int
    batch: int


@dataclass
class Window:
    """Means of the training scalars over the batches read since the last `take()`."""

    means: dict[str, float]
    counts: dict[str, int]  # "d": batches with a D step, "g": generator steps


@dataclass
class TrainingScalars:
    """Collects the training step's scalars on the device; `read()` brings them to the host."""

    _rows: list = field(default_factory=list)  # (step, epoch, batch, d (3,) tensor, g tensor | None)
    _sums: dict[str, float] = field(default_factory=dict)
    _counts: dict[str, int] = field(default_factory=lambda: {"d": 0, "g": 0})
    last_finite: dict[str, float] = field(default_factory=dict)  # the latest finite value of each loss
    last_finite_step: int | None = None

    def add(self, step: int, epoch: int, batch: int, d: torch.Tensor, g: torch.Tensor | None) -> None:
        """One batch: `d` = (d_loss, mean D(x), mean D(G(z))) (3,), `g` = g_loss or None. No sync."""
        self._rows.append((step, epoch, batch, d, g))

    def pending(self) -> int:
        return len(self._rows)

    def read(self) -> Divergence | None:
        """Bring the gathered rows to the host (one sync), add them to the window; the first
        non-finite loss, if any (the rows after it are dropped: their weights are already lost)."""
        rows, self._rows = self._rows, []
        if not rows:
            return None
        gs = [r[4] for r in rows if r[4] is not None]
        flat = torch.cat([torch.stack([r[3] for r in rows]).flatten(), *[g.reshape(1) for g in gs]])
        values = flat.float().tolist()  # the one host-device sync
        d_vals, g_vals = values[: 3 * len(rows)], iter(values[3 * len(rows) :])
        for i, (step, epoch, batch, _, g) in enumerate(rows):
            row = dict(zip(D_KEYS, d_vals[3 * i : 3 * i + 3], strict=True))
            found = self._add_losses(row, "d", step, epoch, batch)
            if found is not None:
                return found
            if g is not None:
                found = self._add_losses({"g_loss": next(g_vals)}, "g", step + 1, epoch, batch)
                if found is not None:
                    return found
        return None

    def _add_losses(self, row: dict[str, float], kind: str, step: int, epoch: int, batch: int) -> Divergence | None:
        loss = "d_loss" if kind == "d" else "g_loss"
        if not _finite(row[loss]):
            return Divergence(loss, row[loss], step, epoch, batch)
        for key, value in row.items():
            self._sums[key] = self._sums.get(key, 0.0) + value
        self._counts[kind] += 1
        self.last_finite[loss], self.last_finite_step = row[loss], step
        return None

    def take(self) -> Window | None:
        """The means of everything read since the last take, and a fresh window; None if empty."""
        if not self._counts["d"]:
            return None
        counts = dict(self._counts)
        means = {k: v / counts["d" if k in D_KEYS else "g"] for k, v in self._sums.items()}
        self._sums, self._counts = {}, {"d": 0, "g": 0}
        return Window(means, counts)


class TrainingLog:
    """The training scalars' way out: gathered on the device, read (and checked) at log steps, logged
    by the module as window means.

    Args:
        on_nonfinite: the divergence guard's mode, ``"stop"`` or ``"skip"``.
    """

    def __init__(self, on_nonfinite: str) -> None:
        self.scalars = TrainingScalars()
        self.guard = NonFiniteGuard(on_nonfinite)
        self.last_window: dict[str, float] | None = None  # {"step": int, "train/<key>": mean} of the last log

    def add(self, step: int, epoch: int, batch: int, d: torch.Tensor, g: torch.Tensor | None) -> None:
        """One batch's scalars (see `TrainingScalars.add`); no host sync."""
        self.scalars.add(step, epoch, batch, d, g)

    @staticmethod
    def due(trainer: Any, in_group: tuple[int, bool] | None, batch_idx: int) -> bool:
        return logs_now(trainer, in_group, batch_idx)

    def check_finite(self, trainer: Any) -> None:
        """Read what was gathered (one host sync); `DivergenceError` if a loss was NaN/Inf (``stop``)."""
        bad = self.scalars.read()
        if bad is not None:
            where = f"step {bad.step} (epoch {bad.epoch}, batch {bad.batch})"
            last, last_step = self.scalars.last_finite, self.scalars.last_finite_step
            self.guard.stop(trainer, bad.name, bad.value, where, last, last_step)

    def take(self, trainer: Any, step: int) -> Window | None:
        """The checked window since the last take (None if empty), remembered as `last_window` at `step`."""
        self.check_finite(trainer)
        window = self.scalars.take()
        if window is not None:
            self.last_window = {"step": step, **{f"train/{k}": v for k, v in window.means.items()}}
        return window


def logs_now(trainer, in_group: tuple[int, bool] | None, batch_idx: int) -> bool:
    """Whether the model logs its scalars after batch `batch_idx`: at Lightning's own log steps (the same
    test its logger connector makes, so no stale value is ever sent), and at the epoch's last batch so
    that epoch means cover every batch. `in_group`: (batches done before this one, last of the epoch)
    inside a group of batches (`MicroSteps.active`), else None."""
    if in_group is not None:
        done, last = in_group
    else:
        # Batches done before this one: the count Lightning's logger connector tests (public progress).
        done = trainer.fit_loop.epoch_loop.batch_progress.total.completed
        last = batch_idx + 1 == trainer.num_training_batches
    return lightning_logs_at(trainer, done) or last


def lightning_logs_at(trainer, done: int) -> bool:
    """Whether Lightning's logger connector sends step values after the batch that follows `done` batches:
    its own test (every `log_every_n_steps` batches, and when the run is stopping)."""
    every = trainer.log_every_n_steps
    return (every > 0 and (done + 1) % every == 0) or trainer.should_stop


def _finite(x: float) -> bool:
    return x - x == 0.0  # False for NaN and +-Inf
