"""Fully connected generator and discriminator, covering the tutorial MLP GANs by arguments.

- classic MLP GAN:      100-256-512-784 Tanh / 784-512-256-1, LeakyReLU(0.2)
- tutorial v1:          1-200-784 Sigmoid / 784-200-1, Sigmoid hidden units
- tutorial v2:          100-200-784 / 784-200-1, LeakyReLU(0.02) then LayerNorm
- MLP CGAN:             (100+10)-128-256-512-1024-784 with BatchNorm1d(eps=0.8) / (784+10)-512-512-512-1
                        with Dropout(0.4), label embedding concatenated in both
Discriminators return logits (B,); the loss applies the sigmoid (AMP-safe).
"""

from __future__ import annotations

import math
from typing import Literal

import torch
from torch import nn

from gan_lightning.nets.layers import MinibatchStd

ACTIVATIONS = ("relu", "leaky_relu", "sigmoid")
NORMS = ("none", "layernorm", "batchnorm")
OUTPUTS = ("tanh", "sigmoid")


def _activation(name: str, negative_slope: float) -> nn.Module:
    if name not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {ACTIVATIONS}, got {name!r}")
    if name == "leaky_relu":
        return nn.LeakyReLU(negative_slope)
    return nn.ReLU() if name == "relu" else nn.Sigmoid()


def _norm(name: str, width: int, eps: float) -> nn.Module | None:
    if name not in NORMS:
        raise ValueError(f"norm must be one of {NORMS}, got {name!r}")
    if name == "layernorm":
        return nn.LayerNorm(width, eps=eps)
    return nn.BatchNorm1d(width, eps=eps) if name == "batchnorm" else None


def mlp_body(
    in_dim: int,
    hidden: list[int],
    activation: str = "leaky_relu",
    negative_slope: float = 0.2,
    norm: str = "none",
    norm_eps: float = 1e-5,
    norm_after_activation: bool = False,
    dropout: float = 0.0,
    plain_first_layer: bool = False,
) -> nn.Sequential:
    """Linear -> [norm] -> activation -> [dropout] per hidden width (norm after the activation
    when `norm_after_activation`, as in the LayerNorm tutorial). `plain_first_layer` leaves the
    first block without norm and dropout, as the MLP CGAN does."""
    if not hidden or any(w <= 0 for w in hidden):
        raise ValueError(f"hidden must be a non-empty list of positive widths, got {hidden!r}")
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"dropout must be in [0, 1), got {dropout!r}")
    layers: list[nn.Module] = []
    width = in_dim
    for i, out in enumerate(hidden):
        plain = plain_first_layer and i == 0
        block: list[nn.Module] = [nn.Linear(width, out)]
        norm_layer = None if plain else _norm(norm, out, norm_eps)
        act = _activation(activation, negative_slope)
        if norm_layer is None:
            block.append(act)
        else:
            block += [act, norm_layer] if norm_after_activation else [norm_layer, act]
        if dropout > 0 and not plain:
            block.append(nn.Dropout(dropout))
        layers += block
        width = out
    return nn.Sequential(*layers)


class MLPGenerator(nn.Module):
    """z (B, latent_dim) [+ cond (B, cond_dim)] -> images (B, channels, size, size) in [-1, 1].

    With `output="sigmoid"` (the tutorial's choice, for [0, 1] data) the sigmoid is mapped
    affinely to [-1, 1]: the same function class, and every model here sees the same data range.
    """

    def __init__(
        self,
        latent_dim: int = 100,
        hidden: tuple[int, ...] = (256, 512),
        image_size: int = 28,
        channels: int = 1,
        cond_dim: int = 0,
        output: Literal["tanh", "sigmoid"] = "tanh",
        **body_kwargs,
    ) -> None:
        super().__init__()
        if output not in OUTPUTS:
            raise ValueError(f"output must be one of {OUTPUTS}, got {output!r}")
        self.latent_dim, self.cond_dim, self.output = latent_dim, cond_dim, output
        self.image_shape = (channels, image_size, image_size)
        self.body = mlp_body(latent_dim + cond_dim, list(hidden), **body_kwargs)
        self.head = nn.Linear(list(hidden)[-1], math.prod(self.image_shape))

    def forward(self, z: torch.Tensor, cond: torch.Tensor | None = None) -> torch.Tensor:
        h = z if cond is None else torch.cat([z, cond.to(z.dtype)], dim=1)  # (B, latent+cond)
        out = self.head(self.body(h))  # (B, C*H*W)
        out = torch.tanh(out) if self.output == "tanh" else torch.sigmoid(out) * 2 - 1
        return out.view(-1, *self.image_shape)


class MLPDiscriminator(nn.Module):
    """images (B, C, H, W) [+ cond (B, cond_dim)] -> logits (B,)."""

    def __init__(
        self,
        hidden: tuple[int, ...] = (512, 256),
        image_size: int = 28,
        channels: int = 1,
        cond_dim: int = 0,
        minibatch_std: bool = False,
        **body_kwargs,
    ) -> None:
        super().__init__()
        self.cond_dim = cond_dim
        body = mlp_body(channels * image_size * image_size + cond_dim, list(hidden), **body_kwargs)
        if minibatch_std:  # one more feature: the batch's feature spread (ProGAN), against collapse
            body.append(MinibatchStd())
        self.body = body
        self.feature_dim = list(hidden)[-1] + int(minibatch_std)
        self.head = nn.Linear(self.feature_dim, 1)

    def features(self, x: torch.Tensor, cond: torch.Tensor | None = None) -> torch.Tensor:
        h = x.flatten(1)  # (B, C*H*W)
        if cond is not None:
            h = torch.cat([h, cond.to(h.dtype)], dim=1)
        return self.body(h)  # (B, feature_dim)

    def forward(self, x: torch.Tensor, cond: torch.Tensor | None = None) -> torch.Tensor:
        return self.head(self.features(x, cond)).squeeze(1)
