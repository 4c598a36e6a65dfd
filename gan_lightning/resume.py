"""Exact resume: the random streams and the data order a checkpoint must carry.

Lightning restores weights, optimizers, schedulers and loop counters, but not

- the global torch RNG (and Python's, NumPy's, CUDA's), which draws the noise `z`, the fake
  labels and dropout masks in `training_step`;
- the position inside an epoch's shuffled data order: a plain `RandomSampler` draws a new
  permutation when the DataLoader is iterated again, so a mid-epoch resume would see other batches.

`GAN.on_save_checkpoint` stores `rng_state()`; `GAN.on_load_checkpoint` keeps it and
`GAN.on_train_start` puts it back, as late as possible, so nothing that runs between loading and
the first training step (sanity validation, dataloader setup) shifts the streams. `EpochSampler`
makes the data order a pure function of (seed, epoch), so it can be replayed from any batch.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import torch
from lightning.fabric.utilities.seed import _collect_rng_states, _set_rng_states
from torch.utils.data import Sampler

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


class EpochSampler(Sampler[int]):
    """Shuffled indices whose order depends only on `seed` and the epoch (Lightning calls `set_epoch`).

    `resume_at(epoch, skip)` makes the next pass over `epoch` start after its first `skip` indices:
    the rest of an interrupted epoch, in the order the uninterrupted run would have used.
    """

    def __init__(self, n: int, seed: int) -> None:
        self.n, self.seed, self.epoch = n, seed, 0
        self._resume: tuple[int, int] | None = None  # (epoch, indices to skip), used once

    def __len__(self) -> int:
        return self.n

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def resume_at(self, epoch: int, skip: int) -> None:
        self._resume = (epoch, skip) if skip > 0 else None

    def __iter__(self) -> Iterator[int]:
        # Its own generator: iterating never touches (or depends on) the global RNG.
        order = torch.randperm(self.n, generator=torch.Generator().manual_seed(self.seed + self.epoch))
        start = 0
        if self._resume is not None and self._resume[0] == self.epoch:
            start = self._resume[1]
        self._resume = None
        yield from order[start:].tolist()
