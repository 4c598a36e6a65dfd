"""MNIST data: the data module, IDX files, the shipped sample, device-resident batches and the replayable order.

`MNISTDataModule` (the class path configs and saved config.yaml files name) loads on first use, so
the rest (plain PyTorch) imports without Lightning, e.g. for a bare training loop.
"""

from __future__ import annotations

import importlib
from typing import Any

from gan_lightning.data.batches import DeviceBatches, GroupedBatches
from gan_lightning.data.files import SAMPLE_DIR, load_split, locate, mnist_or_sample
from gan_lightning.data.idx import read_idx, write_idx
from gan_lightning.data.pixels import resize, to_unit_range
from gan_lightning.data.sampler import EpochSampler

__all__ = [
    "SAMPLE_DIR",
    "DeviceBatches",
    "GroupedBatches",
    "EpochSampler",
    "MNISTDataModule",
    "load_split",
    "locate",
    "mnist_or_sample",
    "read_idx",
    "resize",
    "to_unit_range",
    "write_idx",
]


def __getattr__(name: str) -> Any:
    if name == "MNISTDataModule":
        return importlib.import_module("gan_lightning.data.datamodule").MNISTDataModule
    raise AttributeError(f"module 'gan_lightning.data' has no attribute {name!r}")
