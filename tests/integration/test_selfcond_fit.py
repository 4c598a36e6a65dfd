"""SelfConditionedGAN in real fits: clusters at the start, re-clustering, exact resume, its errors."""

import lightning as L
import pytest
import torch
from lightning.pytorch.callbacks import ModelCheckpoint

from gan_lightning import GAN, MNISTDataModule, SelfConditionedGAN
from gan_lightning.reliability.checkpoints import CheckpointError
from tests.helpers import SaveAt, record_losses, tiny_trainer

BATCHES, EPOCHS = 4, 3
SETTINGS = dict(ngf=8, ndf=8, latent_dim=16, clusters=12, metrics=False)
RECLUSTER = dict(cluster_features="discriminator", recluster_every=3)  # g steps 3, 6, 9, 12: across the stop


def _model_and_data(tmp_path, seed: int, **settings):
    L.seed_everything(seed)
    model = SelfConditionedGAN(**{**SETTINGS, **settings})
    losses = record_losses(model, generator=False)
    dm = MNISTDataModule(data_dir=str(tmp_path / "data"), download=False, batch_size=16, indices=True)
    return model, dm, losses


def _trainer(tmp_path, *callbacks, **kwargs):
    settings = dict(max_epochs=EPOCHS, limit_train_batches=BATCHES, callbacks=list(callbacks))
    return tiny_trainer(tmp_path, **{**settings, **kwargs})


def test_resume_mid_run_with_reclustering_continues_exactly(tmp_path):
    model, dm, whole = _model_and_data(tmp_path, seed=0, **RECLUSTER)
    mid = tmp_path / "mid.ckpt"
    _trainer(tmp_path / "whole", SaveAt(1, 1, mid)).fit(model, dm)
    assert model.reclusterings == BATCHES * EPOCHS // 3

    resumed, dm2, losses = _model_and_data(tmp_path, seed=123, **RECLUSTER)  # another seed: the checkpoint sets all
    _trainer(tmp_path / "resumed").fit(resumed, dm2, ckpt_path=mid)
    assert losses == whole[BATCHES + 2 :]  # every D loss after the stop, bit for bit
    assert resumed.reclusterings == model.reclusterings
    assert torch.equal(resumed.cluster_table, model.cluster_table)
    for (name, a), b in zip(resumed.state_dict().items(), model.state_dict().values(), strict=True):
        assert torch.equal(a, b), name


def test_clusters_are_drawn_once_and_measured_against_the_digits(tmp_path):
    model, dm, _ = _model_and_data(tmp_path, seed=0, metrics=True, metric_samples=64)
    trainer = _trainer(tmp_path, max_epochs=1, limit_val_batches=4, logger=L.pytorch.loggers.CSVLogger(tmp_path))
    trainer.fit(model, dm)
    table = model.cluster_table
    assert len(table) == len(dm.train_set) and len(table.unique()) == 12
    shares = torch.bincount(table, minlength=12).float() / len(table)
    assert torch.allclose(model.cluster_cdf, shares.cumsum(0))
    scores = trainer.callback_metrics
    # Pixel clusters of real digits are far from random (a random split scores about 0.11 purity).
    assert scores["val/cluster_purity"] > 0.5 and 0.3 < scores["val/cluster_nmi"] < 1


def test_fit_without_indices_fails_naming_the_setting(tmp_path):
    model = SelfConditionedGAN(**SETTINGS)
    dm = MNISTDataModule(data_dir=str(tmp_path / "data"), download=False, batch_size=16)
    with pytest.raises(ValueError, match=r"MNISTDataModule\(indices=True\) \(data.indices: true\), got indices=False"):
        _trainer(tmp_path).fit(model, dm)


def test_resume_on_other_data_fails_naming_the_sizes(tmp_path):
    model, dm, _ = _model_and_data(tmp_path, seed=0)
    ckpt = ModelCheckpoint(dirpath=tmp_path / "ckpt", save_last=True)
    _trainer(tmp_path, ckpt, max_epochs=1, enable_checkpointing=True).fit(model, dm)
    other, _, _ = _model_and_data(tmp_path, seed=0)
    data_dir = str(tmp_path / "data")
    fewer = MNISTDataModule(data_dir=data_dir, download=False, batch_size=16, indices=True, train_subset=500)
    with pytest.raises(ValueError, match="clusters cover 6000 training images but the data module serves 500"):
        _trainer(tmp_path / "again", max_epochs=2).fit(other, fewer, ckpt_path=tmp_path / "ckpt" / "last.ckpt")
    with pytest.raises(CheckpointError, match="holds a SelfConditionedGAN but the model is a GAN"):
        GAN.load_from_checkpoint(tmp_path / "ckpt" / "last.ckpt")
    loaded = SelfConditionedGAN.load_from_checkpoint(tmp_path / "ckpt" / "last.ckpt")
    assert torch.equal(loaded.cluster_cdf, model.cluster_cdf) and torch.equal(loaded.cluster_table, model.cluster_table)
