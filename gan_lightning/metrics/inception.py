"""Inception FID from a local weights file, for comparison with the FID numbers of the literature.

torchmetrics' `FrechetInceptionDistance(feature=2048)` runs torch-fidelity's Inception-v3 and, by
default, downloads its weights at run time, which fails offline. torch-fidelity also loads them
from a file (`feature_extractor_weights_path`), so a user who has the file (torch-fidelity's
`weights-inception-2015-12-05-6726825d.pth`, the TensorFlow FID Inception converted to PyTorch)
gets Inception FID offline. KID on Inception features is not offered: torchmetrics' KID has no
weights-path argument and would download.

Digits are grey, 28 or 64 px; Inception sees them as three equal channels upsampled to 299 px,
which is how Inception FID is usually reported on MNIST, and part of why it means little there.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

WEIGHTS_NAME = "weights-inception-2015-12-05-6726825d.pth"


def check_inception_weights(path: str | Path) -> Path:
    """The path as a Path if the file exists and torch-fidelity is installed; else a one-line error."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise FileNotFoundError(
            f"inception_weights: no file at {path}; Inception FID needs torch-fidelity's FID Inception weights "
            f"({WEIGHTS_NAME}) saved locally, or leave inception_weights unset for the MNIST-classifier FID"
        )
    if importlib.util.find_spec("torch_fidelity") is None:
        raise ModuleNotFoundError(
            "inception_weights: Inception FID needs the torch-fidelity package; "
            "install it with `pip install 'gan_lightning[inception]'`"
        )
    return path


def inception_fid(path: str | Path):
    """torchmetrics FID on Inception-v3 pool features (2048-d) read from `path`; inputs (N, 3, H, W) in [0, 1]."""
    from torchmetrics.image.fid import FrechetInceptionDistance

    path = check_inception_weights(path)
    return FrechetInceptionDistance(
        feature=2048, feature_extractor_weights_path=str(path), normalize=True, reset_real_features=False
    )
