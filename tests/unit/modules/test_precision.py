"""Mixed precision with manual optimization on CPU: bf16-mixed, and clipping on unscaled gradients."""

from __future__ import annotations

import pytest

from gan_lightning import ConditionalGAN


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"grad_clip_val": 0}, "grad_clip_val must be a finite positive number or None, got 0"),
        ({"grad_clip_algorithm": "l2"}, r"grad_clip_algorithm must be one of \('norm', 'value'\), got 'l2'"),
    ],
    ids=["zero-clip", "bad-algorithm"],
)
def test_clip_arguments_are_checked(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ConditionalGAN(metrics=False, **kwargs)
