"""data.train_subset: a class-balanced, seed-independent slice of the training split (the low-data track)."""

import pytest
import torch

from gan_lightning import MNISTDataModule
from gan_lightning.data.datasets import balanced_subset


def test_balanced_subset_takes_the_first_digits_of_every_class():
    labels = torch.tensor([0, 1, 0, 2, 1, 0, 2, 2, 1, 0])
    assert balanced_subset(labels, 6, 3).tolist() == [0, 1, 2, 3, 4, 6]  # two of each, in file order
    assert balanced_subset(labels, 4, 3).tolist() == [0, 1, 2, 3]  # the remainder goes to class 0


def test_balanced_subset_refuses_what_the_split_lacks():
    with pytest.raises(ValueError, match="train_subset: 9 digits need 3 of class 1, but the training split has 2"):
        balanced_subset(torch.tensor([0, 0, 0, 1, 1, 2, 2, 2]), 9, 3)


def test_data_module_trains_on_100_of_each_digit(tmp_path):
    dm = MNISTDataModule(data_dir=str(tmp_path), download=False, train_subset=1000)
    dm.prepare_data()
    dm.setup("fit")
    labels = dm.train_set.labels
    assert len(labels) == 1000 and torch.bincount(labels).tolist() == [100] * 10
    assert len(dm.val_set) == 2000  # the test split is untouched
    again = MNISTDataModule(data_dir=str(tmp_path), download=False, train_subset=1000)
    again.prepare_data()
    again.setup("fit")
    assert torch.equal(again.train_set.images, dm.train_set.images)  # the same digits every time


@pytest.mark.parametrize("bad", [0, -5, 2.5, True])
def test_train_subset_must_be_a_positive_integer(bad):
    with pytest.raises(ValueError, match=f"train_subset must be a positive integer or None, got {bad!r}"):
        MNISTDataModule(train_subset=bad)
