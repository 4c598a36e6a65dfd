"""Divergence guard: a NaN loss stops training naming step, network and last finite losses, and keeps
the last good checkpoint; `on_nonfinite: skip` leaves those steps out instead."""

import pytest

from gan_lightning import GAN


def test_bad_on_nonfinite_is_refused():
    with pytest.raises(ValueError, match=r"on_nonfinite must be one of \('stop', 'skip'\), got 'ignore'"):
        GAN(on_nonfinite="ignore", metrics=False)
