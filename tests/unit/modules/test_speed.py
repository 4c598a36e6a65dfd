"""Speed switches on one CPU process, without training (fits and the DDP check: test_speed_fit.py)."""

from __future__ import annotations

import torch

from gan_lightning.modules.speed import adam_kwargs


def test_fused_adam_where_torch_has_it_and_not_under_16_mixed_clipping():
    assert adam_kwargs(True, torch.device("cuda", 0)) == {"fused": True} == adam_kwargs(True, torch.device("cpu"))
    assert adam_kwargs(False, torch.device("cuda", 0)) == {} == adam_kwargs(True, torch.device("mps"))
    # a fused Adam unscales inside its step, after on_before_optimizer_step would have clipped
    assert adam_kwargs(True, torch.device("cuda", 0), "16-mixed", clipping=True) == {"foreach": True}
    assert adam_kwargs(True, torch.device("cpu"), "bf16-mixed", clipping=True) == {"foreach": False}
    assert adam_kwargs(True, torch.device("cuda", 0), "16-mixed", clipping=False) == {"fused": True}
