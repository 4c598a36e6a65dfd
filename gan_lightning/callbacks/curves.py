"""Loss curves as a PNG, for users who look at files rather than a dashboard.

Collects the training scalars the GAN modules log (D and G losses, and `train/d_real` /
`train/d_fake`; each point the mean over the batches since the previous log step) and plots them
to `<run folder>/loss_curves.png` after epochs and at the end.

A plot costs about a third of a second on two CPU cores, a fifth of a `gan_mlp` epoch: re-plotting
after every epoch would slow such a run by a fifth. So an epoch end re-plots only while plotting, this
plot included, stays within `share` of the wall time since fit started (2%: with fast epochs the file
is refreshed about every twenty seconds, with slow ones after every epoch); the end of training
always plots.

`train/d_real` and `train/d_fake` are the means of sigmoid(D's raw score) on real and generated
images. What that number means depends on the loss:
- `bce`, `mse`: D is trained as a classifier of that sigmoid, so they are D's mean probability
  that an image is real; 0.5 on both is a D that cannot tell (the plot draws that line).
- `hinge`, `wasserstein`, `lsgan` (and losses added with `register_loss`): the loss reads the raw
  score, so sigmoid(score) is only a squashed score. Its level carries no meaning of its own (a
  Wasserstein critic may drift by any constant); only the gap between real and fake does. The
  plot labels them as squashed raw scores and draws no 0.5 line. The points come from the
module's `training_log.last_window`, plain Python numbers, so collecting them never waits for the device.
The history is part of the checkpoint, so the curves of a resumed run start at step 0. Plotted
with matplotlib's object API: no pyplot, so no global backend is switched (safe inside notebooks
and on machines without a display).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import lightning as L
import torch
from lightning.pytorch.callbacks import Callback
from matplotlib.figure import Figure

from gan_lightning.callbacks.sinks import run_dir
from gan_lightning.checks import check_interval
from gan_lightning.reliability.runs import fresh_path

# logged key -> (panel, label); the G loss is present only in windows with a G step.
CURVES = {
    "train/d_loss": (0, "D loss"),
    "train/g_loss": (0, "G loss"),
    "train/d_real": (1, "D(x), real"),
    "train/d_fake": (1, "D(G(z)), fake"),
}
# Losses that train D on sigmoid(score) as a probability: only there is 0.5 "D cannot tell".
PROBABILITY_LOSSES = ("bce", "mse")
SQUASHED_LABELS = {"train/d_real": "sigmoid(D(x)), real", "train/d_fake": "sigmoid(D(G(z))), fake"}


def _smooth(values: torch.Tensor, window: int) -> torch.Tensor:
    """Trailing moving average (same length), so the trend shows through per-batch noise."""
    if window <= 1 or len(values) < 2:
        return values
    csum = torch.cat([torch.zeros(1, dtype=values.dtype), values.cumsum(0)])
    idx = torch.arange(1, len(values) + 1)
    lo = (idx - window).clamp_min(0)
    return (csum[idx] - csum[lo]) / (idx - lo)


def plot_curves(
    history: dict[str, list[tuple[int, float]]], path: Path, smooth: int = 25, loss: str | None = "bce"
) -> Path:
    """Plot {key: [(step, value), ...]} in two panels (losses; D's outputs) to a PNG at `path`.

    `loss` names the GAN loss: D's outputs are drawn as probabilities (with the 0.5 line) only for
    the losses in `PROBABILITY_LOSSES`, as squashed raw scores otherwise (None: not known).
    """
    curves_figure(history, smooth, loss).savefig(path)
    return path


def curves_figure(history: dict[str, list[tuple[int, float]]], smooth: int = 25, loss: str | None = "bce") -> Figure:
    """The figure `plot_curves` saves."""
    probability = loss in PROBABILITY_LOSSES
    fig = Figure(figsize=(8, 6), dpi=100, layout="constrained")
    loss_ax, prob_ax = fig.subplots(2, 1, sharex=True)
    for key, points in history.items():
        if not points or key not in CURVES:
            continue
        panel, label = CURVES[key]
        ax = (loss_ax, prob_ax)[panel]
        if not probability:
            label = SQUASHED_LABELS.get(key, label)
        steps, values = torch.tensor(points, dtype=torch.float64).T
        (line,) = ax.plot(steps, values, alpha=0.25, linewidth=0.8)
        ax.plot(steps, _smooth(values, smooth), color=line.get_color(), label=label, linewidth=1.6)
    loss_ax.set_ylabel("loss")
    if probability:
        prob_ax.set_ylabel("mean D probability")
        prob_ax.axhline(0.5, color="grey", linestyle=":", linewidth=1)  # where a perfectly fooled D sits
    else:  # hinge / Wasserstein / least squares: a raw score, squashed; only real vs fake gap means anything
        prob_ax.set_ylabel(f"mean sigmoid(raw D score)\n({loss or 'this'} loss: not a probability)")
    prob_ax.set_ylim(-0.02, 1.02)
    prob_ax.set_xlabel("trainer.global_step (D and G optimizer steps)")
    for ax in (loss_ax, prob_ax):
        if ax.lines:
            ax.legend(loc="upper right")
        ax.grid(alpha=0.3)
    fig.suptitle(f"training curves (faint: per step; bold: moving average over {smooth} points)", fontsize=10)
    return fig


class LossCurves(Callback):
    """Record the training scalars at every log step and plot them to `<run folder>/loss_curves.png`.

    Args:
        every_n_epochs: re-plot after every N-th epoch (None: only at the end of training).
        smooth: moving-average window (points) of the bold lines.
        filename: the PNG's name in the run folder.
        share: the most of fit's wall time that the plots after epochs may take, in (0, 1): an epoch end
            that `every_n_epochs` picks re-plots only while the plots so far plus this one (costed as the
            last) stay within it. None: every epoch `every_n_epochs` picks. The end always plots.
    """

    def __init__(
        self,
        every_n_epochs: int | None = 1,
        smooth: int = 25,
        filename: str = "loss_curves.png",
        share: float | None = 0.02,
    ) -> None:
        if every_n_epochs is not None and (
            isinstance(every_n_epochs, bool) or not isinstance(every_n_epochs, int) or every_n_epochs <= 0
        ):
            raise ValueError(f"every_n_epochs must be a positive integer or None, got {every_n_epochs!r}")
        if isinstance(smooth, bool) or not isinstance(smooth, int) or smooth <= 0:
            raise ValueError(f"smooth must be a positive integer, got {smooth!r}")
        check_interval("share", share, 0, 1, lo_open=True, hi_open=True, optional=True)
        self.every_n_epochs, self.smooth, self.filename = every_n_epochs, smooth, filename
        self.share = share
        self.clock = time.monotonic  # seconds; tests give a clock of their own
        self._fit_start: float | None = None
        self._spent_s = 0.0  # plotting after epochs in this fit so far
        self._last_s = 0.0  # what the last plot cost: the estimate of the next one
        self.history: dict[str, list[tuple[int, float]]] = {key: [] for key in CURVES}
        self.path: Path | None = None  # chosen on the first plot of a fit, then updated in place
        self._dir: Path | None = None
        self._seen: dict | None = None  # the module's window recorded last
        self._loss: str | None = None  # the module's loss: how to read train/d_real and train/d_fake

    def setup(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        self._dir = run_dir(trainer)
        self.path = None
        self._loss = getattr(pl_module, "hparams", {}).get("loss")

    def on_train_batch_end(self, trainer: L.Trainer, pl_module: L.LightningModule, *args: Any) -> None:
        # {"step": int, key: float}, new at each log step (the GAN modules' `training_log`)
        window = getattr(getattr(pl_module, "training_log", None), "last_window", None)
        if not trainer.is_global_zero or window is None or window is self._seen:
            return
        self._seen = window
        for key in CURVES:
            if key in window:
                self.history[key].append((window["step"], window[key]))

    def on_fit_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._fit_start, self._spent_s, self._last_s = self.clock(), 0.0, 0.0

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if not self.every_n_epochs or (trainer.current_epoch + 1) % self.every_n_epochs:
            return
        if self.share is not None and self._fit_start is not None:
            elapsed = self.clock() - self._fit_start
            if self._spent_s + self._last_s > self.share * elapsed:
                return  # within budget again after a few more epochs; the end of training plots anyway
        start = self.clock()
        if self.plot(trainer) is not None:
            self._last_s = self.clock() - start
            self._spent_s += self._last_s

    def on_train_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self.plot(trainer)

    def plot(self, trainer: L.Trainer) -> Path | None:
        if not trainer.is_global_zero or self._dir is None or not any(self.history.values()):
            return None
        if self.path is None:  # first plot of this fit: never replace a file an earlier run left
            self._dir.mkdir(parents=True, exist_ok=True)
            self.path = fresh_path(self._dir / self.filename)
        return plot_curves(self.history, self.path, self.smooth, self._loss)

    def state_dict(self) -> dict[str, Any]:
        # (N, 2) float64 tensors: compact in the checkpoint and loadable with weights_only=True.
        return {key: torch.tensor(points, dtype=torch.float64).reshape(-1, 2) for key, points in self.history.items()}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        for key, points in state_dict.items():
            self.history[key] = [(int(s), float(v)) for s, v in points.tolist()]
