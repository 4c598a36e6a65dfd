"""Loading a checkpoint into the wrong model, or a file that is not one, fails in one line naming why."""

import lightning as L
import pytest
import torch

from gan_lightning import GAN, ConditionalGAN
from gan_lightning.checkpoints import CheckpointError


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
