"""Argument checks: one idiom and one wording for every constructor in the project.

Every message reads "<name> must be <what is allowed>, got <value!r>", the wording the CLI also
gives for jsonargparse's type errors (`gan_lightning.cli`), so a Python user and a command-line
user read the same line for the same mistake. Allowed values come from the `Literal` the
signature itself uses (`typing.get_args`): they are written once.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any, Literal, get_args, get_origin


def choices(literal_type: Any) -> tuple:
    """The allowed values of a `Literal[...]` type (of its Literals, for a ``Literal[...] | None``)."""
    if get_origin(literal_type) is Literal:
        return get_args(literal_type)
    return tuple(v for arg in get_args(literal_type) if get_origin(arg) is Literal for v in get_args(arg))


def one_of(values: tuple) -> str:
    """``(a, b)`` as jsonargparse prints a Literal's values (a one-value tuple gets no trailing comma)."""
    return "(" + ", ".join(repr(v) for v in values) + ")"


def check_choice(name: str, value: Any, literal_type: Any) -> None:
    """Raises ValueError unless `value` is one of the `Literal`'s values (``True`` is not ``1``)."""
    allowed = choices(literal_type)
    if not any(value == v and type(value) is type(v) for v in allowed):
        raise ValueError(f"{name} must be one of {one_of(allowed)}, got {value!r}")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)  # bool is an int subclass: refused


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def check_positive_int(name: str, value: Any, optional: bool = False, also: str | None = None) -> None:
    """Raises ValueError unless `value` is an int > 0 (``None`` too when `optional`); bools are refused.
    `also`: another value the argument takes, named in the message."""
    if optional and value is None:
        return
    if not _is_int(value) or value <= 0:
        other = " or None" if optional else f" or {also}" if also else ""
        raise ValueError(f"{name} must be a positive integer{other}, got {value!r}")


def check_nonnegative_int(name: str, value: Any) -> None:
    """Raises ValueError unless `value` is an int >= 0 (not a bool)."""
    if not _is_int(value) or value < 0:
        raise ValueError(f"{name} must be an integer >= 0, got {value!r}")


SEED_RANGE = (-(2**63), 2**64 - 1)  # what torch.Generator.manual_seed takes


def check_seed(name: str, value: Any) -> None:
    """Raises ValueError unless `value` is an int a `torch.Generator` can be seeded with (64 bits)."""
    lo, hi = SEED_RANGE
    if not _is_int(value) or not lo <= value <= hi:
        raise ValueError(f"{name} must be an integer in -2**63..2**64-1 (64 bits), got {value!r}")


def check_positive(name: str, value: Any, optional: bool = False) -> None:
    """Raises ValueError unless `value` is a finite number > 0 (``None`` too when `optional`)."""
    if optional and value is None:
        return
    # `not value > 0` also refuses NaN (every comparison with NaN is false); isfinite refuses inf.
    if not _is_number(value) or not value > 0 or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite positive number{' or None' if optional else ''}, got {value!r}")


def check_nonnegative(name: str, value: Any) -> None:
    """Raises ValueError unless `value` is a finite number >= 0 (0 usually means "off")."""
    if not _is_number(value) or not value >= 0 or not math.isfinite(value):
        raise ValueError(f"{name} must be a number >= 0, got {value!r}")


def check_interval(
    name: str,
    value: Any,
    lo: float,
    hi: float,
    lo_open: bool = False,
    hi_open: bool = False,
    optional: bool = False,
) -> None:
    """Raises ValueError unless `lo <= value <= hi` (a bound is left out when it is open; ``None`` passes
    too when `optional`)."""
    if optional and value is None:
        return
    ok = _is_number(value) and (lo < value if lo_open else lo <= value) and (value < hi if hi_open else value <= hi)
    if not ok:
        interval = f"{'(' if lo_open else '['}{lo:g}, {hi:g}{')' if hi_open else ']'}"
        raise ValueError(f"{name} must be a number in {interval}{' or None' if optional else ''}, got {value!r}")


def check_bool(name: str, value: Any) -> None:
    """Raises ValueError unless `value` is ``True`` or ``False``."""
    if not isinstance(value, bool):
        raise ValueError(f"{name} must be true or false, got {value!r}")


def check_data_matches(hparams: Any, datamodule: Any) -> None:
    """The model and the data it is fit on agree on image size and classes (the CLI links them;
    Python users can pass a mismatched pair).

    Raises:
        ValueError: naming the setting and both values.
    """
    for name in ("image_size", "num_classes"):
        have = getattr(datamodule, name, None)
        if have is not None and have != hparams[name]:
            raise ValueError(
                f"{name}: the model was built for {hparams[name]} but the data module serves {have}; "
                f"set data.{name} and model.{name} to the same value (the CLI links them)"
            )


def attached_trainer(module: Any) -> Any:
    """The Trainer running `module`, or None outside one (a model built or loaded in plain Python):
    Lightning's public `trainer` property raises in that case instead of returning None."""
    try:
        return module.trainer
    except RuntimeError:
        return None


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
