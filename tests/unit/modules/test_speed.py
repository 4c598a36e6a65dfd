"""Speed switches and the automatic DDP arguments, on one CPU process."""

from __future__ import annotations

import lightning as L
import pytest
import torch
from lightning.pytorch.strategies import DDPStrategy

from gan_lightning.modules.speed import adam_kwargs
from gan_lightning.modules.strategies import prepare_ddp_for_gan


def _ddp_trainer(**ddp_kwargs) -> L.Trainer:  # built, never launched
    return L.Trainer(accelerator="cpu", devices=2, strategy=DDPStrategy(**ddp_kwargs), logger=False)


def test_ddp_gets_find_unused_parameters_without_flags():
    trainer = _ddp_trainer()
    prepare_ddp_for_gan(trainer)
    assert trainer.strategy._ddp_kwargs["find_unused_parameters"] is True


def test_an_explicit_false_is_overridden_with_a_warning():
    trainer = _ddp_trainer(find_unused_parameters=False)
    with pytest.warns(UserWarning, match="find_unused_parameters=True"):
        prepare_ddp_for_gan(trainer)
    assert trainer.strategy._ddp_kwargs["find_unused_parameters"] is True


def test_static_graph_is_refused():
    with pytest.raises(ValueError, match="static_graph=True cannot serve a GAN"):
        prepare_ddp_for_gan(_ddp_trainer(static_graph=True))


def test_fused_adam_where_torch_has_it_and_not_under_16_mixed_clipping():
    assert adam_kwargs(True, torch.device("cuda", 0)) == {"fused": True} == adam_kwargs(True, torch.device("cpu"))
    assert adam_kwargs(False, torch.device("cuda", 0)) == {} == adam_kwargs(True, torch.device("mps"))
    # a fused Adam unscales inside its step, after on_before_optimizer_step would have clipped
    assert adam_kwargs(True, torch.device("cuda", 0), "16-mixed", clipping=True) == {"foreach": True}
    assert adam_kwargs(True, torch.device("cpu"), "bf16-mixed", clipping=True) == {"foreach": False}
    assert adam_kwargs(True, torch.device("cuda", 0), "16-mixed", clipping=False) == {"fused": True}
