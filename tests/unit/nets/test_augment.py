"""Differentiable augmentation: each transform does what it says, keeps gradients, and p adapts on the device."""

import pytest
import torch
from torch.utils._python_dispatch import TorchDispatchMode

from gan_lightning.nets.augment import AdaptiveAugment, color, cutout, diff_augment, parse_policy, translate

B, H = 16, 28


class _ScalarReads(TorchDispatchMode):
    """Counts host reads of tensor values (`.item()`, `bool(t)`, `float(t)`): each a sync on a GPU."""

    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        if func is torch.ops.aten._local_scalar_dense.default:
            self.count += 1
        return func(*args, **(kwargs or {}))


def _digits() -> torch.Tensor:
    x = torch.full((B, 1, H, H), -1.0)
    x[:, :, 10:18, 12:16] = torch.linspace(0, 1, B)[:, None, None, None]  # a bright bar, a different shade each
    return x


def test_translation_is_a_whole_pixel_shift_within_an_eighth():
    torch.manual_seed(0)
    x = _digits()
    out = translate(x)
    s = round(H * 0.125)
    shifts = set()
    for i in range(B):
        found = [
            (dy, dx)
            for dy in range(-s, s + 1)
            for dx in range(-s, s + 1)
            if torch.equal(out[i], torch.roll(x[i], (dy, dx), dims=(1, 2)))  # the bar never reaches the border
        ]
        assert len(found) == 1, i
        shifts.add(found[0])
    assert len(shifts) > 4  # per-image shifts, not one for the batch


def test_translation_fills_the_border_with_background():
    torch.manual_seed(1)
    out = translate(torch.ones(64, 1, H, H))
    assert ((out == 1) | (out == -1)).all()
    assert (out == -1).any()  # some shift brought in background


def test_cutout_blanks_one_square_of_half_the_side():
    torch.manual_seed(0)
    out = cutout(torch.ones(B, 1, H, H))
    for img in out[:, 0]:
        rows, cols = (img == -1).nonzero(as_tuple=True)
        assert len(rows) > 0
        h, w = rows.max() - rows.min() + 1, cols.max() - cols.min() + 1
        assert h <= H // 2 and w <= H // 2 and len(rows) == h * w  # a rectangle, clipped at the edge


def test_color_changes_brightness_and_contrast_per_image():
    torch.manual_seed(0)
    x = _digits()
    out = color(x)
    shift = (out - x).mean((1, 2, 3))
    assert shift.std() > 0.05  # a different change per image
    # Every image is an affine map of the original: out = a x + b.
    for i in range(B):
        xs, ys = x[i].flatten(), out[i].flatten()
        a = (ys[349] - ys[0]) / (xs[349] - xs[0])  # pixel 0 is background, pixel 349 (12, 13) in the bar
        assert torch.allclose(ys, a * xs + (ys[0] - a * xs[0]), atol=1e-5)


@pytest.mark.parametrize("name", ["translation", "cutout", "color"])
def test_probability_zero_is_the_identity(name):
    x = _digits()
    assert torch.allclose(diff_augment(x, (name,), p=0.0), x, atol=1e-6)  # contrast: (x - m) * 1 + m
    assert torch.allclose(diff_augment(x, (name,), p=torch.tensor(0.0)), x, atol=1e-6)


def test_probability_applies_per_image():
    torch.manual_seed(0)
    x = torch.ones(1000, 1, 8, 8)
    changed = (cutout(x, p=0.3) != x).flatten(1).any(1).float().mean()
    assert 0.25 < changed < 0.35


def test_gradients_flow_through_every_transform():
    x = _digits().requires_grad_(True)
    diff_augment(x, ("color", "translation", "cutout")).sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0


@pytest.mark.parametrize(
    "policy, message",
    [
        ("flip", r"augment must name transforms from \('translation', 'cutout', 'color'\) .* got 'flip'"),
        ("cutout,cutout", "augment names a transform twice: 'cutout,cutout'"),
        (["cutout"], r"augment must be a comma-separated string .* got \['cutout'\]"),
    ],
)
def test_bad_policies(policy, message):
    with pytest.raises(ValueError, match=message):
        parse_policy(policy)


def test_policy_parsing():
    assert parse_policy(None) == () and parse_policy("") == ()
    assert parse_policy("translation, cutout") == ("translation", "cutout")


def test_adaptive_p_rises_while_d_is_sure_of_the_reals_and_falls_back():
    aug = AdaptiveAugment(("translation",), p=0.0, target=0.6, interval=2, kimg=0.1)  # 100 images: p 0 -> 1
    sure, unsure = torch.full((10,), 3.0), torch.tensor([1.0, -1.0] * 5)
    for _ in range(2):
        aug.observe(sure)
    assert aug.p.item() == pytest.approx(0.2) and aug.signal.item() == 1.0  # 20 images: +20/100
    for _ in range(20):
        aug.observe(sure)
    assert aug.p.item() == 1.0  # clamped
    for _ in range(4):
        aug.observe(unsure)  # r_t = 0 < 0.6: back down
    assert aug.p.item() == pytest.approx(0.6) and aug.signal.item() == 0.0


def test_adaptive_augmentation_never_reads_the_device():
    aug = AdaptiveAugment(("translation", "cutout", "color"), p=0.5, target=0.6, interval=1)
    with _ScalarReads() as reads:
        for _ in range(3):
            out = aug(_digits())
            aug.observe(out.mean((1, 2, 3)))
    assert reads.count == 0


def test_observe_sums_over_ranks_with_the_given_reduce():
    aug = AdaptiveAugment(("cutout",), p=0.0, target=0.5, interval=1, kimg=1.0)
    # Another rank saw 10 rejected reals: the global r_t is 0 < 0.5, so p stays at 0.
    aug.observe(torch.ones(10), reduce=lambda t: t - 10, world_size=2)
    assert aug.p.item() == 0.0 and aug.signal.item() == 0.0
