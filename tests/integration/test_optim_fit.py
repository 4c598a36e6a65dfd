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


class _Rates(L.Callback):
    """The optimizers' learning rates at the first training batch of a run."""

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
        if not hasattr(self, "first"):
            self.first = _lrs(trainer)


def _first_run(tmp_path, tiny_dm, **hparams):
    trainer = tiny_trainer(tmp_path, max_epochs=None, max_steps=8, limit_train_batches=20)
    trainer.fit(GAN(**hparams, **TINY), tiny_dm)
    path = tmp_path / "first.ckpt"
    trainer.save_checkpoint(path)
    return path


def test_resume_applies_the_configured_learning_rates_with_a_note(tmp_path, tiny_dm, caplog):
    ckpt = _first_run(tmp_path, tiny_dm)  # lr_g = lr_d = 2e-4
    rates = _Rates()
    trainer = tiny_trainer(tmp_path, max_epochs=None, max_steps=12, limit_train_batches=20, callbacks=[rates])
    with caplog.at_level("INFO"):
        trainer.fit(GAN(lr_g=5e-5, lr_d=1e-4, **TINY), tiny_dm, ckpt_path=ckpt)
    assert rates.first == pytest.approx([5e-5, 1e-4])  # not the checkpoint's 2e-4
    assert "the configured ones apply: lr_g: 0.0002 -> 5e-05, lr_d: 0.0002 -> 0.0001" in caplog.text


def test_resume_with_the_same_rates_changes_nothing(tmp_path, tiny_dm, caplog):
    ckpt = _first_run(tmp_path, tiny_dm)
    rates = _Rates()
    trainer = tiny_trainer(tmp_path, max_epochs=None, max_steps=12, limit_train_batches=20, callbacks=[rates])
    with caplog.at_level("INFO"):
        trainer.fit(GAN(**TINY), tiny_dm, ckpt_path=ckpt)
    assert rates.first == pytest.approx([2e-4, 2e-4]) and "configured ones apply" not in caplog.text


def test_resume_with_lr_decay_scales_the_schedule_from_where_it_was(tmp_path, tiny_dm):
    # 8 of 16 steps (4 of 8 batches) of a linear decay from 2e-4: the factor is 0.5 at the resume.
    trainer = tiny_trainer(tmp_path, max_epochs=None, max_steps=8, limit_train_batches=20)
    trainer.fit(GAN(lr_decay="linear", **TINY), tiny_dm)
    path = tmp_path / "half.ckpt"
    trainer.save_checkpoint(path)
    rates = _Rates()
    resumed = tiny_trainer(tmp_path, max_epochs=None, max_steps=16, limit_train_batches=20, callbacks=[rates])
    model = GAN(lr_decay="linear", lr_g=1e-4, **TINY)
    resumed.fit(model, tiny_dm, ckpt_path=path)
    assert rates.first == pytest.approx([0.5 * 1e-4, 0.5 * 2e-4])  # G's base halved, D's kept; same factor
    assert _lrs(resumed) == pytest.approx([0.0, 0.0], abs=1e-12)  # and the decay still ends at 0
