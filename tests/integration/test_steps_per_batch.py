"""Several training steps per Lightning batch (`data.steps_per_batch`): the same training, bit for bit.

K batches ride in one Lightning batch and the module makes one full D/G step on each, so the runs
below, K = 8 against K = 1, must end with identical weights, counters, logged values and steps,
through epochs whose last group is short, `n_critic`, a `max_steps` inside a group, and a resume
from a checkpoint written inside an epoch.
"""

from __future__ import annotations

import csv
from pathlib import Path

import lightning as L
import pytest
import torch
from lightning.pytorch.callbacks import Callback, ModelCheckpoint
from lightning.pytorch.loggers import CSVLogger

from gan_lightning import MNISTDataModule
from gan_lightning.modules import GAN
from tests.helpers import tiny_trainer


def _fit(tmp_path, steps: int, name: str, ckpt_path=None, callbacks=(), **trainer_args) -> tuple[GAN, list[dict]]:
    L.seed_everything(0)
    model = GAN(arch="mlp", g_hidden=[32], d_hidden=[32], latent_dim=8, d_dropout=0.2, metrics=False, **_MODEL)
    dm = MNISTDataModule(
        data_dir=str(tmp_path / "data"), download=False, batch_size=16, train_subset=500, steps_per_batch=steps
    )  # 31 batches an epoch: groups of 8, 8, 8, 7
    logger = CSVLogger(str(tmp_path), name=name)
    args = dict(max_epochs=2, limit_train_batches=1.0, logger=logger, log_every_n_steps=5, callbacks=list(callbacks))
    args["enable_checkpointing"] = any(isinstance(c, ModelCheckpoint) for c in callbacks)
    trainer = tiny_trainer(tmp_path, **{**args, **trainer_args})
    trainer.fit(model, dm, ckpt_path=ckpt_path)
    metrics = Path(logger.log_dir) / "metrics.csv"
    rows = list(csv.DictReader(metrics.open())) if metrics.is_file() else []
    return model, rows


_MODEL: dict = {}


def _same_weights(a: GAN, b: GAN) -> None:
    assert int(a.g_steps) == int(b.g_steps)
    for (name, p), q in zip(a.state_dict().items(), b.state_dict().values(), strict=True):
        assert torch.equal(p, q), name


@pytest.mark.parametrize("n_critic, max_steps", [(1, -1), (2, 75)], ids=["two-epochs", "n_critic2-max_steps75"])
def test_eight_steps_per_batch_train_exactly_as_one(tmp_path, monkeypatch, n_critic, max_steps):
    monkeypatch.setitem(_MODEL, "n_critic", n_critic)
    one, one_rows = _fit(tmp_path, 1, "one", max_steps=max_steps)
    eight, eight_rows = _fit(tmp_path, 8, "eight", max_steps=max_steps)
    _same_weights(one, eight)
    assert one.trainer.global_step == eight.trainer.global_step
    assert eight_rows == one_rows  # the same values, logged at the same steps
    assert any(row.get("train/d_loss_step") for row in one_rows)


class _SaveOnce(Callback):
    """A checkpoint at the end of the first Lightning batch past `step` optimizer steps (inside an epoch)."""

    def __init__(self, path, step: int) -> None:
        self.path, self.step, self.saved = path, step, False

    def on_train_batch_end(self, trainer, *args) -> None:
        if not self.saved and trainer.global_step >= self.step:
            trainer.save_checkpoint(self.path)
            self.saved = True


def test_a_resume_inside_an_epoch_with_groups_is_exact(tmp_path):
    whole, _ = _fit(tmp_path, 8, "whole")
    _fit(tmp_path, 8, "saving", callbacks=[_SaveOnce(tmp_path / "mid.ckpt", 80)])  # after 5 groups: epoch 1
    resumed, _ = _fit(tmp_path, 8, "resumed", ckpt_path=tmp_path / "mid.ckpt")
    assert resumed.trainer.global_step == whole.trainer.global_step
    _same_weights(whole, resumed)


def test_settings_counted_in_lightning_batches_are_adapted_or_refused(tmp_path):
    with pytest.raises(ValueError, match=r"trainer.val_check_interval .* multiple of 8 .* got 12"):
        _fit(tmp_path, 8, "a", val_check_interval=12, limit_val_batches=1, max_epochs=1)
    every = ModelCheckpoint(dirpath=tmp_path / "c", every_n_train_steps=10)
    with pytest.raises(ValueError, match="ModelCheckpoint every_n_train_steps=10 .*data.steps_per_batch=8"):
        _fit(tmp_path, 8, "b", callbacks=[every], max_epochs=1)


def test_auto_sizes_the_groups_when_fit_starts_and_trains_exactly_as_one(tmp_path):
    one, one_rows = _fit(tmp_path, 1, "one")
    auto, auto_rows = _fit(tmp_path, "auto", "auto")
    # This tiny MLP's step takes well under a millisecond: Lightning's cost per batch would be most of it.
    assert 1 < auto.trainer.datamodule.steps_per_batch <= 16
    _same_weights(one, auto)
    assert auto_rows == one_rows


def test_auto_resumes_inside_an_epoch_with_the_checkpoints_group_size(tmp_path):
    whole, _ = _fit(tmp_path, 8, "whole")
    _fit(tmp_path, 8, "saving", callbacks=[_SaveOnce(tmp_path / "mid.ckpt", 80)])
    resumed, _ = _fit(tmp_path, "auto", "resumed", ckpt_path=tmp_path / "mid.ckpt")
    assert resumed.trainer.datamodule.steps_per_batch == 8  # Lightning's count of the epoch is in groups of 8
    _same_weights(whole, resumed)


def test_auto_keeps_to_the_settings_counted_in_lightning_batches(tmp_path):
    auto, _ = _fit(tmp_path, "auto", "a", val_check_interval=12, limit_val_batches=1, max_epochs=1)
    assert 12 % auto.trainer.datamodule.steps_per_batch == 0
    every = ModelCheckpoint(dirpath=tmp_path / "c", every_n_train_steps=10)
    auto, _ = _fit(tmp_path, "auto", "b", callbacks=[every], max_epochs=1)
    assert auto.trainer.datamodule.steps_per_batch == 1  # no groups, no refusal: it saves every 10 steps
    assert sorted(f.name for f in (tmp_path / "c").glob("*.ckpt"))[-1] == "epoch=0-step=60.ckpt"
