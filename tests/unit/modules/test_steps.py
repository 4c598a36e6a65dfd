"""`data.steps_per_batch: auto`: the group size from the time of a step, and timing that changes nothing."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch
from lightning.pytorch.callbacks import ModelCheckpoint

from gan_lightning.modules import GAN, ConditionalGAN, SelfConditionedGAN, steps
from gan_lightning.modules.steps import pick_steps_per_batch, step_ms


@pytest.mark.parametrize(
    "ms, interval, every, limit, expected",
    [
        (0.1, 1.0, 0, 1.0, 16),  # a tiny step: as many as allowed
        (6.0, 1.0, 0, 1.0, 9),  # 1 ms of Lightning is 2% of 9 steps of 6 ms (8.3, up)
        (100.0, 1.0, 0, 1.0, 1),  # a slow step: Lightning's cost is lost in it already
        (6.0, 12, 0, 1.0, 6),  # an integer val_check_interval is divided by the group size: a divisor of it
        (0.1, 12, 0, 0.5, 12),  # (a fraction of the epoch's batches is the same share of its groups)
        (0.1, 1.0, 10, 1.0, 1),  # a ModelCheckpoint counting optimizer steps is tested once per Lightning batch
        (0.1, 1.0, 0, 100, 1),  # limit_train_batches 100 counts Lightning batches: 100 batches, not groups
    ],
)
def test_auto_groups_until_lightnings_cost_is_a_small_share(monkeypatch, ms, interval, every, limit, expected):
    monkeypatch.setattr(steps, "step_ms", lambda module, batch_size: ms)
    callbacks = [ModelCheckpoint(every_n_train_steps=every)] if every else []
    broadcast = []  # every rank takes rank 0's size
    strategy = SimpleNamespace(broadcast=lambda value: broadcast.append(value) or value)
    trainer = SimpleNamespace(
        callbacks=callbacks, val_check_interval=interval, strategy=strategy, limit_train_batches=limit
    )
    assert pick_steps_per_batch(SimpleNamespace(trainer=trainer), 64) == expected
    assert broadcast == [expected]


SMALL = dict(arch="mlp", g_hidden=[32], d_hidden=[32], latent_dim=8, metrics=False)


@pytest.mark.parametrize(
    "make",
    [
        lambda: GAN(**SMALL, info_codes=4),  # G reads a code off the noise; D's head recovers it
        lambda: ConditionalGAN(**SMALL, conditioning="projection"),
        lambda: SelfConditionedGAN(**SMALL, clusters=5),  # clusters read off the noise, before any k-means
    ],
    ids=["gan-info_codes", "cgan-projection", "selfcond"],
)
def test_every_kind_of_model_can_time_its_step(make):
    model = make()
    rng = torch.get_rng_state()
    assert step_ms(model, 16) > 0
    assert torch.equal(torch.get_rng_state(), rng)


def test_timing_a_step_leaves_the_module_as_it_was():
    model = ConditionalGAN(arch="mlp", g_hidden=[32], d_hidden=[32], latent_dim=8, g_norm="batchnorm", d_dropout=0.3)
    model.train()
    model.discriminator.eval()  # modes are restored module by module, not all set to train
    before = {k: v.clone() for k, v in model.state_dict().items()}
    torch.manual_seed(3)
    rng = torch.get_rng_state()
    assert step_ms(model, 32) > 0
    assert torch.equal(torch.get_rng_state(), rng)  # the noise came from its own generator
    after = model.state_dict()
    assert all(torch.equal(v, after[k]) for k, v in before.items())  # BatchNorm's running statistics too
    assert model.training and model.generator.training and not model.discriminator.training


def test_compiled_nets_are_timed_eager_and_stay_compiled():
    compiled = []  # a torch.compile backend that records each graph it is given and runs it as it is

    def backend(graph, example_inputs):
        compiled.append(graph)
        return graph.forward

    model = GAN(**SMALL)
    model.generator.compile(backend=backend)
    assert step_ms(model, 16) > 0 and compiled == []  # timing compiled nothing: a no-grad graph is not training's
    model.generator(torch.randn(4, 8))
    assert len(compiled) == 1  # the net's compile hook is back
