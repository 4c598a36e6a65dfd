"""Mixed precision with manual optimization on CPU: bf16-mixed, and clipping on unscaled gradients.

Here: the tests that train (`fit`); the others are in tests/unit/modules/test_precision.py.
"""

from __future__ import annotations

import math

import pytest
import torch
from lightning.pytorch.plugins import MixedPrecision

from gan_lightning import ConditionalGAN
from gan_lightning.losses import GANLoss
from tests.helpers import tiny_trainer


class _Spy(ConditionalGAN):
    """Records loss dtypes, and gradient norms just before and just after this module's clipping."""

    def __init__(self, **kwargs) -> None:
        super().__init__(ngf=8, ndf=8, metrics=False, **kwargs)
        self.logit_dtypes, self.loss_dtypes, self.norms = set(), set(), []
        d_loss, g_loss = self.loss_fn

        def spy_d(real, fake):
            self.logit_dtypes.add(real.dtype)
            out = d_loss(real, fake)
            self.loss_dtypes.add(out.dtype)
            return out

        self.loss_fn = GANLoss(spy_d, g_loss)

    def on_before_optimizer_step(self, optimizer) -> None:
        params = [p for group in optimizer.param_groups for p in group["params"] if p.grad is not None]
        before = torch.linalg.vector_norm(torch.stack([p.grad.norm() for p in params])).item()
        super().on_before_optimizer_step(optimizer)
        after = torch.linalg.vector_norm(torch.stack([p.grad.norm() for p in params])).item()
        self.norms.append((before, after))


def test_bf16_mixed_trains_with_float32_losses_and_weights(tmp_path, tiny_dm, caplog, monkeypatch):
    for probe in ("_is_amx_tile_supported", "_is_avx512_bf16_supported"):  # as on a CPU that emulates bf16
        monkeypatch.setattr(torch.cpu, probe, lambda: False)
    model = _Spy()
    trainer = tiny_trainer(tmp_path, precision="bf16-mixed", limit_train_batches=3)
    with caplog.at_level("INFO"):
        trainer.fit(model, tiny_dm)
    assert caplog.text.count("this CPU has no bf16 units") == 1  # said once, at the start of training
    assert model.logit_dtypes == {torch.bfloat16}  # autocast was on for D
    assert model.loss_dtypes == {torch.float32}  # losses.py does the math in float32
    assert all(p.dtype == torch.float32 for p in model.parameters())
    for key in ("train/d_loss", "train/g_loss"):
        assert math.isfinite(float(trainer.callback_metrics[key])), key
    assert int(model.g_steps) == 3


def test_bf16_clipping_bounds_the_gradient_norm(tmp_path, tiny_dm):
    model = _Spy(grad_clip_val=0.01)
    tiny_trainer(tmp_path, precision="bf16-mixed").fit(model, tiny_dm)
    assert len(model.norms) == 4  # 2 batches x (D step + G step)
    assert all(before > 0.01 and after == pytest.approx(0.01, rel=1e-3) for before, after in model.norms)


def test_fp16_clipping_sees_unscaled_gradients(tmp_path, tiny_dm):
    # 16-mixed is GPU-only in Lightning's Trainer flags; its plugin with a CPU grad scaler takes the
    # same path: opt.step() -> scaler.unscale_ -> on_before_optimizer_step (clip) -> scaler.step.
    scaler = torch.amp.GradScaler("cpu", init_scale=2.0**16, growth_interval=1000)
    model = _Spy(grad_clip_val=0.01)
    trainer = tiny_trainer(tmp_path, plugins=[MixedPrecision("16-mixed", "cpu", scaler=scaler)])
    trainer.fit(model, tiny_dm)
    assert scaler.get_scale() >= 2.0**15  # the losses really were scaled (at most one halving on overflow)
    befores = [before for before, _ in model.norms]
    # Scaled gradients would be ~65,536 times larger; the clipped ones end exactly at the threshold.
    assert all(0.01 < b < 100 for b in befores if math.isfinite(b)) and any(math.isfinite(b) for b in befores)
    assert all(after == pytest.approx(0.01, rel=1e-3) for before, after in model.norms if math.isfinite(before))
