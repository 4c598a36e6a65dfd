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
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import torch
from lightning.fabric.utilities.seed import _collect_rng_states, _set_rng_states
from torch.utils.data import DistributedSampler

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
