"""The in-memory training set: uint8 digits handed out a batch at a time, and class-balanced subsets."""

from __future__ import annotations

import torch
from torch.utils.data import Dataset

from gan_lightning.data.pixels import to_unit_range


def balanced_subset(labels: torch.Tensor, n: int, num_classes: int) -> torch.Tensor:
    """Indices (n,) of a class-balanced subset: the first n // num_classes digits of every class in
    file order (one more for the first n % num_classes classes). Deterministic: the same n always
    picks the same digits, whatever the seed, so runs with different seeds train on the same data.

    Raises:
        ValueError: n is not a positive integer, or a class has fewer digits than its share.
    """
    if isinstance(n, bool) or not isinstance(n, int) or n <= 0:
        raise ValueError(f"train_subset must be a positive integer, got {n!r}")
    picked = []
    for c in range(num_classes):
        want = n // num_classes + (1 if c < n % num_classes else 0)
        of_c = (labels == c).nonzero().flatten()
        if len(of_c) < want:
            raise ValueError(
                f"train_subset: {n} digits need {want} of class {c}, but the training split has {len(of_c)}"
            )
        picked.append(of_c[:want])
    return torch.cat(picked).sort().values


class TensorImages(Dataset):
    """Holds (N, H, W) uint8 images and (N,) labels; hands out whole batches in [-1, 1].

    `__getitems__` lets the DataLoader fetch a batch with one indexing op instead of N
    `__getitem__` calls and a collate: no per-sample Python work in the hot path. With `with_index`
    a batch also carries each image's index (B,): what a model that keeps a per-image table
    (`SelfConditionedGAN`'s clusters) looks its entries up by.
    """

    def __init__(self, images: torch.Tensor, labels: torch.Tensor, with_index: bool = False) -> None:
        self.images, self.labels, self.with_index = images, labels, with_index

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, ...]:
        return tuple(part[0] for part in self.__getitems__([i]))

    def __getitems__(self, idx: list[int]) -> tuple[torch.Tensor, ...]:
        idx_t = torch.as_tensor(idx)
        batch = (to_unit_range(self.images[idx_t]), self.labels[idx_t])  # (B, 1, H, W) in [-1, 1], (B,)
        return (*batch, idx_t) if self.with_index else batch


def batch_collate(batch):  # __getitems__ already returned the batch
    return batch
