"""Trainer settings Lightning refuses while it builds the Trainer, as one line naming the setting.

The parser checks each `trainer.*` value's type, but whether a value works on this machine
(`accelerator: gpu` without a GPU, `devices: 0`, a strategy name Lightning does not know) is decided
inside `Trainer(...)`, which raises `MisconfigurationException`, `ValueError`, `TypeError` or `ImportError` with its
own wording and no setting name. `TrainerSettingError.from_lightning` turns any of them into
"trainer.<setting>: <Lightning's reason>; got <value>", the setting found as a rule, not per message:

1. the Trainer argument Lightning's message names first (``devices`` in "`Trainer(devices=0)` ... cpu
   accelerator");
2. else the innermost Lightning function that took the value: one named after a Trainer argument
   (``_choose_gpu_accelerator_backend``) or with an argument of that name (``_configure_timer_callback(max_time)``).
"""

from __future__ import annotations

import difflib
import inspect
import re
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Any

from lightning.fabric.utilities.exceptions import MisconfigurationException
from lightning.pytorch import Trainer
from lightning.pytorch.accelerators import AcceleratorRegistry
from lightning.pytorch.strategies import StrategyRegistry

PACKAGE = Path(__file__).resolve().parents[1]  # gan_lightning/

# What Lightning raises for a setting it refuses while the Trainer is built (ImportError: a setting that
# needs a package this machine lacks, e.g. `accelerator: tpu` without torch_xla).
REFUSALS = (MisconfigurationException, ValueError, TypeError, ImportError)


class TrainerSettingError(ValueError):
    """A `trainer.*` setting Lightning refused: a ValueError, so the CLI prints it as one line (exit code 2)."""

    @classmethod
    def from_lightning(cls, err: BaseException, settings: dict[str, Any]) -> TrainerSettingError:
        """`err`, raised by `Trainer(**settings)`, reworded as one line naming the setting it is about."""
        reason = " ".join(str(err).split()).rstrip(".") or type(err).__name__  # Lightning's text, on one line
        names = _trainer_arguments()
        name = _setting_in(reason, list(names)) or _setting_in_frames(err, names, settings)
        if name is None:
            return cls(f"trainer: {reason}")
        given = settings.get(name)
        got = "" if _names_value(reason, given) else f"; got {given!r}"
        return cls(f"trainer.{name}: {reason}{got}{_allowed(name, reason, given)}")


@contextmanager
def named_trainer_settings(settings: dict[str, Any]) -> Iterator[None]:
    """Around building the Trainer from `settings`: what Lightning refuses becomes a `TrainerSettingError`.
    Errors our own code raises (callbacks, plugins of this package) already name their argument: kept."""
    try:
        yield
    except REFUSALS as err:
        if _raised_by_this_package(err):
            raise
        raise TrainerSettingError.from_lightning(err, settings) from err


def _trainer_arguments() -> dict[str, Any]:
    """The Trainer's arguments and their defaults."""
    parameters = inspect.signature(Trainer.__init__).parameters
    return {name: p.default for name, p in parameters.items() if name != "self"}


def _setting_in(text: str, names: list[str]) -> str | None:
    """The Trainer argument `text` mentions first, as a whole word ("Precision 'fp8'" names precision)."""
    found = [(m.start(), name) for name in names if (m := re.search(rf"\b{name}\b", text, re.IGNORECASE))]
    return min(found)[1] if found else None


def _setting_in_frames(err: BaseException, names: dict[str, Any], settings: dict[str, Any]) -> str | None:
    """The Trainer argument the innermost refusing function below `Trainer.__init__` is named after or takes;
    where it names several (`_set_parallel_devices_and_init_accelerator`), the one set to other than its
    default. A function that takes them all, like the Trainer itself, says nothing."""
    frames = [frame for frame, _ in traceback.walk_tb(err.__traceback__)]
    inside = [i for i, frame in enumerate(frames) if _is_trainer_init(frame)]
    for frame in reversed(frames[inside[0] + 1 :] if inside else frames):
        code = frame.f_code
        arguments = code.co_varnames[: code.co_argcount + code.co_kwonlyargcount]
        matches = [n for n in names if n in arguments or re.search(rf"(^|_){n}(_|$)", code.co_name)]
        if len(matches) > 1:
            matches = [n for n in matches if n in settings and settings[n] != names[n]]
        if len(matches) == 1:
            return matches[0]
    return None


def _is_trainer_init(frame: FrameType) -> bool:
    return frame.f_code.co_name == "__init__" and isinstance(frame.f_locals.get("self"), Trainer)


def _raised_by_this_package(err: BaseException) -> bool:
    frames = [frame for frame, _ in traceback.walk_tb(err.__traceback__)]
    return bool(frames) and Path(frames[-1].f_code.co_filename).resolve().is_relative_to(PACKAGE)


def _names_value(reason: str, value: Any) -> bool:
    return repr(value) in reason or (isinstance(value, str) and f"`{value}`" in reason)


def _allowed(name: str, reason: str, given: Any) -> str:
    """What is allowed, where Lightning's own text does not say: the accelerators this machine has (its "no gpu
    backend" names none), the registered strategy nearest a mistyped name (it lists four examples)."""
    if name == "accelerator" and "available" not in reason.lower():
        here = [key for key in AcceleratorRegistry if AcceleratorRegistry[key]["accelerator"].is_available()]
        return f"; available on this machine: {', '.join(['auto', *here])}"
    if name == "strategy" and isinstance(given, str) and "invalid strategy name" in reason:
        match = difflib.get_close_matches(given, ["auto", *StrategyRegistry.available_strategies()], n=1)
        return f"; did you mean {match[0]}?" if match else ""
    return ""
