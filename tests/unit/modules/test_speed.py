"""Speed switches on one CPU process, without training (fits and the DDP check: test_speed_fit.py)."""

from __future__ import annotations

import pytest
import torch

from gan_lightning.modules.speed import adam_kwargs, bf16_on_cpu_note


def test_fused_adam_where_torch_has_it_and_not_under_16_mixed_clipping():
    assert adam_kwargs(True, torch.device("cuda", 0)) == {"fused": True} == adam_kwargs(True, torch.device("cpu"))
    assert adam_kwargs(False, torch.device("cuda", 0)) == {} == adam_kwargs(True, torch.device("mps"))
    # a fused Adam unscales inside its step, after on_before_optimizer_step would have clipped
    assert adam_kwargs(True, torch.device("cuda", 0), "16-mixed", clipping=True) == {"foreach": True}
    assert adam_kwargs(True, torch.device("cpu"), "bf16-mixed", clipping=True) == {"foreach": False}
    assert adam_kwargs(True, torch.device("cuda", 0), "16-mixed", clipping=False) == {"fused": True}


@pytest.mark.parametrize("amx, avx512_bf16, noted", [(False, False, True), (True, False, False), (False, True, False)])
def test_bf16_on_a_cpu_without_bf16_units_is_noted(monkeypatch, amx, avx512_bf16, noted):
    monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: amx)
    monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda: avx512_bf16)
    note = bf16_on_cpu_note(torch.device("cpu"), "bf16-mixed")
    assert (note is not None) == noted
    if noted:
        assert note.startswith("trainer.precision 'bf16-mixed': this CPU has no bf16 units") and "'32-true'" in note
    # float32, or bf16 on a GPU: nothing to say
    assert bf16_on_cpu_note(torch.device("cpu"), "32-true") is None
    assert bf16_on_cpu_note(torch.device("cuda", 0), "bf16-mixed") is None
