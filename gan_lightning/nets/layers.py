"""Discriminator add-ons that are switches, not architectures: spectral norm, minibatch std, packing."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm

_WEIGHTED = (nn.Conv2d, nn.ConvTranspose2d, nn.Linear, nn.Embedding)


def spectral_normalize(module: nn.Module) -> nn.Module:
    """Spectral normalization (Miyato et al. 2018) on every conv, linear and embedding weight, in place.

    Each weight is divided by its largest singular value (one power iteration per training forward),
    which bounds the discriminator's Lipschitz constant: the SN-GAN recipe, and an alternative to a
    gradient penalty for the Wasserstein and hinge losses. Returns `module` for chaining.
    """
    for child in list(module.modules()):
        if isinstance(child, _WEIGHTED) and not hasattr(child, "parametrizations"):
            spectral_norm(child)
    return module


class MinibatchStd(nn.Module):
    """Appends one channel: the mean standard deviation of the features across a group of samples.

    From ProGAN (Karras et al. 2018): a discriminator that sees statistics of the batch can tell a
    batch of near-identical fakes from varied real digits, so the generator is pushed away from
    collapse. Real and fake batches go through D separately here, which is what makes it work.
    (B, C, *S) -> (B, C + 1, *S); groups of `group_size` samples (the whole batch when B is not a
    multiple of it).
    """

    def __init__(self, group_size: int = 4) -> None:
        super().__init__()
        if group_size < 2:
            raise ValueError(f"group_size must be >= 2, got {group_size!r}")
        self.group_size = group_size

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        b = h.size(0)
        g = self.group_size if b % self.group_size == 0 else b
        grouped = h.float().reshape(g, b // g, *h.shape[1:])  # (G, B/G, C, *S): sample i is in group i % (B/G)
        std = grouped.var(0, unbiased=False).add(1e-8).sqrt()  # (B/G, C, *S)
        std = std.flatten(1).mean(1)  # (B/G,) one number per group
        extra = std.repeat(g).to(h.dtype).view(b, 1, *([1] * (h.dim() - 2)))  # (B, 1, 1, 1)
        return torch.cat([h, extra.expand(b, 1, *h.shape[2:])], dim=1)


def pack_images(x: torch.Tensor, pack: int) -> torch.Tensor:
    """PacGAN's packing (Lin et al. 2018): images (B, C, H, W) -> packs (B/pack, pack*C, H, W), samples
    i*pack .. i*pack+pack-1 stacked along the channels. A discriminator judging whole packs sees how
    alike its members are, so a generator that repeats itself is caught: against mode collapse.

    Raises:
        ValueError: B not a multiple of `pack`.
    """
    b, c = x.shape[:2]
    if b % pack:
        raise ValueError(f"pack: the batch ({b} images) must be a multiple of pack, got pack={pack}")
    return x.reshape(b // pack, pack * c, *x.shape[2:])
