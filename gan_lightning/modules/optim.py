"""The GAN's two optimizers and their learning-rate schedules (`GAN.configure_optimizers`).

`lr_decay` scales both learning rates from 1 down to 0 over the run, stepped once per training
batch (`GAN.training_step`, whether or not the batch's steps were skipped). The run's length in
batches comes from the trainer's bound:

- ``max_epochs``: batches per epoch times epochs;
- ``max_steps``: Lightning counts every optimizer step, so one batch advances `global_step` by 1
  (D) or 2 (D and G, every `n_critic`-th batch); the schedule counts the batches those steps take;
- both: whichever ends the run first;
- ``max_time`` beside one of them: a safety stop. The schedule follows the epochs or steps; if the
  clock ends the run first, `GAN.on_train_end` warns at which rate it stopped (resuming goes on);
- ``max_time`` alone (or no bound at all): refused. A wall-clock limit can end the run at any batch,
  so no schedule fixed in batches would reach 0 at its end; bound such runs by epochs or steps.

Resuming (`fit --ckpt_path`) restores the optimizers' state, learning rates included; a ``lr_g`` /
``lr_d`` configured for the resumed run that differs from the checkpoint's is then applied on top
(`apply_configured_rates`, with a note), never dropped: that is how a long run gets a lower-rate
final phase.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import torch
from lightning.pytorch.callbacks import Timer

from gan_lightning.checks import attached_trainer
from gan_lightning.modules.speed import adam_kwargs

# lr_decay: the learning-rate factor at fraction t of the run.
DECAY_FACTORS: dict[str, Callable[[float], float]] = {
    "linear": lambda t: 1.0 - t,
    "cosine": lambda t: 0.5 * (1.0 + math.cos(math.pi * t)),
}


def make_optimizers(module: Any) -> list[torch.optim.Optimizer]:
    """[G optimizer, D optimizer] for `module`'s hparams (``optimizer``, ``lr_g``/``lr_d``, ...)."""
    hp = module.hparams
    if hp.optimizer == "adam":
        trainer = attached_trainer(module)
        precision = str(trainer.precision) if trainer is not None else "32-true"
        clipping = hp.get("grad_clip_val") is not None
        fused = adam_kwargs(hp.get("fused_adam", False), module.device, precision, clipping)
        make = lambda params, lr: torch.optim.Adam(params, lr=lr, betas=tuple(hp.betas), **fused)  # noqa: E731
    else:
        make = lambda params, lr: torch.optim.SGD(params, lr=lr, momentum=hp.momentum)  # noqa: E731
    return [make(module.g_parameters(), hp.lr_g), make(module.d_parameters(), hp.lr_d)]


def batches_for_steps(max_steps: int, n_critic: int) -> int:
    """Training batches until `global_step` reaches `max_steps`: b batches make b D steps and
    b // n_critic G steps, and Lightning stops after the first batch that reaches the bound."""
    b = max_steps * n_critic // (n_critic + 1)
    while b + b // n_critic < max_steps:
        b += 1
    return b


def run_batches(trainer: Any, n_critic: int) -> int:
    """The number of training batches the fit will run (see the module docstring).

    Raises:
        ValueError: the run is bounded only by ``max_time``, or not bounded at all.
    """
    bounds = []
    if trainer.max_epochs is not None and trainer.max_epochs >= 0:
        trainer.estimated_stepping_batches  # noqa: B018 - loads the train dataloader, which sets num_training_batches
        if math.isfinite(trainer.num_training_batches):
            bounds.append(trainer.num_training_batches * max(trainer.max_epochs, 1))
    if trainer.max_steps is not None and trainer.max_steps >= 0:
        bounds.append(batches_for_steps(trainer.max_steps, n_critic))
    if not bounds:
        lr_decay = trainer.lightning_module.hparams.lr_decay
        if any(isinstance(cb, Timer) for cb in trainer.callbacks):
            raise ValueError(
                "lr_decay must be 'none' when only trainer.max_time bounds the run (it can end at any batch, so the "
                f"rate would not reach 0); add trainer.max_epochs or trainer.max_steps, got lr_decay={lr_decay!r} "
                "with max_time"
            )
        raise ValueError(
            "lr_decay must be 'none' for a run without trainer.max_epochs or trainer.max_steps (its length is "
            f"unknown), got lr_decay={lr_decay!r}"
        )
    return max(1, min(bounds))


def make_schedulers(optimizers: list[torch.optim.Optimizer], lr_decay: str, horizon: int) -> list:
    """One `LambdaLR` per optimizer: factor `DECAY_FACTORS[lr_decay]` at batch t of `horizon`."""
    factor = DECAY_FACTORS[lr_decay]
    return [torch.optim.lr_scheduler.LambdaLR(o, lambda t: factor(min(t / horizon, 1.0))) for o in optimizers]


def configure(module: Any):
    """What `configure_optimizers` returns: the two optimizers, with their schedulers when ``lr_decay`` is on.
    Manual optimization: Lightning saves and restores the schedulers, the training step steps them."""
    optimizers = make_optimizers(module)
    lr_decay = module.hparams.lr_decay
    if lr_decay == "none":
        return optimizers
    horizon = run_batches(module.trainer, module.hparams.n_critic)
    return optimizers, make_schedulers(optimizers, lr_decay, horizon)


def unfinished_decay(module: Any) -> str | None:
    """A one-line note when the run ended before its `lr_decay` reached 0 (``max_time`` or an
    interruption stopped it first), else None."""
    if module.hparams.lr_decay == "none":
        return None
    scheduler = module.lr_schedulers()[0]  # G's; D's follows the same schedule
    done, horizon = scheduler.last_epoch, run_batches(module.trainer, module.hparams.n_critic)
    if done >= horizon:
        return None
    factor = scheduler.get_last_lr()[0] / scheduler.base_lrs[0]
    return (
        f"lr_decay: the run ended at batch {done} of the {horizon} its {module.hparams.lr_decay} decay spans "
        f"(trainer.max_time or an interruption came first); the learning rates stopped at {factor:.3g} of their "
        "start, not 0 (resuming the run goes on with the decay)"
    )


def apply_configured_rates(module: Any) -> list[str]:
    """After a resume: give each optimizer the learning rate its net is configured with (``lr_g``,
    ``lr_d``) where the restored state holds another. With ``lr_decay`` the configured rate becomes
    the schedule's base rate and the decay goes on from the batch it reached, at this run's length
    (from the first batch, not after it). Returns one note per
    rate changed ("lr_g: 0.0002 -> 5e-05"); none for a fresh run or an unchanged config."""
    trainer = module.trainer
    schedulers = [c.scheduler for c in trainer.lr_scheduler_configs] if module.hparams.lr_decay != "none" else None
    notes = []
    for i, name in enumerate(("lr_g", "lr_d")):
        opt = trainer.optimizers[i]  # the torch optimizer, not Lightning's wrapper
        wanted = float(module.hparams[name])
        if schedulers is not None:
            scheduler = schedulers[i]
            restored = scheduler.base_lrs[0]
            scheduler.base_lrs = [wanted] * len(scheduler.base_lrs)
            for group, factor in zip(opt.param_groups, scheduler.lr_lambdas, strict=True):
                group["initial_lr"] = wanted
                # The schedule's rate at the batch it reached, for this run's length (a resume may extend it).
                group["lr"] = wanted * factor(scheduler.last_epoch)
            if math.isclose(restored, wanted, rel_tol=1e-9):
                continue
        else:
            restored = opt.param_groups[0]["lr"]
            if math.isclose(restored, wanted, rel_tol=1e-9):
                continue
            for group in opt.param_groups:
                group["lr"] = wanted
        notes.append(f"{name}: {restored:g} -> {wanted:g}")
    return notes


@contextmanager
def frozen(params: list[torch.nn.Parameter]) -> Iterator[None]:
    """No gradients for `params` inside (the other net's step): Lightning's `toggled_optimizer`
    without rebuilding its parameter maps every step."""
    for p in params:
        p.requires_grad_(False)
    try:
        yield
    finally:
        for p in params:
            p.requires_grad_(True)
