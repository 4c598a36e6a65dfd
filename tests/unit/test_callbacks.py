"""Image callbacks, loss curves and the GIF: what they draw, where it goes, and that it survives a resume."""

import pytest
import torch
from lightning.pytorch.callbacks import ModelCheckpoint
from lightning.pytorch.loggers import TensorBoardLogger
from PIL import Image

from gan_lightning import GAN, ConditionalGAN
from gan_lightning.callbacks import ImageGridLogger, LatentInterpolation, LossCurves, TrainingAnimation
from gan_lightning.callbacks.curves import curves_figure
from gan_lightning.callbacks.interpolation import slerp
from tests.helpers import tiny_trainer


def _cgan(**kwargs):
    return ConditionalGAN(arch="dcgan", ngf=8, ndf=8, **kwargs)


def _grid_side(n: int, size: int = 28, pad: int = 2) -> int:
    return n * (size + pad) + pad  # make_grid: `pad` pixels around and between images


# -- what is drawn --------------------------------------------------------------------------------
def test_cgan_grid_has_one_row_per_digit():
    cb = ImageGridLogger(columns=3)
    z, labels, nrow = cb.make_inputs(_cgan(), torch.Generator().manual_seed(0))
    assert z.shape == (30, 100) and nrow == 3
    assert labels.tolist() == [d for d in range(10) for _ in range(3)]


def test_gan_grid_is_rows_by_columns_without_labels():
    z, labels, nrow = ImageGridLogger(columns=4, rows=2).make_inputs(GAN(arch="mlp"), torch.Generator().manual_seed(0))
    assert z.shape == (8, 100) and labels is None and nrow == 4


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
def test_without_logger_grids_gif_interpolation_and_curves_are_files(tmp_path, tiny_dm):
    grids, anim, interp, curves = ImageGridLogger(), TrainingAnimation(), LatentInterpolation(), LossCurves()
    model = _cgan()
    tiny_trainer(tmp_path, max_epochs=2, log_every_n_steps=1, callbacks=[grids, anim, interp, curves]).fit(
        model, tiny_dm
    )

    images = tmp_path / "images"
    # at the start, after epoch 1 (step 4) and after epoch 2 (step 8); the end adds nothing new
    assert sorted(p.name for p in images.glob("grid_*.png")) == [
        "grid_step=0000000.png",
        "grid_step=0000004.png",
        "grid_step=0000008.png",
    ]
    first, last = (Image.open(images / f"grid_step=000000{s}.png") for s in (0, 8))
    assert first.size == last.size == (_grid_side(10), _grid_side(10))  # 10 digits x 10 columns
    assert list(first.getdata()) != list(last.getdata())  # training changed the generator
    gif = Image.open(images / "training.gif")
    assert gif.n_frames == 3 and anim.path == images / "training.gif"
    assert Image.open(images / "interpolation_step=0000008.png").size == (_grid_side(10), _grid_side(10))
    plot = Image.open(tmp_path / "loss_curves.png")
    assert plot.format == "PNG" and plot.size == (800, 600)
    assert len(curves.history["train/d_loss"]) == 4  # one point per log step: every batch here
    assert model.training  # drawing put the generator back in training mode


def test_every_n_steps_counts_generator_steps(tmp_path, tiny_dm):
    grids, curves = ImageGridLogger(every_n_epochs=None, every_n_steps=1), LossCurves()
    model = _cgan(n_critic=2)  # G steps on batches 2 and 4: global steps 3 and 6
    tiny_trainer(tmp_path, limit_train_batches=4, log_every_n_steps=1, callbacks=[grids, curves]).fit(model, tiny_dm)
    assert [s["step"] for s in grids.saved] == [0, 3, 6]
    assert len(curves.history["train/d_loss"]) == 4
    assert [s for s, _ in curves.history["train/g_loss"]] == [3, 6]  # no G point for a D-only window


def test_existing_files_are_never_overwritten(tmp_path, tiny_dm):
    images = tmp_path / "images"
    images.mkdir()
    (images / "grid_step=0000000.png").write_bytes(b"an earlier run's grid")
    (tmp_path / "loss_curves.png").write_bytes(b"an earlier run's curves")
    grids, curves = ImageGridLogger(), LossCurves()
    tiny_trainer(tmp_path, callbacks=[grids, curves]).fit(_cgan(), tiny_dm)
    assert (images / "grid_step=0000000.png").read_bytes() == b"an earlier run's grid"
    assert (tmp_path / "loss_curves.png").read_bytes() == b"an earlier run's curves"
    assert grids.saved[0]["path"].endswith("grid_step=0000000-1.png")
    assert curves.path.name == "loss_curves-1.png"


# -- TensorBoard --------------------------------------------------------------------------------
def test_tensorboard_event_file_holds_the_grids(tmp_path, tiny_dm):
    from tensorboard.backend.event_processing.event_accumulator import IMAGES, EventAccumulator

    logger = TensorBoardLogger(tmp_path, name="lightning_logs")
    grids = ImageGridLogger()
    tiny_trainer(tmp_path, logger=logger, log_every_n_steps=1, callbacks=[grids]).fit(_cgan(), tiny_dm)
    events = EventAccumulator(logger.log_dir, size_guidance={IMAGES: 0})
    events.Reload()
    assert "samples/grid" in events.Tags()["images"]
    shown = events.Images("samples/grid")
    assert [e.step for e in shown] == [0, 2]  # Lightning's logging step: batches (2), not D+G steps (4)
    assert (shown[0].width, shown[0].height) == (_grid_side(10), _grid_side(10))
    assert "train/d_loss_step" in events.Tags()["scalars"]
    assert len(list((tmp_path / "lightning_logs" / "version_0" / "images").glob("grid_*.png"))) == 2


# -- resume ---------------------------------------------------------------------------------------
def test_fixed_noise_labels_and_history_survive_a_resume(tmp_path, tiny_dm):
    def trainer(callbacks, epochs):
        callbacks = [ModelCheckpoint(save_last=True), *callbacks]
        return tiny_trainer(
            tmp_path, max_epochs=epochs, enable_checkpointing=True, log_every_n_steps=1, callbacks=callbacks
        )

    grids, curves, anim = ImageGridLogger(seed=5), LossCurves(), TrainingAnimation()
    trainer([grids, curves, anim], 1).fit(_cgan(), tiny_dm)
    last = tmp_path / "checkpoints" / "last.ckpt"
    saved = torch.load(last, weights_only=True)  # the callbacks' state is plain tensors and values
    assert "ImageGridLogger[grid]" in saved["callbacks"]

    grids2, curves2, anim2 = ImageGridLogger(seed=99), LossCurves(), TrainingAnimation()
    trainer([grids2, curves2, anim2], 2).fit(_cgan(), tiny_dm, ckpt_path=str(last))
    torch.testing.assert_close(grids2.z, grids.z)  # the seed-5 noise, not a fresh seed-99 draw
    assert torch.equal(grids2.labels, grids.labels)
    assert [s["step"] for s in grids2.saved] == [0, 4, 8]  # the first run's grids, then the resumed one's
    assert [s for s, _ in curves2.history["train/d_loss"]] == [2, 4, 6, 8]  # the curves start at step 0
    assert Image.open(anim2.path).n_frames == 3  # the animation spans both runs


def test_grid_noise_mismatch_after_changing_latent_dim_is_a_clear_error(tmp_path, tiny_dm):
    grids = ImageGridLogger()
    grids.load_state_dict({"z": torch.zeros(100, 64), "labels": torch.arange(100) % 10})
    with pytest.raises(ValueError, match="saved fixed noise has 64 dimensions but the model's latent_dim is 100"):
        tiny_trainer(tmp_path, callbacks=[grids]).fit(_cgan(), tiny_dm)


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


def test_loss_curves_take_the_modules_loss(tmp_path, tiny_dm):
    curves = LossCurves()
    tiny_trainer(tmp_path, log_every_n_steps=1, callbacks=[curves]).fit(GAN(arch="mlp", loss="hinge"), tiny_dm)
    assert curves._loss == "hinge" and curves.path.is_file()
