import os
import warnings

import pytest
import torch

# Tests run offline: never let a logger or dataset reach for the network.
os.environ.setdefault("WANDB_MODE", "offline")
os.environ.setdefault("WANDB_SILENT", "true")
torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))


@pytest.fixture(autouse=True)
def _quiet_sample_warning():
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="MNIST not found under")
        yield


@pytest.fixture
def tiny_dm(tmp_path):
    """The shipped sample through the real data module, never downloading."""
    from gan_lightning import MNISTDataModule

    return MNISTDataModule(data_dir=str(tmp_path / "data"), download=False, batch_size=16)
