"""gan_lightning: GANs and conditional GANs on MNIST with PyTorch Lightning.

The Lightning classes load on first use, so `gan_lightning.nets` and `gan_lightning.losses` (plain
PyTorch) import without Lightning: a bare training loop can use the same nets and losses.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"
__all__ = ["GAN", "ConditionalGAN", "SelfConditionedGAN", "MNISTDataModule", "__version__"]
_LAZY = {
    "GAN": "gan_lightning.modules",
    "ConditionalGAN": "gan_lightning.modules",
    "SelfConditionedGAN": "gan_lightning.modules",
    "MNISTDataModule": "gan_lightning.data.datamodule",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'gan_lightning' has no attribute {name!r}")
