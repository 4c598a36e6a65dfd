"""Divergence guard: a NaN loss stops training naming step, network and last finite losses, and keeps
the last good checkpoint; `on_nonfinite: skip` leaves those steps out instead.

Here: the tests that train (`fit`); the others are in tests/unit/reliability/test_guard.py.
"""

from pathlib import Path

import pytest
import torch
from lightning.pytorch.callbacks import ModelCheckpoint

from gan_lightning import GAN
from gan_lightning.commands.cli import main
from gan_lightning.losses import LOSSES, GANLoss, bce_d, bce_g
from gan_lightning.reliability.guard import DivergenceError
from tests.helpers import tiny_trainer

ROOT = Path(__file__).resolve().parents[2]


def _nan_on_call(loss, call: int):
    """`loss`, except that its `call`-th call (1-based) returns NaN."""
    calls = []

    def wrapped(*args):
        calls.append(1)
        value = loss(*args)
        return value * float("nan") if len(calls) == call else value

    return wrapped


def _fit(tmp_path, loss: GANLoss, on_nonfinite: str = "stop") -> tuple[GAN, ModelCheckpoint, object]:
    torch.manual_seed(0)
    model = GAN(arch="mlp", g_hidden=[16], d_hidden=[16], latent_dim=8, metrics=False, on_nonfinite=on_nonfinite)
    model.loss_fn = loss
    ckpt = ModelCheckpoint(dirpath=tmp_path / "ckpt", save_last=True, save_on_exception=True)
    trainer = tiny_trainer(tmp_path, max_epochs=2, enable_checkpointing=True, callbacks=[ckpt])
    return model, ckpt, trainer


def test_nan_d_loss_stops_naming_step_network_and_last_losses(tmp_path, tiny_dm):
    # Epoch 1's second batch: one step after last.ckpt, so save_on_exception would write over it.
    model, ckpt, trainer = _fit(tmp_path, GANLoss(_nan_on_call(bce_d, 4), bce_g))
    with pytest.raises(DivergenceError) as info:
        trainer.fit(model, tiny_dm)
    message = str(info.value)
    assert "diverged at step 6 (epoch 1, batch 1): the discriminator loss d_loss is nan" in message
    assert "last finite losses: d_loss=" in message and ", g_loss=" in message and "(step 5)" in message
    assert "last good checkpoint kept: " in message and "last.ckpt" in message
    # last.ckpt is still the end of epoch 0, and no checkpoint of the diverged state was written.
    assert sorted(p.name for p in (tmp_path / "ckpt").iterdir()) == ["epoch=0-step=4.ckpt", "last.ckpt"]
    saved = torch.load(tmp_path / "ckpt" / "last.ckpt", weights_only=True)
    assert saved["global_step"] == 4
    assert all(torch.isfinite(v).all() for v in saved["state_dict"].values() if v.is_floating_point())


def test_nan_g_loss_names_the_generator(tmp_path, tiny_dm):
    model, _, trainer = _fit(tmp_path, GANLoss(bce_d, _nan_on_call(bce_g, 2)))
    with pytest.raises(DivergenceError, match=r"at step 3 .*the generator loss g_loss is nan"):
        trainer.fit(model, tiny_dm)


def test_skip_leaves_out_the_step_and_keeps_training(tmp_path, tiny_dm):
    model, _, trainer = _fit(tmp_path, GANLoss(_nan_on_call(bce_d, 3), bce_g), on_nonfinite="skip")
    trainer.fit(model, tiny_dm)
    assert model.training_log.guard.skipped == 1
    assert trainer.global_step == 2 * 4 - 2  # 4 batches, one made neither its D nor its G step
    assert int(model.g_steps) == 3
    assert all(torch.isfinite(p).all() for p in model.parameters())


def test_cli_divergence_is_one_line_and_exit_code_1(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(LOSSES, "bce", GANLoss(_nan_on_call(bce_d, 2), bce_g))
    with pytest.raises(SystemExit) as info:
        main(
            [
                "fit",
                "--config",
                str(ROOT / "configs" / "gan_mlp.yaml"),
                "--config",
                str(ROOT / "configs" / "logger" / "none.yaml"),
                "--trainer.limit_train_batches=3",
                "--trainer.limit_val_batches=0",
                "--trainer.enable_progress_bar=false",
                f"--trainer.default_root_dir={tmp_path / 'run'}",
                f"--data.data_dir={tmp_path / 'data'}",
                "--data.download=false",
                "--model.init_args.metrics=false",
            ]
        )
    assert info.value.code == 1
    line = capsys.readouterr().err.strip().splitlines()[-1]
    assert line.startswith("gan-lightning: error: training diverged at step 2 (epoch 0, batch 1)"), line
    assert "no checkpoint written yet" in line


def test_a_skipped_step_still_moves_the_learning_rate_schedule(tmp_path, tiny_dm):
    model, _, trainer = _fit(tmp_path, GANLoss(_nan_on_call(bce_d, 3), bce_g), on_nonfinite="skip")
    model.hparams.lr_decay = "linear"
    trainer.fit(model, tiny_dm)
    assert model.training_log.guard.skipped == 1
    schedulers = model.lr_schedulers()
    assert [s.last_epoch for s in schedulers] == [4, 4]  # one per batch, skipped or not (4 batches)
