"""DeviceBatches: training batches drawn where the data already lives (a GPU), no DataLoader.

MNIST as uint8 is 47 MB (60,000 x 28 x 28): it fits on any GPU many times over. Kept there, a
batch is one gather and one scale on the device, with no host-to-device copy, no worker and no
per-sample Python. The order comes from `EpochSampler` (the DataLoader path's sampler, a
`DistributedSampler`): one permutation per epoch from a seed shared by all ranks, padded to a
multiple of the world size, rank r taking every world-th index from r, so ranks see disjoint
digits, every epoch reshuffles, and a resumed run replays the same batches from where it stopped.

GroupedBatches: several training batches per Lightning batch (`data.steps_per_batch`), for either path.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

import torch

from gan_lightning.data.pixels import to_unit_range
from gan_lightning.data.sampler import EpochSampler


class DeviceBatches:
    """Iterable of `(images (B, 1, H, W) in [-1, 1], labels (B,)[, indices (B,)])` on `images.device`.

    Args:
        images, labels: (N, H, W) uint8 and (N,) int64, on the device that trains.
        batch_size: per-rank batch size.
        shuffle, drop_last: as in `DataLoader`.
        seed: same on every rank (the shards are cut from one permutation).
        rank, world_size: this process's place in DDP (0 and 1 without DDP).
        epoch: returns the epoch that is starting (the trainer's `current_epoch`): the
            permutation is a function of (seed, epoch), so resumed runs draw the same batches.
        with_index: batches also carry the images' indices (B,), as `TensorImages` does.
    """

    def __init__(
        self,
        images: torch.Tensor,
        labels: torch.Tensor,
        batch_size: int,
        shuffle: bool = True,
        drop_last: bool = True,
        seed: int = 0,
        rank: int = 0,
        world_size: int = 1,
        epoch: Callable[[], int] = lambda: 0,
        with_index: bool = False,
    ) -> None:
        if images.dtype != torch.uint8 or images.dim() != 3 or len(images) != len(labels):
            raise ValueError(
                f"images must be (N, H, W) uint8 with one label each, got {tuple(images.shape)} {images.dtype} "
                f"and {len(labels)} labels"
            )
        if not 0 <= rank < world_size:
            raise ValueError(f"rank must be in 0..{world_size - 1}, got {rank!r}")
        self.images, self.labels = images, labels.to(images.device)
        self.batch_size, self.shuffle, self.drop_last = batch_size, shuffle, drop_last
        self.seed, self.rank, self.world_size, self.epoch = seed, rank, world_size, epoch
        self.with_index = with_index
        self.sampler = EpochSampler(len(labels), seed, rank, world_size, shuffle=shuffle)
        # As DistributedSampler(drop_last=False): every rank gets ceil(N / world) indices, padding by wrap-around.
        self.per_rank = self.sampler.num_samples
        self._resume: tuple[int, int] | None = None  # (epoch, batches to skip), used once

    def __len__(self) -> int:
        full = self.per_rank // self.batch_size
        return full if self.drop_last or self.per_rank % self.batch_size == 0 else full + 1

    def resume_at(self, epoch: int, batches_done: int) -> None:
        """The next pass over `epoch` starts after its first `batches_done` batches (a mid-epoch resume)."""
        self._resume = (epoch, batches_done) if batches_done > 0 else None

    def indices(self) -> torch.Tensor:
        """This rank's sample indices (per_rank,) for the current epoch, on the data's device."""
        self.sampler.set_epoch(self.epoch())
        return torch.tensor(list(self.sampler), dtype=torch.long).to(self.images.device)

    def __iter__(self) -> Iterator[tuple[torch.Tensor, ...]]:
        idx = self.indices()
        start = self._resume[1] if self._resume is not None and self._resume[0] == self.epoch() else 0
        self._resume = None
        for b in range(start, len(self)):
            take = idx[b * self.batch_size : (b + 1) * self.batch_size]  # (B,)
            batch = (to_unit_range(self.images[take]), self.labels[take])
            yield (*batch, take) if self.with_index else batch


class GroupedBatches:
    """`steps` consecutive training batches as one Lightning batch: `(images (k, B, C, H, W), labels
    (k, B)[, indices (k, B)], first)`, `first` (an int) the index in the epoch of its first batch.

    The batches inside are those of `batches` (a DataLoader or `DeviceBatches`), in the same order, so
    a module that runs one full training step per batch of the group (`GAN.training_step`) trains on
    exactly what it would with one batch per Lightning batch, while Lightning's fixed per-batch cost
    is paid once per group. Groups end at multiples of `steps` in the epoch: an epoch's last group,
    and the first one of an epoch resumed after `done` batches, hold what is left up to there.
    ``sampler`` is the inner loader's, so Lightning still sets its epoch.
    """

    def __init__(self, batches: Iterable, steps: int) -> None:
        self.batches, self.steps = batches, steps
        self.sampler = getattr(batches, "sampler", None)
        self._done = 0  # batches of the epoch the inner loader skips on its next pass (a resume)

    def resume_at(self, done: int) -> None:
        """The inner loader's next pass starts after `done` batches of its epoch (set on it already)."""
        self._done = done

    def __len__(self) -> int:
        return -(-len(self.batches) // self.steps)  # type: ignore[arg-type]

    def __iter__(self) -> Iterator[tuple]:
        index, self._done = self._done, 0
        group: list[tuple[torch.Tensor, ...]] = []
        for batch in self.batches:
            group.append(batch)
            index += 1
            if index % self.steps == 0:
                yield (*_stacked(group), index - len(group))
                group = []
        if group:
            yield (*_stacked(group), index - len(group))


def _stacked(group: list[tuple[torch.Tensor, ...]]) -> tuple[torch.Tensor, ...]:
    return tuple(torch.stack(parts) for parts in zip(*group, strict=True))
