"""Exact resume: the losses after resuming equal those of a run that was never stopped.

Each run records every D and G loss. A run stopped at an epoch boundary, and one stopped by a
real SIGTERM in the middle of an epoch, are resumed in a fresh model and data module (after
seeding the global RNG differently, so nothing is equal by luck) and must continue with exactly
the uninterrupted run's losses, step counters and final weights. So must a run resumed twice:
first from a checkpoint written at the end of an epoch's last batch (a step-based ModelCheckpoint's),
then from one its resumed run wrote.
"""

import os
import signal

import lightning as L
import pytest
import torch
from lightning.pytorch.callbacks import Callback, ModelCheckpoint
from lightning.pytorch.utilities.exceptions import SIGTERMException

from gan_lightning import ConditionalGAN, MNISTDataModule
from gan_lightning.reliability.shutdown import GracefulShutdown, TrainingInterrupted
from tests.helpers import SaveAt, record_losses, tiny_trainer

BATCHES, EPOCHS = 4, 3


def _model_and_data(
    tmp_path, seed: int, device_resident: bool = False
) -> tuple[ConditionalGAN, MNISTDataModule, list[float]]:
    L.seed_everything(seed)
    model = ConditionalGAN(
        arch="mlp", g_hidden=[32], d_hidden=[32], conditioning="embedding", d_dropout=0.3, metrics=False
    )
    losses = record_losses(model)
    dm = MNISTDataModule(
        data_dir=str(tmp_path / "data"), download=False, batch_size=16, device_resident=device_resident
    )
    return model, dm, losses


def _trainer(tmp_path, max_epochs: int, *callbacks: Callback) -> L.Trainer:
    ckpt = ModelCheckpoint(dirpath=tmp_path / "ckpt", save_last=True, save_on_exception=True)
    callbacks = callbacks or (GracefulShutdown(),)
    return tiny_trainer(
        tmp_path,
        max_epochs=max_epochs,
        limit_train_batches=BATCHES,
        enable_checkpointing=True,
        callbacks=[*callbacks, ckpt],
    )


class _SigtermAt(Callback):
    """Sends this process a real SIGTERM at the end of one training batch."""

    def __init__(self, epoch: int, batch: int) -> None:
        self.at = (epoch, batch)

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        if (trainer.current_epoch, batch_idx) == self.at:
            os.kill(os.getpid(), signal.SIGTERM)


class _EpochStarts(Callback):
    def __init__(self) -> None:
        self.epochs: list[int] = []

    def on_train_epoch_start(self, trainer, pl_module):
        self.epochs.append(trainer.current_epoch)


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("whole")
    model, dm, losses = _model_and_data(tmp, seed=0)
    trainer = _trainer(tmp, EPOCHS)
    trainer.fit(model, dm)
    return losses, trainer.global_step, model


def _resume(tmp_path, ckpt, uninterrupted, done_batches, device_resident: bool = False):
    whole, global_step, whole_model = uninterrupted
    # Another seed: the checkpoint must set it all.
    model, dm, losses = _model_and_data(tmp_path, seed=123, device_resident=device_resident)
    trainer = _trainer(tmp_path / "resumed", EPOCHS)
    trainer.fit(model, dm, ckpt_path=ckpt)
    assert losses == whole[2 * done_batches :]  # one D and one G loss per batch, bit for bit
    assert trainer.global_step == global_step and int(model.g_steps) == int(whole_model.g_steps)
    for (name, a), b in zip(model.state_dict().items(), whole_model.state_dict().values(), strict=True):
        assert torch.equal(a, b), name


def test_resume_at_an_epoch_boundary_continues_exactly(tmp_path, uninterrupted):
    model, dm, losses = _model_and_data(tmp_path, seed=0)
    _trainer(tmp_path, 1).fit(model, dm)
    assert losses == uninterrupted[0][: 2 * BATCHES]
    _resume(tmp_path, tmp_path / "ckpt" / "last.ckpt", uninterrupted, done_batches=BATCHES)


# The signal lands before GracefulShutdown's batch-end check (it stops the run) or after it (Lightning's
# own SIGTERM check a moment later stops it): both leave a checkpoint that resumes exactly. Device-resident
# batches (DeviceBatches) follow the DataLoader's order, so they match the same uninterrupted run.
@pytest.mark.parametrize(
    ("first", "stopped_by", "device_resident"),
    [(True, TrainingInterrupted, False), (False, SIGTERMException, False), (True, TrainingInterrupted, True)],
    ids=["ours", "lightning", "device_resident"],
)
def test_resume_after_sigterm_mid_epoch_continues_exactly(tmp_path, uninterrupted, first, stopped_by, device_resident):
    model, dm, losses = _model_and_data(tmp_path, seed=0, device_resident=device_resident)
    signal_at, shutdown = _SigtermAt(epoch=1, batch=1), GracefulShutdown()
    callbacks = (signal_at, shutdown) if first else (shutdown, signal_at)
    with pytest.raises(stopped_by):
        _trainer(tmp_path, EPOCHS, *callbacks).fit(model, dm)
    done = BATCHES + 2  # epoch 0, then batches 0 and 1 of epoch 1
    assert len(losses) == 2 * done
    _resume(
        tmp_path, tmp_path / "ckpt" / "last.ckpt", uninterrupted, done_batches=done, device_resident=device_resident
    )


def test_resume_from_a_run_resumed_after_an_epochs_last_batch_continues_exactly(tmp_path, uninterrupted):
    # What a SIGKILL leaves when it lands just after the checkpoint of epoch 0's last batch: the epoch's
    # batches are done, its end (on_train_epoch_end) has not run.
    model, dm, losses = _model_and_data(tmp_path, seed=0)
    last_batch = tmp_path / "epoch0_last_batch.ckpt"
    _trainer(tmp_path / "first", 1, SaveAt(0, BATCHES - 1, last_batch)).fit(model, dm)
    # The resumed run starts epoch 1 as a run never stopped does, and a checkpoint in its middle records
    # that it is mid-epoch (Lightning used to leave the epoch counters one short: read as an epoch's end,
    # resuming from it trained epoch 1 from its first batch again).
    model, dm, losses = _model_and_data(tmp_path, seed=123)
    mid_epoch, starts = tmp_path / "epoch1_batch1.ckpt", _EpochStarts()
    _trainer(tmp_path / "second", EPOCHS, SaveAt(1, 1, mid_epoch), starts).fit(model, dm, ckpt_path=last_batch)
    assert losses == uninterrupted[0][2 * BATCHES :]
    assert starts.epochs == list(range(1, EPOCHS))
    _resume(tmp_path, mid_epoch, uninterrupted, done_batches=BATCHES + 2)
