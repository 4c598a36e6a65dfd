"""The multiprocessing-started DDP strategies: what `spawn` can send, and each process's teardown.
(Fits under DDP: tests/integration/test_speed_fit.py and test_ddp.py.)"""

from __future__ import annotations

import os
import pickle
import queue
from unittest import mock

import lightning as L
import pytest
import torch
import torch.distributed as dist

from gan_lightning import ConditionalGAN
from gan_lightning.modules import GAN
from gan_lightning.modules.strategies import GANProcessLauncher, check_sendable


def _trainer(strategy: str) -> L.Trainer:
    return L.Trainer(accelerator="cpu", devices=2, strategy=strategy, logger=False, enable_progress_bar=False)


@pytest.mark.parametrize(
    "strategy, find_unused",
    [(name, None) for name in ("ddp_spawn", "ddp_fork", "ddp_notebook")]
    + [(f"ddp_{m}_find_unused_parameters_true", True) for m in ("spawn", "fork", "notebook")],
)
def test_multiprocessing_strategies_get_the_gan_launcher(strategy, find_unused):
    built = _trainer(strategy).strategy
    assert type(built.launcher) is GANProcessLauncher and built.registered_name == strategy
    # Lightning's own setting for the name is kept (None: set for a GAN at setup, with the note)
    assert built._ddp_kwargs.get("find_unused_parameters") is find_unused


def test_ddp_keeps_lightnings_script_launcher():
    assert not isinstance(_trainer("ddp").strategy.launcher, GANProcessLauncher)


@pytest.mark.parametrize("cls", [GAN, ConditionalGAN])
def test_a_model_without_spectral_norm_pickles_whole(cls):
    model = cls(arch="mlp", g_hidden=[16], d_hidden=[16], latent_dim=8, ema_decay=0.999, metrics=False)
    check_sendable(model, "ddp_spawn")
    copy = pickle.loads(pickle.dumps(model))  # what spawn does to send it
    for (name, a), (_, b) in zip(model.state_dict().items(), copy.state_dict().items(), strict=True):
        assert torch.equal(a, b), name
    copy.load_state_dict(model.state_dict())  # its load hooks came along and still run
    assert copy.generator_steps == 0


def test_a_spectral_norm_model_is_refused_naming_what_works():
    model = GAN(ngf=8, ndf=8, d_norm="none", spectral_norm=True, metrics=False)
    with pytest.raises(ValueError) as err:
        check_sendable(model, "ddp_spawn")
    message = str(err.value)
    assert message.startswith("trainer.strategy must not pickle this model") and "\n" not in message
    assert "use 'ddp'" in message and "'ddp_fork'" in message and message.endswith("got 'ddp_spawn'")


def test_each_process_ends_its_process_group(tmp_path):
    launcher = _trainer("ddp_spawn").strategy.launcher

    def work() -> None:  # what a rank's training leaves behind: an initialised process group
        dist.init_process_group("gloo", init_method=f"file://{tmp_path / 'store'}", rank=0, world_size=1)

    threads = torch.get_num_threads()
    try:
        with mock.patch.dict(os.environ):  # the launcher sets LOCAL_RANK (and may set the thread count)
            launcher._wrapping_function(0, None, work, (), {}, queue.Queue())
        assert not dist.is_initialized()
    finally:
        torch.set_num_threads(threads)
        if dist.is_initialized():
            dist.destroy_process_group()
