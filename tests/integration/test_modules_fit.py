"""

The tests that train (`fit`); the rest are in tests/unit/modules/test_modules.py.
"""

import lightning as L
import pytest
import torch

from gan_lightning import GAN, ConditionalGAN, MNISTDataModule
from tests.helpers import tiny_trainer
from tests.unit.modules.test_modules import TINY


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


def test_image_size_mismatch_with_data(tmp_path):
    dm = MNISTDataModule(data_dir=str(tmp_path), download=False, image_size=28)
    with pytest.raises(ValueError, match="image_size: the model was built for 64 but the data module serves 28"):
        tiny_trainer(tmp_path).fit(GAN(image_size=64, **TINY), dm)
