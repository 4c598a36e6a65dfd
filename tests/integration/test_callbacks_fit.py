"""Image callbacks, loss curves and the GIF: what they draw, where it goes, and that it survives a resume.

Here: the tests that train (`fit`); the others are in tests/unit/callbacks/test_callbacks.py.
"""

from pathlib import Path

import pytest
import torch
from lightning.pytorch.callbacks import ModelCheckpoint
from lightning.pytorch.loggers import TensorBoardLogger
from PIL import Image

from gan_lightning import GAN
from gan_lightning.callbacks import ImageGridLogger, LatentInterpolation, LossCurves, TrainingAnimation
from tests.helpers import tiny_trainer
from tests.unit.callbacks.test_callbacks import _cgan

ROOT = Path(__file__).resolve().parents[2]


def _grid_side(n: int, size: int = 28, pad: int = 2) -> int:
    return n * (size + pad) + pad  # make_grid: `pad` pixels around and between images


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


def test_images_are_stamped_with_the_step_of_the_scalars(tmp_path, tiny_dm):
    """`logging_step` (the step every image callback uses) is the step Lightning writes next to the scalars
    logged at the same moment: in training batches, and in the validation that runs inside `fit`."""
    import csv

    from lightning.pytorch.callbacks import Callback
    from lightning.pytorch.loggers import CSVLogger

    from gan_lightning import GAN
    from gan_lightning.callbacks.sinks import logging_step

    class Probe(Callback):  # logs the step it would stamp an image with, as a scalar
        def on_train_batch_end(self, trainer, pl_module, *args):
            pl_module.log("probe/train", float(logging_step(trainer)), on_step=True, on_epoch=False)

        def on_validation_epoch_end(self, trainer, pl_module):
            pl_module.log("probe/val", float(logging_step(trainer)))

    logger = CSVLogger(tmp_path)
    model = GAN(arch="mlp", g_hidden=[16], d_hidden=[16], latent_dim=8, metrics=False)
    trainer = tiny_trainer(
        tmp_path, max_epochs=2, limit_train_batches=3, limit_val_batches=1, logger=logger, log_every_n_steps=1,
        callbacks=[Probe()], num_sanity_val_steps=0,
    )  # fmt: skip
    trainer.fit(model, tiny_dm)
    with open(f"{logger.log_dir}/metrics.csv") as f:
        rows = list(csv.DictReader(f))
    seen = {key: [] for key in ("probe/train", "probe/val")}
    for row in rows:
        for key in seen:
            if row.get(key):
                assert float(row[key]) == int(row["step"]), (key, row)
                seen[key].append(int(row["step"]))
    assert seen["probe/train"] == [0, 1, 2, 3, 4, 5] and seen["probe/val"] == [2, 5]


def test_loss_curves_take_the_modules_loss(tmp_path, tiny_dm):
    curves = LossCurves()
    tiny_trainer(tmp_path, log_every_n_steps=1, callbacks=[curves]).fit(GAN(arch="mlp", loss="hinge"), tiny_dm)
    assert curves._loss == "hinge" and curves.path.is_file()


def test_a_run_without_metrics_validates_and_keeps_last_ckpt_but_no_best(tmp_path, caplog):
    # The rule: every shipped callback that reads a validation metric stands down when the documented
    # switch `metrics: false` removes it, instead of failing at the first validation.
    import yaml

    from gan_lightning.commands.cli import main

    defaults = yaml.safe_load((ROOT / "gan_lightning" / "configs" / "defaults.yaml").read_text())
    monitored = [c["class_path"] for c in defaults["trainer"]["callbacks"] if "monitor" in c.get("init_args", {})]
    assert monitored == ["gan_lightning.callbacks.BestCheckpoint"]
    configs = ROOT / "configs"
    main([
        "fit", "--config", str(configs / "gan_mlp.yaml"), "--config", str(configs / "logger" / "csv.yaml"),
        "--model.init_args.metrics=false", "--trainer.max_epochs=2", "--trainer.limit_train_batches=2",
        "--trainer.limit_val_batches=2", "--trainer.check_val_every_n_epoch=1",
        f"--trainer.default_root_dir={tmp_path}", "--data.download=false", f"--data.data_dir={tmp_path / 'data'}",
    ])  # fmt: skip
    assert caplog.text.count("no best-checkpoint on val/fid") == 1
    assert len(list(tmp_path.rglob("last.ckpt"))) == 1 and not list(tmp_path.rglob("best-fid*"))
