"""The direct update path (modules/updates.py) trains exactly as Lightning's manual_backward + step: the same
weights, optimizer states, step counts, logged values, and hooks called in the same order."""

from __future__ import annotations

import csv
from pathlib import Path

import lightning as L
import pytest
import torch
from lightning.pytorch.callbacks import Callback
from lightning.pytorch.loggers import CSVLogger

from gan_lightning import MNISTDataModule
from gan_lightning.modules import GAN
from gan_lightning.modules.updates import Updates
from tests.helpers import tiny_trainer


class _Hooks(Callback):
    """Records every update hook with the step and whether gradients exist; logs from one of them."""

    def __init__(self) -> None:
        self.calls: list[tuple] = []

    def on_before_backward(self, trainer, pl_module, loss) -> None:
        self.calls.append(("before_backward", trainer.global_step, float(loss.detach())))

    def on_after_backward(self, trainer, pl_module) -> None:
        grads = [p.grad is not None for p in pl_module.parameters() if p.requires_grad]
        self.calls.append(("after_backward", trainer.global_step, sum(grads)))
        pl_module.log("hooked/after_backward", float(trainer.global_step), on_step=True, on_epoch=False)

    def on_before_optimizer_step(self, trainer, pl_module, optimizer) -> None:
        params = [p for group in optimizer.param_groups for p in group["params"] if p.grad is not None]
        norm = sum(float(p.grad.norm()) for p in params)
        self.calls.append(("before_optimizer_step", trainer.global_step, norm))


def _fit(tmp_path, name: str, direct: bool, monkeypatch, **model_args) -> tuple[GAN, list[dict], list[tuple]]:
    with monkeypatch.context() as patch:
        if not direct:  # Lightning's path: the part never chooses the direct one
            patch.setattr(Updates, "prepare", lambda self, trainer, module: None)
        L.seed_everything(0)
        model = GAN(arch="mlp", g_hidden=[32], d_hidden=[32], latent_dim=8, metrics=False, **model_args)
        dm = MNISTDataModule(data_dir=str(tmp_path / "data"), download=False, batch_size=16, train_subset=160)
        hooks = _Hooks()
        logger = CSVLogger(str(tmp_path), name=name)
        trainer = tiny_trainer(
            tmp_path, max_epochs=2, limit_train_batches=1.0, logger=logger, log_every_n_steps=3, callbacks=[hooks]
        )
        trainer.fit(model, dm)
    assert model.updates.direct is direct
    rows = list(csv.DictReader((Path(logger.log_dir) / "metrics.csv").open()))
    return model, rows, hooks.calls


@pytest.mark.parametrize("model_args", [{}, {"grad_clip_val": 0.01, "n_critic": 2}], ids=["plain", "clip-n_critic2"])
def test_the_direct_path_trains_exactly_as_lightnings(tmp_path, monkeypatch, model_args):
    lightning, lightning_rows, lightning_calls = _fit(tmp_path, "lightning", False, monkeypatch, **model_args)
    direct, direct_rows, direct_calls = _fit(tmp_path, "direct", True, monkeypatch, **model_args)
    for (name, p), q in zip(lightning.state_dict().items(), direct.state_dict().values(), strict=True):
        assert torch.equal(p, q), name
    for a, b in zip(lightning.trainer.optimizers, direct.trainer.optimizers, strict=True):
        for state_a, state_b in zip(a.state.values(), b.state.values(), strict=True):
            assert all(torch.equal(state_a[k], state_b[k]) for k in state_a)
    assert lightning.trainer.global_step == direct.trainer.global_step > 0
    assert direct_calls == lightning_calls and len(direct_calls) == 3 * direct.trainer.global_step
    assert direct_rows == lightning_rows and any(row.get("hooked/after_backward") for row in direct_rows)


def _prepared(module: GAN, **trainer_args) -> bool:
    trainer = L.Trainer(accelerator="cpu", devices=1, logger=False, enable_progress_bar=False, **trainer_args)
    updates = Updates()
    updates.prepare(trainer, module)
    return updates.direct


class _OwnBackward(GAN):
    def backward(self, loss, *args, **kwargs) -> None:
        loss.backward(*args, **kwargs)


def test_the_direct_path_is_taken_only_where_lightnings_layers_add_nothing():
    model = GAN(arch="mlp", g_hidden=[8], d_hidden=[8], latent_dim=4, metrics=False)
    assert _prepared(model)
    assert not _prepared(model, precision="bf16-mixed")  # the precision plugin's autocast and scaling
    assert not _prepared(model, profiler="simple")  # the profiler's records of each hook
    assert not _prepared(_OwnBackward(arch="mlp", g_hidden=[8], d_hidden=[8], latent_dim=4, metrics=False))
