"""Loading a checkpoint into the wrong model, or a file that is not one, fails in one line naming why."""

import errno
import os
from pathlib import Path

import lightning as L
import pytest
import torch

from gan_lightning import GAN, ConditionalGAN
from gan_lightning.reliability.checkpoints import CheckpointError, CheckpointWriteError, atomic_save
from gan_lightning.reliability.runs import resolve_last_checkpoint


@pytest.fixture(scope="module")
def cgan_ckpt(tmp_path_factory):
    torch.manual_seed(0)
    model = ConditionalGAN(arch="mlp", g_hidden=[16], d_hidden=[16], latent_dim=8, metrics=False)
    trainer = L.Trainer(logger=False, enable_checkpointing=False, enable_progress_bar=False, max_epochs=0)
    trainer.strategy.connect(model)
    path = tmp_path_factory.mktemp("ckpt") / "cgan.ckpt"
    trainer.save_checkpoint(path)
    return path


def test_gan_refuses_a_cgan_checkpoint(cgan_ckpt):
    with pytest.raises(CheckpointError, match=r"holds a ConditionalGAN but the model is a GAN"):
        GAN.load_from_checkpoint(cgan_ckpt)
    assert type(ConditionalGAN.load_from_checkpoint(cgan_ckpt)) is ConditionalGAN


def test_overridden_setting_is_named(cgan_ckpt):
    with pytest.raises(CheckpointError, match=r"saved with image_size=28 but the model has image_size=64"):
        ConditionalGAN.load_from_checkpoint(cgan_ckpt, image_size=64)


def test_missing_and_corrupt_files(tmp_path):
    with pytest.raises(CheckpointError, match=r"ckpt_path: no checkpoint file at '.*nope.ckpt'"):
        GAN.load_from_checkpoint(tmp_path / "nope.ckpt")
    (tmp_path / "bad.ckpt").write_bytes(b"\x00" * 64)
    with pytest.raises(
        CheckpointError, match=r"not a readable PyTorch checkpoint \(truncated, or not a PyTorch file\)"
    ):
        GAN.load_from_checkpoint(tmp_path / "bad.ckpt")


def test_atomic_save_writes_beside_the_target_then_renames(tmp_path, monkeypatch):
    renames = []
    real = os.replace
    monkeypatch.setattr(os, "replace", lambda src, dst: (renames.append((Path(src), Path(dst))), real(src, dst)))
    atomic_save({"x": torch.ones(3)}, tmp_path / "sub" / "last.ckpt")
    ((src, dst),) = renames
    assert src.parent == dst.parent == tmp_path / "sub"  # one filesystem: the rename is atomic
    assert src.name.startswith(".last.ckpt.") and src.name.endswith(".tmp") and not src.exists()
    assert torch.equal(torch.load(dst, weights_only=True)["x"], torch.ones(3))


@pytest.mark.parametrize(
    ("error", "raised", "match"),
    [
        (OSError(errno.EIO, "Input/output error"), CheckpointWriteError, r"\(Input/output error\); the checkpoint "),
        (KeyboardInterrupt(), KeyboardInterrupt, None),  # the type is the check: no message to match
    ],
    ids=["eio", "ctrl_c"],
)
def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch, error, raised, match):
    path = tmp_path / "last.ckpt"
    atomic_save({"step": 1}, path)

    def failing_fsync(fd):
        raise error

    monkeypatch.setattr(os, "fsync", failing_fsync)
    with pytest.raises(raised, match=match):
        atomic_save({"step": 2}, path)
    assert torch.load(path, weights_only=True) == {"step": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["last.ckpt"]


def test_ckpt_path_last_with_no_readable_checkpoint_is_an_error(tmp_path):
    folder = tmp_path / "lightning_logs" / "version_0" / "checkpoints"
    folder.mkdir(parents=True)
    (folder / "last.ckpt").write_bytes(b"PK\x03\x04 cut short")
    config = {"ckpt_path": "last"}
    with (
        pytest.warns(UserWarning, match="skipped it"),
        pytest.raises(
            ValueError,
            match=r"ckpt_path last: none of the 1 checkpoints under .* is readable \(the newest: '.*last.ckpt'",
        ),
    ):
        resolve_last_checkpoint(config, tmp_path)
    assert config == {"ckpt_path": "last"}
