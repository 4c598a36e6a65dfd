"""W&B beyond scalars, read back from real offline runs: the sample table of every validation, and
checkpoints as artifacts (`log_model`) in an offline run, asked for or fallen back to.

Here: the tests that train (`fit`); the others are in tests/unit/callbacks/test_wandb_tables.py.
"""

from pathlib import Path

import pytest
import torch
from lightning.pytorch.callbacks import ModelCheckpoint
from PIL import Image

from gan_lightning import GAN, ConditionalGAN
from gan_lightning.callbacks import SampleTable
from gan_lightning.loggers import WandbLogger
from tests.helpers import tiny_trainer
from tests.wandb_offline import artifacts, history, tables


def _fit(tmp_path, model, dm, logger, **kwargs):
    import wandb

    trainer = tiny_trainer(tmp_path, logger=logger, max_epochs=2, limit_val_batches=1, **kwargs)
    trainer.fit(model, dm)
    wandb.finish()
    (run_file,) = (tmp_path / "lightning_logs" / "version_0" / "wandb").glob("offline-run-*/run-*.wandb")
    return run_file


def test_every_validation_logs_a_table_of_samples_per_digit(no_credentials, tmp_path, tiny_dm, monkeypatch):
    monkeypatch.setenv("WANDB_MODE", "offline")
    model = ConditionalGAN(arch="dcgan", ngf=8, ndf=8, metrics=False)
    callbacks = [SampleTable(per_digit=2)]
    run_file = _fit(tmp_path, model, tiny_dm, WandbLogger(save_dir=str(tmp_path)), callbacks=callbacks)

    steps = [row["trainer/global_step"] for row in history(run_file) if "samples/table/_type" in row]
    assert steps == [1, 3]  # one table per validation (end of each epoch), none for the sanity check
    logged = tables(run_file)
    assert [t["name"] for t in logged] == ["samples/table", "samples/table"]
    table = logged[-1]
    assert table["columns"] == ["asked", "sample", "reads_as", "confidence"]
    assert [row[0] for row in table["data"]] == [d for d in range(10) for _ in range(2)]  # digit-major
    expected = SampleTable(per_digit=2).rows(model)  # same fixed noise: the same readings
    for row, again in zip(table["data"], expected, strict=True):
        asked, image, reads_as, confidence = row
        assert image["_type"] == "image-file" and (image["width"], image["height"]) == (28, 28)
        assert Image.open(table["files"][image["path"]]).size == (28, 28)
        assert reads_as in range(10) and 0.1 <= confidence <= 1.0
        assert (reads_as, confidence) == (again[2], again[3])


def test_no_wandb_logger_logs_nothing_and_says_so(tmp_path, tiny_dm, caplog):
    callback = SampleTable()
    called = []
    callback.rows = lambda module: called.append(1)  # would draw the table
    with caplog.at_level("INFO"):
        tiny_trainer(tmp_path, limit_val_batches=1, callbacks=[callback]).fit(GAN(arch="mlp", metrics=False), tiny_dm)
    assert not called
    assert "SampleTable: this run has no W&B logger" in caplog.text


@pytest.mark.parametrize("how", ["offline=True", "fallback"])
def test_log_model_works_offline_and_is_uploaded_by_sync(no_credentials, tmp_path, tiny_dm, capfd, how):
    # Lightning's WandbLogger refuses offline=True with log_model; ours records the checkpoint as an
    # artifact of the offline run, which `wandb sync` uploads (the fallback does the same).
    logger = WandbLogger(save_dir=str(tmp_path), log_model=True, offline=how == "offline=True")
    checkpoint = ModelCheckpoint()
    model = GAN(arch="mlp", g_hidden=[16], d_hidden=[16], metrics=False)
    run_file = _fit(tmp_path, model, tiny_dm, logger, enable_checkpointing=True, callbacks=[checkpoint])
    assert ("W&B: no credentials found" in capfd.readouterr().err) == (how == "fallback")
    (model_artifact,) = [a for a in artifacts(run_file) if a.type == "model"]
    (entry,) = model_artifact.manifest.contents
    assert entry.path == "model.ckpt" and "latest" in model_artifact.aliases
    staged = Path(entry.local_path)  # W&B's copy, kept until `wandb sync` uploads it
    assert staged.is_relative_to(no_credentials)
    assert staged.stat().st_size == Path(checkpoint.best_model_path).stat().st_size
    assert torch.load(staged, map_location="cpu", weights_only=True)["global_step"] == 8


def test_log_model_with_wandb_disabled_trains_and_logs_nothing(tmp_path, tiny_dm, monkeypatch):
    monkeypatch.setenv("WANDB_MODE", "disabled")
    logger = WandbLogger(save_dir=str(tmp_path), log_model="all", offline=False)
    trainer = tiny_trainer(tmp_path, logger=logger, enable_checkpointing=True)
    trainer.fit(GAN(arch="mlp", g_hidden=[16], d_hidden=[16], metrics=False), tiny_dm)
    assert list((tmp_path / "lightning_logs" / "version_0" / "checkpoints").glob("*.ckpt"))
    assert not list(tmp_path.rglob("*.wandb"))
