"""Writing checkpoints atomically, reading them with clear errors, and checking one fits the model.

Without these checks a missing file, a non-torch file or a checkpoint of another model (GAN vs
ConditionalGAN, 28 vs 64 px, other widths) ends in a pickle error or a 40-line tensor-size
mismatch; here each ends in one line naming the path or the setting that differs.

Writing: Lightning's own writer (an fsspec transaction) puts the temporary file in the system's
temp folder and moves it into place; when that folder is on another filesystem than the run (a
local /tmp, runs on a network disk) the move is a copy over the old file, so a crash or a full
disk in the middle leaves a truncated `last.ckpt` and no previous one. `atomic_save` writes the
temporary file next to the target, flushes it to disk, then renames it over the target: a reader
sees the old checkpoint or the new one, never a part. The CLI installs `AtomicCheckpointIO`
(`reliability/checkpoint_io.py`, the Lightning plugin around it), so every checkpoint of a run (last,
top-k, on exception, on a signal) is written this way. Nothing here imports Lightning: `generate`,
`evaluate` and `export` read checkpoints without loading it.
"""

from __future__ import annotations

import errno
import io
import os
import zipfile
from pathlib import Path
from typing import Any

import torch

from gan_lightning.kinds import model_name

# Hyperparameters that decide the parameter shapes or what the weights mean: a checkpoint must
# agree on all of them. Learning rates, loss weights, metrics settings may change on resume.
STRUCTURE_KEYS = (
    "arch",
    "image_size",
    "channels",
    "num_classes",
    "latent_dim",
    "g_hidden",
    "d_hidden",
    "g_norm",
    "d_norm",
    "activation",
    "norm_after_activation",
    "plain_first_layer",
    "g_output",
    "ngf",
    "ndf",
    "conditioning",
    "embed_dim",
    "clusters",
    "info_codes",
    "pack",
)
# Resuming training (`fit --ckpt_path`) also restores optimizer state, which must be the same kind.
RESUME_KEYS = ("optimizer",)


class CheckpointError(ValueError):
    """A checkpoint that is missing, unreadable or of another model: one line, naming why."""


class CheckpointWriteError(OSError):
    """A checkpoint could not be written (e.g. the disk is full); the file it would replace is intact."""


def atomic_save(checkpoint: Any, path: str | Path) -> None:
    """`torch.save(checkpoint, path)` such that `path` always holds either its old or its new content.

    Raises:
        CheckpointWriteError: the file could not be written; `path` is as it was and no temporary file is left.
    """
    path = Path(path)
    buffer = io.BytesIO()
    torch.save(checkpoint, buffer)  # serialise first: an error here touches no file
    # A hidden name that no checkpoint glob (`*.ckpt`) matches, unique per process.
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(tmp, "wb") as f:
            f.write(buffer.getbuffer())
            f.flush()
            os.fsync(f.fileno())  # the bytes are on disk before the name points at them
        os.replace(tmp, path)  # atomic on POSIX and Windows, within one folder
    except OSError as err:
        tmp.unlink(missing_ok=True)
        kept = "the checkpoint already there is unchanged" if path.is_file() else "no partial file was left"
        reason = "no space left on device" if err.errno == errno.ENOSPC else (err.strerror or str(err))
        # Promise a resume only when a checkpoint is there to resume from.
        then = "resume with --ckpt_path last" if _any_checkpoint(path.parent) else "run the command again"
        failure = CheckpointWriteError(
            f"could not write checkpoint {str(path)!r} ({reason}); {kept}; free space or set "
            f"trainer.default_root_dir to another disk, then {then}"
        )
        failure.errno = err.errno
        raise failure from None
    except BaseException:  # KeyboardInterrupt mid-write: no half-written temporary file left behind
        tmp.unlink(missing_ok=True)
        raise
    _fsync_folder(path.parent)


def _any_checkpoint(folder: Path) -> bool:
    """A checkpoint `--ckpt_path last` could find in this folder (hidden temporary files are none)."""
    try:
        return any(p.is_file() for p in folder.glob("*.ckpt"))
    except OSError:
        return False


def _fsync_folder(folder: Path) -> None:
    """Make the rename itself durable (POSIX; folders cannot be opened on Windows)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def read_checkpoint(path: str | Path, argument: str = "ckpt_path") -> dict:
    """The checkpoint dict at `path` (on the CPU, tensors and plain values only)."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{argument}: no checkpoint file at {str(path)!r}")
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # torch raises several types for a damaged or non-torch file
        message = str(err)
        if "Unsupported global" in message:  # a real torch file, holding Python objects ours never hold
            raise CheckpointError(
                f"{argument}: {str(path)!r} is not a gan_lightning checkpoint (it holds pickled Python objects; "
                "ours hold only tensors and plain values)"
            ) from None
        if not zipfile.is_zipfile(path):  # torch.save writes zip archives; the unpickler's own error says little
            raise CheckpointError(
                f"{argument}: {str(path)!r} is not a readable PyTorch checkpoint (truncated, or not a PyTorch file)"
            ) from None
        if "WeightsUnpickler error:" in message:  # the useful part of torch's long weights-only message
            message = message.split("WeightsUnpickler error:", 1)[1]
        reason = message.strip().splitlines()[0].split(". ")[0] if message.strip() else type(err).__name__
        raise CheckpointError(f"{argument}: {str(path)!r} is not a readable PyTorch checkpoint ({reason})") from None
    if not isinstance(checkpoint, dict) or "state_dict" not in checkpoint:
        raise CheckpointError(
            f"{argument}: {str(path)!r} is not a gan_lightning GAN/ConditionalGAN checkpoint (no state_dict)"
        )
    return checkpoint


def saved_model_name(hparams: dict) -> str:
    """'GAN', 'ConditionalGAN' or 'SelfConditionedGAN', from a checkpoint's saved hyperparameters."""
    class_path = str(hparams.get("_class_path", ""))
    if class_path:  # written by LightningCLI
        return model_name(class_path)
    if "clusters" in hparams:  # only SelfConditionedGAN saves `clusters`
        return "SelfConditionedGAN"
    return "ConditionalGAN" if "conditioning" in hparams else "GAN"  # only ConditionalGAN saves `conditioning`


def check_model_kind(cls: type, checkpoint: dict, where: str = "checkpoint") -> None:
    """`cls` (GAN, ConditionalGAN or SelfConditionedGAN) is the kind of model that wrote `checkpoint`."""
    saved = saved_model_name(checkpoint.get("hyper_parameters") or {})
    if getattr(cls, "clustered", False):
        want = "SelfConditionedGAN"
    else:
        want = "ConditionalGAN" if getattr(cls, "conditional", False) else "GAN"
    if saved != want:
        raise CheckpointError(
            f"{where} holds a {saved} but the model is a {want}; "
            f"load it with {saved}.load_from_checkpoint or use a matching config"
        )


def check_compatible(model: Any, checkpoint: dict, resume: bool = False) -> None:
    """Raise `CheckpointError` naming the first setting in which `checkpoint` and `model` differ."""
    check_model_kind(type(model), checkpoint)
    check_hparams(checkpoint.get("hyper_parameters") or {}, dict(model.hparams), resume)


def check_hparams(saved: dict, current: dict, resume: bool = False) -> None:
    """Raise `CheckpointError` naming the first structural setting in which `saved` and `current` differ
    (settings missing on either side are not compared)."""
    for key in STRUCTURE_KEYS + (RESUME_KEYS if resume else ()):
        if key in saved and key in current and (was := _norm(saved[key])) != (now := _norm(current[key])):
            raise CheckpointError(
                f"checkpoint was saved with {key}={was!r} but the model has {key}={now!r}; "
                f"use the checkpoint's setting (its config.yaml) or start a new run without ckpt_path"
            )


def _norm(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value  # YAML lists vs tuples


def check_checkpoint_file(cls: type, checkpoint_path: Any, overrides: dict[str, Any]) -> None:
    """What `GAN.load_from_checkpoint` checks before Lightning loads: the file exists, is a checkpoint, holds
    a `cls` model, and `overrides` (its keyword arguments) change no structural setting. A file object
    is Lightning's to read.

    Raises:
        CheckpointError: one line naming the file and what is wrong (a ValueError).
    """
    if isinstance(checkpoint_path, (str, Path)):
        checkpoint = read_checkpoint(checkpoint_path)
        check_model_kind(cls, checkpoint, where=f"checkpoint {str(checkpoint_path)!r}")
        # Lightning merges keyword overrides into the saved hyperparameters: compare before it does.
        check_hparams(checkpoint.get("hyper_parameters") or {}, overrides)
