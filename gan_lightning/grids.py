"""Sample grids as pixels, without Lightning or torchvision: what `gan-lightning generate` writes and the
training callbacks' PNGs look like (`gan_lightning.callbacks.sinks` draws its float grids with
torchvision's `make_grid`; `pixel_grid` lays out the same picture from uint8 pixels)."""

from __future__ import annotations

import math

import numpy as np
import torch
from PIL import Image

GRID_PAD = 128  # sinks.to_grid's pad value 0.5, as sinks.to_uint8 rounds it
PADDING = 2  # pixels between the images of a grid, and around it


def to_pixels(images: torch.Tensor) -> torch.Tensor:
    """Images (N, C, H, W) in [-1, 1] -> (N, C, H, W) uint8: each image's values in
    `sinks.to_uint8(sinks.to_grid(...))`, by the same arithmetic, so a grid can be built from pixels kept
    piece by piece (`GRID_PAD` between)."""
    x = images.detach().float().cpu().clamp(-1, 1)
    return (((x + 1) / 2).clamp(0, 1) * 255).round().to(torch.uint8)


def pixel_grid(pixels: torch.Tensor, nrow: int, padding: int = PADDING, pad_value: int = GRID_PAD) -> torch.Tensor:
    """Pixels (N, C, H, W) uint8 -> one grid (3, H', W') uint8, `nrow` images per row: the layout of
    torchvision's `make_grid` (grey images as three equal channels, `padding` around every image; a single
    image as it is, with no padding)."""
    if pixels.shape[1] == 1:
        pixels = pixels.expand(-1, 3, -1, -1)
    if len(pixels) == 1:
        return pixels[0].clone()
    n, channels, height, width = pixels.shape
    cols = min(nrow, n)
    rows = math.ceil(n / cols)
    step_y, step_x = height + padding, width + padding
    grid = torch.full((channels, rows * step_y + padding, cols * step_x + padding), pad_value, dtype=pixels.dtype)
    for i in range(n):
        y, x = divmod(i, cols)
        grid[:, y * step_y + padding : (y + 1) * step_y, x * step_x + padding : (x + 1) * step_x] = pixels[i]
    return grid


def default_nrow(conditional: bool, n: int, n_per_digit: int | None = None) -> int:
    """Images per grid row when none is asked for (`generate`, the demo page): one row per digit for a
    conditional model (`n_per_digit`, default 10), else the side of the smallest square holding `n`."""
    return (n_per_digit or 10) if conditional else math.ceil(math.sqrt(n))


def pixels_image(pixels: np.ndarray) -> Image.Image:
    """Pixels (H, W, 3) uint8 as a PIL image, single-channel when grey."""
    if (pixels == pixels[..., :1]).all():
        pixels = pixels[..., 0]
    return Image.fromarray(pixels)
