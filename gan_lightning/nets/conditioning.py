"""Label conditioning, written once for both architecture families.

A `LabelEncoder` turns labels (B,) into a vector (B, dim): a fixed one-hot (the 64 px DCGAN
CGAN) or a learned embedding (the MLP CGAN). Generators concatenate it to the noise;
discriminators concatenate it to their input: flat for MLPs, broadcast as `dim` extra image
channels for conv nets (`broadcast_channels`).
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

CONDITIONINGS = ("onehot", "embedding")


class LabelEncoder(nn.Module):
    """Labels (B,) int64 -> (B, dim) float. One-hot has dim = num_classes and no parameters."""

    def __init__(
        self, num_classes: int, kind: Literal["onehot", "embedding"] = "onehot", embed_dim: int | None = None
    ) -> None:
        super().__init__()
        if kind not in CONDITIONINGS:
            raise ValueError(f"conditioning must be one of {CONDITIONINGS}, got {kind!r}")
        if num_classes < 2:
            raise ValueError(f"num_classes must be >= 2, got {num_classes!r}")
        self.num_classes, self.kind = num_classes, kind
        if kind == "embedding":
            self.dim = embed_dim or num_classes
            if self.dim <= 0:
                raise ValueError(f"embed_dim must be positive, got {embed_dim!r}")
            self.embed: nn.Embedding | None = nn.Embedding(num_classes, self.dim)
        else:
            if embed_dim not in (None, num_classes):
                raise ValueError(
                    f"embed_dim is only for conditioning='embedding'; one-hot has dim num_classes, got {embed_dim!r}"
                )
            self.dim, self.embed = num_classes, None

    def forward(self, labels: torch.Tensor) -> torch.Tensor:
        if self.embed is not None:
            return self.embed(labels)
        return F.one_hot(labels, self.num_classes).float()


def broadcast_channels(cond: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """(B, k) -> (B, k, H, W): every pixel carries the label vector (the tutorials' label maps)."""
    return cond[:, :, None, None].expand(-1, -1, height, width)
