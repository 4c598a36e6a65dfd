"""AtomicCheckpointIO: Lightning's checkpoint plugin writing local files with `atomic_save`.

Apart from `reliability/checkpoints.py` (reading and checking checkpoints) because this one class
needs Lightning, and the commands that only read checkpoints start without it.
"""

from __future__ import annotations

from typing import Any

from lightning.pytorch.plugins.io import TorchCheckpointIO

from gan_lightning.reliability.checkpoints import atomic_save


class AtomicCheckpointIO(TorchCheckpointIO):
    """Lightning's `TorchCheckpointIO`, writing local files with `atomic_save` (remote URLs: Lightning's way).

    `Trainer(plugins=[AtomicCheckpointIO()])` in Python; the CLI adds it to every run.
    """

    def save_checkpoint(self, checkpoint: dict[str, Any], path: Any, storage_options: Any | None = None) -> None:
        if storage_options is not None or "://" in str(path):
            return super().save_checkpoint(checkpoint, path, storage_options)
        atomic_save(checkpoint, path)
