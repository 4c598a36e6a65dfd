import lightning as L
import pytest
import torch

from gan_lightning import GAN, ConditionalGAN, MNISTDataModule
from tests.helpers import tiny_trainer

TINY = dict(ngf=8, ndf=8, latent_dim=16)


def _params(net):
    return {k: v.detach().clone() for k, v in net.named_parameters()}


def _same(a, b):
    return all(torch.equal(a[k], b[k]) for k in a)


class StepIsolation(L.Callback):
    """Checks, around the G step of every batch, which net each optimizer step changed."""

    def __init__(self):
        self.batches = 0

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
        self.g0, self.d0 = _params(pl_module.generator), _params(pl_module.discriminator)

    def on_before_optimizer_step(self, trainer, pl_module, optimizer):
        opt_g = pl_module.optimizers()[0].optimizer
        if optimizer is opt_g:  # the D step is done, the G step is about to happen
            assert _same(_params(pl_module.generator), self.g0), "the D step changed G"
            assert not _same(_params(pl_module.discriminator), self.d0), "the D step did not change D"
            self.d_mid = _params(pl_module.discriminator)

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        assert _same(_params(pl_module.discriminator), self.d_mid), "the G step changed D"
        assert not _same(_params(pl_module.generator), self.g0), "the G step did not change G"
        self.batches += 1


@pytest.mark.parametrize("conditioning", [None, "embedding", "projection"], ids=["gan", "cgan", "projection"])
@pytest.mark.parametrize("arch", ["mlp", "dcgan"])
def test_d_step_leaves_g_and_g_step_leaves_d(tmp_path, tiny_dm, conditioning, arch):
    kwargs = dict(conditioning=conditioning) if conditioning else {}
    cls = ConditionalGAN if conditioning else GAN
    model = cls(arch=arch, g_hidden=[32], d_hidden=[32], ema_decay=0.9, **TINY, **kwargs)
    check = StepIsolation()
    tiny_trainer(tmp_path, callbacks=[check]).fit(model, tiny_dm)
    assert check.batches == 2


def test_n_critic_counts_generator_steps(tmp_path, tiny_dm):
    model = GAN(n_critic=3, **TINY)
    g0 = _params(model.generator)
    trainer = tiny_trainer(tmp_path, limit_train_batches=6)
    trainer.fit(model, tiny_dm)
    assert model.g_steps.item() == 2
    assert trainer.global_step == 6 + 2  # Lightning counts every optimizer step
    assert not _same(_params(model.generator), g0)


def test_logged_metrics(tmp_path, tiny_dm):
    trainer = tiny_trainer(tmp_path)
    trainer.fit(ConditionalGAN(**TINY), tiny_dm)
    for key in ("train/d_loss", "train/g_loss", "train/d_real", "train/d_fake"):
        assert f"{key}_step" in trainer.logged_metrics and f"{key}_epoch" in trainer.logged_metrics
    assert 0 <= trainer.logged_metrics["train/d_real_epoch"] <= 1


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


def test_image_size_mismatch_with_data(tmp_path):
    dm = MNISTDataModule(data_dir=str(tmp_path), download=False, image_size=28)
    with pytest.raises(ValueError, match="image_size: the model was built for 64 but the data module serves 28"):
        tiny_trainer(tmp_path).fit(GAN(image_size=64, **TINY), dm)


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
