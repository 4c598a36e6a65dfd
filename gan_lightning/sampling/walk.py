"""A walk between two seeds: the images `generate` draws for one seed turning, in equal steps along
the noise path, into the images it draws for another (the demo page's slider and animated GIF).

Each image of the grid walks on its own: image i goes from the noise `generate --seed A` gives it to
the noise `generate --seed B` gives it, with its digit (or cluster) held. So position 0 is exactly
`generate`'s grid for seed A and position 1 its grid for seed B, pixel for pixel. The path is the
sphere for normal noise (`noise.slerp`), a straight line for uniform noise (`noise.lerp`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from gan_lightning.grids import pixel_grid, pixels_image, to_pixels
from gan_lightning.noise import PATHS
from gan_lightning.reliability.atomic import atomic_output
from gan_lightning.sampling.chunked import ClusterRows, NoiseRows
from gan_lightning.sampling.images import GenerateError, Sampler, image_chunks, sample_labels

GIF_FRAME_MS = 80  # how long each frame of the animation shows


@dataclass
class Walk:
    """The two ends of a walk, (N, latent_dim) each, and the labels (N,) held along it."""

    model: Sampler
    start: torch.Tensor
    end: torch.Tensor
    labels: torch.Tensor

    @torch.no_grad()
    def at(self, position: float) -> torch.Tensor:
        """The images (N, C, H, W) in [-1, 1] at `position` in [0, 1] (0: the start seed's, 1: the end's),
        decoded as `image_chunks` decodes its pieces."""
        if position == 0:  # the ends as drawn: the path's arithmetic could move them by a rounding
            z = self.start
        elif position == 1:
            z = self.end
        else:
            path = PATHS[self.model.hparams.noise]
            z = path(self.start, self.end, torch.tensor([float(position)]))[:, 0]
        conditional = getattr(self.model, "conditional", False)
        return self.model.decode(z.to(self.model.dtype), self.labels if conditional else None).float()

    def frames(self, count: int) -> list[torch.Tensor]:
        """`count` >= 2 images (N, C, H, W) at equal steps, both ends included (position i / (count - 1))."""
        return [self.at(i / (count - 1)) for i in range(count)]


def walk(
    model: Sampler,
    seed: int,
    to_seed: int,
    digits: list[int] | None = None,
    n_per_digit: int | None = None,
    n: int | None = None,
    truncation: float = 1.0,
    cluster: int | None = None,
) -> Walk:
    """The walk from the grid `generate_images(model, digits, n_per_digit, n, seed, truncation, cluster)`
    to the same call's grid with `to_seed`. The arguments are checked by `image_chunks`, as `generate`'s.

    Raises:
        GenerateError: what `image_chunks` refuses (either seed included).
    """
    ends = []
    for each in (seed, to_seed):
        count, _ = image_chunks(model, digits, n_per_digit, n, each, truncation, cluster)  # checks, draws nothing
        ends.append(_noise(model.cpu(), count, each, truncation, cluster))
    labels = sample_labels(model, digits, n_per_digit or 10, n or 100, seed)
    return Walk(model.cpu(), ends[0], ends[1], labels)


def _noise(model: Sampler, n: int, seed: int, truncation: float, cluster: int | None) -> torch.Tensor:
    """The noise (n, latent_dim) `image_chunks` decodes for this seed: the same draw, taken whole."""
    if cluster is not None:
        return ClusterRows(model, cluster, n, seed, truncation).take(n)
    return NoiseRows(model.hparams, n, torch.Generator().manual_seed(seed), truncation).take(n)


def write_gif(frames: list[torch.Tensor], nrow: int, out: Path, frame_ms: int = GIF_FRAME_MS) -> None:
    """An animated GIF of `frames` (each images (N, C, H, W) in [-1, 1], laid out as `generate`'s grid with
    `nrow` per row), there and back again, looping. Grey grids keep their 256 levels: the GIF is lossless."""
    if len(frames) < 2:
        raise GenerateError(f"a walk's GIF needs 2 frames or more, got {len(frames)}")
    pictures = [pixels_image(pixel_grid(to_pixels(images), nrow).permute(1, 2, 0).numpy()) for images in frames]
    pictures += pictures[-2:0:-1]  # back from the end seed to the start: a loop with no jump
    with atomic_output(out, overwrite=True) as f:
        pictures[0].save(f, format="GIF", save_all=True, append_images=pictures[1:], duration=frame_ms, loop=0)
