"""GAN losses as pure functions of discriminator logits: AMP-safe, no Sigmoid+BCELoss.

Each loss is a pair `(d_loss(real_logits, fake_logits), g_loss(fake_logits))`, registered by
name in `LOSSES`; add one with `register_loss`. Logits are (B,) tensors of any float dtype;
the math runs in float32 so bf16/fp16 logits do not lose the small differences that matter.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import NamedTuple

import torch
import torch.nn.functional as F

Tensor = torch.Tensor


class GANLoss(NamedTuple):
    d_loss: Callable[[Tensor, Tensor], Tensor]
    g_loss: Callable[[Tensor], Tensor]


def bce_d(real: Tensor, fake: Tensor) -> Tensor:
    """-log D(x) - log(1 - D(G(z))), from logits."""
    real, fake = real.float(), fake.float()
    return F.binary_cross_entropy_with_logits(real, torch.ones_like(real)) + F.binary_cross_entropy_with_logits(
        fake, torch.zeros_like(fake)
    )


def bce_g(fake: Tensor) -> Tensor:
    """Non-saturating generator loss -log D(G(z)) (Goodfellow et al. 2014, section 3)."""
    fake = fake.float()
    return F.binary_cross_entropy_with_logits(fake, torch.ones_like(fake))


def mse_d(real: Tensor, fake: Tensor) -> Tensor:
    """The tutorial's first loss: squared error of the D *probability* against targets 1 and 0."""
    return F.mse_loss(torch.sigmoid(real.float()), torch.ones_like(real, dtype=torch.float32)) + F.mse_loss(
        torch.sigmoid(fake.float()), torch.zeros_like(fake, dtype=torch.float32)
    )


def mse_g(fake: Tensor) -> Tensor:
    return F.mse_loss(torch.sigmoid(fake.float()), torch.ones_like(fake, dtype=torch.float32))


def lsgan_d(real: Tensor, fake: Tensor) -> Tensor:
    """Least squares GAN (Mao et al. 2017) on raw scores, targets 1/0, halved as in the paper."""
    return 0.5 * ((real.float() - 1).pow(2).mean() + fake.float().pow(2).mean())


def lsgan_g(fake: Tensor) -> Tensor:
    return 0.5 * (fake.float() - 1).pow(2).mean()


def hinge_d(real: Tensor, fake: Tensor) -> Tensor:
    """Hinge loss (Lim & Ye 2017; SN-GAN, BigGAN): relu(1 - D(x)) + relu(1 + D(G(z)))."""
    return F.relu(1 - real.float()).mean() + F.relu(1 + fake.float()).mean()


def hinge_g(fake: Tensor) -> Tensor:
    return -fake.float().mean()


def wasserstein_d(real: Tensor, fake: Tensor) -> Tensor:
    """Critic loss of WGAN (Arjovsky et al. 2017): E D(G(z)) - E D(x). Needs a Lipschitz critic:
    pair it with `gp_weight` (WGAN-GP) or spectral normalization."""
    return fake.float().mean() - real.float().mean()


def wasserstein_g(fake: Tensor) -> Tensor:
    return -fake.float().mean()


def gradient_penalty(critic: Callable[[Tensor], Tensor], real: Tensor, fake: Tensor) -> Tensor:
    """WGAN-GP's penalty (Gulrajani et al. 2017): E (||grad_x D(x_hat)||_2 - 1)^2 at random points
    x_hat on the lines between real and fake images (B, C, H, W).

    Not a function of logits alone: it differentiates the critic, so the caller passes it in. The
    graph is kept (`create_graph`) so the penalty's own gradient reaches the critic's weights.
    Per-sample gradients are only meaningful for a critic without batch statistics (no BatchNorm).
    """
    eps = torch.rand(real.size(0), *([1] * (real.dim() - 1)), device=real.device, dtype=real.dtype)  # (B, 1, 1, 1)
    x_hat = torch.lerp(real.detach(), fake.detach(), eps).requires_grad_(True)
    scores = critic(x_hat)  # (B,)
    (grad,) = torch.autograd.grad(scores.float().sum(), x_hat, create_graph=True)
    return (grad.float().flatten(1).norm(2, dim=1) - 1).pow(2).mean()


def r1_penalty(scores: Tensor, inputs: Tensor) -> Tensor:
    """R1 (Mescheder et al. 2018): E ||grad_x D(x)||^2 at the real images `inputs` (B, C, H, W),
    which must require grad and be what produced `scores` (B,). Weight it by gamma / 2.

    Keeps the graph (`create_graph`) so the penalty trains the discriminator. Like the WGAN-GP
    penalty it needs per-sample gradients: a discriminator without BatchNorm."""
    (grad,) = torch.autograd.grad(scores.float().sum(), inputs, create_graph=True)
    return grad.float().flatten(1).square().sum(1).mean()


def lecam_penalty(real: Tensor, fake: Tensor, anchor_real: Tensor, anchor_fake: Tensor) -> Tensor:
    """LeCam regularization (Tseng et al. 2021): E (D(x) - a_fake)^2 + E (D(G(z)) - a_real)^2, where the
    anchors are moving averages of D's mean logits on real and fake images (`LeCamAnchors`). It keeps
    D's real and fake scores from drifting apart, which is what a discriminator overfitting a small
    data set does."""
    return (real.float() - anchor_fake).square().mean() + (fake.float() - anchor_real).square().mean()


class LeCamAnchors(torch.nn.Module):
    """Exponential moving averages of D's mean logits on real and on fake images, on the device.

    Not in `state_dict` (checkpoints with and without LeCam load into either model); the model
    saves them in the checkpoint itself (`state`, `load_state`)."""

    def __init__(self, decay: float = 0.99) -> None:
        super().__init__()
        self.decay = decay
        self.register_buffer("real", torch.zeros(()), persistent=False)
        self.register_buffer("fake", torch.zeros(()), persistent=False)

    def update(self, real: Tensor, fake: Tensor) -> None:
        """Move the anchors towards this batch's mean logits (B,), (B,): in place, no host read."""
        self.real.lerp_(real.detach().float().mean(), 1 - self.decay)
        self.fake.lerp_(fake.detach().float().mean(), 1 - self.decay)

    def state(self) -> dict[str, Tensor]:
        return {"real": self.real.detach().cpu(), "fake": self.fake.detach().cpu()}

    def load_state(self, state: dict[str, Tensor]) -> None:
        self.real.copy_(state["real"])
        self.fake.copy_(state["fake"])


def topk_count(batch: int, epoch: int, decay: float, floor: float) -> int:
    """Top-k training (Sinha et al. 2020): how many of a batch's fakes the generator learns from in
    `epoch` (0-based): the batch times decay**epoch, never under `floor` of it, at least 1. A host
    computation: the generator step then keeps the k fakes D scores highest (`torch.topk`, no sync)."""
    return max(1, min(batch, math.ceil(batch * max(decay**epoch, floor))))


LOSSES: dict[str, GANLoss] = {
    "bce": GANLoss(bce_d, bce_g),
    "mse": GANLoss(mse_d, mse_g),
    "lsgan": GANLoss(lsgan_d, lsgan_g),
    "hinge": GANLoss(hinge_d, hinge_g),
    "wasserstein": GANLoss(wasserstein_d, wasserstein_g),
}


def register_loss(name: str, d_loss: Callable[[Tensor, Tensor], Tensor], g_loss: Callable[[Tensor], Tensor]) -> None:
    """Make a loss available to `GAN(loss=name)` and configs."""
    if name in LOSSES:
        raise ValueError(f"loss {name!r} is already registered")
    LOSSES[name] = GANLoss(d_loss, g_loss)


def get_loss(name: str) -> GANLoss:
    if name not in LOSSES:
        raise ValueError(f"loss must be one of {tuple(LOSSES)}, got {name!r}")
    return LOSSES[name]
