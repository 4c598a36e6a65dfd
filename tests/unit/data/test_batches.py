"""DeviceBatches, the sampler-free training loader. On CUDA it serves from GPU memory; here the
same code runs with the data on the CPU (device_resident=True), which is what these tests check."""

from __future__ import annotations

import pytest
import torch
from torch.utils.data import DistributedSampler

from gan_lightning import MNISTDataModule
from gan_lightning.data.batches import DeviceBatches, GroupedBatches
from gan_lightning.data.datasets import TensorImages

N = 103  # not a multiple of the world size or the batch: padding and the last batch both matter


def _data() -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    return torch.randint(0, 256, (N, 28, 28), dtype=torch.uint8, generator=g), torch.arange(N) % 10


@pytest.mark.parametrize("epoch", [0, 3])
def test_ranks_get_the_distributed_sampler_shards(epoch):
    images, labels = _data()
    for rank in range(3):
        batches = DeviceBatches(images, labels, 8, seed=7, rank=rank, world_size=3, epoch=lambda: epoch)
        sampler = DistributedSampler(range(N), num_replicas=3, rank=rank, shuffle=True, seed=7)
        sampler.set_epoch(epoch)
        assert batches.indices().tolist() == list(sampler)


def test_every_epoch_reshuffles_and_the_same_epoch_repeats():
    images, labels = _data()
    epoch = [0]
    batches = DeviceBatches(images, labels, 8, epoch=lambda: epoch[0])
    first = batches.indices()
    assert torch.equal(first, batches.indices())
    epoch[0] = 1
    assert not torch.equal(first, batches.indices())
    assert sorted(first.tolist()) == list(range(N))


def test_batches_equal_the_dataloader_pixels_and_drop_the_last():
    images, labels = _data()
    batches = DeviceBatches(images, labels, 16, seed=1)
    assert len(batches) == N // 16 == len(list(batches))
    x, y = next(iter(batches))
    ref_x, ref_y = TensorImages(images, labels).__getitems__(batches.indices()[:16].tolist())
    assert x.shape == (16, 1, 28, 28) and x.dtype == torch.float32
    assert torch.equal(x, ref_x) and torch.equal(y, ref_y)
    assert len(DeviceBatches(images, labels, 16, drop_last=False)) == N // 16 + 1


def test_device_resident_is_checked():
    with pytest.raises(ValueError, match=r"device_resident must be one of \(True, False, 'auto'\), got 'gpu'"):
        MNISTDataModule(device_resident="gpu")


def test_with_index_batches_carry_the_images_indices_on_both_paths():
    images, labels = _data()
    x, y, idx = next(iter(DeviceBatches(images, labels, 16, seed=1, with_index=True)))
    assert torch.equal(y, labels[idx]) and torch.equal(x, TensorImages(images, labels).__getitems__(idx.tolist())[0])
    x2, y2, idx2 = TensorImages(images, labels, with_index=True).__getitems__([5, 2, 9])
    assert idx2.tolist() == [5, 2, 9] and torch.equal(y2, labels[[5, 2, 9]])
    assert len(TensorImages(images, labels, with_index=True)[4]) == 3


def test_indices_is_checked():
    with pytest.raises(ValueError, match="indices must be true or false, got 'yes'"):
        MNISTDataModule(indices="yes")


@pytest.mark.parametrize("done", [0, 3, 8, 13])
def test_groups_hold_the_same_batches_and_end_at_multiples_of_their_size(done):
    images, labels = torch.randint(0, 256, (70, 28, 28), dtype=torch.uint8), torch.arange(70) % 10
    plain = DeviceBatches(images, labels, batch_size=4, seed=1)  # 17 batches
    grouped = GroupedBatches(DeviceBatches(images, labels, batch_size=4, seed=1), steps=5)
    assert len(grouped) == 4
    expected = list(plain)[done:]
    grouped.batches.resume_at(0, done)
    grouped.resume_at(done)
    groups = list(grouped)
    firsts = [g[-1] for g in groups]
    assert firsts == [done] + [f for f in range(5, 17, 5) if f > done]  # a resumed first group ends at a multiple
    flat = [tuple(part[j] for part in g[:-1]) for g in groups for j in range(len(g[0]))]
    assert len(flat) == len(expected)
    for got, want in zip(flat, expected, strict=True):
        assert all(torch.equal(a, b) for a, b in zip(got, want, strict=True))
