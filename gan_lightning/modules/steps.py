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

from typing import Any

import torch
from lightning.pytorch.callbacks import ModelCheckpoint

from gan_lightning.modules.scalars import lightning_logs_at


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
        for callback in trainer.callbacks:
            every = getattr(callback, "_every_n_train_steps", 0) if isinstance(callback, ModelCheckpoint) else 0
            if every:
                raise ValueError(
                    f"ModelCheckpoint every_n_train_steps={every} is tested once per Lightning batch, and with "
                    f"data.steps_per_batch={steps_per_batch} a batch makes several optimizer steps, so most of its "
                    "saves would never happen: use every_n_epochs or train_time_interval, or steps_per_batch 1"
                )
