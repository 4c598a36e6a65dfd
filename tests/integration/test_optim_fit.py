"""Optimizers and learning-rate schedules (modules/optim.py): lr_decay ends at 0 whatever bounds the run."""

from __future__ import annotations

import time

import lightning.pytorch as L
import pytest

from gan_lightning import GAN
from gan_lightning.modules.optim import batches_for_steps
from tests.helpers import tiny_trainer

TINY = dict(ngf=8, ndf=8, latent_dim=16, metrics=False)


def _lrs(trainer) -> list[float]:
    return [o.param_groups[0]["lr"] for o in trainer.optimizers]


@pytest.mark.parametrize("n_critic", [1, 2, 3])
def test_batches_for_steps_matches_lightnings_step_count(n_critic):
    for max_steps in range(1, 40):
        steps, batches = 0, 0
        while steps < max_steps:  # what Lightning counts: a D step each batch, a G step every n_critic-th
            batches += 1
            steps += 1 + (batches % n_critic == 0)
        assert batches_for_steps(max_steps, n_critic) == batches, (max_steps, n_critic)


@pytest.mark.parametrize(("n_critic", "max_steps", "batches"), [(1, 8, 4), (2, 9, 6)])
def test_lr_decay_reaches_zero_when_max_steps_ends_the_run(tmp_path, tiny_dm, n_critic, max_steps, batches):
    # max_steps counts both optimizers' steps: the schedule must count the batches they take, not the steps.
    model = GAN(lr_decay="linear", n_critic=n_critic, **TINY)
    trainer = tiny_trainer(tmp_path, max_epochs=None, max_steps=max_steps, limit_train_batches=20)
    trainer.fit(model, tiny_dm)
    assert trainer.global_step == max_steps and model.generator_steps == batches // n_critic
    assert _lrs(trainer) == pytest.approx([0.0, 0.0], abs=1e-12)


def test_lr_decay_follows_whichever_bound_ends_the_run_first(tmp_path, tiny_dm):
    model = GAN(lr_decay="cosine", **TINY)
    trainer = tiny_trainer(tmp_path, max_epochs=3, max_steps=100, limit_train_batches=2)  # epochs end it: 6 batches
    trainer.fit(model, tiny_dm)
    assert trainer.lr_scheduler_configs[0].scheduler.last_epoch == 6
    assert _lrs(trainer) == pytest.approx([0.0, 0.0], abs=1e-12)


def test_lr_decay_with_max_time_is_refused(tmp_path, tiny_dm):
    trainer = tiny_trainer(tmp_path, max_epochs=None, max_time={"minutes": 5})
    match = r"lr_decay must be 'none' when only trainer.max_time bounds the run .* got lr_decay='linear' with max_time"
    with pytest.raises(ValueError, match=match):
        trainer.fit(GAN(lr_decay="linear", **TINY), tiny_dm)


def test_lr_decay_with_max_time_as_a_safety_stop_follows_max_steps(tmp_path, tiny_dm, recwarn):
    model = GAN(lr_decay="linear", **TINY)
    trainer = tiny_trainer(tmp_path, max_epochs=None, max_steps=8, max_time={"minutes": 5}, limit_train_batches=20)
    trainer.fit(model, tiny_dm)
    assert trainer.global_step == 8 and _lrs(trainer) == pytest.approx([0.0, 0.0], abs=1e-12)
    assert not [w for w in recwarn if str(w.message).startswith("lr_decay:")]  # it finished: nothing to say


class _SlowBatch(L.Callback):
    """Sleeps past the trainer's 1-second max_time at the end of the third batch."""

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        if batch_idx == 2:
            time.sleep(1.1)


def test_lr_decay_cut_short_by_max_time_warns_where_it_stopped(tmp_path, tiny_dm):
    model = GAN(lr_decay="linear", **TINY)
    trainer = tiny_trainer(
        tmp_path,
        max_epochs=None,
        max_steps=40,
        max_time={"seconds": 1},
        limit_train_batches=20,
        callbacks=[_SlowBatch()],
    )
    with pytest.warns(UserWarning, match=r"lr_decay: the run ended at batch \d+ of the 20 its linear decay spans"):
        trainer.fit(model, tiny_dm)
    done = trainer.lr_scheduler_configs[0].scheduler.last_epoch
    assert 0 < done < 20 and trainer.global_step < 40
    assert _lrs(trainer)[0] == pytest.approx((1 - done / 20) * model.hparams.lr_g)


def test_max_time_without_lr_decay_trains(tmp_path, tiny_dm):
    model = GAN(**TINY)
    tiny_trainer(tmp_path, max_epochs=1, max_time={"minutes": 5}).fit(model, tiny_dm)
    assert model.generator_steps == 2
