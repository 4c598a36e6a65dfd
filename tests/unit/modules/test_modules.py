import pytest
import torch

from gan_lightning import GAN, ConditionalGAN

TINY = dict(ngf=8, ndf=8, latent_dim=16)


def test_sample_is_reproducible_with_a_generator():
    model = ConditionalGAN(**TINY)
    a = model.sample(8, generator=torch.Generator().manual_seed(0))
    b = model.sample(8, generator=torch.Generator().manual_seed(0))
    c = model.sample(8, generator=torch.Generator().manual_seed(1))
    assert torch.equal(a, b) and not torch.equal(a, c)
    assert model.generator.training  # sample() restores train mode


def test_cgan_labels_change_the_images():
    model = ConditionalGAN(**TINY)
    zs = torch.Generator().manual_seed(0)
    a = model.sample(4, labels=torch.tensor([1, 1, 1, 1]), generator=zs)
    b = model.sample(4, labels=torch.tensor([7, 7, 7, 7]), generator=torch.Generator().manual_seed(0))
    assert not torch.allclose(a, b)


def test_cgan_rejects_labels_out_of_range():
    with pytest.raises(ValueError, match=r"labels must be digits in 0..9, got \[12\]"):
        ConditionalGAN(**TINY).sample(2, labels=torch.tensor([3, 12]))


def test_gan_rejects_labels():
    with pytest.raises(ValueError, match="labels: an unconditional GAN takes no labels"):
        GAN(**TINY).sample(2, labels=torch.tensor([3, 1]))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"arch": "resnet"}, r"arch must be one of \('mlp', 'dcgan'\), got 'resnet'"),
        ({"loss": "hinge2"}, r"loss must be one of \(.*\), got 'hinge2'"),
        ({"optimizer": "rmsprop"}, r"optimizer must be one of \('adam', 'sgd'\), got 'rmsprop'"),
        ({"noise": "cauchy"}, r"noise must be one of \('normal', 'uniform'\), got 'cauchy'"),
        ({"n_critic": 0}, "n_critic must be a positive integer, got 0"),
        ({"lr_g": 0.0}, "lr_g must be a finite positive number, got 0.0"),
        ({"lr_d": -1e-4}, "lr_d must be a finite positive number, got -0.0001"),
        ({"lr_g": float("nan")}, "lr_g must be a finite positive number, got nan"),
        ({"lr_d": float("inf")}, "lr_d must be a finite positive number, got inf"),
        ({"image_size": 32}, r"image_size must be one of \(28, 64\), got 32"),
        ({"latent_dim": 0}, "latent_dim must be a positive integer, got 0"),
    ],
    ids=[
        *("arch", "loss", "optimizer", "noise", "n_critic", "lr_g", "lr_d"),
        *("lr_g_nan", "lr_d_inf", "image_size", "latent_dim"),
    ],
)
def test_bad_model_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        GAN(**kwargs)


def test_bad_conditioning():
    allowed = r"\('onehot', 'embedding', 'projection', 'cbn'\)"
    with pytest.raises(ValueError, match=rf"conditioning must be one of {allowed}, got 'concat'"):
        ConditionalGAN(conditioning="concat")


def test_sampling_keeps_the_generators_mode():
    model = GAN(**TINY)  # no EMA: decode draws from the live generator
    model.eval()
    model.sample(4)
    assert not model.generator.training
    model.train()
    model.sample(4)
    assert model.generator.training
