"""The RNG states a checkpoint carries: every global stream comes back, through a weights-only load too."""

import io
import random

import numpy as np
import torch

from gan_lightning.reliability.resume import rng_state, set_rng_state


def _draw() -> tuple:
    return torch.rand(3).tolist(), random.random(), np.random.rand(2).tolist()


def test_every_stream_is_restored_after_a_weights_only_round_trip():
    torch.manual_seed(1), random.seed(2), np.random.seed(3)
    buffer = io.BytesIO()
    torch.save(rng_state(), buffer)  # as in a checkpoint
    expected = _draw()
    assert _draw() != expected  # the streams moved on
    buffer.seek(0)
    set_rng_state(torch.load(buffer, weights_only=True))
    assert _draw() == expected
