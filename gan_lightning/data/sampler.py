"""EpochSampler: the training order as a pure function of (seed, epoch, rank), replayable from any batch.

A plain `RandomSampler` draws a new permutation each time the DataLoader is iterated, so a run
resumed in the middle of an epoch would see other batches than the run it continues. This sampler
(and `DeviceBatches`, which takes its order from it) can start an epoch at any position, under DDP
too; `MNISTDataModule.state_dict` carries the seed and the position in checkpoints.
"""

from __future__ import annotations

from collections.abc import Iterator

from torch.utils.data import DistributedSampler


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
