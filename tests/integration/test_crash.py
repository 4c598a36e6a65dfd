"""Faults that give no warning: SIGKILL (crash-consistent resume, atomic checkpoints) and a full disk.

The soak kills real `fit` processes (forked from this one, so that each need not import torch
anew) at random moments; `benchmarks/crash_soak.py` runs the same soak with more kills, in fresh
interpreters, and keeps its result in benchmarks/results/crash_soak.md.
"""

from __future__ import annotations

import errno
import logging
import os
import signal
from pathlib import Path

import pytest
from lightning.pytorch.plugins.io import TorchCheckpointIO

import gan_lightning.reliability.checkpoint_io as checkpoint_io
import gan_lightning.reliability.checkpoints as checkpoints
from benchmarks.crash_soak import Soak, soak
from gan_lightning.commands.cli import main, run_cli
from gan_lightning.reliability.checkpoint_io import AtomicCheckpointIO
from gan_lightning.reliability.checkpoints import read_checkpoint

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_sigkill_at_random_moments_then_resume_ends_bit_for_bit_equal(tmp_path):
    seed = int.from_bytes(os.urandom(4), "little")  # other moments on every run; printed when it fails
    result = soak(tmp_path, Soak(kills=3, every=1, seed=seed))
    assert len(result.kills) == 3, seed
    for kill in result.kills:  # a checkpoint every optimizer step: the kills often land near a write
        assert kill.loads, (seed, kill)
    assert result.final_step == result.reference_step, seed
    assert result.equal, (seed, result.mismatches)


def _config(tmp_path: Path, callbacks: str) -> list[str]:
    (tmp_path / "config.yaml").write_text(
        f"""
seed_everything: 0
trainer:
  callbacks:
{callbacks}
model:
  class_path: gan_lightning.GAN
  init_args: {{arch: mlp, g_hidden: [16], d_hidden: [16], latent_dim: 8, metrics: false}}
"""
    )
    return [
        "fit",
        "--config",
        str(tmp_path / "config.yaml"),
        "--config",
        str(ROOT / "configs" / "logger" / "csv.yaml"),
        "--trainer.max_epochs=3",
        "--trainer.limit_train_batches=3",
        "--trainer.limit_val_batches=0",
        "--trainer.enable_progress_bar=false",
        "--trainer.enable_model_summary=false",
        f"--trainer.default_root_dir={tmp_path / 'runs'}",
        f"--data.data_dir={tmp_path / 'data'}",
        "--data.download=false",
        "--data.batch_size=16",
    ]


_LAST = """    - class_path: lightning.pytorch.callbacks.ModelCheckpoint
      init_args: {{save_last: true, save_on_exception: {on_exception}, save_on_train_epoch_end: true}}
"""
# A monitored top-k checkpoint, as the configs' best-FID one (monitoring the step needs no metrics).
_TOP_K = """    - class_path: lightning.pytorch.callbacks.ModelCheckpoint
      init_args: {monitor: step, mode: max, save_top_k: 1, filename: "best-{step}", save_on_train_epoch_end: true}
"""
_SIGTERM = """    - class_path: tests.integration.test_resume._SigtermAt
      init_args: {epoch: 1, batch: 1}
"""


@pytest.mark.parametrize("on_exception", [True, False], ids=["model_checkpoint_on_exception", "shutdown_callback"])
def test_every_checkpoint_is_written_atomically(tmp_path, monkeypatch, capsys, on_exception):
    """Epoch-end last.ckpt, the top-k one, and the one written on SIGTERM (by ModelCheckpoint, or by the
    shutdown callback when no ModelCheckpoint saves on exceptions) all go through `atomic_save`."""
    written: list[Path] = []
    real_save = checkpoint_io.atomic_save  # the CLI's checkpoint plugin writes through it
    monkeypatch.setattr(checkpoint_io, "atomic_save", lambda c, p: (written.append(Path(p)), real_save(c, p)))

    def lightning_writer(*args, **kwargs):  # Lightning's own (fsspec) writer must not be used
        raise AssertionError("a checkpoint was written by Lightning's writer")

    monkeypatch.setattr(TorchCheckpointIO, "save_checkpoint", lightning_writer)
    callbacks = _LAST.format(on_exception=str(on_exception).lower()) + _TOP_K + _SIGTERM
    with pytest.raises(SystemExit) as info:
        main(_config(tmp_path, callbacks))
    assert info.value.code == 128 + signal.SIGTERM, capsys.readouterr().err
    on_disk = sorted((tmp_path / "runs").rglob("*.ckpt"))
    assert {p.name for p in on_disk} >= {"last.ckpt", "best-step=6.ckpt"}
    assert set(on_disk) <= set(written)  # every file there was written (last) through atomic_save
    assert not list((tmp_path / "runs").rglob(".*.tmp"))
    saved = read_checkpoint(next(p for p in on_disk if p.name == "last.ckpt"))
    assert saved["global_step"] == 2 * 5  # epoch 0 and batches 0, 1 of epoch 1: the SIGTERM's checkpoint


def test_the_cli_installs_the_atomic_writer(tmp_path):
    cli = run_cli(_config(tmp_path, _LAST.format(on_exception="true"))[1:], run=False)
    assert isinstance(cli.trainer.strategy.checkpoint_io, AtomicCheckpointIO)


def test_disk_full_during_a_checkpoint_is_one_line_and_keeps_the_previous(tmp_path, monkeypatch, capsys):
    """ENOSPC on the third checkpoint write: one line, exit 1, and last.ckpt still the second write's."""
    writes = []

    def full_disk_open(path, mode="r", *args, **kwargs):
        f = open(path, mode, *args, **kwargs)
        if "w" in mode:
            writes.append(path)
            if len(writes) == 3:
                f.write(b"PK\x03\x04 half a checkpoint")  # what a full disk takes before it refuses
                f.close()
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return f

    monkeypatch.setattr(checkpoints, "open", full_disk_open, raising=False)
    every_step = """    - class_path: lightning.pytorch.callbacks.ModelCheckpoint
      init_args: {every_n_train_steps: 2, save_last: true, save_top_k: 0, save_on_exception: true}
"""
    with pytest.raises(SystemExit) as info:
        main(_config(tmp_path, every_step))
    err = capsys.readouterr().err.strip().splitlines()
    assert info.value.code == 1
    (last,) = (tmp_path / "runs").rglob("last.ckpt")
    assert err[-1] == (
        f"gan-lightning: error: could not write checkpoint '{last}' (no space left on device); the checkpoint "
        "already there is unchanged; free space or set trainer.default_root_dir to another disk, then resume with "
        "--ckpt_path last"
    )
    assert len(writes) == 3  # no second try on the exception path: it would fail alike
    assert read_checkpoint(last)["global_step"] == 4  # the second write's: batches 0 and 1
    assert not list(last.parent.glob(".*.tmp"))  # the half-written temporary file is gone


def test_ckpt_path_last_skips_an_unreadable_newer_checkpoint(tmp_path, caplog):
    """A last.ckpt damaged outside the project's control (a disk error, a copy cut short): `--ckpt_path last`
    says so and resumes from the newest checkpoint that reads."""
    args = _config(tmp_path, _LAST.format(on_exception="true"))
    main([*args, "--trainer.max_epochs=1"])
    (good,) = (tmp_path / "runs").rglob("last.ckpt")
    damaged = good.parents[2] / "version_9" / "checkpoints" / "last.ckpt"
    damaged.parent.mkdir(parents=True)
    damaged.write_bytes(good.read_bytes()[:5000])
    warning = r"ckpt_path last: '.*version_9.*last.ckpt' is not a readable .*; skipped it"
    with pytest.warns(UserWarning, match=warning), caplog.at_level(logging.INFO):
        main([*args, "--trainer.max_epochs=2", "--ckpt_path", "last"])
    resumed = read_checkpoint(good.parents[2] / "version_10" / "checkpoints" / "last.ckpt")
    assert resumed["epoch"] == 1 and resumed["global_step"] == 2 * 3 * 2
    assert f"ckpt_path last: resuming from {good} (skipped 1 newer, unreadable)" in caplog.text
