"""A steady-state training batch makes no host-device sync between log steps.

Every `.item()`, `bool(tensor)` or `float(tensor)` dispatches `aten._local_scalar_dense`; on a GPU
each one waits for all queued work. A `TorchDispatchMode` sees those calls on CPU too, so this runs
anywhere: real `fit` runs of the configs as the console script builds them (their callbacks, a
logger), counting the calls made in each batch (from the start of one batch to the start of the next).
"""

from pathlib import Path

import lightning as L
import pytest
import torch
from torch.utils._python_dispatch import TorchDispatchMode

from gan_lightning.commands.cli import run_cli

ROOT = Path(__file__).resolve().parents[2]
LOG_EVERY, BATCHES, WARMUP = 10, 40, 3


class ScalarReads(TorchDispatchMode):
    """Counts host reads of tensor values, per training batch."""

    def __init__(self) -> None:
        super().__init__()
        self.batch, self.counts = -1, {}

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        if func is torch.ops.aten._local_scalar_dense.default:
            self.counts[self.batch] = self.counts.get(self.batch, 0) + 1
        return func(*args, **(kwargs or {}))


class _BatchMarker(L.Callback):
    def __init__(self, reads: ScalarReads) -> None:
        self.reads = reads

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        self.reads.batch = batch_idx


# The self-conditioned model looks each batch's clusters up on the device; re-clustering (here at generator
# steps 15 and 30) reads D's features of the whole training set, a scheduled pause that may sync.
# Fewer clusters than the config's 400: the same step, a quicker k-means.
FEW = ["--model.init_args.clusters=30"]
RECLUSTER = [*FEW, "--model.init_args.cluster_features=discriminator", "--model.init_args.recluster_every=15"]


@pytest.mark.parametrize(
    ("config", "extra", "allowed"),
    [
        ("cgan_dcgan28", [], set()),
        ("gan_dcgan28", [], set()),
        ("cgan_mlp", ["--data.steps_per_batch=1"], set()),  # its config's groups: the test below
        ("gan_mlp_tutorial_v2", ["--data.steps_per_batch=1"], set()),  # groups: the test below
        ("gan_dcgan28_selfcond", FEW, set()),
        ("gan_dcgan28_selfcond", RECLUSTER, {14, 29}),
        ("gan_dcgan28", ["--model.init_args.info_codes=10"], set()),
        ("gan_dcgan28_selfcond", [*FEW, "--model.init_args.pack=2"], set()),
    ],
    ids=[
        "cgan_dcgan28",
        "gan_dcgan28",
        "cgan_mlp",
        "gan_mlp_tutorial_v2",
        "selfcond",
        "selfcond_recluster",
        "info_codes",
        "selfcond_pack",
    ],
)
def test_no_host_sync_between_log_steps(tmp_path, config, extra, allowed):
    args = [
        "--config", str(ROOT / "configs" / f"{config}.yaml"), "--config", str(ROOT / "configs" / "logger" / "csv.yaml"),
        f"--trainer.default_root_dir={tmp_path}", "--trainer.max_epochs=1", f"--trainer.limit_train_batches={BATCHES}",
        "--trainer.limit_val_batches=0", f"--trainer.log_every_n_steps={LOG_EVERY}", f"--data.data_dir={tmp_path}",
        "--data.download=false",
    ]  # fmt: skip
    if "dcgan" in config:
        args += ["--model.init_args.ngf=8", "--model.init_args.ndf=8"]  # the same step, less arithmetic
    args += extra
    cli = run_cli(args, run=False)
    reads = ScalarReads()
    cli.trainer.callbacks.append(_BatchMarker(reads))
    with reads:
        cli.trainer.fit(cli.model, cli.datamodule)

    log_batches = {i for i in range(BATCHES) if (i + 1) % LOG_EVERY == 0}
    steady = range(WARMUP, BATCHES - 1)  # the last batch ends the epoch: its reads are epoch-end work
    between = {i: reads.counts[i] for i in steady if i not in log_batches | allowed and reads.counts.get(i)}
    assert between == {}, f"host syncs in batches between log steps (batch: count): {between}"
    # The counter does see reads: the logger turns the logged values into numbers at each log step.
    assert all(reads.counts.get(i, 0) > 0 for i in log_batches if i in steady)


def test_no_host_sync_between_log_steps_with_several_steps_per_batch(tmp_path):
    # The batch-1 tutorial config with groups of 8 batches (data.steps_per_batch): logging every 16 batches
    # falls in every second group; the groups between make no host sync either.
    steps, log_every, groups = 8, 16, 6
    args = [
        "--config", str(ROOT / "configs" / "gan_mlp_tutorial_v2.yaml"),
        "--config", str(ROOT / "configs" / "logger" / "csv.yaml"),
        f"--trainer.default_root_dir={tmp_path}", "--trainer.max_epochs=1", f"--trainer.limit_train_batches={groups}",
        "--trainer.limit_val_batches=0", f"--trainer.log_every_n_steps={log_every}", f"--data.data_dir={tmp_path}",
        "--data.download=false", f"--data.steps_per_batch={steps}",
    ]  # fmt: skip
    cli = run_cli(args, run=False)
    reads = ScalarReads()
    cli.trainer.callbacks.append(_BatchMarker(reads))
    with reads:
        cli.trainer.fit(cli.model, cli.datamodule)
    assert cli.trainer.global_step == 2 * steps * groups  # every batch of every group: a D and a G step
    logging = {g for g in range(groups) if any((g * steps + j + 1) % log_every == 0 for j in range(steps))}
    assert logging == {1, 3, 5}
    steady = range(1, groups - 1)  # the first group warms up; the last ends the epoch
    between = {g: reads.counts[g] for g in steady if g not in logging and reads.counts.get(g)}
    assert between == {}, f"host syncs in groups between log steps (group: count): {between}"
    assert reads.counts.get(1, 0) > 0 and reads.counts.get(3, 0) > 0
