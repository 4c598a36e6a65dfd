"""Label conditioning, written once for both architecture families.

A `LabelEncoder` turns labels (B,) into a vector (B, dim): a fixed one-hot (the 64 px DCGAN
CGAN) or a learned embedding (the MLP CGAN). Generators concatenate it to the noise;
discriminators concatenate it to their input: flat for MLPs, broadcast as `dim` extra image
channels for conv nets (`broadcast_channels`).

`ConditionalBatchNorm2d` is another way into a generator (de Vries et al. 2017; the projection
discriminator's and BigGAN's generators): the label vector sets the scale and shift of every
BatchNorm instead of entering with the noise.

`ProjectionHead` is the other way into a discriminator (Miyato & Koyama 2018): the label meets
D's *features* at the end, as an inner product with a learned class embedding, instead of its
input at the start. Its inner products with every class embedding are class logits, which the
CGAN's ``class_weight`` trains as a classifier (an auxiliary classification loss, as in AC-GAN).
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import nn

CONDITIONINGS = ("onehot", "embedding")  # what LabelEncoder builds; the CGAN adds "projection"


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
        # One-hot as a row lookup: F.one_hot checks the largest label on the host, a sync per call.
        self.register_buffer("eye", torch.eye(num_classes), persistent=False)

    def forward(self, labels: torch.Tensor) -> torch.Tensor:
        if self.embed is not None:
            return self.embed(labels)
        return self.eye[labels]  # (B, num_classes)


def broadcast_channels(cond: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """(B, k) -> (B, k, H, W): every pixel carries the label vector (the tutorials' label maps)."""
    return cond[:, :, None, None].expand(-1, -1, height, width)


class ConditionalBatchNorm2d(nn.Module):
    """BatchNorm without its own affine, then a per-sample scale 1 + W_g c and shift W_b c from the
    label vector c (B, cond_dim); with one-hot c these are per-class scales and shifts.

    x (B, C, H, W), cond (B, cond_dim) -> (B, C, H, W). W_g and W_b start near 0 (the DCGAN init,
    N(0, 0.02)), so the layer starts as the plain BatchNorm with scale ~1 and learns the classes."""

    def __init__(self, num_features: int, cond_dim: int) -> None:
        super().__init__()
        if cond_dim <= 0:
            raise ValueError(f"cond_dim must be positive for a conditional BatchNorm, got {cond_dim!r}")
        self.norm = nn.BatchNorm2d(num_features, affine=False)
        self.scale = nn.Linear(cond_dim, num_features, bias=False)
        self.shift = nn.Linear(cond_dim, num_features, bias=False)
        nn.init.normal_(self.scale.weight, 0.0, 0.02)
        nn.init.normal_(self.shift.weight, 0.0, 0.02)

    def forward(self, x: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        cond = cond.to(x.dtype)
        scale = 1 + self.scale(cond)[:, :, None, None]  # (B, C, 1, 1)
        return self.norm(x) * scale + self.shift(cond)[:, :, None, None]


class ProjectionHead(nn.Module):
    """The class term of a projection discriminator: <embed(y), phi(x)>, added to D's logit.

    features (B, F), labels (B,) -> (B,). The embedding starts small (N(0, 0.02), like the DCGAN
    weights) so the label term grows as D learns it matters; not zero, which spectral
    normalization would divide by.
    """

    def __init__(self, num_classes: int, feature_dim: int) -> None:
        super().__init__()
        self.embed = nn.Embedding(num_classes, feature_dim)
        nn.init.normal_(self.embed.weight, 0.0, 0.02)

    def forward(self, features: torch.Tensor, labels: torch.Tensor, pack: int = 1) -> torch.Tensor:
        """features (B/pack, F) of packs of `pack` images (`nets.layers.pack_images`), labels (B,) -> (B/pack,):
        a pack's term is the sum of its members' (<sum_i embed(y_i), phi(pack)>)."""
        embedded = self.embed(labels).to(features.dtype)  # (B, F)
        if pack > 1:
            embedded = embedded.view(-1, pack, embedded.shape[1]).sum(1)  # (B/pack, F)
        return (embedded * features).sum(1)

    def class_logits(self, features: torch.Tensor) -> torch.Tensor:
        """<embed(c), phi(x)> for every class c: features (B, F) -> (B, num_classes). The row of the
        true label is `forward`'s term; a softmax over the row reads the head as a classifier."""
        return features @ self.embed.weight.to(features.dtype).t()  # one weight read: one SN power step
