"""A walk through latent space: does the generator map nearby noise to nearby digits?

Each row goes in equal steps from one fixed latent point to another. Normal noise concentrates
near a sphere of radius sqrt(latent_dim), and a straight line between two such points cuts
through the low-density middle, so the default path is spherical (slerp) (White, "Sampling
Generative Networks", 2016). For a conditional model every row is one digit and all rows share the
same two end points: a column is one "style" written as every digit.
"""

from __future__ import annotations

from typing import Literal

import torch

from gan_lightning.callbacks.images import ScheduledImages, _check_count


def slerp(a: torch.Tensor, b: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """Spherical interpolation from a (R, D) to b (R, D) at fractions t (T,) -> (R, T, D).

    Falls back to a straight line where a and b are (anti)parallel and the arc is undefined.
    """
    a_unit = a / a.norm(dim=-1, keepdim=True).clamp_min(1e-12)
    b_unit = b / b.norm(dim=-1, keepdim=True).clamp_min(1e-12)
    omega = torch.acos((a_unit * b_unit).sum(-1).clamp(-1.0, 1.0))[:, None, None]  # (R, 1, 1)
    t = t[None, :, None]  # (1, T, 1)
    a, b = a[:, None, :], b[:, None, :]  # (R, 1, D)
    sin_omega = torch.sin(omega)
    arc = (torch.sin((1 - t) * omega) * a + torch.sin(t * omega) * b) / sin_omega.clamp_min(1e-12)
    line = (1 - t) * a + t * b
    return torch.where(sin_omega.abs() < 1e-6, line, arc)


def lerp(a: torch.Tensor, b: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """Straight-line interpolation, same shapes as `slerp`."""
    return (1 - t[None, :, None]) * a[:, None, :] + t[None, :, None] * b[:, None, :]


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
        walk = (slerp if self.path == "slerp" else lerp)(ends[:pairs], ends[pairs:], t)  # (R, T, D)
        z = walk.reshape(-1, walk.shape[-1])  # (R * T, D), row-major: one path per grid row
        labels = None
        if conditional:
            classes = pl_module.hparams.num_classes
            z = z.repeat(classes, 1)  # (C * T, D): the same path for every digit
            labels = torch.arange(classes, device=z.device).repeat_interleave(self.steps)
        return z, labels, self.steps
