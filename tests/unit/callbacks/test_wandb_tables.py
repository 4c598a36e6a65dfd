"""W&B beyond scalars, read back from real offline runs: the sample table of every validation, and
checkpoints as artifacts (`log_model`) in an offline run, asked for or fallen back to."""

import pytest

from gan_lightning import GAN
from gan_lightning.callbacks import SampleTable


def test_unconditional_rows_are_ordered_by_reading():
    rows = SampleTable(per_digit=3).rows(GAN(arch="mlp", g_hidden=[16], d_hidden=[16]))
    assert len(rows) == 30 and all(row[0] is None for row in rows)
    readings = [row[2] for row in rows]
    assert readings == sorted(readings)


def test_bad_per_digit():
    with pytest.raises(ValueError, match="SampleTable per_digit must be a positive integer, got 0"):
        SampleTable(per_digit=0)
