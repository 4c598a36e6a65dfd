"""GAN and ConditionalGAN under DDP: two CPU processes (gloo), launched the way torchrun does
(RANK / LOCAL_RANK / WORLD_SIZE in the environment), under both spellings of the strategy: the GAN
run with the plain "ddp" every Lightning user types, the CGAN run with Lightning's
`ddp_find_unused_parameters_true` (gan_lightning/modules/strategies.py: both train the same way).
The GAN reads batches through a DataLoader (Lightning adds the DistributedSampler), the CGAN
through the data module's DeviceBatches (`device_resident: true`, sharded by the module itself)."""

from __future__ import annotations

from pathlib import Path

import lightning as L
import numpy as np
import pytest
import torch
from lightning.pytorch.callbacks import Callback, ModelCheckpoint
from lightning.pytorch.plugins.io import TorchCheckpointIO

from gan_lightning import ConditionalGAN, MNISTDataModule
from gan_lightning.callbacks import ImageGridLogger
from gan_lightning.modules import GAN
from tests.helpers import run_ranks

WORLD = 2
# G and D step apart (gan_lightning/modules/strategies.py): each spelling of the strategy, one run each.
STRATEGIES = {False: "ddp", True: "ddp_find_unused_parameters_true"}  # by `conditional`


class _Recorder(Callback):
    """What this rank trained on, and the weights it ends with."""

    def __init__(self) -> None:
        self.batches: list[torch.Tensor] = []
        self.find_unused: bool | None = None

    def on_train_start(self, trainer, pl_module) -> None:
        self.find_unused = trainer.strategy.model.find_unused_parameters  # the DistributedDataParallel wrapper

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        self.batches.append(batch[0].detach().clone())  # (B, 1, 28, 28)


def _spy(calls: list, fn, what: str):
    def wrapper(*args, **kwargs):
        calls.append(what)
        return fn(*args, **kwargs)

    return wrapper


def _worker(rank: int, root: str, conditional: bool) -> None:  # the CGAN run is device-resident
    import gan_lightning.callbacks.images as images
    from gan_lightning.loggers import WandbLogger

    # Spies on every file-writing path: who writes checkpoints and PNGs.
    calls: list[str] = []
    TorchCheckpointIO.save_checkpoint = _spy(calls, TorchCheckpointIO.save_checkpoint, "ckpt")
    images.save_png = _spy(calls, images.save_png, "png")

    L.seed_everything(0)
    cls = ConditionalGAN if conditional else GAN
    model = cls(ngf=8, ndf=8, metric_samples=64)
    dm = MNISTDataModule(
        data_dir=f"{root}/data", download=False, batch_size=16, val_samples=64, device_resident=conditional
    )
    recorder = _Recorder()
    trainer = L.Trainer(
        accelerator="cpu", devices=WORLD, strategy=STRATEGIES[conditional], max_epochs=1, limit_train_batches=3,
        limit_val_batches=2, num_sanity_val_steps=0, default_root_dir=root,
        logger=WandbLogger(save_dir=root, offline=True),
        callbacks=[ModelCheckpoint(save_last=True), ImageGridLogger(every_n_epochs=1), recorder],
        enable_progress_bar=False, enable_model_summary=False,
    )  # fmt: skip
    trainer.fit(model, dm)
    calls = list(calls)  # the mid-epoch resume runs below write checkpoints too
    predicted = _predict(model, root, conditional)
    resumed = _mid_epoch_resume(Path(root) / "resume", conditional, STRATEGIES[conditional])
    wandb_run = getattr(trainer.logger.experiment, "id", None)  # a DummyExperiment off rank 0
    wandb_run = None if wandb_run is None or not isinstance(wandb_run, str) else str(wandb_run)
    torch.save(
        {
            "params": {k: v.detach().clone() for k, v in model.named_parameters()},
            "batches": recorder.batches,
            "calls": calls,
            "fid": float(trainer.callback_metrics["val/fid"]),
            "g_steps": int(model.g_steps),
            "find_unused": recorder.find_unused,
            "wandb_run": wandb_run,
            "loader": type(trainer.train_dataloader).__name__,
            "conditional": conditional,
            **predicted,
            **resumed,
        },
        f"{root}/rank{rank}.pt",
    )


def _predict(model, root: str, conditional: bool) -> dict:
    """`predict` on both processes into one file (an odd number of pieces: one process gets a filler),
    and what `generate` draws from the same weights and seed on this process alone."""
    from gan_lightning.callbacks import SampleWriter
    from gan_lightning.sampling.images import generate_images

    counts = {"n_per_digit": 1} if conditional else {"n": 9}
    dm = MNISTDataModule(
        data_dir=f"{root}/data", download=False, batch_size=4, predict_n_per_digit=1, predict_n=9, predict_seed=3
    )
    out = Path(root) / "predicted.npz"
    trainer = L.Trainer(
        accelerator="cpu", devices=WORLD, strategy=STRATEGIES[conditional], logger=False, default_root_dir=root,
        callbacks=[SampleWriter(out=str(out))], enable_progress_bar=False, enable_model_summary=False,
    )  # fmt: skip
    trainer.predict(model, dm, return_predictions=False)
    images, labels = generate_images(model.eval(), seed=3, **counts)
    return {"predicted": out.is_file(), "generated": (images, labels)}


def _mid_epoch_resume(root: Path, device_resident: bool, strategy: str) -> dict:
    """Three fits on this rank: 2 epochs of 4 batches uninterrupted; the same stopped after 6 batches
    (`max_steps`: 2 optimizer steps per batch), in the middle of epoch 1; and a resume of that from its
    last.ckpt. What the resume trained on and ends with, beside what the uninterrupted run did."""

    def fit(max_steps: int, ckpt_path: Path | None = None) -> tuple[list[torch.Tensor], dict]:
        L.seed_everything(0 if ckpt_path is None else 123)  # the resume must take everything from the checkpoint
        model = GAN(arch="mlp", g_hidden=[32], d_hidden=[32], latent_dim=16, d_dropout=0.3, metrics=False)
        dm = MNISTDataModule(data_dir=f"{root}/data", download=False, batch_size=16, device_resident=device_resident)
        recorder = _Recorder()
        ckpt = ModelCheckpoint(dirpath=root / f"ckpt{max_steps}", save_last=True, every_n_train_steps=2)
        trainer = L.Trainer(
            accelerator="cpu", devices=WORLD, strategy=strategy, max_epochs=2, max_steps=max_steps,
            limit_train_batches=4, limit_val_batches=0, logger=False, default_root_dir=root,
            callbacks=[ckpt, recorder], enable_progress_bar=False, enable_model_summary=False,
        )  # fmt: skip
        trainer.fit(model, dm, ckpt_path=ckpt_path)
        return recorder.batches, {k: v.detach().clone() for k, v in model.named_parameters()}

    whole_batches, whole_params = fit(max_steps=-1)
    fit(max_steps=12)
    resumed_batches, resumed_params = fit(max_steps=-1, ckpt_path=root / "ckpt12" / "last.ckpt")
    return {
        "whole_after_6": whole_batches[6:],
        "resumed_batches": resumed_batches,
        "whole_params": whole_params,
        "resumed_params": resumed_params,
    }


def _both(rank: int, root: str) -> None:
    """The GAN run, then the CGAN run, in the same two processes (one start-up for both)."""
    import wandb

    for name, conditional in (("gan", False), ("cgan", True)):
        Path(root, name).mkdir(exist_ok=True)
        _worker(rank, f"{root}/{name}", conditional)
        wandb.finish()  # as a script training two models does: the next logger starts a run of its own


@pytest.fixture(scope="module")
def ddp_runs(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("ddp")
    run_ranks(_both, str(root), world=WORLD, env={"WANDB_MODE": "offline", "WANDB_SILENT": "true"})
    return root


@pytest.fixture(scope="module", params=["gan", "cgan"])
def ddp_run(request, ddp_runs) -> tuple[Path, list[dict]]:
    root = ddp_runs / request.param
    return root, [torch.load(root / f"rank{r}.pt", weights_only=False) for r in range(WORLD)]  # written by _worker


@pytest.mark.slow
def test_ranks_hold_identical_weights_after_steps(ddp_run):
    _, (r0, r1) = ddp_run
    assert r0["find_unused"] and r1["find_unused"]  # "ddp" too: a GAN's DDP finds the unused net's parameters
    assert r0["g_steps"] == r1["g_steps"] == 3
    assert r0["params"].keys() == r1["params"].keys()
    for name, p in r0["params"].items():
        assert torch.equal(p, r1["params"][name]), name


@pytest.mark.slow
def test_each_rank_trains_on_different_digits(ddp_run):
    _, (r0, r1) = ddp_run
    assert r0["loader"] == r1["loader"] == ("DeviceBatches" if r0["conditional"] else "DataLoader")
    assert len(r0["batches"]) == len(r1["batches"]) == 3
    seen0 = torch.cat(r0["batches"]).flatten(1)  # (3 * 16, 784)
    seen1 = torch.cat(r1["batches"]).flatten(1)
    same = (seen0[:, None] == seen1[None]).all(-1)  # (48, 48): image i of rank 0 is image j of rank 1
    assert not same.any()


@pytest.mark.slow
def test_files_and_wandb_run_come_from_rank_zero_only(ddp_run):
    root, (r0, r1) = ddp_run
    assert r1["calls"] == [] and r1["wandb_run"] is None
    assert r0["calls"].count("png") >= 1 and r0["calls"].count("ckpt") >= 1 and r0["wandb_run"]
    (run_dir,) = (root / "lightning_logs").glob("version_*")  # rank 1 made no run folder of its own
    assert len(list(run_dir.glob("wandb/offline-run-*"))) == 1


@pytest.mark.slow
def test_mid_epoch_resume_is_exact_under_ddp(ddp_run):
    # Each rank resumes its own shard at the batch after the checkpoint (the GAN through the DataLoader and
    # EpochSampler, the CGAN run's data module device-resident) and ends with the uninterrupted weights.
    _, ranks = ddp_run
    for r in ranks:
        assert len(r["resumed_batches"]) == len(r["whole_after_6"]) == 2
        for got, want in zip(r["resumed_batches"], r["whole_after_6"], strict=True):
            assert torch.equal(got, want)
        for name, p in r["whole_params"].items():
            assert torch.equal(p, r["resumed_params"][name]), name


@pytest.mark.slow
def test_validation_metrics_are_reduced_across_ranks(ddp_run):
    _, (r0, r1) = ddp_run
    # Each rank scored a different shard of the test digits; a rank-local FID would differ.
    assert r0["fid"] == r1["fid"] > 0


@pytest.mark.slow
def test_predict_on_two_processes_writes_what_generate_draws(ddp_run):
    root, (r0, _) = ddp_run
    saved = np.load(root / "predicted.npz")
    images, labels = r0["generated"]
    assert np.array_equal(saved["labels"], labels.numpy())  # every image once, in order
    assert np.abs(saved["images"] - images.numpy()).max() < 1e-5
