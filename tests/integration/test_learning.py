"""A short real training run on the shipped real-MNIST sample must learn.

Measured against the same model at step 0: the discriminator separates real from generated
digits, and the generated pixels move towards real digits' statistics (intensity histogram and
mean image). Fails if training is broken (no updates, wrong signs, a detached generator...).
"""

import pytest
import torch

from gan_lightning import ConditionalGAN, MNISTDataModule
from tests.helpers import tiny_trainer


def _stats(model, real, labels):
    gen = torch.Generator().manual_seed(0)
    model.eval()
    with torch.no_grad():
        fake = model.sample(len(labels), labels=labels, generator=gen)
        gap = (
            torch.sigmoid(model.discriminate(real, labels)).mean()
            - torch.sigmoid(model.discriminate(fake, labels)).mean()
        ).item()
    model.train()
    hist = lambda x: torch.histc(x, bins=20, min=-1, max=1) / x.numel()  # noqa: E731
    hist_dist = (hist(fake) - hist(real)).abs().sum().item()
    mean_dist = (fake.mean(0) - real.mean(0)).pow(2).mean().sqrt().item()
    return gap, hist_dist, mean_dist


@pytest.mark.slow
def test_short_cgan_run_learns(tmp_path):
    torch.manual_seed(0)
    dm = MNISTDataModule(data_dir=str(tmp_path), download=False, batch_size=64)
    dm.prepare_data()
    dm.setup()
    real, labels = dm.val_set.__getitems__(list(range(512)))
    model = ConditionalGAN(arch="dcgan", ngf=32, ndf=32)
    gap0, hist0, mean0 = _stats(model, real, labels)
    tiny_trainer(tmp_path, limit_train_batches=80).fit(model, dm)
    gap1, hist1, mean1 = _stats(model, real, labels)
    print(f"gap {gap0:.3f}->{gap1:.3f}  hist {hist0:.3f}->{hist1:.3f}  mean-image {mean0:.3f}->{mean1:.3f}")
    assert gap1 > gap0 + 0.05
    assert hist1 < 0.5 * hist0
    assert mean1 < 0.5 * mean0
