"""R1, LeCam, top-k, augmentation in the training step, and conditional BatchNorm: each a switch that works.

Here: the tests that train (`fit`); the others are in tests/unit/modules/test_quality_techniques.py.
"""

import pytest
import torch

from gan_lightning import GAN, ConditionalGAN
from gan_lightning.modules.techniques import TECHNIQUE_KEY
from tests.helpers import tiny_trainer
from tests.unit.modules.test_quality_techniques import SN_D, TINY

EVERYTHING = dict(
    augment="translation,cutout,color", augment_p=0.0, ada_target=0.6, ada_interval=1, ada_kimg=0.05,
    r1_gamma=1.0, r1_every=2, lecam_weight=0.3, topk_decay=0.5, topk_min=0.25,
)  # fmt: skip


def test_every_technique_trains_together_and_is_saved(tmp_path, tiny_dm):
    model = ConditionalGAN(conditioning="cbn", class_weight=0.5, **TINY, **SN_D, **EVERYTHING)
    trainer = tiny_trainer(tmp_path, limit_train_batches=4, max_epochs=2, logger=True, log_every_n_steps=2)
    trainer.fit(model, tiny_dm)
    logged = trainer.logged_metrics
    assert torch.isfinite(logged["train/d_loss_step"]) and torch.isfinite(logged["train/g_loss_step"])
    assert "train/aug_p" in logged and "train/ada_rt" in logged
    for key in ("train/d_class", "train/g_class"):  # the class terms' window means (class_weight)
        assert torch.isfinite(logged[key]) and logged[key] > 0
    assert 0 <= logged["train/d_class_acc"] <= 1
    assert model.techniques.augment.p.item() > 0  # it moved (D is sure of the reals early on) ...
    assert model.techniques.lecam.real.item() != 0  # ... and so did the anchors
    assert model.techniques.d_updates == 8

    path = tmp_path / "all.ckpt"
    trainer.save_checkpoint(path)
    saved = torch.load(path, map_location="cpu", weights_only=True)[TECHNIQUE_KEY]
    assert saved["augment"]["p"].item() == pytest.approx(model.techniques.augment.p.item())
    assert saved["lecam"]["fake"].item() == pytest.approx(model.techniques.lecam.fake.item())
    loaded = ConditionalGAN.load_from_checkpoint(path)
    assert loaded.techniques.augment.p.item() == pytest.approx(model.techniques.augment.p.item())
    assert loaded.techniques.lecam.real.item() == pytest.approx(model.techniques.lecam.real.item())
    # The state is not in state_dict: the checkpoint also loads into a model with the techniques off.
    plain = ConditionalGAN.load_from_checkpoint(path, **{k: v for k, v in _off().items()})
    assert plain.techniques.augment is None and plain.techniques.lecam is None


def _off() -> dict:
    return dict(augment=None, augment_p=1.0, ada_target=None, ada_interval=4, ada_kimg=100.0, r1_gamma=0.0,
                r1_every=16, lecam_weight=0.0, lecam_decay=0.99, topk_decay=None, topk_min=0.5)  # fmt: skip


def test_fixed_probability_augmentation_trains(tmp_path, tiny_dm):
    model = GAN(augment="translation,cutout", **TINY)
    trainer = tiny_trainer(tmp_path, limit_train_batches=2, logger=True, log_every_n_steps=1)
    trainer.fit(model, tiny_dm)
    assert torch.isfinite(trainer.logged_metrics["train/g_loss_step"])
    assert "train/aug_p" not in trainer.logged_metrics  # only the adaptive p is logged


def test_metrics_prd_adds_the_manifold_metrics_to_validation(tmp_path, tiny_dm):
    model = GAN(metrics_prd=True, metric_samples=64, **TINY)
    trainer = tiny_trainer(tmp_path, limit_train_batches=1, limit_val_batches=4, num_sanity_val_steps=0)
    trainer.fit(model, tiny_dm)
    for key in ("val/precision", "val/recall", "val/density", "val/coverage", "val/fid"):
        assert key in trainer.callback_metrics, key
    m = {k: trainer.callback_metrics[f"val/{k}"].item() for k in ("precision", "recall", "density", "coverage")}
    assert all(0 <= m[k] <= 1 for k in ("precision", "recall", "coverage")) and m["density"] >= 0, m
