"""Image callbacks, loss curves and the GIF: what they draw, where it goes, and that it survives a resume."""

import re

import pytest
import torch

from gan_lightning import GAN, ConditionalGAN, SelfConditionedGAN
from gan_lightning.callbacks import ImageGridLogger, LatentInterpolation, LossCurves, TrainingAnimation
from gan_lightning.callbacks.curves import curves_figure
from gan_lightning.noise import slerp


def _cgan(**kwargs):
    return ConditionalGAN(arch="dcgan", ngf=8, ndf=8, **kwargs)


# -- what is drawn --------------------------------------------------------------------------------
def test_cgan_grid_has_one_row_per_digit():
    cb = ImageGridLogger(columns=3)
    z, labels, nrow = cb.make_inputs(_cgan(), torch.Generator().manual_seed(0))
    assert z.shape == (30, 100) and nrow == 3
    assert labels.tolist() == [d for d in range(10) for _ in range(3)]


def test_gan_grid_is_rows_by_columns_without_labels():
    z, labels, nrow = ImageGridLogger(columns=4, rows=2).make_inputs(GAN(arch="mlp"), torch.Generator().manual_seed(0))
    assert z.shape == (8, 100) and labels is None and nrow == 4


def test_self_conditioned_grid_has_one_row_per_cluster():
    model = SelfConditionedGAN(ngf=8, ndf=8, clusters=4, metrics=False)
    z, labels, nrow = ImageGridLogger(columns=3).make_inputs(model, torch.Generator().manual_seed(0))
    assert z.shape == (12, 100) and nrow == 3
    assert labels.tolist() == [c for c in range(4) for _ in range(3)]
    assert torch.equal(model.clusters_of(z), labels)  # the noise lies in its row's cluster
    many = SelfConditionedGAN(ngf=8, ndf=8, clusters=400, metrics=False)
    _, labels, _ = ImageGridLogger(columns=2, rows=5).make_inputs(many, torch.Generator().manual_seed(0))
    assert labels.tolist() == [c for c in (0, 100, 200, 299, 399) for _ in range(2)]  # rows clusters, spread


def test_slerp_keeps_end_points_and_radius():
    torch.manual_seed(0)
    a, b = torch.randn(3, 16), torch.randn(3, 16)
    b = b / b.norm(dim=1, keepdim=True) * a.norm(dim=1, keepdim=True)  # same radius at both ends
    path = slerp(a, b, torch.linspace(0, 1, 7))  # (3, 7, 16)
    assert path.shape == (3, 7, 16)
    torch.testing.assert_close(path[:, 0], a)
    torch.testing.assert_close(path[:, -1], b)
    torch.testing.assert_close(path.norm(dim=-1), a.norm(dim=1, keepdim=True).expand(3, 7))
    # parallel end points: no arc, the straight line
    line = slerp(a[:1], 2 * a[:1], torch.tensor([0.5]))
    torch.testing.assert_close(line[0, 0], 1.5 * a[0])


def test_cgan_interpolation_shares_the_path_across_digits():
    z, labels, nrow = LatentInterpolation(steps=5).make_inputs(_cgan(), torch.Generator().manual_seed(0))
    assert z.shape == (50, 100) and nrow == 5
    torch.testing.assert_close(z[:5], z[45:])  # digit 0 row and digit 9 row walk the same path
    assert labels[:5].tolist() == [0] * 5 and labels[-5:].tolist() == [9] * 5


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: ImageGridLogger(every_n_epochs=0), "every_n_epochs must be a positive integer or None, got 0"),
        (lambda: ImageGridLogger(every_n_steps=-5), "every_n_steps must be a positive integer or None, got -5"),
        (lambda: ImageGridLogger(columns=0), "columns must be a positive integer, got 0"),
        (lambda: LatentInterpolation(steps=1), r"steps must be an integer >= 2 \(both end points\), got 1"),
        (lambda: LatentInterpolation(path="cubic"), r"path must be one of \('slerp', 'lerp'\), got 'cubic'"),
        (lambda: TrainingAnimation(fps=0), "fps must be a positive number, got 0"),
        (lambda: TrainingAnimation(max_frames=1), "max_frames must be an integer >= 2, got 1"),
        (lambda: LossCurves(smooth=0), "smooth must be a positive integer, got 0"),
    ],
    ids=["epochs", "steps", "columns", "interp-steps", "interp-path", "fps", "frames", "smooth"],
)
def test_bad_arguments_name_themselves(make, match):
    with pytest.raises(ValueError, match=match):
        make()


# -- files without any logger -----------------------------------------------------------------


# -- TensorBoard --------------------------------------------------------------------------------


# -- resume ---------------------------------------------------------------------------------------


def _half_lines(ax) -> list:
    return [line for line in ax.lines if list(line.get_ydata()) == [0.5, 0.5]]


@pytest.mark.parametrize("loss", ["bce", "mse"])
def test_loss_plot_reads_d_outputs_as_probabilities_only_for_probability_losses(loss):
    history = {"train/d_loss": [(1, 1.2), (2, 1.1)], "train/d_real": [(1, 0.7), (2, 0.6)], "train/d_fake": [(1, 0.3)]}
    _, d_ax = curves_figure(history, smooth=2, loss=loss).axes
    assert d_ax.get_ylabel() == "mean D probability" and len(_half_lines(d_ax)) == 1
    assert "D(x), real" in [text.get_text() for text in d_ax.get_legend().get_texts()]


@pytest.mark.parametrize("loss", ["hinge", "wasserstein", "lsgan", None])
def test_loss_plot_draws_no_half_line_for_raw_score_losses(loss):
    history = {"train/d_real": [(1, 0.9), (2, 0.95)], "train/d_fake": [(1, 0.1), (2, 0.05)]}
    _, d_ax = curves_figure(history, smooth=2, loss=loss).axes
    assert not _half_lines(d_ax)
    assert "not a probability" in d_ax.get_ylabel() and "raw D score" in d_ax.get_ylabel()
    labels = [text.get_text() for text in d_ax.get_legend().get_texts()]
    assert labels == ["sigmoid(D(x)), real", "sigmoid(D(G(z))), fake"]


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_loss_curves_replot_after_epochs_only_within_their_share_of_the_wall_time(tmp_path):
    from types import SimpleNamespace

    curves = LossCurves(share=0.02)
    clock = curves.clock = _Clock()
    plotted = []

    def plot(trainer):  # each plot takes 0.4 s of the fake clock
        plotted.append(trainer.current_epoch)
        clock.now += 0.4
        return tmp_path / "loss_curves.png"

    curves.plot = plot
    trainer = SimpleNamespace(current_epoch=0)
    curves.on_fit_start(trainer, None)
    for epoch in range(60):  # 1-second epochs
        clock.now += 1.0
        trainer.current_epoch = epoch
        curves.on_train_epoch_end(trainer, None)
    # The first epoch always plots; then only while (spent + 0.4 s) <= 2% of the wall time: every ~20 s.
    assert plotted[0] == 0 and 3 <= len(plotted) <= 4, plotted
    assert curves._spent_s <= 0.02 * clock.now + 0.4

    every = LossCurves(share=None, every_n_epochs=2)
    every.clock, every.plot = clock, plot
    plotted.clear()
    every.on_fit_start(trainer, None)
    for epoch in range(6):
        trainer.current_epoch = epoch
        every.on_train_epoch_end(trainer, None)
    assert plotted == [1, 3, 5]  # no budget: every second epoch


@pytest.mark.parametrize("share", [0, 1, -0.5, True, "2%"])
def test_loss_curves_share_must_be_a_fraction(share):
    refused = rf"^share must be a number in \(0, 1\) or None, got {re.escape(repr(share))}$"
    with pytest.raises(ValueError, match=refused):
        LossCurves(share=share)
