"""MNISTClassifier: the small CNN whose features and predictions every quality metric reads.

  x (B, 1, 28, 28) in [-1, 1]
    -Conv5 stride 2, 32 -BN-ReLU-> (B, 32, 14, 14)
    -Conv3 64 -BN-ReLU-MaxPool-> (B, 64, 7, 7)
    -Conv3 128-BN-ReLU-MaxPool-> (B, 128, 3, 3)
    -Linear 1152->128 -ReLU->  features (B, 128)   (FID, KID, diversity)
    -Dropout-Linear 128->10->  logits (B, 10)      (class accuracy, modes, inception score)

About 7.5 M multiply-adds per digit (the stride-2 first layer keeps 28 px feature maps, which cost
more memory traffic than arithmetic on a CPU, out of the net), so scoring 10,000 samples takes
seconds on a CPU; 240 k parameters, shipped as fp16 (< 0.5 MB) in `assets/mnist_classifier.pt`.
Plain nn.Module: no Lightning.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from gan_lightning.reliability.inputs import bad_file, read_torch_file, reason_of

DEFAULT_WEIGHTS = Path(__file__).resolve().parents[1] / "assets" / "mnist_classifier.pt"
NUM_CLASSES = 10
FEATURE_DIM = 128


def _block(c_in: int, c_out: int, k: int, stride: int = 1, pool: bool = True) -> nn.Sequential:
    layers = [nn.Conv2d(c_in, c_out, k, stride=stride, padding=k // 2, bias=False), nn.BatchNorm2d(c_out)]
    return nn.Sequential(*layers, nn.ReLU(inplace=True), *([nn.MaxPool2d(2)] if pool else []))


class MNISTClassifier(nn.Module):
    """Digit classifier on (B, 1, 28, 28) images in [-1, 1]; `features` is its penultimate layer."""

    feature_dim = FEATURE_DIM

    def __init__(self, dropout: float = 0.3) -> None:
        super().__init__()
        self.body = nn.Sequential(
            _block(1, 32, 5, stride=2, pool=False), _block(32, 64, 3), _block(64, 128, 3), nn.Flatten()
        )
        self.embed = nn.Sequential(nn.Linear(128 * 3 * 3, FEATURE_DIM), nn.ReLU(inplace=True))
        self.head = nn.Sequential(nn.Dropout(dropout), nn.Linear(FEATURE_DIM, NUM_CLASSES))

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.embed(self.body(x))  # (B, 128)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))  # (B, 10) logits

    def features_and_logits(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """One pass for both outputs: the metrics need both for every image."""
        f = self.features(x)
        return f, self.head(f)


def to_classifier_input(images: torch.Tensor) -> torch.Tensor:
    """(B, 1, H, W) in [-1, 1] at 28 or 64 px -> (B, 1, 28, 28) float32 in [-1, 1].

    64 px samples are resized down with antialiasing, the inverse of how the data module
    makes 64 px digits, so a 64 px model is judged on the digits the classifier knows."""
    if images.dim() != 4 or images.shape[1] != 1:
        raise ValueError(f"images must have shape (B, 1, H, W), got {tuple(images.shape)}")
    x = images.float()
    if x.shape[-2:] != (28, 28):
        x = F.interpolate(x, size=(28, 28), mode="bilinear", antialias=True, align_corners=False)
    return x


def load_classifier(path: str | Path | None = None) -> MNISTClassifier:
    """The trained classifier in eval mode, fp32, without gradients (default: the shipped weights)."""
    path = Path(path) if path is not None else DEFAULT_WEIGHTS
    if not path.is_file():
        raise FileNotFoundError(
            f"classifier weights {path} not found; train them with "
            "`python -m gan_lightning.commands.train_classifier --out <file>`"
        )
    blob = read_torch_file(path, "classifier weights")
    state = blob.get("state_dict") if isinstance(blob, dict) else None
    if not isinstance(state, dict):
        raise bad_file("classifier weights", path, "holds no state_dict (not a gan_lightning classifier file)")
    net = MNISTClassifier()  # older files also hold an always-empty "config" entry: ignored
    try:
        net.load_state_dict({k: v.float() for k, v in state.items()})
    except (RuntimeError, AttributeError) as err:  # other layers or shapes, or values that are not tensors
        raise bad_file("classifier weights", path, f"do not fit the MNIST classifier ({reason_of(err)})") from None
    return net.eval().requires_grad_(False)


def classifier_metadata(path: str | Path | None = None) -> dict[str, Any]:
    """What the weights file says about how it was trained (accuracy, data, command)."""
    path = Path(path) if path is not None else DEFAULT_WEIGHTS
    blob = read_torch_file(path, "classifier weights")
    return dict(blob.get("meta", {})) if isinstance(blob, dict) else {}


class MNISTFeatures(nn.Module):
    """The classifier as a torchmetrics feature extractor: images (N, 1, H, W) in [-1, 1] -> (N, 128).

    `FrechetInceptionDistance(feature=MNISTFeatures())` and `KernelInceptionDistance(feature=...)`
    accept it as is: `num_features` spares torchmetrics its probe with a random 299 px image."""

    num_features = FEATURE_DIM

    def __init__(self, classifier: MNISTClassifier | None = None, logits: bool = False) -> None:
        super().__init__()
        self.classifier = classifier if classifier is not None else load_classifier()
        self.logits = logits
        if logits:
            self.num_features = NUM_CLASSES

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        x = to_classifier_input(images)
        return self.classifier(x) if self.logits else self.classifier.features(x)

    def train(self, mode: bool = True) -> MNISTFeatures:
        # A feature network never leaves eval mode: BatchNorm and Dropout must not move.
        return super().train(False)
