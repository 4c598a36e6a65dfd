"""TrainingOrder: the data module's part that makes a resumed run see the batches the uninterrupted one would.

Every epoch's order is a function of one seed (`EpochSampler`, `DeviceBatches`). The seed is drawn from
the global RNG when the first training loader is built (so `seed_everything` fixes it), is rank 0's on
every DDP rank (broadcast, so the shards never overlap), and rides in checkpoints with the position in
the epoch: how many batches had their training step. A loaded position is applied once, by the next
training loader. With several steps per Lightning batch (`data.steps_per_batch`) Lightning counts
groups; the model's `micro_steps` knows where inside a group a run stopped. With ``"auto"`` the group
size is decided when a fit starts (by the model, which can time its step) and saved with the position.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import torch


class TrainingOrder:
    """The order's seed and a checkpoint's position in it; `MNISTDataModule` holds it as `order`."""

    def __init__(self, steps_per_batch: int | str = 1) -> None:
        # ``"auto"``: 1 until `decide` sizes it at the start of fit, or a checkpoint resumed inside an epoch
        # brings the size it was written with
        self.undecided = steps_per_batch == "auto"
        self.steps_per_batch: int = 1 if self.undecided else int(steps_per_batch)
        self.seed: int | None = None
        self._resume_at: tuple[int, int] | None = None  # (epoch, batches of batch_size done) from a checkpoint

    def seed_for(self, trainer: Any) -> int:
        """The seed, drawn on first use (`trainer`: None outside fit, one process)."""
        if self.seed is None:
            seed = int(torch.randint(0, 2**31 - 1, ()).item())
            self.seed = int(trainer.strategy.broadcast(seed)) if trainer is not None else seed
        return self.seed

    def decide(self, pick: Callable[[], int]) -> int:
        """The group size; with ``"auto"`` `pick()` sizes it the first time (a fit's start)."""
        if self.undecided:
            self.steps_per_batch, self.undecided = int(pick()), False
        return self.steps_per_batch

    def take_resume(self) -> tuple[int, int] | None:
        """(epoch, batches done) loaded from a checkpoint, once; None otherwise."""
        resume, self._resume_at = self._resume_at, None
        return resume

    def state_dict(self, trainer: Any) -> dict:
        if trainer is None or self.seed is None:
            return {}
        loop = trainer.fit_loop.epoch_loop
        # Batches whose training step ran in this epoch (0 at an epoch boundary: next epoch starts fresh).
        done = loop.batch_progress.current.processed
        if done >= trainer.num_training_batches:
            done = 0
        elif self.steps_per_batch > 1:  # Lightning counted groups; the model knows where inside one it stopped
            position = getattr(getattr(trainer.lightning_module, "micro_steps", None), "position", None)
            done = done * self.steps_per_batch if position is None else position
        return {
            "shuffle_seed": self.seed,
            "epoch": trainer.current_epoch,
            "batches_done": done,
            "steps_per_batch": self.steps_per_batch,
        }

    def load_state_dict(self, state_dict: dict) -> None:
        if "shuffle_seed" not in state_dict:
            return
        saved = int(state_dict.get("steps_per_batch", 1))
        if self.undecided and int(state_dict["batches_done"]):  # "auto" resumes inside an epoch as written
            self.steps_per_batch, self.undecided = saved, False
        if saved != self.steps_per_batch and int(state_dict["batches_done"]):
            # Lightning's own count of this epoch's batches is in groups of the saved size.
            raise ValueError(
                f"data.steps_per_batch: this checkpoint stopped inside an epoch with steps_per_batch={saved}; "
                f"resume it with {saved} (change it at an epoch boundary), got {self.steps_per_batch}"
            )
        self.seed = int(state_dict["shuffle_seed"])
        self._resume_at = (int(state_dict["epoch"]), int(state_dict["batches_done"]))
        # Lightning warns that a mid-epoch resume with a loader lacking its own state_dict "can cause
        # unreliable results": not so here, the sampler replays the rest of the epoch.
        warnings.filterwarnings("ignore", message="You're resuming from a checkpoint that ended before the epoch")
