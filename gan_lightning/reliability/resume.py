"""Exact resume: the random streams a checkpoint must carry.

Lightning restores weights, optimizers, schedulers and loop counters, but not

- the global torch RNG (and Python's, NumPy's, CUDA's), which draws the noise `z`, the fake
  labels and dropout masks in `training_step`;
- the position inside an epoch's shuffled data order: that is the data module's state
  (`gan_lightning.data.sampler.EpochSampler`, `MNISTDataModule.state_dict`).

`GAN.on_save_checkpoint` stores `rng_state()`; `GAN.on_load_checkpoint` keeps it and
`GAN.on_train_start` puts it back, as late as possible, so nothing that runs between loading and
the first training step (sanity validation, dataloader setup) shifts the streams.

`GAN.on_train_start` also calls `start_next_epoch_after_last_batch`: Lightning mis-counts the epoch
that follows a resume from a checkpoint written after an epoch's last batch (see there).
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

if TYPE_CHECKING:
    import lightning as L

RNG_KEY = "gan_lightning_rng_states"


def rng_state() -> dict[str, Any]:
    """The global RNG states (torch CPU, CUDA when present, Python, NumPy), as tensors and plain values
    so that checkpoints still load with `torch.load(weights_only=True)`."""
    # The keys and layouts of Lightning's (private) seed utilities, which wrote this entry before: older
    # checkpoints keep resuming exactly.
    name, keys, *rest = np.random.get_state()
    states: dict[str, Any] = {
        "torch": torch.get_rng_state(),
        "python": random.getstate(),
        "numpy": [name, torch.from_numpy(keys.astype(np.int64)), *rest],
    }
    if torch.cuda.is_available():
        states["torch.cuda"] = torch.cuda.get_rng_state_all()
    return states


def set_rng_state(states: dict[str, Any]) -> None:
    """Put back the states `rng_state()` returned (a GPU checkpoint resumed on a CPU leaves CUDA's alone)."""
    torch.set_rng_state(states["torch"])
    if torch.cuda.is_available() and states.get("torch.cuda"):
        torch.cuda.set_rng_state_all(states["torch.cuda"])
    name, keys, *rest = states["numpy"]
    np.random.set_state((name, np.asarray(keys, dtype=np.uint32), *rest))
    version, state, gauss = states["python"]
    random.setstate((version, tuple(state), gauss))  # a checkpoint may hold the tuple as a list


def start_next_epoch_after_last_batch(trainer: L.Trainer) -> None:
    """Let the epoch after a resume from a last-batch checkpoint start as in a run never stopped.

    A step-based `ModelCheckpoint` writes a checkpoint at the end of an epoch's last batch, before the
    epoch ends. Resuming from it, Lightning (2.6) counts that epoch as finished in `FitLoop.reset` but
    keeps the loop marked "restarted mid-epoch" until the first loop iteration ends, so the next epoch
    starts without being counted ready and started, and without `on_train_epoch_start`. Every
    checkpoint from then on has `epoch_progress` one short and reads as written at an epoch's end:
    resuming from one trains its epoch again from batch 0 (while the sampler skips the batches done),
    and leaves the batch counters one short, so each later resume trains one batch twice. Clearing
    the mark here, after `reset` and before the next epoch begins, takes Lightning's normal path.
    """
    loop, epoch_loop = trainer.fit_loop, trainer.fit_loop.epoch_loop
    # The very condition under which `FitLoop.reset` counted the epoch as processed and completed.
    if loop.restarted_mid_epoch and epoch_loop.restarted_on_train_batch_end and epoch_loop.batch_progress.is_last_batch:
        loop.reset_restart_stage()


class RNGState:
    """The global random streams of a checkpoint: `state_dict()` when it is saved, `load_state_dict()`
    when it is read, put back by `restore()` when training starts (see the module docstring)."""

    def __init__(self) -> None:
        self._to_restore: dict[str, Any] | None = None

    def state_dict(self) -> dict[str, Any]:
        return rng_state()

    def load_state_dict(self, state: dict[str, Any] | None) -> None:
        self._to_restore = state  # None: a checkpoint written without them (nothing to put back)

    def restore(self) -> None:
        if self._to_restore is not None:
            set_rng_state(self._to_restore)
            self._to_restore = None
