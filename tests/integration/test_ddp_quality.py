"""The quality techniques under DDP (two CPU processes, gloo): the adaptive augmentation p is reduced over
the ranks, so both move it alike, and R1/LeCam/top-k leave the ranks with identical weights."""

from __future__ import annotations

import lightning as L
import pytest
import torch

from gan_lightning import MNISTDataModule
from gan_lightning.modules import GAN
from tests.helpers import run_ranks

WORLD = 2


def _worker(rank: int, root: str) -> None:
    L.seed_everything(0)
    model = GAN(
        ngf=8, ndf=8, metrics=False, d_norm="none", loss="hinge", augment="translation,cutout", augment_p=0.0,
        ada_target=0.6, ada_interval=2, ada_kimg=0.1, r1_gamma=1.0, r1_every=2, lecam_weight=0.3, topk_decay=0.5,
    )  # fmt: skip
    trainer = L.Trainer(
        accelerator="cpu", devices=WORLD, strategy="ddp_find_unused_parameters_true", max_epochs=2,
        limit_train_batches=4, limit_val_batches=0, default_root_dir=root, logger=False,
        enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False,
    )  # fmt: skip
    trainer.fit(model, MNISTDataModule(data_dir=f"{root}/data", download=False, batch_size=16))
    state = {"p": model.techniques.augment.p.clone(), "rt": model.techniques.augment.signal.clone()}
    # A probe the ranks disagree on: rank 0's D accepts all its reals, rank 1's rejects all. Reduced
    # over the ranks r_t is 0 on both; a rank-local signal would be +1 and -1.
    model.techniques.augment.interval = 1
    model.techniques.after_d_step(torch.full((8,), 1.0 if rank == 0 else -1.0), torch.zeros(8))
    state["probe_rt"] = model.techniques.augment.signal.clone()
    state["params"] = {k: v.detach().clone() for k, v in model.named_parameters()}
    torch.save(state, f"{root}/rank{rank}.pt")


@pytest.mark.slow
def test_adaptive_p_and_weights_agree_across_ranks(tmp_path):
    run_ranks(_worker, str(tmp_path), world=WORLD)
    r0, r1 = (torch.load(tmp_path / f"rank{r}.pt", weights_only=True) for r in range(WORLD))
    assert r0["p"].item() > 0 and torch.equal(r0["p"], r1["p"]) and torch.equal(r0["rt"], r1["rt"])
    assert r0["probe_rt"].item() == r1["probe_rt"].item() == 0.0
    for name, p in r0["params"].items():
        assert torch.equal(p, r1["params"][name]), name
