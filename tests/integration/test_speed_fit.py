"""Speed switches and the DDP strategy check in real fits, on one CPU process."""

from __future__ import annotations

import os

import pytest
import torch
from lightning.pytorch.strategies import DDPStrategy

from gan_lightning import GAN, ConditionalGAN
from tests.helpers import tiny_trainer


def _ddp_fit(tmp_path, dm, strategy) -> GAN:
    """A one-process DDP fit (gloo on CPU), one batch: the wrapper is built exactly as with more processes."""
    model = GAN(ngf=8, ndf=8, metrics=False)
    trainer = tiny_trainer(tmp_path, strategy=strategy, limit_train_batches=1)
    environ = dict(os.environ)
    try:
        trainer.fit(model, dm)
    finally:  # leave no process group and no launcher variables (LOCAL_RANK, ...) behind for the next tests
        if torch.distributed.is_initialized():
            torch.distributed.destroy_process_group()
        os.environ.clear()
        os.environ.update(environ)
    return model


def test_plain_ddp_is_refused_naming_the_strategy_to_use(tmp_path, tiny_dm):
    match = r"trainer.strategy must be 'ddp_find_unused_parameters_true' for a GAN .*find_unused_parameters=False"
    with pytest.raises(ValueError, match=match):
        _ddp_fit(tmp_path, tiny_dm, "ddp")


def test_static_graph_is_refused(tmp_path, tiny_dm):
    strategy = DDPStrategy(find_unused_parameters=True, static_graph=True)
    with pytest.raises(ValueError, match=r"must be 'ddp_find_unused_parameters_true' .*static_graph=True"):
        _ddp_fit(tmp_path, tiny_dm, strategy)


def test_the_public_strategy_name_trains(tmp_path, tiny_dm):
    model = _ddp_fit(tmp_path, tiny_dm, "ddp_find_unused_parameters_true")
    assert int(model.g_steps) == 1


def test_channels_last_weights_and_fused_adam_on_cpu(tmp_path, tiny_dm):
    model = ConditionalGAN(ngf=8, ndf=8, metrics=False, channels_last=True)
    tiny_trainer(tmp_path, limit_train_batches=1).fit(model, tiny_dm)
    convs = [m for m in model.modules() if isinstance(m, (torch.nn.Conv2d, torch.nn.ConvTranspose2d))]
    assert convs and all(c.weight.is_contiguous(memory_format=torch.channels_last) for c in convs)
    assert all(opt.optimizer.defaults.get("fused") for opt in model.optimizers())  # the default, CPU too
    assert int(model.g_steps) == 1
