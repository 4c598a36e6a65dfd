import numpy as np
import pytest
import torch
from torch.utils.data import DistributedSampler

from gan_lightning import MNISTDataModule
from gan_lightning.data import SAMPLE_DIR, files, locate
from gan_lightning.data.idx import write_idx
from gan_lightning.data.sampler import EpochSampler


def _fake_mnist(folder, n_train=32, n_test=16, gz=True):
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    ext = ".gz" if gz else ""
    for split, n in (("train", n_train), ("t10k", n_test)):
        write_idx(folder / f"{split}-images-idx3-ubyte{ext}", rng.integers(0, 256, (n, 28, 28), dtype=np.uint8))
        write_idx(folder / f"{split}-labels-idx1-ubyte{ext}", (np.arange(n) % 10).astype(np.uint8))


def test_batches_are_images_in_range_and_long_labels(tiny_dm):
    tiny_dm.prepare_data()
    tiny_dm.setup("fit")
    x, y = next(iter(tiny_dm.train_dataloader()))
    assert x.shape == (16, 1, 28, 28) and x.dtype == torch.float32
    assert y.shape == (16,) and y.dtype == torch.long
    assert x.min() >= -1 and x.max() <= 1 and x.min() == -1  # background is exactly -1
    assert len(tiny_dm.train_set) == 6000 and len(tiny_dm.val_set) == 2000


def test_64px_resized_once(tmp_path):
    dm = MNISTDataModule(data_dir=str(tmp_path), download=False, image_size=64, batch_size=8)
    dm.prepare_data()
    dm.setup()
    assert dm.train_set.images.shape[1:] == (64, 64) and dm.train_set.images.dtype == torch.uint8
    x, _ = next(iter(dm.train_dataloader()))
    assert x.shape == (8, 1, 64, 64)


def test_offline_fallback_warns_and_uses_sample(tmp_path):
    dm = MNISTDataModule(data_dir=str(tmp_path), download=False)
    with pytest.warns(UserWarning, match="real-MNIST sample shipped with gan_lightning"):
        dm.prepare_data()
    assert dm.source == SAMPLE_DIR


STEMS = ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"]


@pytest.mark.parametrize("layout", ["torchvision", "plain"])
def test_a_folder_with_some_of_the_files_is_never_replaced_by_the_sample(tmp_path, layout):
    # The rule, over every way a folder can hold part of MNIST: each non-empty proper subset of the four files.
    folder = tmp_path / "MNIST" / "raw" if layout == "torchvision" else tmp_path
    _fake_mnist(folder)
    for mask in range(1, 15):
        missing = [stem for i, stem in enumerate(STEMS) if not mask >> i & 1]
        moved = tmp_path.parent / f"{tmp_path.name}_moved"
        moved.mkdir(exist_ok=True)
        for stem in missing:
            (folder / f"{stem}.gz").rename(moved / f"{stem}.gz")
        dm = MNISTDataModule(data_dir=str(tmp_path), download=False)
        with pytest.raises(FileNotFoundError, match="holds some of the mnist IDX files but not") as err:
            dm.prepare_data()
        assert all(stem in str(err.value) for stem in missing) and "\n" not in str(err.value)
        assert str(folder) in str(err.value)
        with pytest.raises(FileNotFoundError, match=missing[0]):  # evaluate's reader too
            files.mnist_or_sample(tmp_path)
        for stem in missing:
            (moved / f"{stem}.gz").rename(folder / f"{stem}.gz")


@pytest.mark.parametrize("layout", ["torchvision", "plain"])
@pytest.mark.parametrize("gz", [True, False], ids=["gz", "raw"])
def test_local_files_found(tmp_path, layout, gz):
    folder = tmp_path / "MNIST" / "raw" if layout == "torchvision" else tmp_path
    _fake_mnist(folder, gz=gz)
    assert locate("mnist", tmp_path) == folder
    dm = MNISTDataModule(data_dir=str(tmp_path), download=False, batch_size=8)
    dm.prepare_data()
    dm.setup()
    assert len(dm.train_set) == 32 and len(dm.val_set) == 16


def test_count_mismatch(tmp_path):
    _fake_mnist(tmp_path)
    write_idx(tmp_path / "train-labels-idx1-ubyte.gz", np.zeros(5, np.uint8))
    dm = MNISTDataModule(data_dir=str(tmp_path), download=False)
    dm.prepare_data()
    with pytest.raises(
        ValueError, match="train-images-idx3-ubyte.gz holds 32 images but train-labels-idx1-ubyte.gz holds 5"
    ):
        dm.setup()


def test_val_samples_limits_validation(tmp_path):
    dm = MNISTDataModule(data_dir=str(tmp_path), download=False, val_samples=100)
    dm.prepare_data()
    dm.setup()
    assert len(dm.val_set) == 100


@pytest.mark.parametrize(("batch_size", "scored_in"), [(1, 64), (16, 64), (64, 64), (128, 128)])
def test_validation_scores_in_batches_of_at_least_64_and_training_keeps_its_own(tmp_path, batch_size, scored_in):
    dm = MNISTDataModule(data_dir=str(tmp_path), download=False, val_samples=200, batch_size=batch_size)
    dm.prepare_data()
    dm.setup()
    sizes = [len(x) for x, _ in dm.val_dataloader()]
    assert sizes[0] == scored_in and sum(sizes) == 200  # every digit, the last batch short
    assert [len(x) for x, _ in dm.test_dataloader()] == sizes
    assert len(next(iter(dm.train_dataloader()))[0]) == batch_size


def test_fashion_without_files_says_how_to_get_them(tmp_path, monkeypatch):
    monkeypatch.setitem(files._SYSTEM_DIRS, "fashion_mnist", [])
    dm = MNISTDataModule(dataset="fashion_mnist", data_dir=str(tmp_path), download=False)
    with pytest.raises(FileNotFoundError, match="dataset-fashion-mnist"):
        dm.prepare_data()


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"image_size": 32}, r"image_size must be one of \(28, 64\), got 32"),
        ({"dataset": "cifar10"}, r"dataset must be one of \('mnist', 'fashion_mnist'\), got 'cifar10'"),
        ({"batch_size": 0}, "batch_size must be a positive integer, got 0"),
        ({"num_workers": -1}, "num_workers must be an integer >= 0, got -1"),
        ({"val_samples": 0}, "val_samples must be a positive integer or None, got 0"),
    ],
    ids=["image_size", "dataset", "batch_size", "num_workers", "val_samples"],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        MNISTDataModule(**kwargs)


@pytest.mark.parametrize(("world_size", "share"), [(1, ""), (4, r" \(1500 per process with 4 processes\)")])
def test_batch_larger_than_the_training_set_is_refused(tmp_path, world_size, share):
    dm = MNISTDataModule(data_dir=str(tmp_path), download=False, batch_size=1501 if world_size > 1 else 6001)
    dm.setup()
    with pytest.raises(
        ValueError, match=rf"data.batch_size must be at most the number of training images, 6000{share}"
    ):
        dm._check_batch_size(world_size)


def test_epoch_sampler_shards_like_distributed_sampler_and_resumes_per_rank():
    for rank in range(3):
        ours, ref = (
            EpochSampler(103, seed=5, rank=rank, world_size=3),
            DistributedSampler(range(103), num_replicas=3, rank=rank, seed=5),
        )
        ours.set_epoch(2), ref.set_epoch(2)
        assert list(ours) == list(ref)
        ours.resume_at(epoch=2, skip=8)  # this rank's first 8 indices were trained on
        assert list(ours) == list(ref)[8:]
        assert list(ours) == list(ref)  # the skip applies to one pass only
