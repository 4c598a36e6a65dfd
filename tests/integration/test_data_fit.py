"""DeviceBatches, the sampler-free training loader. On CUDA it serves from GPU memory; here the
same code runs with the data on the CPU (device_resident=True), which is what these tests check.

Here: the tests that train (`fit`); the others are in tests/unit/data/test_batches.py.
"""

from __future__ import annotations

from torch.utils.data import DataLoader

from gan_lightning import ConditionalGAN, MNISTDataModule
from gan_lightning.data.batches import DeviceBatches
from tests.helpers import tiny_trainer


def test_device_resident_fit_on_cpu(tmp_path):
    dm = MNISTDataModule(data_dir=str(tmp_path / "data"), download=False, batch_size=16, device_resident=True)
    model = ConditionalGAN(ngf=8, ndf=8, metrics=False)
    trainer = tiny_trainer(tmp_path, limit_train_batches=3)
    trainer.fit(model, dm)
    assert isinstance(trainer.train_dataloader, DeviceBatches)
    assert int(model.g_steps) == 3


def test_auto_keeps_the_dataloader_on_cpu(tmp_path, tiny_dm):
    trainer = tiny_trainer(tmp_path, limit_train_batches=1)
    trainer.fit(ConditionalGAN(ngf=8, ndf=8, metrics=False), tiny_dm)
    assert isinstance(trainer.train_dataloader, DataLoader)
