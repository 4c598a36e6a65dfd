"""Differentiable augmentation of what the discriminator sees, with a fixed or adaptive probability.

DiffAugment (Zhao et al. 2020): the same random transforms are applied to real digits and to
fakes, in the D step and in the G step, through differentiable tensor ops, so G's gradient flows
back through the transform. D never sees an unaugmented image, and cannot memorise a small
training set pixel by pixel; G is not pushed to draw augmented digits because fakes are augmented
the same way before D judges them.

The transforms, all per image and on the images' device (no host reads):
- ``translation``: shift by up to 1/8 of the image side in x and y, filling with the background;
- ``cutout``: blank a square of half the image side at a random place with the background;
- ``color``: random brightness (add U(-0.5, 0.5)) and contrast (scale around the image mean by
  U(0.5, 1.5)); colour saturation as well when the images have 3 channels.
Images are in [-1, 1] with a black background (-1): MNIST and Fashion-MNIST.

Each transform is applied to an image with probability ``p``. DiffAugment uses p = 1; with an
adaptive target (StyleGAN2-ADA, Karras et al. 2020) `AdaptiveAugment` raises p while D looks
overfitted and lowers it otherwise. Its overfitting signal is r_t = E[sign(D(x_real))]: the share
of real digits D is sure about, minus the share it rejects; 0 for a D that cannot tell, 1 for one
that has memorised them. The signal is summed on the device and p is moved every few D steps by
tensor ops: no host-device sync anywhere.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

AUGMENTATIONS = ("translation", "cutout", "color")
BACKGROUND = -1.0  # black in [-1, 1]: what a shifted-in border or a cut-out patch shows
TRANSLATION_RATIO = 0.125
CUTOUT_RATIO = 0.5


def parse_policy(augment: str | None) -> tuple[str, ...]:
    """``"translation,cutout"`` -> ("translation", "cutout"); None or "" -> ().

    Raises:
        ValueError: an unknown name, naming the argument, the choices and what was given.
    """
    if augment is None or augment == "":
        return ()
    if not isinstance(augment, str):
        raise ValueError(f"augment must be a comma-separated string of {AUGMENTATIONS}, got {augment!r}")
    names = tuple(n.strip() for n in augment.split(","))
    for n in names:
        if n not in AUGMENTATIONS:
            raise ValueError(f"augment must name transforms from {AUGMENTATIONS} separated by commas, got {augment!r}")
    if len(set(names)) != len(names):
        raise ValueError(f"augment names a transform twice: {augment!r}")
    return names


def _chosen(x: torch.Tensor, p: torch.Tensor | float) -> torch.Tensor:
    """(B,) bool: which images get this transform, each with probability p."""
    if isinstance(p, float) and p >= 1.0:
        return torch.ones(x.shape[0], dtype=torch.bool, device=x.device)
    return torch.rand(x.shape[0], device=x.device) < p


def translate(x: torch.Tensor, p: torch.Tensor | float = 1.0, ratio: float = TRANSLATION_RATIO) -> torch.Tensor:
    """Shift each image (B, C, H, W) by whole pixels, up to `ratio` of its side; the border shows background."""
    b, c, h, w = x.shape
    sy, sx = max(1, round(h * ratio)), max(1, round(w * ratio))
    on = _chosen(x, p).long()
    dy = torch.randint(-sy, sy + 1, (b,), device=x.device) * on  # (B,)
    dx = torch.randint(-sx, sx + 1, (b,), device=x.device) * on
    padded = nn.functional.pad(x, (sx, sx, sy, sy), value=BACKGROUND)  # (B, C, H+2sy, W+2sx)
    rows = torch.arange(h, device=x.device)[None, :] + sy - dy[:, None]  # (B, H): source row of each output row
    cols = torch.arange(w, device=x.device)[None, :] + sx - dx[:, None]  # (B, W)
    x = padded.gather(2, rows[:, None, :, None].expand(b, c, h, padded.shape[3]))  # (B, C, H, W+2sx)
    return x.gather(3, cols[:, None, None, :].expand(b, c, h, w))  # (B, C, H, W)


def cutout(x: torch.Tensor, p: torch.Tensor | float = 1.0, ratio: float = CUTOUT_RATIO) -> torch.Tensor:
    """Blank one square of side `ratio` * image side per image (B, C, H, W), centred anywhere (it may
    hang over the edge)."""
    b, _, h, w = x.shape
    ch, cw = max(1, round(h * ratio)), max(1, round(w * ratio))
    on = _chosen(x, p)
    top = torch.randint(0, h, (b,), device=x.device) - ch // 2  # (B,): a centre anywhere in the image
    left = torch.randint(0, w, (b,), device=x.device) - cw // 2
    ys, xs = torch.arange(h, device=x.device), torch.arange(w, device=x.device)
    in_rows = (ys[None, :] >= top[:, None]) & (ys[None, :] < top[:, None] + ch)  # (B, H)
    in_cols = (xs[None, :] >= left[:, None]) & (xs[None, :] < left[:, None] + cw)  # (B, W)
    hole = in_rows[:, :, None] & in_cols[:, None, :] & on[:, None, None]  # (B, H, W)
    return torch.where(hole[:, None], torch.full_like(x, BACKGROUND), x)


def color(x: torch.Tensor, p: torch.Tensor | float = 1.0) -> torch.Tensor:
    """Random brightness and contrast per image (and saturation for RGB); each with probability p."""
    b = x.shape[0]
    shape = (b, 1, 1, 1)
    on = _chosen(x, p).to(x.dtype).view(shape)
    x = x + (torch.rand(shape, device=x.device, dtype=x.dtype) - 0.5) * on  # brightness
    if x.shape[1] == 3:
        on_s = _chosen(x, p).to(x.dtype).view(shape)
        grey = x.mean(1, keepdim=True)
        x = grey + (x - grey) * (1 + (torch.rand(shape, device=x.device, dtype=x.dtype) * 2 - 1) * on_s)
    on_c = _chosen(x, p).to(x.dtype).view(shape)
    mean = x.mean((1, 2, 3), keepdim=True)
    return mean + (x - mean) * (1 + (torch.rand(shape, device=x.device, dtype=x.dtype) - 0.5) * on_c)  # contrast


_TRANSFORMS = {"translation": translate, "cutout": cutout, "color": color}


def diff_augment(x: torch.Tensor, policy: tuple[str, ...], p: torch.Tensor | float = 1.0) -> torch.Tensor:
    """Apply the transforms of `policy` (names from `AUGMENTATIONS`) to images (B, C, H, W), in the
    order colour, translation, cutout; differentiable in `x`. `p`: a float or a 0-d tensor."""
    for name in ("color", "translation", "cutout"):
        if name in policy:
            x = _TRANSFORMS[name](x, p)
    return x


class AdaptiveAugment(nn.Module):
    """The augmentation of D's inputs and its probability `p` (a 0-d device buffer).

    Args:
        policy: transform names (`parse_policy`).
        p: the probability, fixed, or the starting value when `target` is set.
        target: adapt p so that r_t = E[sign(D(real))] stays near this value (ADA uses 0.6); None: fixed p.
        interval: D steps between adjustments of p.
        kimg: thousands of real images over which p can move by 1 at most (ADA: 500; a 10 minute
            CPU run sees a few hundred thousand digits).

    The buffers are not part of `state_dict` (a checkpoint with augmentation then loads into a model
    without, and old checkpoints into new models); the model saves them in the checkpoint itself.
    """

    def __init__(
        self, policy: tuple[str, ...], p: float = 1.0, target: float | None = None, interval: int = 4, kimg: float = 100
    ) -> None:
        super().__init__()
        self.policy, self.target, self.interval, self.kimg = policy, target, interval, kimg
        self._p_fixed = float(p)  # a fixed p is read from here: reading the buffer would sync a GPU
        self.register_buffer("p", torch.tensor(float(p)), persistent=False)
        self.register_buffer("signal_sum", torch.zeros(()), persistent=False)  # sum of sign(D(real)) this interval
        self.register_buffer("signal", torch.zeros(()), persistent=False)  # r_t of the last interval, for the logs
        self._images = 0  # real images summed into signal_sum (a host count: no read needed)
        self._steps = 0

    @property
    def adaptive(self) -> bool:
        return self.target is not None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return diff_augment(x, self.policy, self.p if self.adaptive else self._p_fixed)

    def observe(self, real_logits: torch.Tensor, reduce: Callable | None = None, world_size: int = 1) -> None:
        """After a D step: add sign(D(real)) of the batch (B,), and every `interval` steps move p.

        `reduce` sums a tensor over the `world_size` DDP ranks (the strategy's `reduce`), so that
        every rank moves p alike; None on one device."""
        if not self.adaptive:
            return
        self.signal_sum.add_(real_logits.detach().float().sign().sum())
        self._images += real_logits.shape[0]
        self._steps += 1
        if self._steps % self.interval:
            return
        total, images = self.signal_sum, self._images
        if reduce is not None:
            total = reduce(total.clone())
            images = images * world_size
        rt = total / images
        step = images / (self.kimg * 1000)
        self.p.add_(torch.sign(rt - self.target) * step).clamp_(0.0, 1.0)
        self.signal.copy_(rt)
        self.signal_sum.zero_()
        self._images = 0

    def state(self) -> dict[str, torch.Tensor]:
        return {"p": self.p.detach().cpu(), "signal": self.signal.detach().cpu()}

    def load_state(self, state: dict[str, torch.Tensor]) -> None:
        self.p.copy_(state["p"])
        self.signal.copy_(state["signal"])
