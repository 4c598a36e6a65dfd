"""benchmarks/ema_screen.py: its averages follow their rules, the shipped one bit for bit."""

import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "benchmarks"))

from ema_screen import RuleEMA  # noqa: E402

from gan_lightning.modules.ema import ExponentialMovingAverage  # noqa: E402


def _walk(*averages, steps: int = 30) -> torch.nn.Linear:
    torch.manual_seed(0)
    live = averages[0]._live[0]
    for _ in range(steps):
        with torch.no_grad():
            for p in live.parameters():
                p.add_(torch.randn_like(p))
        for a in averages:
            a.update()
    return live


def test_rule_k10_is_the_shipped_average_and_others_differ():
    live = torch.nn.Linear(4, 3)
    shipped = ExponentialMovingAverage(live, 0.999)
    same, other, const = RuleEMA(live, 0.999, "k=10"), RuleEMA(live, 0.999, "k=3"), RuleEMA(live, 0.9, "const=0.5")
    _walk(shipped, same, other, const)
    assert torch.equal(same.module.weight, shipped.module.weight)
    assert not torch.allclose(other.module.weight, shipped.module.weight)
    assert const.current_decay() == 0.5 and other.current_decay() == pytest.approx(31 / 33)


@pytest.mark.parametrize("rule", ["k10", "k=", "half=0.9"])
def test_a_malformed_rule_is_refused(rule):
    with pytest.raises(ValueError, match="rules: each must be k=K or const=D"):
        RuleEMA(torch.nn.Linear(1, 1), 0.999, rule)
