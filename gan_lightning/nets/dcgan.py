"""DCGAN generator and discriminator at 28 and 64 px (Radford et al. 2015; the PyTorch tutorial).

64 px, the classic shape:
  G: z (nz+k, 1, 1) -ConvT4s1-> ngf*8 @4 -ConvT4s2-> ngf*4 @8 -> ngf*2 @16 -> ngf @32 -> C @64, Tanh
  D: (C+k) @64 -Conv4s2-> ndf @32 -> ndf*2 @16 -> ndf*4 @8 -> ndf*8 @4 -Conv4s1-> 1
28 px, the same ideas with a 7x7 start (28 = 7 * 2 * 2):
  G: z -ConvT7s1-> ngf*4 @7 -ConvT4s2-> ngf*2 @14 -ConvT4s2-> C @28, Tanh
  D: (C+k) @28 -Conv4s2-> ndf @14 -Conv4s2-> ndf*2 @7 -Conv7s1-> 1
BatchNorm + ReLU in G, LeakyReLU(0.2) in D with BatchNorm on all but the first block, weights
drawn from N(0, 0.02). `k` is the conditioning width (0 unconditional, 10 for one-hot labels).
`minibatch_std` appends ProGAN's batch-statistics channel to D's last map (against collapse).
With ``cond_mode="cbn"`` the generator reads its label vector in every BatchNorm
(`ConditionalBatchNorm2d`) instead of at its input.
"""

from __future__ import annotations

from itertools import islice
from typing import Literal

import torch
from torch import nn

from gan_lightning.checks import check_choice, choices
from gan_lightning.nets.conditioning import ConditionalBatchNorm2d, broadcast_channels
from gan_lightning.nets.layers import MinibatchStd

ImageSize = Literal[28, 64]  # the sizes a plan below exists for; the data module serves the same
IMAGE_SIZES = choices(ImageSize)
COND_MODES = ("concat", "cbn")
D_NORMS = ("batchnorm", "none", "layernorm")


def _plan(image_size: int) -> tuple[int, list[int]]:
    """(first spatial size, channel multipliers from the smallest map upwards)."""
    check_choice("image_size", image_size, ImageSize)
    return (7, [4, 2]) if image_size == 28 else (4, [8, 4, 2, 1])


def dcgan_init(module: nn.Module) -> None:
    """The DCGAN paper's init: conv weights N(0, 0.02), norm scales N(1, 0.02), biases 0."""
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
        nn.init.normal_(module.weight, 0.0, 0.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, (nn.BatchNorm2d, nn.GroupNorm)) and module.weight is not None:
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)


class DCGANGenerator(nn.Module):
    """z (B, latent_dim) [+ cond (B, cond_dim)] -> images (B, channels, image_size, image_size) in [-1, 1].

    `cond_mode`: ``"concat"`` joins the label vector to the noise; ``"cbn"`` feeds it to every
    BatchNorm (conditional BatchNorm) and the noise enters alone."""

    def __init__(
        self,
        latent_dim: int = 100,
        ngf: int = 64,
        image_size: int = 28,
        channels: int = 1,
        cond_dim: int = 0,
        cond_mode: Literal["concat", "cbn"] = "concat",
    ) -> None:
        super().__init__()
        if ngf <= 0:
            raise ValueError(f"ngf must be positive, got {ngf!r}")
        if cond_mode not in COND_MODES:
            raise ValueError(f"cond_mode must be one of {COND_MODES}, got {cond_mode!r}")
        if cond_mode == "cbn" and cond_dim <= 0:
            raise ValueError(f"cond_mode 'cbn' needs a label vector: cond_dim must be positive, got {cond_dim!r}")
        start, mults = _plan(image_size)
        self.latent_dim, self.cond_dim, self.cond_mode = latent_dim, cond_dim, cond_mode
        cbn = cond_mode == "cbn"
        norm = (lambda n: ConditionalBatchNorm2d(n, cond_dim)) if cbn else nn.BatchNorm2d
        width = ngf * mults[0]
        layers: list[nn.Module] = [
            nn.ConvTranspose2d(latent_dim + (0 if cbn else cond_dim), width, start, 1, 0, bias=False),  # (B, w, s, s)
            norm(width),
            nn.ReLU(True),
        ]
        for m in mults[1:]:  # each doubles H and W
            layers += [nn.ConvTranspose2d(width, ngf * m, 4, 2, 1, bias=False), norm(ngf * m), nn.ReLU(True)]
            width = ngf * m
        layers += [nn.ConvTranspose2d(width, channels, 4, 2, 1, bias=False), nn.Tanh()]
        self.net = nn.Sequential(*layers)
        self.apply(dcgan_init)

    def forward(self, z: torch.Tensor, cond: torch.Tensor | None = None) -> torch.Tensor:
        cbn = self.cond_mode == "cbn"
        h = z if cbn or cond is None else torch.cat([z, cond.to(z.dtype)], dim=1)  # (B, nz[+k])
        h = self._first(h)  # (B, w, s, s)
        for layer in islice(self.net, 1, None):  # in cbn mode the label vector reaches every norm layer
            h = layer(h, cond) if cbn and isinstance(layer, ConditionalBatchNorm2d) else layer(h)
        return h  # (B, C, H, W)

    def _first(self, h: torch.Tensor) -> torch.Tensor:
        """The first layer, a transposed convolution of a 1x1 map (no bias), computed as what it is: one
        matrix product of (B, nz+k) with its weight viewed as (nz+k, w*s*s). The same weight and result (up to
        the order of float sums), but CPU kernels run the product about 3x faster than ConvTranspose2d, and
        with 400 clusters one-hot at its input this layer holds about a third of the generator's multiply-adds."""
        w = self.net[0].weight  # (nz+k, w, s, s)
        return (h @ w.flatten(1)).view(h.shape[0], *w.shape[1:])


class DCGANDiscriminator(nn.Module):
    """images (B, C, H, W) [+ cond (B, cond_dim) broadcast to cond_dim channels] -> logits (B,)."""

    def __init__(
        self,
        ndf: int = 64,
        image_size: int = 28,
        channels: int = 1,
        cond_dim: int = 0,
        norm: Literal["batchnorm", "none", "layernorm"] = "batchnorm",
        minibatch_std: bool = False,
    ) -> None:
        super().__init__()
        if ndf <= 0:
            raise ValueError(f"ndf must be positive, got {ndf!r}")
        if norm not in D_NORMS:
            raise ValueError(f"norm must be one of {D_NORMS}, got {norm!r}")
        start, mults = _plan(image_size)
        mults = mults[::-1]  # D goes from the widest map down: 28 px [2, 4], 64 px [1, 2, 4, 8]
        mults = [m // mults[0] for m in mults]  # first block has ndf channels
        self.cond_dim = cond_dim
        layers: list[nn.Module] = []
        width, size = channels + cond_dim, image_size
        for i, m in enumerate(mults):
            size //= 2
            layers.append(nn.Conv2d(width, ndf * m, 4, 2, 1, bias=norm == "none" or i == 0))
            if i > 0 and norm == "batchnorm":
                layers.append(nn.BatchNorm2d(ndf * m))
            elif i > 0 and norm == "layernorm":  # per-sample norm: safe for gradient penalties
                layers.append(nn.GroupNorm(1, ndf * m))
            layers.append(nn.LeakyReLU(0.2, inplace=True))
            width = ndf * m
        assert size == start
        if minibatch_std:
            layers.append(MinibatchStd())  # (B, width + 1, s, s)
            width += 1
        self.body = nn.Sequential(*layers)
        self.feature_dim = width * start * start
        # A start x start convolution over the last map is a linear layer over its features.
        self.head = nn.Linear(self.feature_dim, 1)
        self.apply(dcgan_init)

    def features(self, x: torch.Tensor, cond: torch.Tensor | None = None) -> torch.Tensor:
        if cond is not None:
            x = torch.cat([x, broadcast_channels(cond.to(x.dtype), x.shape[2], x.shape[3])], dim=1)  # (B, C+k, H, W)
        return self.body(x).flatten(1)  # (B, feature_dim)

    def forward(self, x: torch.Tensor, cond: torch.Tensor | None = None) -> torch.Tensor:
        return self.head(self.features(x, cond)).squeeze(1)
