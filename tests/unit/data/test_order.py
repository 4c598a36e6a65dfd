"""TrainingOrder: the training order's seed and a checkpoint's position in it (exact mid-epoch resume)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch

from gan_lightning.data.order import TrainingOrder


def _trainer(processed: int, batches: int = 10, epoch: int = 2, position: int | None = None) -> SimpleNamespace:
    progress = SimpleNamespace(current=SimpleNamespace(processed=processed))
    return SimpleNamespace(
        fit_loop=SimpleNamespace(epoch_loop=SimpleNamespace(batch_progress=progress)),
        num_training_batches=batches,
        current_epoch=epoch,
        lightning_module=SimpleNamespace(micro_steps=SimpleNamespace(position=position)),
    )


def test_the_seed_comes_from_the_global_rng_once():
    torch.manual_seed(0)
    first = TrainingOrder().seed_for(None)
    torch.manual_seed(0)
    order = TrainingOrder()
    assert order.seed_for(None) == first == order.seed_for(None)  # drawn once, then kept


def test_a_checkpoint_position_is_applied_once_by_the_next_loader():
    saved = TrainingOrder()
    saved.seed = 123
    state = saved.state_dict(_trainer(processed=4))
    assert state == {"shuffle_seed": 123, "epoch": 2, "batches_done": 4, "steps_per_batch": 1}
    resumed = TrainingOrder()
    resumed.load_state_dict(state)
    assert resumed.seed == 123 and resumed.take_resume() == (2, 4) and resumed.take_resume() is None


def test_positions_count_batches_not_groups_and_an_epoch_end_counts_as_none_done():
    order = TrainingOrder(steps_per_batch=8)
    order.seed = 1
    assert order.state_dict(_trainer(processed=3, position=21))["batches_done"] == 21  # stopped inside a group
    assert order.state_dict(_trainer(processed=3))["batches_done"] == 24  # between groups
    assert order.state_dict(_trainer(processed=10))["batches_done"] == 0  # the epoch was done
    assert TrainingOrder().state_dict(None) == {} and TrainingOrder().state_dict(_trainer(3)) == {}  # nothing yet


def test_another_group_size_is_refused_inside_an_epoch_and_allowed_at_its_end():
    state = {"shuffle_seed": 1, "epoch": 0, "batches_done": 16, "steps_per_batch": 8}
    with pytest.raises(ValueError, match=r"data\.steps_per_batch: .*steps_per_batch=8; resume it with 8.*got 1"):
        TrainingOrder(steps_per_batch=1).load_state_dict(state)
    TrainingOrder(steps_per_batch=1).load_state_dict({**state, "batches_done": 0})
