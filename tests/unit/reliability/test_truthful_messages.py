"""Messages are true: a file an error message names as there (a checkpoint kept, a file that exists, a
folder that holds a run) is there, and a resume it offers has a checkpoint to resume from.

The rule (`tests.helpers.untrue`) is checked on every bad input of tests/integration/test_bad_input.py
(there, on the message each case gets), on the divergence stops of tests/integration/test_reliability_fit.py
(its fits, with the NaN before and after the first checkpoint) and on a checkpoint write that fails.
"""

from __future__ import annotations

import errno
import shutil
from pathlib import Path

import pytest
from lightning.pytorch.callbacks import ModelCheckpoint

from gan_lightning.losses import GANLoss, bce_d, bce_g
from gan_lightning.reliability.checkpoints import CheckpointWriteError, atomic_save
from gan_lightning.reliability.guard import DivergenceError
from tests.helpers import RESUME, tiny_trainer, untrue
from tests.integration.test_bad_input import Case, _files, _fit, run_case
from tests.integration.test_reliability_fit import _fit as _diverging_fit
from tests.integration.test_reliability_fit import _nan_on_call


def test_the_rule_tells_a_named_missing_file_from_one_said_to_be_missing(tmp_path):
    there = tmp_path / "checkpoints" / "there.ckpt"
    there.parent.mkdir()
    there.write_bytes(b"x")
    gone = tmp_path / "gone.ckpt"
    assert untrue(f"last good checkpoint kept: {there}; lower the learning rates", [tmp_path]) == []
    assert untrue(f"last good checkpoint kept: {gone}; lower", [tmp_path]) == [
        f"names {str(gone)!r}, which does not exist"
    ]
    assert untrue(f"ckpt_path: no checkpoint file at '{gone}'", [tmp_path]) == []
    assert untrue(f"got '{tmp_path}/f/data', a path under the file '{there}'", [tmp_path]) == []
    assert untrue(f"could not write checkpoint '{gone}' (no space left on device)", [tmp_path]) == []
    assert untrue(f"resume with {RESUME}", [tmp_path], run_root=tmp_path) == []  # there.ckpt is there
    assert untrue(f"resume with {RESUME}", [tmp_path], run_root=tmp_path / "empty") != []


@pytest.fixture(scope="module")
def scratch(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("truthful")


@pytest.mark.parametrize("checkpoint", [False, True], ids=["without_a_checkpoint", "with_a_checkpoint"])
def test_a_folder_holding_a_run_offers_the_resume_only_with_a_checkpoint(scratch, checkpoint):
    run = scratch / f"held_{checkpoint}"
    (run / "checkpoints").mkdir(parents=True, exist_ok=True)
    (run / "config.yaml").write_text("# an earlier run's config\n")
    case = Case("a folder holding a run", _fit(root=run.name), "already holds a run")
    _files(scratch)
    if checkpoint:
        shutil.copy(scratch / "gan28.ckpt", run / "checkpoints" / "last.ckpt")
    code, message = run_case(case, scratch)
    assert code == 2 and "already holds a run (config.yaml)" in message, message
    assert (RESUME in message) == checkpoint, message
    assert untrue(message, [scratch], run_root=run) == [], message


@pytest.mark.parametrize(
    ("every_n_train_steps", "nan_call", "kept"),
    [(None, 2, False), (1, 1, False), (3, 3, False), (2, 3, True), (None, 4, True)],
    ids=["before_any_checkpoint", "in_the_first_write", "in_the_first_write_of_epoch_1", "in_a_later_write", "after"],
)
def test_a_divergence_stop_names_only_a_checkpoint_that_was_written(
    tmp_path, tiny_dm, every_n_train_steps, nan_call, kept
):
    # The NaN of d_loss's `nan_call`-th call is found at an epoch's end or, with a step-based
    # ModelCheckpoint, inside a checkpoint write: the callback records that file's path before writing
    # it, and the stop cancels the write.
    model, _, trainer = _diverging_fit(tmp_path, GANLoss(_nan_on_call(bce_d, nan_call), bce_g))
    if every_n_train_steps is not None:
        ckpt = ModelCheckpoint(dirpath=tmp_path / "ckpt", save_last=True, every_n_train_steps=every_n_train_steps)
        trainer = tiny_trainer(tmp_path, max_epochs=2, enable_checkpointing=True, callbacks=[ckpt])
    with pytest.raises(DivergenceError) as info:
        trainer.fit(model, tiny_dm)
    message = str(info.value)
    assert untrue(message, [tmp_path], run_root=tmp_path) == [], message
    written = sorted(p.name for p in tmp_path.rglob("*.ckpt"))
    if kept:
        assert "last good checkpoint kept: " in message and written, message
    else:
        assert "no checkpoint written yet" in message and written == [], (message, written)


@pytest.mark.parametrize("earlier", [False, True], ids=["first_write", "over_an_earlier_checkpoint"])
def test_a_failed_checkpoint_write_offers_a_resume_only_from_a_checkpoint(tmp_path, monkeypatch, earlier):
    target = tmp_path / "checkpoints" / "last.ckpt"
    if earlier:
        atomic_save({"step": 1}, target)

    def full_disk(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("builtins.open", full_disk)
    with pytest.raises(CheckpointWriteError) as info:
        atomic_save({"step": 2}, target)
    monkeypatch.undo()
    message = str(info.value)
    assert untrue(message, [tmp_path], run_root=tmp_path) == [], message
    said = "the checkpoint already there is unchanged" if earlier else "no partial file was left"
    assert said in message and (RESUME in message) == earlier, message


@pytest.mark.parametrize("checkpoint", [False, True], ids=["no_checkpoint", "with_checkpoint"])
def test_a_stop_by_signal_offers_the_resume_only_with_a_checkpoint(tmp_path, monkeypatch, capsys, checkpoint):
    import signal

    from gan_lightning.commands import cli
    from gan_lightning.reliability.shutdown import TrainingInterrupted

    if checkpoint:
        atomic_save({"step": 4}, tmp_path / "version_0" / "checkpoints" / "last.ckpt")

    def stopped(args):
        raise TrainingInterrupted(signal.SIGTERM, epoch=1, step=4, root=str(tmp_path))

    monkeypatch.setattr(cli, "run_cli", stopped)
    with pytest.raises(SystemExit) as info:
        cli.main(["fit"])
    message = capsys.readouterr().err.strip()
    assert info.value.code == 128 + signal.SIGTERM and "\n" not in message
    assert untrue(message, [tmp_path], run_root=tmp_path) == [], message
    assert (RESUME in message) == checkpoint, message
