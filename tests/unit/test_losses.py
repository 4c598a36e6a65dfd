import math

import pytest
import torch

from gan_lightning.losses import LOSSES, get_loss, register_loss

real = torch.tensor([2.0, -1.0])
fake = torch.tensor([0.5, -3.0])


def sig(v):
    return 1 / (1 + math.exp(-v))


def test_bce_matches_hand_computation():
    expected_d = (
        -(math.log(sig(2.0)) + math.log(sig(-1.0))) / 2 - (math.log(1 - sig(0.5)) + math.log(1 - sig(-3.0))) / 2
    )
    expected_g = -(math.log(sig(0.5)) + math.log(sig(-3.0))) / 2
    assert LOSSES["bce"].d_loss(real, fake).item() == pytest.approx(expected_d, rel=1e-6)
    assert LOSSES["bce"].g_loss(fake).item() == pytest.approx(expected_g, rel=1e-6)


def test_mse_is_on_probabilities():
    expected_d = ((sig(2.0) - 1) ** 2 + (sig(-1.0) - 1) ** 2) / 2 + (sig(0.5) ** 2 + sig(-3.0) ** 2) / 2
    expected_g = ((sig(0.5) - 1) ** 2 + (sig(-3.0) - 1) ** 2) / 2
    assert LOSSES["mse"].d_loss(real, fake).item() == pytest.approx(expected_d, rel=1e-6)
    assert LOSSES["mse"].g_loss(fake).item() == pytest.approx(expected_g, rel=1e-6)


def test_lsgan_is_on_raw_scores():
    expected_d = 0.5 * (((2 - 1) ** 2 + (-1 - 1) ** 2) / 2 + (0.5**2 + 3.0**2) / 2)
    assert LOSSES["lsgan"].d_loss(real, fake).item() == pytest.approx(expected_d, rel=1e-6)
    assert LOSSES["lsgan"].g_loss(fake).item() == pytest.approx(0.5 * ((0.5 - 1) ** 2 + 16) / 2, rel=1e-6)


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_bf16_logits_give_float32_losses(name):
    loss = get_loss(name)
    d = loss.d_loss(real.bfloat16(), fake.bfloat16())
    assert d.dtype == torch.float32 and torch.isfinite(d)


def test_unknown_loss():
    with pytest.raises(ValueError, match=r"loss must be one of \(.*'bce'.*\), got 'hinge2'"):
        get_loss("hinge2")


def test_register_twice_refused():
    with pytest.raises(ValueError, match="loss 'bce' is already registered"):
        register_loss("bce", LOSSES["bce"].d_loss, LOSSES["bce"].g_loss)
