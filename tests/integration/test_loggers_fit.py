"""The W&B logger: credentials, the offline fallback, run folders, and a real offline run on disk.

Here: the tests that train (`fit`); the others are in tests/unit/test_loggers.py.
"""

from gan_lightning import ConditionalGAN
from gan_lightning.callbacks import ImageGridLogger, TrainingAnimation
from gan_lightning.loggers import WandbLogger
from tests.helpers import tiny_trainer
from tests.wandb_offline import history


def test_disabled_mode_trains_and_writes_no_wandb_files(tmp_path, tiny_dm, monkeypatch):
    monkeypatch.setenv("WANDB_MODE", "disabled")
    logger = WandbLogger(save_dir=str(tmp_path))
    grids = ImageGridLogger()
    tiny_trainer(tmp_path, logger=logger, callbacks=[grids]).fit(ConditionalGAN(arch="dcgan", ngf=8, ndf=8), tiny_dm)
    run_dir = tmp_path / "lightning_logs" / "version_0"
    assert not list(run_dir.rglob("*.wandb"))
    assert len(list((run_dir / "images").glob("grid_*.png"))) == 2  # the PNG files do not depend on a tracker


def test_offline_run_folder_holds_scalars_and_images(no_credentials, tmp_path, tiny_dm, monkeypatch):
    import wandb

    monkeypatch.setenv("WANDB_MODE", "offline")
    logger = WandbLogger(save_dir=str(tmp_path))
    callbacks = [ImageGridLogger(), TrainingAnimation()]
    trainer = tiny_trainer(tmp_path, logger=logger, log_every_n_steps=1, enable_checkpointing=True, callbacks=callbacks)
    trainer.fit(ConditionalGAN(arch="dcgan", ngf=8, ndf=8), tiny_dm)
    wandb.finish()

    run_dir = tmp_path / "lightning_logs" / "version_0"
    assert trainer.log_dir == str(run_dir)
    assert [p.name for p in (run_dir / "checkpoints").iterdir()] == ["epoch=0-step=4.ckpt"]  # inside the run folder
    (offline,) = (run_dir / "wandb").glob("offline-run-*")
    rows = history(next(offline.glob("run-*.wandb")))
    d_losses = [row["train/d_loss_step"] for row in rows if "train/d_loss_step" in row]
    assert len(d_losses) == 2 and all(isinstance(v, float) and v == v for v in d_losses)  # two batches, finite
    grid_rows = [row for row in rows if row.get("samples/grid/_type") == "images/separated"]
    assert [row["trainer/global_step"] for row in grid_rows] == [0, 2]
    logged = set()
    for row in grid_rows:
        (name,) = row["samples/grid/filenames"]
        logged.add((offline / "files" / name).read_bytes())
    # W&B holds the grids' PNG files as written in the run folder, not a second encoding of the pixels
    assert logged == {p.read_bytes() for p in (run_dir / "images").glob("grid_*.png")} and len(logged) == 2
    (gif_row,) = [row for row in rows if "samples/training/videos" in row]
    (video,) = gif_row["samples/training/videos"]
    assert (offline / "files" / video["path"]).read_bytes()[:6] == b"GIF89a"
