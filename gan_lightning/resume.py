"""Exact resume: the random streams and the data order a checkpoint must carry.

Lightning restores weights, optimizers, schedulers and loop counters, but not

- the global torch RNG (and Python's, NumPy's, CUDA's), which draws the noise `z`, the fake
  labels and dropout masks in `training_step`;
- the position inside an epoch's shuffled data order: a plain `RandomSampler` draws a new
  permutation when the DataLoader is iterated again, so a mid-epoch resume would see other batches.

`GAN.on_save_checkpoint` stores `rng_state()`; `GAN.on_load_checkpoint` keeps it and
`GAN.on_train_start` puts it back, as late as possible, so nothing that runs between loading and
the first training step (sanity validation, dataloader setup) shifts the streams. `EpochSampler`
(and `DeviceBatches` for device-resident data) make the data order a pure function of (seed,
epoch, rank), so it can be replayed from any batch, under DDP too.

`GAN.on_train_start` also calls `start_next_epoch_after_last_batch`: Lightning mis-counts the epoch
that follows a resume from a checkpoint written after an epoch's last batch (see there).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from lightning.fabric.utilities.seed import _collect_rng_states, _set_rng_states
from torch.utils.data import DistributedSampler

if TYPE_CHECKING:
    import lightning as L

RNG_KEY = "gan_lightning_rng_states"


def rng_state() -> dict[str, Any]:
    """The global RNG states (torch CPU, CUDA when present, Python, NumPy), as tensors and plain values
    so that checkpoints still load with `torch.load(weights_only=True)`."""
    states = _collect_rng_states(include_cuda=torch.cuda.is_available())
    name, keys, *rest = states["numpy"]
    states["numpy"] = [name, torch.from_numpy(keys.astype(np.int64)), *rest]
    return states


def set_rng_state(states: dict[str, Any]) -> None:
    states = dict(states)
    if not torch.cuda.is_available():
        states.pop("torch.cuda", None)  # a GPU checkpoint resumed on a CPU
    name, keys, *rest = states["numpy"]
    states["numpy"] = (name, np.asarray(keys, dtype=np.uint32), *rest)
    _set_rng_states(states)


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


class EpochSampler(DistributedSampler):
    """Shuffled indices whose order depends only on `seed` and the epoch (Lightning calls `set_epoch`).

    The order is `DistributedSampler`'s (one permutation per epoch, padded to a multiple of
    `world_size`, rank r taking every world_size-th index from r), so DDP ranks see disjoint
    digits. Being a `DistributedSampler`, Lightning uses it as it is under DDP instead of wrapping
    it in its `DistributedSamplerWrapper`, which would reshuffle and shard the already-resumed
    order and lose the position in it.

    `resume_at(epoch, skip)` makes the next pass over `epoch` start after this rank's first `skip`
    indices: the rest of an interrupted epoch, in the order the uninterrupted run would have used.
    """

    def __init__(self, n: int, seed: int, rank: int = 0, world_size: int = 1, shuffle: bool = True) -> None:
        # A range stands in for the dataset: the sampler needs only its length. No drop_last here:
        # the DataLoader drops the last partial batch.
        super().__init__(range(n), num_replicas=world_size, rank=rank, shuffle=shuffle, seed=seed)  # type: ignore[arg-type]
        self.n = n
        self._resume: tuple[int, int] | None = None  # (epoch, indices to skip), used once

    def resume_at(self, epoch: int, skip: int) -> None:
        self._resume = (epoch, skip) if skip > 0 else None

    def __iter__(self) -> Iterator[int]:
        # DistributedSampler draws the permutation from its own generator seeded with seed + epoch:
        # iterating never touches (or depends on) the global RNG.
        order = list(super().__iter__())
        start = 0
        if self._resume is not None and self._resume[0] == self.epoch:
            start = self._resume[1]
        self._resume = None
        yield from order[start:]
