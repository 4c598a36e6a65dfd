"""The quality techniques: each a switch, each doing what it says.

Here: the tests that train (`fit`); the others are in tests/unit/modules/test_techniques.py.
"""

import pytest
import torch

from gan_lightning import GAN, ConditionalGAN
from tests.helpers import tiny_trainer
from tests.unit.modules.test_techniques import TINY


def test_ema_is_trained_saved_and_used_for_sampling(tmp_path, tiny_dm):
    model = ConditionalGAN(conditioning="embedding", ema_decay=0.5, **TINY)
    trainer = tiny_trainer(tmp_path, limit_train_batches=3)
    trainer.fit(model, tiny_dm)
    ema_g = model.generator_ema.module["net"]
    assert model.generator_ema.n_averaged.item() == 3  # one update per generator step
    live = dict(model.generator.named_parameters())
    assert any(not torch.equal(p, live[k]) for k, p in ema_g.named_parameters())  # an average, not a copy
    opt_params = {id(p) for o in trainer.optimizers for g in o.param_groups for p in g["params"]}
    assert not any(id(p) in opt_params for p in model.generator_ema.parameters())

    path = tmp_path / "ema.ckpt"
    trainer.save_checkpoint(path)
    loaded = ConditionalGAN.load_from_checkpoint(path)
    for k, v in model.generator_ema.state_dict().items():
        assert torch.equal(loaded.generator_ema.state_dict()[k], v), k
    # decode draws from the average: change only the average and the samples change.
    gen = lambda: torch.Generator().manual_seed(0)  # noqa: E731
    before = loaded.sample(4, generator=gen())
    with torch.no_grad():
        for p in loaded.generator_ema.module["label"].parameters():
            p.add_(1.0)
    assert not torch.allclose(before, loaded.sample(4, generator=gen()))


def test_gradient_penalty_trains_with_a_wasserstein_critic(tmp_path, tiny_dm):
    model = GAN(loss="wasserstein", gp_weight=10.0, d_norm="layernorm", n_critic=2, **TINY)
    trainer = tiny_trainer(tmp_path, limit_train_batches=4)
    trainer.fit(model, tiny_dm)
    assert model.g_steps.item() == 2
    assert torch.isfinite(trainer.logged_metrics["train/d_loss_step"])


@pytest.mark.parametrize("schedule", ["linear", "cosine"])
def test_lr_decay_reaches_zero_at_the_end(tmp_path, tiny_dm, schedule):
    model = GAN(lr_decay=schedule, lr_g=1e-3, lr_d=2e-3, **TINY)
    trainer = tiny_trainer(tmp_path, limit_train_batches=4, max_epochs=2)
    trainer.fit(model, tiny_dm)
    lrs = [o.param_groups[0]["lr"] for o in trainer.optimizers]
    assert lrs == pytest.approx([0.0, 0.0], abs=1e-12)  # 8 batches: factor(8 / 8) = 0
    assert trainer.lr_scheduler_configs[0].scheduler.last_epoch == 8


def test_spectral_norm_and_minibatch_std_train(tmp_path, tiny_dm):
    model = ConditionalGAN(
        conditioning="projection", loss="hinge", spectral_norm=True, minibatch_std=True, d_norm="none", **TINY
    )
    trainer = tiny_trainer(tmp_path, limit_train_batches=3)
    trainer.fit(model, tiny_dm)
    assert hasattr(model.d_proj.embed, "parametrizations")  # SN reaches the projection embedding too
    assert torch.isfinite(trainer.logged_metrics["train/g_loss_step"])
