"""A walk through latent space: does the generator map nearby noise to nearby digits?

Each row goes in equal steps from one fixed latent point to another. Normal noise concentrates
near a sphere of radius sqrt(latent_dim), and a straight line between two such points cuts
through the low-density middle, so the default path is spherical (slerp) (White, "Sampling
Generative Networks", 2016). For a conditional model every row is one digit and all rows share the
same two end points: a column is one "style" written as every digit. The paths themselves are in
`gan_lightning.noise` (the demo page walks with them too).
"""

from __future__ import annotations

from typing import Literal

import torch

from gan_lightning.callbacks.images import ScheduledImages, _check_count
from gan_lightning.noise import PATHS


class LatentInterpolation(ScheduledImages):
    """Rows of samples along paths between fixed latent points.

    Args:
        steps: images per row (both end points included).
        rows: paths for an unconditional model (a conditional one has one row per class).
        path: ``"slerp"`` (spherical, for normal noise) or ``"lerp"`` (straight line).
        every_n_epochs, every_n_steps, at_start, seed, save_png, name: see `ScheduledImages`;
            by default it draws once, when training ends.
    """

    def __init__(
        self,
        steps: int = 10,
        rows: int = 8,
        path: Literal["slerp", "lerp"] = "slerp",
        every_n_epochs: int | None = None,
        every_n_steps: int | None = None,
        at_start: bool = False,
        seed: int = 1,
        save_png: bool = True,
        name: str = "interpolation",
    ) -> None:
        _check_count("rows", rows)
        if isinstance(steps, bool) or not isinstance(steps, int) or steps < 2:
            raise ValueError(f"steps must be an integer >= 2 (both end points), got {steps!r}")
        if path not in ("slerp", "lerp"):
            raise ValueError(f"path must be one of ('slerp', 'lerp'), got {path!r}")
        super().__init__(every_n_epochs, every_n_steps, at_start, seed, save_png, name)
        self.steps, self.rows, self.path = steps, rows, path

    def make_inputs(self, pl_module, generator):
        conditional = getattr(pl_module, "conditional", False)
        pairs = 1 if conditional else self.rows
        ends = pl_module.sample_z(2 * pairs, generator)  # (2R, D)
        t = torch.linspace(0, 1, self.steps, device=ends.device)
        walk = PATHS["normal" if self.path == "slerp" else "uniform"](ends[:pairs], ends[pairs:], t)  # (R, T, D)
        z = walk.reshape(-1, walk.shape[-1])  # (R * T, D), row-major: one path per grid row
        labels = None
        if conditional:
            classes = pl_module.hparams.num_classes
            z = z.repeat(classes, 1)  # (C * T, D): the same path for every digit
            labels = torch.arange(classes, device=z.device).repeat_interleave(self.steps)
        return z, labels, self.steps
