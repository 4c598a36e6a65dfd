"""Speed switches of the GAN modules: torch.compile, channels_last, fused Adam, gradient clipping.

Each is a model argument and off by default: on this project's 28 px nets they help only on some
hardware (measured in benchmarks/README.md). The functions here keep `GAN` itself small: its hooks
(`setup`, `on_before_optimizer_step`, `on_train_start`/`on_train_end`) call them.
"""

from __future__ import annotations

import os
from typing import Any, Literal

import torch
from torch import nn

from gan_lightning.checks import check_bool, check_choice, check_positive

ClipAlgorithm = Literal["norm", "value"]


def check_speed_args(
    grad_clip_val: float | None, grad_clip_algorithm: str, compile: bool, channels_last: bool, fused_adam: bool
) -> None:
    """Raises ValueError (one line) for a bad speed setting."""
    check_positive("grad_clip_val", grad_clip_val, optional=True)
    check_choice("grad_clip_algorithm", grad_clip_algorithm, ClipAlgorithm)
    for name, value in (("compile", compile), ("channels_last", channels_last), ("fused_adam", fused_adam)):
        check_bool(name, value)


def apply_to_nets(nets: list[nn.Module], compile: bool, channels_last: bool) -> None:
    """In place: channels_last weights (NHWC convolutions, faster with cuDNN on tensor cores; a
    convolution's output follows its weight's memory format, and MNIST's 1-channel input is the same
    bytes in either order, so batches need no conversion) and
    `nn.Module.compile` (keeps state_dict keys, so checkpoints load in uncompiled modules)."""
    for net in nets:
        if channels_last:
            net.to(memory_format=torch.channels_last)
        if compile:
            net.compile()


FUSED_DEVICES = ("cpu", "cuda")


def adam_kwargs(
    fused: bool, device: torch.device, precision: str = "32-true", clipping: bool = False
) -> dict[str, Any]:
    """Adam's `fused=True` where torch has the kernel (CPU and CUDA): one kernel for the whole update,
    and no host sync (the other implementations read each parameter's step count on the host).

    Not with mixed precision and gradient clipping: a fused Adam unscales the gradients inside its
    own step, so Lightning would not unscale them before `on_before_optimizer_step`, where they are
    clipped (and its mixed-precision plugins refuse to clip for such an optimizer); the for-each
    implementation keeps clipping on true values there.
    """
    if not fused or device.type not in FUSED_DEVICES:
        return {}
    if precision.endswith("-mixed") and clipping:
        return {"foreach": device.type == "cuda"}
    return {"fused": True}


# Lightning sets this at import so that its own GPU checks never initialise CUDA in the main
# process (which would break forked workers). torch then answers `torch.cuda.is_available()` by
# loading NVML anew each call (~0.14 ms), and Adam asks twice per batch: on a CPU machine with a
# CUDA build of torch (pip's default) that was a third of a batch-1 step. While a CPU fit trains,
# the runtime's own check (~1 us) is used instead; nothing in CPU training touches CUDA.
NVML_CHECK = "PYTORCH_NVML_BASED_CUDA_CHECK"


def cheap_cuda_check_during_cpu_training(device: torch.device) -> str | None:
    """Switch torch's CUDA availability check to the runtime's for a CPU fit; returns what to restore."""
    if device.type != "cpu" or os.environ.get(NVML_CHECK) != "1":
        return None
    os.environ[NVML_CHECK] = "0"
    return "1"


def restore_cuda_check(previous: str | None) -> None:
    if previous is not None:
        os.environ[NVML_CHECK] = previous


def cpu_has_bf16_units() -> bool:
    """Whether this CPU computes in bf16 natively (AMX tiles or AVX512-BF16); elsewhere torch emulates
    bf16 and `bf16-mixed` is slower than float32. (torch's own probes, kept private by torch: a torch
    without them counts as having the units, so no note is given on a guess.)"""
    probes = [getattr(torch.cpu, name, None) for name in ("_is_amx_tile_supported", "_is_avx512_bf16_supported")]
    if not all(callable(p) for p in probes):
        return True
    return any(p() for p in probes)


def bf16_on_cpu_note(device: torch.device, precision: str) -> str | None:
    """A one-line note for bf16 autocast on a CPU that emulates bf16 (training works, only slower)."""
    if device.type != "cpu" or not str(precision).startswith("bf16") or cpu_has_bf16_units():
        return None
    return (
        f"trainer.precision {precision!r}: this CPU has no bf16 units (AMX or AVX512-BF16), so bf16 is emulated "
        "and slower than '32-true' here"
    )
