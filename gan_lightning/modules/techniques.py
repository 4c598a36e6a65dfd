"""Quality techniques of `GAN`: differentiable/adaptive augmentation, WGAN-GP, R1, LeCam, top-k,
InfoGAN's categorical code (`modules/infocode.py`) and PacGAN's packing.

`check_technique_args` validates their arguments (every switch is off by default, and a setting
that only tunes a switch that is off is refused rather than ignored); `Techniques` is the part the
model holds (``self.techniques``) that applies them in the training step. The maths live in
`gan_lightning.nets.augment` and `gan_lightning.losses`.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from gan_lightning.checks import check_bool, check_interval, check_nonnegative, check_positive, check_positive_int
from gan_lightning.losses import LeCamAnchors, lecam_penalty, r1_penalty, topk_count
from gan_lightning.nets.augment import AdaptiveAugment, parse_policy
from gan_lightning.nets.layers import pack_images

TECHNIQUE_KEY = "technique_state"  # checkpoint entry: adaptive augmentation p, LeCam anchors

TECHNIQUE_ARGS = (
    "arch",
    "d_norm",
    "metrics",
    "gp_weight",
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
    "info_codes",
    "info_weight",
    "pack",
)
# The defaults of the tuning arguments: any other value needs its switch on.
TUNING_DEFAULTS = {
    "augment_p": 1.0,
    "ada_interval": 4,
    "ada_kimg": 100.0,
    "r1_every": 16,
    "lecam_decay": 0.99,
    "topk_min": 0.5,
    "info_weight": 1.0,
}


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
    gp_weight: float,
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
    info_codes: int | None,
    info_weight: float,
    pack: int,
) -> tuple[str, ...]:
    """Validate the technique arguments; returns the augmentation policy (names, possibly empty).

    Raises:
        ValueError: one line naming the argument, what is allowed and what was given.
    """
    policy = parse_policy(augment)
    check_interval("augment_p", augment_p, 0.0, 1.0)
    _needs("augment_p", augment_p, "augment", bool(policy))
    if ada_target is not None:
        check_interval("ada_target", ada_target, 0.0, 1.0, lo_open=True, hi_open=True)
        if not policy:
            raise ValueError(
                f"ada_target adapts the probability of the augment transforms; set augment too, got augment={augment!r}"
            )
    check_positive_int("ada_interval", ada_interval)
    check_positive("ada_kimg", ada_kimg)
    for name, value in (("ada_interval", ada_interval), ("ada_kimg", ada_kimg)):
        _needs(name, value, "ada_target", ada_target is not None)

    # WGAN-GP and R1 differentiate D at single images: BatchNorm would mix the batch into each gradient.
    batchnorm_d = (d_norm or "batchnorm") == "batchnorm" if arch == "dcgan" else d_norm == "batchnorm"
    check_nonnegative("gp_weight", gp_weight)
    check_nonnegative("r1_gamma", r1_gamma)
    check_positive_int("r1_every", r1_every)
    _needs("r1_every", r1_every, "r1_gamma", r1_gamma > 0)
    for name, value, what in (("gp_weight", gp_weight, "gradient penalty"), ("r1_gamma", r1_gamma, "R1 penalty")):
        if value > 0 and batchnorm_d:
            raise ValueError(
                f"{name}: the {what} needs per-sample gradients, which BatchNorm in the "
                "discriminator mixes; set d_norm to 'layernorm' or 'none', got d_norm='batchnorm'"
            )

    check_nonnegative("lecam_weight", lecam_weight)
    check_interval("lecam_decay", lecam_decay, 0.0, 1.0, lo_open=True, hi_open=True)
    _needs("lecam_decay", lecam_decay, "lecam_weight", lecam_weight > 0)

    if topk_decay is not None:
        check_interval("topk_decay", topk_decay, 0.0, 1.0, lo_open=True)
    check_interval("topk_min", topk_min, 0.0, 1.0, lo_open=True)
    _needs("topk_min", topk_min, "topk_decay", topk_decay is not None)

    check_bool("metrics_prd", metrics_prd)
    if metrics_prd and not metrics:
        raise ValueError(
            "metrics_prd adds precision/recall/density/coverage to the validation metrics; "
            "set metrics: true too, got metrics=False"
        )

    check_positive_int("info_codes", info_codes, optional=True)
    if info_codes is not None and info_codes < 2:
        raise ValueError(f"info_codes must be at least 2 (a code with one value carries nothing), got {info_codes}")
    check_positive("info_weight", info_weight)
    _needs("info_weight", info_weight, "info_codes", info_codes is not None)
    check_positive_int("pack", pack)
    if pack > 1 and info_codes is not None:
        raise ValueError(
            "pack: the info_codes head reads one sample's features, and a packed D sees several at once; "
            f"use one of them, got pack={pack} with info_codes={info_codes}"
        )
    return policy


class Techniques(nn.Module):
    """The quality techniques of the training step, one part `GAN` holds by name (``self.techniques``):
    augmentation of what D sees (DiffAugment, ADA), the lazy R1 penalty, LeCam, WGAN-GP's weight, top-k
    and packing, each off unless its setting turns it on.

    Its state is device tensors (the augmentation's p, the LeCam anchors: non-persistent buffers, so the
    model's `state_dict` is the same with or without techniques) and host counts; a resume gets it back
    through the checkpoint (`checkpoint_state`). No host sync in the hot path.

    Args:
        hp: the model's settings (`GANSettings`): the technique arguments are read once, here.
        policy: the augmentation transforms `check_technique_args` settled on (empty: none).
    """

    def __init__(self, hp: Any, policy: tuple[str, ...]) -> None:
        super().__init__()
        self.augment = (
            AdaptiveAugment(policy, hp.augment_p, hp.ada_target, hp.ada_interval, hp.ada_kimg) if policy else None
        )
        self.lecam = LeCamAnchors(hp.lecam_decay) if hp.lecam_weight > 0 else None
        # Plain copies: the hot path reads no hparams dictionary.
        self.gp_weight = float(hp.gp_weight)
        self.r1 = (float(hp.r1_gamma), int(hp.r1_every))
        self.lecam_weight = float(hp.lecam_weight)
        self.topk = None if hp.topk_decay is None else (float(hp.topk_decay), float(hp.topk_min))
        self.d_updates = 0  # D steps taken by this process: the lazy R1 schedule (a host count)
        self.pack = int(hp.pack)

    def d_inputs(self, x: torch.Tensor) -> torch.Tensor:
        """What D sees of images (B, C, H, W): augmented when ``augment`` is on (real and fake alike)."""
        return x if self.augment is None else self.augment(x)

    def r1_due(self) -> bool:
        gamma, every = self.r1
        return gamma > 0 and self.d_updates % every == 0

    def add_d_regularizers(
        self, d_loss: torch.Tensor, d_real: torch.Tensor, d_fake: torch.Tensor, real_in: torch.Tensor, r1_now: bool
    ) -> torch.Tensor:
        """d_loss + the lazy R1 penalty (when due) + the LeCam term (when on)."""
        if r1_now:
            gamma, every = self.r1
            d_loss = d_loss + (gamma / 2 * every) * r1_penalty(d_real, real_in)
        if self.lecam is not None:
            d_loss = d_loss + self.lecam_weight * lecam_penalty(d_real, d_fake, self.lecam.real, self.lecam.fake)
        return d_loss

    def after_d_step(self, d_real: torch.Tensor, d_fake: torch.Tensor) -> None:
        """Device-side bookkeeping after a D update: LeCam anchors, the adaptive augmentation signal."""
        self.d_updates += 1
        if self.lecam is not None:
            self.lecam.update(d_real, d_fake)
        if self.augment is not None and self.augment.adaptive:
            world = torch.distributed.get_world_size() if torch.distributed.is_initialized() else 1
            self.augment.observe(d_real, _all_reduce_sum if world > 1 else None, world)

    def top_k(self, scores: torch.Tensor, epoch: int) -> torch.Tensor:
        """The generator's scores (B,) to learn from in `epoch`: all, or the k highest (``topk_decay``)."""
        if self.topk is None:
            return scores
        k = topk_count(scores.shape[0], epoch, *self.topk)
        return scores if k == scores.shape[0] else scores.topk(k).values

    def packed(self, x: torch.Tensor) -> torch.Tensor:
        """What D's input layer takes: images (B, C, H, W), or with ``pack`` m, packs (B/m, m*C, H, W)."""
        return x if self.pack == 1 else pack_images(x, self.pack)

    def scalars(self) -> dict[str, torch.Tensor]:
        """What the model logs at log steps: the adaptive augmentation probability and its overfitting signal."""
        if self.augment is None or not self.augment.adaptive:
            return {}
        return {"train/aug_p": self.augment.p, "train/ada_rt": self.augment.signal}

    def checkpoint_state(self) -> dict[str, Any]:
        """The adaptive p and the LeCam anchors, for the checkpoint (empty when neither is on)."""
        state = {}
        if self.augment is not None and self.augment.adaptive:
            state["augment"] = self.augment.state()
        if self.lecam is not None:
            state["lecam"] = self.lecam.state()
        return state

    def load_checkpoint_state(self, state: dict[str, Any]) -> None:
        """The adaptive p and LeCam anchors of a resumed run (what this model has no use for is left)."""
        if "augment" in state and self.augment is not None and self.augment.adaptive:
            self.augment.load_state(state["augment"])
        if "lecam" in state and self.lecam is not None:
            self.lecam.load_state(state["lecam"])


def _all_reduce_sum(t: torch.Tensor) -> torch.Tensor:
    # torch's all_reduce, not the strategy's `reduce`: that one waits at a barrier first, which on
    # CUDA would make the host wait for the device at every adjustment of the augmentation p.
    torch.distributed.all_reduce(t, op=torch.distributed.ReduceOp.SUM)
    return t
