"""Checks of the quality-technique arguments of `GAN`: augmentation, R1, LeCam, top-k, PRD metrics.

One function so the model's constructor stays readable. Every switch is off by default, and a
setting that only tunes a switch that is off is refused rather than ignored.
"""

from __future__ import annotations

from typing import Any

from gan_lightning.nets.augment import parse_policy

TECHNIQUE_ARGS = (
    "arch",
    "d_norm",
    "metrics",
    "augment",
    "augment_p",
    "ada_target",
    "ada_interval",
    "ada_kimg",
    "r1_gamma",
    "r1_every",
    "lecam_weight",
    "lecam_decay",
    "topk_decay",
    "topk_min",
    "metrics_prd",
)
# The defaults of the tuning arguments: any other value needs its switch on.
TUNING_DEFAULTS = {
    "augment_p": 1.0,
    "ada_interval": 4,
    "ada_kimg": 100.0,
    "r1_every": 16,
    "lecam_decay": 0.99,
    "topk_min": 0.5,
}


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _in(name: str, value: Any, lo: float, hi: float, lo_open: bool = False, hi_open: bool = False) -> None:
    ok = _number(value) and (lo < value if lo_open else lo <= value) and (value < hi if hi_open else value <= hi)
    if not ok:
        interval = f"{'(' if lo_open else '['}{lo:g}, {hi:g}{')' if hi_open else ']'}"
        raise ValueError(f"{name} must be a number in {interval}, got {value!r}")


def _needs(name: str, value: Any, switch: str, on: bool) -> None:
    if not on and value != TUNING_DEFAULTS[name]:
        raise ValueError(
            f"{name} tunes {switch}, which is off; set {switch} too, or leave {name} at "
            f"{TUNING_DEFAULTS[name]!r}, got {value!r}"
        )


def check_technique_args(
    *,
    arch: str,
    d_norm: str | None,
    metrics: bool,
    augment: str | None,
    augment_p: float,
    ada_target: float | None,
    ada_interval: int,
    ada_kimg: float,
    r1_gamma: float,
    r1_every: int,
    lecam_weight: float,
    lecam_decay: float,
    topk_decay: float | None,
    topk_min: float,
    metrics_prd: bool,
) -> tuple[str, ...]:
    """Validate the technique arguments; returns the augmentation policy (names, possibly empty).

    Raises:
        ValueError: one line naming the argument, what is allowed and what was given.
    """
    policy = parse_policy(augment)
    _in("augment_p", augment_p, 0.0, 1.0)
    _needs("augment_p", augment_p, "augment", bool(policy))
    if ada_target is not None:
        _in("ada_target", ada_target, 0.0, 1.0, lo_open=True, hi_open=True)
        if not policy:
            raise ValueError(
                f"ada_target adapts the probability of the augment transforms; set augment too, got augment={augment!r}"
            )
    if isinstance(ada_interval, bool) or not isinstance(ada_interval, int) or ada_interval <= 0:
        raise ValueError(f"ada_interval must be a positive integer, got {ada_interval!r}")
    if not _number(ada_kimg) or ada_kimg <= 0:
        raise ValueError(f"ada_kimg must be a positive number, got {ada_kimg!r}")
    for name, value in (("ada_interval", ada_interval), ("ada_kimg", ada_kimg)):
        _needs(name, value, "ada_target", ada_target is not None)

    if not _number(r1_gamma) or r1_gamma < 0:
        raise ValueError(f"r1_gamma must be a number >= 0, got {r1_gamma!r}")
    if isinstance(r1_every, bool) or not isinstance(r1_every, int) or r1_every <= 0:
        raise ValueError(f"r1_every must be a positive integer, got {r1_every!r}")
    _needs("r1_every", r1_every, "r1_gamma", r1_gamma > 0)
    batchnorm_d = (d_norm or "batchnorm") == "batchnorm" if arch == "dcgan" else d_norm == "batchnorm"
    if r1_gamma > 0 and batchnorm_d:
        raise ValueError(
            "r1_gamma: the R1 penalty needs per-sample gradients, which BatchNorm in the "
            "discriminator mixes; set d_norm to 'layernorm' or 'none', got d_norm='batchnorm'"
        )

    if not _number(lecam_weight) or lecam_weight < 0:
        raise ValueError(f"lecam_weight must be a number >= 0, got {lecam_weight!r}")
    _in("lecam_decay", lecam_decay, 0.0, 1.0, lo_open=True, hi_open=True)
    _needs("lecam_decay", lecam_decay, "lecam_weight", lecam_weight > 0)

    if topk_decay is not None:
        _in("topk_decay", topk_decay, 0.0, 1.0, lo_open=True)
    _in("topk_min", topk_min, 0.0, 1.0, lo_open=True)
    _needs("topk_min", topk_min, "topk_decay", topk_decay is not None)

    if not isinstance(metrics_prd, bool):
        raise ValueError(f"metrics_prd must be true or false, got {metrics_prd!r}")
    if metrics_prd and not metrics:
        raise ValueError(
            "metrics_prd adds precision/recall/density/coverage to the validation metrics; "
            "set metrics: true too, got metrics=False"
        )
    return policy
