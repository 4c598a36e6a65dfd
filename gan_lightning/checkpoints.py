"""Reading checkpoints with clear errors, and checking one fits the model it is loaded into.

Without these checks a missing file, a non-torch file or a checkpoint of another model (GAN vs
ConditionalGAN, 28 vs 64 px, other widths) ends in a pickle error or a 40-line tensor-size
mismatch; here each ends in one line naming the path or the setting that differs.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

import torch

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
)
# Resuming training (`fit --ckpt_path`) also restores optimizer state, which must be the same kind.
RESUME_KEYS = ("optimizer",)


class CheckpointError(ValueError):
    """A checkpoint that is missing, unreadable or of another model: one line, naming why."""


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
    """'GAN' or 'ConditionalGAN', from a checkpoint's saved hyperparameters."""
    class_path = str(hparams.get("_class_path", ""))
    if class_path:  # written by LightningCLI
        return "ConditionalGAN" if class_path.endswith("ConditionalGAN") else "GAN"
    return "ConditionalGAN" if "conditioning" in hparams else "GAN"  # only ConditionalGAN saves `conditioning`


def check_model_kind(cls: type, checkpoint: dict, where: str = "checkpoint") -> None:
    """`cls` (GAN or ConditionalGAN) is the kind of model that wrote `checkpoint`."""
    saved = saved_model_name(checkpoint.get("hyper_parameters") or {})
    want = "ConditionalGAN" if getattr(cls, "conditional", False) else "GAN"
    if saved != want:
        raise CheckpointError(
            f"{where} holds a {saved} but the model is a {want} (conditional: {saved == 'ConditionalGAN'} vs "
            f"{want == 'ConditionalGAN'}); load it with {saved}.load_from_checkpoint or use a matching config"
        )


def check_compatible(model: Any, checkpoint: dict, resume: bool = False) -> None:
    """Raise `CheckpointError` naming the first setting in which `checkpoint` and `model` differ."""
    check_model_kind(type(model), checkpoint)
    check_hparams(checkpoint.get("hyper_parameters") or {}, dict(model.hparams), resume)


def check_hparams(saved: dict, current: dict, resume: bool = False) -> None:
    """Raise `CheckpointError` naming the first structural setting in which `saved` and `current` differ
    (settings missing on either side are not compared)."""
    for key in STRUCTURE_KEYS + (RESUME_KEYS if resume else ()):
        if key in saved and key in current and _norm(saved[key]) != _norm(current[key]):
            raise CheckpointError(
                f"checkpoint was saved with {key}={saved[key]!r} but the model has {key}={current[key]!r}; "
                f"use the checkpoint's setting (its config.yaml) or start a new run without ckpt_path"
            )


def _norm(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value  # YAML lists vs tuples
