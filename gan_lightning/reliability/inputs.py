"""Reading the files a user hands us: one error class, one wording, whatever the format.

A file that is empty, cut short, of another format, or holds values out of range would otherwise end
in the parser's own words with no file named (``Expecting value: line 2 column 1``), or in a traceback
from deep inside a library. Each reader here turns every such failure into a `BadFileError` that names
the setting, the file and what is wrong with it, on one line: the CLI prints it and exits with code 2.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import torch
import yaml


class BadFileError(ValueError):
    """A file the user handed us that cannot be used: empty, truncated, not of its format, or holding values
    out of range. Its message names the file and what is wrong, on one line (a ValueError: bad input)."""


def bad_file(what: str, path: str | Path, problem: str) -> BadFileError:
    """ "<what>: '<path>' <problem>", the one wording of every reader."""
    return BadFileError(f"{what}: {str(path)!r} {problem}")


def read_bytes(path: str | Path, what: str) -> bytes:
    """The file's bytes; an empty file is refused (no format we read is empty)."""
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise bad_file(what, path, "does not exist") from None
    except OSError as err:
        raise bad_file(what, path, f"cannot be read ({err.strerror or err})") from None
    if not data:
        raise bad_file(what, path, "is empty (0 bytes)")
    return data


def reason_of(err: BaseException) -> str:
    """An error's first line that says something: torch's "Error(s) in loading state_dict for X:" heads the
    line that names the layer."""
    lines = [line.strip() for line in str(err).strip().splitlines() if line.strip()]
    line = lines[1] if len(lines) > 1 and lines[0].endswith(":") else lines[0] if lines else type(err).__name__
    return line if len(line) <= 200 else line[:200] + "..."  # a list of 40 missing layers says no more than 5


def _text(data: bytes, path: str | Path, what: str, kind: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise bad_file(what, path, f"is not a {kind} file (byte {err.start} is not UTF-8 text)") from None


def read_yaml_mapping(path: str | Path, what: str) -> dict:
    """A YAML file whose top level is a mapping of settings (a config)."""
    text = _text(read_bytes(path, what), path, what, "YAML")
    try:
        content = yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise bad_file(what, path, f"is not valid YAML ({_yaml_reason(err)})") from None
    if content is None:
        raise bad_file(what, path, "holds no settings (only comments or blank lines)")
    if not isinstance(content, dict):
        raise bad_file(what, path, f"must hold a mapping of settings (key: value), got a {type(content).__name__}")
    return content


def _yaml_reason(err: yaml.YAMLError) -> str:
    mark = getattr(err, "problem_mark", None)
    problem = getattr(err, "problem", None) or str(err).splitlines()[0]
    return f"line {mark.line + 1}, column {mark.column + 1}: {problem}" if mark is not None else problem


def read_json_object(path: str | Path, what: str) -> dict:
    """A JSON file whose top level is an object (a model folder's config.json)."""
    text = _text(read_bytes(path, what), path, what, "JSON")
    try:
        content = json.loads(text)
    except json.JSONDecodeError as err:  # a cut file ends in "Unterminated string" or "Expecting value"
        raise bad_file(
            what, path, f"is not valid JSON (line {err.lineno}, column {err.colno}: {err.msg.removesuffix(' at')})"
        ) from None
    if not isinstance(content, dict):
        raise bad_file(what, path, f"must hold a JSON object, got a {type(content).__name__}")
    return content


def read_safetensors(path: str | Path, what: str) -> dict[str, torch.Tensor]:
    """The tensors of a safetensors file, on the CPU."""
    from safetensors.torch import load

    data = read_bytes(path, what)
    try:
        return load(data)
    except Exception as err:  # safetensors' own error class, and struct errors of a cut header
        reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise bad_file(
            what, path, f"is not a readable safetensors file (truncated, or another format: {reason})"
        ) from None


def read_torch_file(path: str | Path, what: str) -> Any:
    """What `torch.save` wrote to `path` (tensors and plain values only: `weights_only`), on the CPU."""
    read_bytes(path, what)  # missing, unreadable, empty: named before torch reads it
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # torch raises several types for a damaged or non-torch file
        if not zipfile.is_zipfile(path):  # torch.save writes zip archives; the unpickler's own error says little
            raise bad_file(what, path, "is not a readable PyTorch file (truncated, or not a PyTorch file)") from None
        raise bad_file(what, path, f"is not a readable PyTorch file ({reason_of(err).split('. ')[0]})") from None
