"""Ctrl-C and SIGTERM during a real `gan-lightning fit` process: a resumable checkpoint, flushed logs,
one clear line, exit code 128 + signal; then `fit --ckpt_path last` carries on from that checkpoint."""

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from gan_lightning.commands.cli import main

ROOT = Path(__file__).resolve().parents[2]


# A small MLP GAN with the configs' checkpointing and no image callbacks: the test is about stopping.
CONFIG = """
seed_everything: 0
trainer:
  callbacks:
    - class_path: lightning.pytorch.callbacks.ModelCheckpoint
      init_args: {save_last: true, save_on_exception: true, save_on_train_epoch_end: true}
model:
  class_path: gan_lightning.GAN
  init_args: {arch: mlp, g_hidden: [32], d_hidden: [32], latent_dim: 16, metrics: false}
"""


def _args(tmp: Path, max_epochs: int) -> list[str]:
    (tmp / "config.yaml").write_text(CONFIG)
    return [
        "fit",
        "--config",
        str(tmp / "config.yaml"),
        "--config",
        str(ROOT / "configs" / "logger" / "csv.yaml"),
        f"--trainer.max_epochs={max_epochs}",
        "--trainer.limit_train_batches=3",
        "--trainer.limit_val_batches=0",
        "--trainer.log_every_n_steps=1",
        "--trainer.enable_progress_bar=false",
        f"--trainer.default_root_dir={tmp / 'runs'}",
        f"--data.data_dir={tmp / 'data'}",
        "--data.download=false",
        "--data.batch_size=16",
    ]


def _wait_for(pattern: str, folder: Path, proc: subprocess.Popen, timeout: float = 60) -> Path:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        found = sorted(folder.rglob(pattern)) if folder.exists() else []
        if found:
            return found[0]
        if proc.poll() is not None:
            pytest.fail(f"fit ended early ({proc.returncode}): {proc.stderr.read()}")
        time.sleep(0.2)
    proc.kill()
    pytest.fail(f"no {pattern} under {folder} after {timeout} s")


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_signal_leaves_resumable_checkpoint_and_flushed_logs(signum, tmp_path):
    exe = Path(sys.executable).with_name("gan-lightning")
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([str(exe), *_args(tmp_path, max_epochs=10_000)], stderr=subprocess.PIPE, text=True, env=env)
    _wait_for("last.ckpt", tmp_path / "runs", proc)  # one epoch done: training is running
    proc.send_signal(signum)
    _, err = proc.communicate(timeout=60)

    assert proc.returncode == 128 + signum, err
    line = err.strip().splitlines()[-1]
    name = signal.Signals(signum).name
    assert line.startswith(f"gan-lightning: stopped by {name} at epoch "), err
    assert "resume with the same command plus --ckpt_path last" in line
    ckpt = Path(line.split("checkpoint: ")[1].split(";")[0])
    assert ckpt.is_file() and ckpt.name == "last.ckpt"
    saved = torch.load(ckpt, map_location="cpu", weights_only=True)
    step, epoch = saved["global_step"], saved["epoch"]
    # The line names the trainer's position: a signal right at an epoch's end reports the next epoch.
    assert f"step {step};" in line and re.search(rf"at epoch ({epoch}|{epoch + 1}), step", line), line
    metrics = next((tmp_path / "runs").rglob("metrics.csv")).read_text().splitlines()
    assert len(metrics) > 1 and "train/d_loss_step" in metrics[0]  # the CSV logger was flushed

    # Resume in-process: the new run starts from that checkpoint's step and trains one more epoch.
    main([*_args(tmp_path, max_epochs=epoch + 2), "--ckpt_path", "last"])
    newest = max((tmp_path / "runs").rglob("last.ckpt"), key=lambda p: p.stat().st_mtime)
    assert newest != ckpt
    resumed = torch.load(newest, map_location="cpu", weights_only=True)
    assert resumed["epoch"] == epoch + 1 and resumed["global_step"] > step
