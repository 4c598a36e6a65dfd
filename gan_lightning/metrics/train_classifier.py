"""Training the MNIST classifier behind the quality metrics (and the CAS classifiers): one plain loop.

Random affine jitter on every batch (a small digit set generalises much better with it) and a
one-cycle schedule; no test data is used to choose anything. The command that trains and ships the
weights is `python -m gan_lightning.commands.train_classifier`.
"""

from __future__ import annotations

import math
import time

import torch
import torch.nn.functional as F

from gan_lightning.metrics.classifier import MNISTClassifier


def jitter(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Random small rotation, scale, shear and shift per image; x (B, 1, 28, 28) in [-1, 1]."""
    b = x.shape[0]
    u = lambda lo, hi: torch.empty(b).uniform_(lo, hi, generator=generator)  # noqa: E731
    angle, scale, shear = u(-0.21, 0.21), u(0.9, 1.1), u(-0.15, 0.15)  # radians, factor, slope
    tx, ty = u(-0.15, 0.15), u(-0.15, 0.15)  # 0.15 of the half-width: about 2 px
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    theta = torch.stack([torch.stack([cos, -sin + shear, tx], 1), torch.stack([sin, cos, ty], 1)], 1)  # (B, 2, 3)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    # grid_sample pads with 0, which is grey in [-1, 1]: shift so the background is 0, then back.
    return F.grid_sample(x + 1, grid, mode="bilinear", padding_mode="zeros", align_corners=False) - 1


@torch.no_grad()
def accuracy(net: MNISTClassifier, x: torch.Tensor, y: torch.Tensor, batch_size: int = 1000) -> float:
    net.eval()
    correct = sum(
        (net(x[i : i + batch_size]).argmax(1) == y[i : i + batch_size]).sum().item()
        for i in range(0, len(x), batch_size)
    )
    return correct / len(x)


def train(
    x: torch.Tensor, y: torch.Tensor, epochs: int, batch_size: int, lr: float, seed: int, log=print
) -> MNISTClassifier:
    """Fit a fresh classifier on x (N, 1, 28, 28) in [-1, 1] and labels y (N,)."""
    gen = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    net = MNISTClassifier()
    steps_per_epoch = math.ceil(len(x) / batch_size)
    opt = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=5e-4)
    # One-cycle: a short warm-up, then a cosine decay to ~0; robust without any tuning on test data.
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=epochs * steps_per_epoch, pct_start=0.15)
    for epoch in range(epochs):
        net.train()
        perm, total, t0 = torch.randperm(len(x), generator=gen), 0.0, time.perf_counter()
        for i in range(0, len(x), batch_size):
            idx = perm[i : i + batch_size]
            loss = F.cross_entropy(net(jitter(x[idx], gen)), y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            total += loss.item() * len(idx)
        log(f"epoch {epoch + 1}/{epochs}  train loss {total / len(x):.4f}  {time.perf_counter() - t0:.1f}s")
    return net.eval()
