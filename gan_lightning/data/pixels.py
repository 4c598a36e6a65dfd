"""Pixels: the one conversion of uint8 digits to the [-1, 1] floats every net and metric takes, and resizing."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def to_unit_range(images: torch.Tensor) -> torch.Tensor:
    """uint8 (N, H, W) -> float32 (N, 1, H, W) in [-1, 1] (0 -> -1, 255 -> 1)."""
    return images.unsqueeze(1).float().div_(127.5).sub_(1.0)


def resize(images: torch.Tensor, size: int) -> torch.Tensor:
    """Resize (N, H, W) uint8 images once, in chunks to bound memory; returns (N, size, size) uint8."""
    if images.shape[-1] == size:
        return images
    out = torch.empty(len(images), size, size, dtype=torch.uint8)
    for start in range(0, len(images), 4096):
        chunk = images[start : start + 4096, None].float()  # (b, 1, 28, 28)
        chunk = F.interpolate(chunk, size=(size, size), mode="bilinear", antialias=True, align_corners=False)
        out[start : start + 4096] = chunk[:, 0].round().clamp(0, 255).to(torch.uint8)
    return out
