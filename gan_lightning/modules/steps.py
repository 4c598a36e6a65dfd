"""MicroSteps: several full training steps in one Lightning batch (`data.steps_per_batch`).

Lightning pays a fixed cost per batch (its loop, hooks, progress tracking: about a millisecond on a
CPU), which is most of the time of a batch-1 MLP step. `GroupedBatches` hands the module K batches
at once; `GAN.training_step` gives each its own step through this part, so the weights come out as
with one batch per Lightning batch, bit for bit.

What counts steps keeps its meaning: `trainer.global_step` already counts optimizer steps;
`max_steps` stops inside a group; `n_critic` reads the batch's index in the epoch; and Lightning's
count of batches for logging (`fit_loop.epoch_loop._batches_that_stepped`, the x axis of every
logged value and what `log_every_n_steps` is tested against) is advanced by the group's size, so
training values are logged at the same batches, with the same steps, as without groups. Values a
step logs go straight to the loggers (Lightning's logger connector flushes once per Lightning
batch); epoch means still go through `self.log`, weighted as before.
"""

from __future__ import annotations

import contextlib
import math
import time
from typing import Any

import torch
from lightning.pytorch.callbacks import ModelCheckpoint
from lightning.pytorch.utilities import rank_zero_info

from gan_lightning.modules.scalars import lightning_logs_at

# `data.steps_per_batch: auto` groups steps until Lightning's cost per batch, about a millisecond whatever
# the step (0.9 ms on a 2-core CPU: benchmarks/results/lightning_floor_cpu.md), is ~2% of a group's time.
LIGHTNING_MS_PER_BATCH = 1.0
OVERHEAD_SHARE = 0.02
MAX_STEPS_PER_BATCH = 16  # beyond this the gain is under 0.2% of a step and a group's batch tensor grows


def _checkpoint_steps(trainer: Any) -> int:
    """`every_n_train_steps` of a ModelCheckpoint that counts optimizer steps (0: none does); such a callback
    tests its count once per Lightning batch."""
    for callback in trainer.callbacks:
        every = getattr(callback, "_every_n_train_steps", 0) if isinstance(callback, ModelCheckpoint) else 0
        if every:
            return every
    return 0


def _uncount_batch(progress: Any) -> None:
    """Take back the batch Lightning is in the middle of counting (ready and started already, processed
    and completed right after the training step): it ends up counted as not begun."""
    for tracker in (progress.current, progress.total):
        tracker.ready -= 1
        tracker.started -= 1
        tracker.processed -= 1
        tracker.completed -= 1


class MicroSteps:
    """The module's part that runs a group of micro-batches; `active` while one runs."""

    def __init__(self) -> None:
        # (batches done before the current one, over the whole run; is it the epoch's last batch)
        self.active: tuple[int, bool] | None = None
        self.position: int | None = None  # batches of the current epoch done (what a checkpoint resumes after)
        self._step_values: dict[str, Any] = {}

    @staticmethod
    def grouped(batch: tuple) -> bool:
        """A `GroupedBatches` batch: images (k, B, C, H, W) rather than (B, C, H, W)."""
        return batch[0].dim() == 5

    def run(self, module: Any, batch: tuple, batch_idx: int) -> None:
        """`module.train_on(batch, its index in the epoch)` for each batch of the group."""
        *parts, first = batch  # first: the index in the epoch of the group's first batch
        trainer = module.trainer
        k = len(parts[0])
        loop = trainer.fit_loop.epoch_loop
        base = loop._batches_that_stepped  # batches done before this group (Lightning's logging count)
        last_group = batch_idx + 1 == trainer.num_training_batches
        done = 0
        try:
            for j in range(k):
                if 0 <= trainer.max_steps <= module.global_step:
                    break  # max_steps counts optimizer steps: stop where one batch per Lightning batch would
                self.active = (base + j, last_group and j == k - 1)
                module.train_on(tuple(part[j] for part in parts), first + j)
                self._flush(module, base + j)
                done += 1
                self.position = first + done
        finally:
            self.active = None
            self._step_values = {}
        # Lightning adds one after the batch: together the group counts as the batches it held.
        loop._batches_that_stepped = base + max(done, 1) - 1
        if done < k:  # stopped inside the group: Lightning must not count it as done, or a resume would skip
            _uncount_batch(loop.batch_progress)  # its rest (the data module resumes after `position`)

    def keep(self, name: str, value: Any, on_step: bool | None, on_epoch: bool | None) -> str | None:
        """A `self.log` call inside a group: its step value waits for this step's flush; returns the
        name under which `LightningModule.log` takes its epoch mean (None: no epoch mean)."""
        on_step = True if on_step is None else on_step  # Lightning's defaults in training_step
        on_epoch = False if on_epoch is None else on_epoch
        if on_step:
            self._step_values[f"{name}_step" if on_epoch else name] = value
        # The names Lightning gives a value logged both ways: `<name>_step` and `<name>_epoch`.
        return (f"{name}_epoch" if on_step else name) if on_epoch else None

    def _flush(self, module: Any, step: int) -> None:
        values, self._step_values = self._step_values, {}
        # Lightning's logger connector sends a batch's step values only at its log steps (not at an epoch's
        # last batch, where the module logs for the epoch means): the same test, on this batch's count.
        if not values or not lightning_logs_at(module.trainer, step):
            return
        # As Lightning's logger connector sends them: each value a tensor of the default dtype, then a
        # Python number (at log steps only, where the scalars were read to the host anyway).
        values = {k: torch.as_tensor(v, dtype=torch.get_default_dtype()).item() for k, v in values.items()}
        values["epoch"] = module.current_epoch
        for logger in module.loggers:
            logger.log_metrics(values, step=step)
            logger.save()

    @staticmethod
    def adapt_trainer(trainer: Any, steps_per_batch: int) -> None:
        """Trainer settings counted in Lightning batches, in batches again: an integer
        `val_check_interval` is divided by the group size (a multiple of it is required); a
        `ModelCheckpoint` counting optimizer steps, which it tests once per Lightning batch, is refused.
        Both in one line, before the first batch."""
        if steps_per_batch == 1:
            return
        interval = trainer.val_check_interval
        if isinstance(interval, int) and not isinstance(interval, bool):
            if interval % steps_per_batch:
                raise ValueError(
                    f"trainer.val_check_interval counts batches and data.steps_per_batch={steps_per_batch} groups "
                    f"them: give a multiple of {steps_per_batch} (or a fraction of an epoch), got {interval}"
                )
            trainer.val_check_interval = interval // steps_per_batch  # Lightning counts the groups
        every = _checkpoint_steps(trainer)
        if every:
            raise ValueError(
                f"ModelCheckpoint every_n_train_steps={every} is tested once per Lightning batch, and with "
                f"data.steps_per_batch={steps_per_batch} a batch makes several optimizer steps, so most of its "
                "saves would never happen: use every_n_epochs or train_time_interval, or steps_per_batch 1"
            )


def pick_steps_per_batch(module: Any, batch_size: int) -> int:
    """``data.steps_per_batch: auto``: the group size for this fit, from the time of the module's step
    (`step_ms`), the same on every rank (rank 0's). 1 where groups are refused (a `ModelCheckpoint` with
    `every_n_train_steps`) and where `trainer.limit_train_batches` is a count (it counts Lightning batches:
    with groups of an unforeseen size it would train an unforeseen number of batches); a divisor of an
    integer `trainer.val_check_interval`."""
    trainer = module.trainer
    limit = trainer.limit_train_batches
    if _checkpoint_steps(trainer):
        steps, why = 1, "a ModelCheckpoint counts optimizer steps"
    elif isinstance(limit, int) and not isinstance(limit, bool):  # a count of batches the user chose
        steps, why = 1, f"trainer.limit_train_batches={limit} counts Lightning batches: one step each"
    else:
        ms = step_ms(module, batch_size)
        steps = min(MAX_STEPS_PER_BATCH, max(1, math.ceil(LIGHTNING_MS_PER_BATCH / (OVERHEAD_SHARE * ms))))
        interval = trainer.val_check_interval
        if isinstance(interval, int) and not isinstance(interval, bool):
            steps = max(k for k in range(1, steps + 1) if interval % k == 0)
        why = f"a training step takes about {ms:.2f} ms here"
    steps = int(trainer.strategy.broadcast(steps))  # ranks timed their own steps: all take rank 0's size
    rank_zero_info(f"data.steps_per_batch=auto: {steps} step{'s' if steps > 1 else ''} per Lightning batch ({why})")
    return steps


def step_ms(module: Any, batch_size: int, repeats: int = 3) -> float:
    """About how long one training step of `batch_size` takes, in ms: the forward passes of a step (G once,
    D on reals, on fakes and in G's step) timed with no grad, times 3 (a backward costs about two
    forwards). Leaves the module as it was: eval mode while timing (no BatchNorm statistic moves, no
    dropout draw), every submodule's mode restored, noise from its own generator (the global RNG is not
    touched), compiled nets timed uncompiled (no extra compilation for a no-grad graph; they run faster
    in training, so the estimate errs toward smaller groups)."""
    device = module.device
    generator = torch.Generator(device=device).manual_seed(0)
    z, labels = module.sample_z(batch_size, generator), module.sample_labels(batch_size, generator)
    if labels is None:  # labels read off the noise (clusters, InfoGAN's codes), or none: no random draw
        labels = module.fake_labels(z)
    trainer = getattr(module, "_trainer", None)
    context = trainer.precision_plugin.forward_context() if trainer is not None else contextlib.nullcontext()
    modes = [(m, m.training) for m in module.modules()]
    compiled = [(m, m._compiled_call_impl) for m in module.modules() if getattr(m, "_compiled_call_impl", None)]
    sync = (lambda: torch.cuda.synchronize(device)) if device.type == "cuda" else (lambda: None)

    def once() -> None:
        fake = module.generate(z, labels)
        for _ in range(3):
            module.discriminate(fake, labels)

    module.eval()
    for m, _ in compiled:
        m._compiled_call_impl = None  # nn.Module.compile's hook: calls go to the eager forward while it is None
    try:
        with torch.no_grad(), context:
            once()  # first call: allocations, lazy initialisation
            sync()
            start = time.perf_counter()
            for _ in range(repeats):
                once()
            sync()
            forward = (time.perf_counter() - start) / repeats
    finally:
        for m, training in modes:
            m.training = training
        for m, call in compiled:
            m._compiled_call_impl = call
    return 3 * forward * 1e3
