"""Speed switches and the DDP strategy check in real fits, on one CPU process."""

from __future__ import annotations

import os

import lightning as L
import pytest
import torch
from lightning.pytorch.callbacks import Callback
from lightning.pytorch.demos.boring_classes import BoringModel
from lightning.pytorch.strategies import DDPStrategy

from gan_lightning import GAN, ConditionalGAN
from gan_lightning.modules import strategies
from tests.helpers import tiny_trainer


class _Wrapped(Callback):
    """find_unused_parameters of the DistributedDataParallel wrapper the strategy built."""

    find_unused: bool | None = None

    def on_train_start(self, trainer, pl_module) -> None:
        self.find_unused = trainer.strategy.model.find_unused_parameters


def _ddp_fit(tmp_path, dm, strategy, model=None) -> tuple[L.LightningModule, bool | None]:
    """A one-process DDP fit (gloo on CPU), one batch: the wrapper is built exactly as with more processes.
    The model, and its wrapper's find_unused_parameters."""
    model = model if model is not None else GAN(ngf=8, ndf=8, metrics=False)
    wrapped = _Wrapped()
    trainer = tiny_trainer(tmp_path, strategy=strategy, limit_train_batches=1, callbacks=[wrapped])
    environ = dict(os.environ)
    try:
        trainer.fit(model, dm)
    finally:  # leave no process group and no launcher variables (LOCAL_RANK, ...) behind for the next tests
        if torch.distributed.is_initialized():
            torch.distributed.destroy_process_group()
        os.environ.clear()
        os.environ.update(environ)
    return model, wrapped.find_unused


def test_plain_ddp_trains_a_gan_with_one_note(tmp_path, tiny_dm, monkeypatch):
    notes: list[str] = []
    monkeypatch.setattr(strategies, "rank_zero_info", notes.append)
    model, find_unused = _ddp_fit(tmp_path, tiny_dm, "ddp")
    assert int(model.g_steps) == 1 and find_unused is True
    assert notes == [
        "trainer.strategy 'ddp': a GAN's G and D backward passes each leave the other net's parameters unused, "
        "so DDP runs with find_unused_parameters=True (as 'ddp_find_unused_parameters_true' does)"
    ]


def test_plain_ddp_stays_lightnings_for_other_modules(tmp_path, monkeypatch):
    notes: list[str] = []
    monkeypatch.setattr(strategies, "rank_zero_info", notes.append)
    _, find_unused = _ddp_fit(tmp_path, None, "ddp", model=BoringModel())
    assert find_unused is False and notes == []


@pytest.mark.parametrize(
    ("strategy", "given"),
    [
        (DDPStrategy(find_unused_parameters=False), "find_unused_parameters=False"),
        ("ddp_find_unused_parameters_false", "find_unused_parameters=False"),
        (DDPStrategy(find_unused_parameters=True, static_graph=True), "static_graph=True"),
    ],
    ids=["find_unused_false", "find_unused_false_by_name", "static_graph"],
)
def test_ddp_asked_not_to_find_unused_parameters_is_refused(tmp_path, tiny_dm, strategy, given):
    match = rf"trainer.strategy must be 'ddp' or 'ddp_find_unused_parameters_true' for a GAN .*got .*{given}"
    with pytest.raises(ValueError, match=match):
        _ddp_fit(tmp_path, tiny_dm, strategy)


def test_the_public_strategy_name_trains(tmp_path, tiny_dm, monkeypatch):
    notes: list[str] = []
    monkeypatch.setattr(strategies, "rank_zero_info", notes.append)
    model, find_unused = _ddp_fit(tmp_path, tiny_dm, "ddp_find_unused_parameters_true")
    assert int(model.g_steps) == 1 and find_unused is True and notes == []  # no note: the setting was asked for


def test_channels_last_weights_and_fused_adam_on_cpu(tmp_path, tiny_dm):
    model = ConditionalGAN(ngf=8, ndf=8, metrics=False, channels_last=True)
    tiny_trainer(tmp_path, limit_train_batches=1).fit(model, tiny_dm)
    convs = [m for m in model.modules() if isinstance(m, (torch.nn.Conv2d, torch.nn.ConvTranspose2d))]
    assert convs and all(c.weight.is_contiguous(memory_format=torch.channels_last) for c in convs)
    assert all(opt.optimizer.defaults.get("fused") for opt in model.optimizers())  # the default, CPU too
    assert int(model.g_steps) == 1
