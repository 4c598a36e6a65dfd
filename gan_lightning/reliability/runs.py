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

import re
from pathlib import Path

from lightning.pytorch.utilities import rank_zero_info, rank_zero_warn

from gan_lightning.reliability.checkpoints import CheckpointError, read_checkpoint

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


def find_resumable_checkpoint(root: str | Path) -> tuple[Path | None, list[tuple[Path, str]]]:
    """The newest checkpoint in any `checkpoints/` folder under `root` that reads as a gan_lightning
    checkpoint, and the newer ones passed over as `(path, why)` (a file damaged by a disk error, a copy
    cut short). Every checkpoint a run writes (last, top-k, on exception) is a full training state."""
    root = Path(root)
    found = [p for p in root.rglob("*.ckpt") if p.parent.name == "checkpoints" and p.is_file()] if root.is_dir() else []
    # Newest first; at equal times last.ckpt, which the run's other checkpoint of that moment duplicates.
    found.sort(key=lambda p: (p.stat().st_mtime_ns, p.name.startswith("last")), reverse=True)
    skipped: list[tuple[Path, str]] = []
    for path in found:
        try:
            read_checkpoint(path, argument="ckpt_path last")
        except CheckpointError as err:
            skipped.append((path, str(err)))
            continue
        return path, skipped
    return None, skipped


def resolve_last_checkpoint(config: dict, root: str | Path) -> None:
    """Replace ``ckpt_path: last`` in a CLI config by the newest readable checkpoint under `root`, saying
    which newer ones it skipped (left as is if there is none at all, so Lightning warns and starts fresh).

    Raises:
        ValueError: there are checkpoints under `root` but none of them reads.
    """
    if config.get("ckpt_path") != "last":
        return
    found, skipped = find_resumable_checkpoint(root)
    for _, why in skipped:
        rank_zero_warn(f"{why}; skipped it")
    if found is None and skipped:
        raise ValueError(
            f"ckpt_path last: none of the {len(skipped)} checkpoints under {str(root)!r} is readable (the newest: "
            f"{skipped[0][1].removeprefix('ckpt_path last: ')}); pass --ckpt_path PATH or start without ckpt_path"
        )
    if found is not None:
        note = f" (skipped {len(skipped)} newer, unreadable)" if skipped else ""
        rank_zero_info(f"ckpt_path last: resuming from {found}{note}")
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
