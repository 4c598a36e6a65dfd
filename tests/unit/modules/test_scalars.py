"""TrainingLog: the training scalars gathered on the device, read and checked at log steps, logged as means."""

from __future__ import annotations

import pytest
import torch

from gan_lightning.modules.scalars import TrainingLog
from gan_lightning.reliability.guard import DivergenceError


def test_a_window_is_the_mean_of_its_batches_and_is_remembered_for_the_bar():
    log = TrainingLog("stop")
    log.add(0, 0, 0, torch.tensor([1.0, 0.6, 0.2]), torch.tensor(2.0))
    log.add(2, 0, 1, torch.tensor([3.0, 0.8, 0.4]), None)  # a batch without a G step (n_critic)
    window = log.take(trainer=None, step=3)
    assert window.counts == {"d": 2, "g": 1}
    assert window.means == pytest.approx({"d_loss": 2.0, "d_real": 0.7, "d_fake": 0.3, "g_loss": 2.0})
    assert log.last_window == {"step": 3, **{f"train/{k}": v for k, v in window.means.items()}}
    assert log.take(trainer=None, step=4) is None and log.last_window["step"] == 3  # nothing new: kept


def test_a_non_finite_loss_stops_naming_the_step_the_network_and_the_last_finite_losses():
    log = TrainingLog("stop")
    log.add(0, 0, 0, torch.tensor([1.5, 0.6, 0.2]), torch.tensor(0.75))
    log.add(2, 0, 1, torch.tensor([1.0, 0.6, 0.2]), torch.tensor(float("nan")))
    with pytest.raises(DivergenceError, match=r"step 3 \(epoch 0, batch 1\).*generator loss g_loss is nan") as err:
        log.take(trainer=None, step=4)
    assert "d_loss=1" in str(err.value) and "g_loss=0.75" in str(err.value)


def test_bad_on_nonfinite_is_one_line_naming_it():
    with pytest.raises(ValueError, match="on_nonfinite"):
        TrainingLog("ignore")
