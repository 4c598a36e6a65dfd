"""Run folders: `<root>/lightning_logs/version_N/`, one per run, never reused.

TensorBoard and CSV loggers make these themselves; the W&B logger in `gan_lightning.loggers` makes
the same ones so every tracker leaves the same layout:

    <root>/lightning_logs/version_N/
        config.yaml, hparams.yaml      the run's full config (re-runnable)
        checkpoints/last.ckpt          plus top-k by a monitored metric when one is set
        images/                        grid PNGs, the training GIF, interpolations
        loss_curves.png
        wandb/ or events.out.tfevents.* or metrics.csv
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from lightning.pytorch.utilities import rank_zero_info

_VERSION = re.compile(r"^version_(\d+)$")


def next_version(folder: str | Path) -> int:
    """One more than the highest `version_N` under `folder` (0 when there is none)."""
    folder = Path(folder)
    if not folder.is_dir():
        return 0
    found = [int(m.group(1)) for p in folder.iterdir() if p.is_dir() and (m := _VERSION.match(p.name))]
    return max(found, default=-1) + 1


def claim_version_dir(folder: str | Path) -> Path:
    """Create and return the next free `folder/version_N`. Creating it with `exist_ok=False` claims it,
    so two runs started at once never share (and overwrite) one folder."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    version = next_version(folder)
    while True:
        path = folder / f"version_{version}"
        try:
            path.mkdir()
            return path
        except FileExistsError:
            version += 1


def find_last_checkpoint(root: str | Path) -> Path | None:
    """The newest `last*.ckpt` in any `checkpoints/` folder under `root` (the previous run's), or None.

    Lightning's own `ckpt_path="last"` looks only in the *current* run's checkpoint folder, which is
    always new and empty with versioned run folders; the CLI resolves "last" with this instead.
    """
    root = Path(root)
    if not root.is_dir():
        return None
    found = [p for p in root.rglob("last*.ckpt") if p.parent.name == "checkpoints" and p.is_file()]
    return max(found, key=lambda p: p.stat().st_mtime, default=None)


def resolve_last_checkpoint(config: dict, root: str | Path) -> None:
    """Replace ``ckpt_path: last`` in a CLI config by the newest last.ckpt under `root` (left as is if none,
    so Lightning warns and starts fresh)."""
    if config.get("ckpt_path") == "last" and (found := find_last_checkpoint(root)) is not None:
        rank_zero_info(f"ckpt_path last: resuming from {found}")
        config["ckpt_path"] = str(found)


def fresh_path(path: str | Path) -> Path:
    """`path` if free, else `stem-1.suffix`, `stem-2.suffix`, ...: files from an earlier run stay as they are."""
    path = Path(path)
    n = 0
    candidate = path
    while candidate.exists():
        n += 1
        candidate = path.with_name(f"{path.stem}-{n}{path.suffix}")
    return candidate


def check_writable(folder: str | Path, argument: str) -> None:
    """Fail early, naming the setting, when `folder` cannot be created or written (rather than after
    minutes of setup, or with a traceback from deep inside a logger)."""
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / f".write-test-{os.getpid()}"
        probe.touch()
        probe.unlink()
    except OSError as err:
        raise ValueError(
            f"{argument}: cannot write to {str(folder)!r} ({err.strerror or err}); choose a writable folder"
        ) from None
