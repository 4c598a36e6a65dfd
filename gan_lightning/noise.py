"""The noise every sample starts from, without Lightning: one seeded draw (`draw_noise`), the truncation
trick (`truncate`), the angle a discrete choice is read off (`noise_angle`), and the arcs of that angle
a self-conditioned model's clusters are (`arc_of`, `into_arcs`: a sample's cluster, noise inside one).

`gan-lightning generate` draws through here before (or without) loading any LightningModule; the GAN
modules' sampling path (`GAN.sample` / `GAN.decode`) draws the same numbers, which
`tests/unit/commands/test_fast_start.py` holds.
"""

from __future__ import annotations

import math

import torch

from gan_lightning.checks import check_interval

# The mean of each noise distribution (`GANSettings.noise`): what truncation pulls the noise toward.
NOISE_MEAN = {"normal": 0.0, "uniform": 0.5}


def truncate(z: torch.Tensor, truncation: float, noise: str = "normal") -> torch.Tensor:
    """The truncation trick: noise (n, latent_dim) moved toward its distribution's mean,
    ``mean + truncation * (z - mean)``. 1 leaves it as drawn; smaller values give more typical,
    more often label-correct digits at the cost of variety (a higher FID).

    Raises:
        ValueError: `truncation` outside (0, 1], or an unknown `noise`.
    """
    if truncation == 1:  # the training step's case: no Python checks per batch
        return z
    check_interval("truncation", truncation, 0.0, 1.0, lo_open=True)
    if noise not in NOISE_MEAN:
        raise ValueError(f"noise must be one of {tuple(NOISE_MEAN)}, got {noise!r}")
    mean = NOISE_MEAN[noise]
    return mean + truncation * (z - mean)


def noise_angle(z: torch.Tensor, first: int = 0) -> torch.Tensor:
    """u in [0, 1) (n,): the angle of coordinates (`first`, `first` + 1) of noise (n, latent_dim) as a
    share of a turn. Uniform for normal noise, independent of the other coordinates and of the noise's
    scale (truncation keeps it): a discrete choice read off the noise alone (self-conditioning's
    cluster, InfoGAN's code), so every z -> image path needs nothing but z."""
    a, b = z[:, first].float(), z[:, first + 1].float()
    return (torch.atan2(b, a) / (2 * math.pi)) % 1.0


def draw_noise(
    n: int,
    hparams,
    generator: torch.Generator | None = None,
    device: torch.device | str | None = None,
    truncation: float = 1.0,
) -> torch.Tensor:
    """Noise (n, latent_dim) of the model's ``noise`` kind (hparams ``latent_dim``, ``noise``), truncated
    by `truncation`: the one draw behind `GAN.sample_z` (the model's device) and `generate` (the CPU)."""
    shape = (n, hparams.latent_dim)
    if hparams.noise == "uniform":
        z = torch.rand(shape, generator=generator, device=device)
    else:
        z = torch.randn(shape, generator=generator, device=device)
    return truncate(z, truncation, hparams.noise)


def arc_of(z: torch.Tensor, cdf: torch.Tensor) -> torch.Tensor:
    """The arc (n,) each noise vector (n, latent_dim) falls in, for arcs as wide as the shares whose
    cumulative sums are `cdf` (k,): the inverse CDF at its angle (a self-conditioned sample's cluster)."""
    return (noise_angle(z)[:, None] >= cdf.float()[None, :-1]).sum(1)


def into_arcs(
    z: torch.Tensor, ids: torch.Tensor, cdf: torch.Tensor, generator: torch.Generator | None = None
) -> torch.Tensor:
    """`z` (n, latent_dim) with the angle of its first two coordinates redrawn uniformly inside arc
    `ids` (n,) of `cdf` (see `arc_of`); the radius and the other coordinates keep their law. In place.

    Raises:
        ValueError: an arc of zero width (a cluster that holds no training images).
    """
    cdf = cdf.float()
    lo = torch.cat([cdf.new_zeros(1), cdf[:-1]])[ids]
    width = cdf[ids] - lo
    if (width <= 0).any():
        empty = sorted(set(ids[width <= 0].tolist()))
        raise ValueError(f"clusters {empty} hold no training images; pick others in 0..{len(cdf) - 1}")
    # Stay a hair inside the arc so rounding cannot move a sample to the next one.
    u = lo + width * (1e-4 + (1 - 2e-4) * torch.rand(len(ids), generator=generator, device=z.device))
    radius, angle = torch.hypot(z[:, 0], z[:, 1]), 2 * math.pi * u
    z[:, 0], z[:, 1] = radius * torch.cos(angle), radius * torch.sin(angle)
    return z


def slerp(a: torch.Tensor, b: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """Spherical interpolation from a (R, D) to b (R, D) at fractions t (T,) -> (R, T, D): the path for
    normal noise, which lies near a sphere of radius sqrt(D) that a straight line would cut through.
    Falls back to a straight line where a and b are (anti)parallel and the arc is undefined. Here,
    without Lightning, for the interpolation callback and the demo page's walk alike."""
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
    """Straight-line interpolation, same shapes as `slerp`: the path for uniform noise (a box, not a sphere)."""
    return (1 - t[None, :, None]) * a[:, None, :] + t[None, :, None] * b[:, None, :]


# The path between two noise vectors of each noise kind (`GANSettings.noise`).
PATHS = {"normal": slerp, "uniform": lerp}
