"""GAN or ConditionalGAN from what configs, checkpoints and model folders store."""

import pytest

from gan_lightning import GAN, ConditionalGAN
from gan_lightning.modules import model_class


@pytest.mark.parametrize(
    ("stored", "cls"),
    [
        ("gan_lightning.ConditionalGAN", ConditionalGAN),
        ("gan_lightning.modules.cgan.ConditionalGAN", ConditionalGAN),
        ("ConditionalGAN", ConditionalGAN),
        ("gan_lightning.GAN", GAN),
        ("GAN", GAN),
        ("my_project.MyGAN", GAN),
    ],
)
def test_class_from_path_or_name(stored, cls):
    assert model_class(stored) is cls
