"""Read what an offline W&B run wrote to disk (its `run-<id>.wandb` file), to check it in tests.

The file is a sequence of protobuf `Record`s in the LevelDB log framing: 32 KiB blocks, each
record or record piece behind a 7-byte header (crc32, length, type: full / first / middle / last).
"""

from __future__ import annotations

import json
import struct
import time
from pathlib import Path

from wandb.proto import wandb_internal_pb2

_BLOCK = 32 * 1024
_HEADER = 7
_FULL, _FIRST, _MIDDLE, _LAST = 1, 2, 3, 4


def records(path: str | Path, timeout: float = 60.0) -> list[wandb_internal_pb2.Record]:
    """The file's records once W&B has finished writing it: its writer is another process, which on a
    loaded machine may still be flushing after `wandb.finish()` returns, so read until the run's
    closing ``exit`` record is there (or `timeout` seconds have passed: then what is there)."""
    deadline = time.monotonic() + timeout
    while True:
        parsed = _read(path)
        if (parsed and parsed[-1].WhichOneof("record_type") == "exit") or time.monotonic() > deadline:
            return parsed
        time.sleep(0.5)


def _read(path: str | Path) -> list[wandb_internal_pb2.Record]:
    data = Path(path).read_bytes()
    assert data[:4] == b":W&B", f"{path} is not a W&B run file"
    pos, pieces, out = _HEADER, b"", []
    while pos + _HEADER <= len(data):
        if _BLOCK - pos % _BLOCK < _HEADER:  # block trailer too small for a header: skip to the next block
            pos += _BLOCK - pos % _BLOCK
            continue
        _crc, length, kind = struct.unpack("<IHB", data[pos : pos + _HEADER])
        pos += _HEADER
        if kind == 0 and length == 0:
            break
        chunk, pos = data[pos : pos + length], pos + length
        if kind == _FULL:
            out.append(chunk)
        elif kind == _FIRST:
            pieces = chunk
        elif kind == _MIDDLE:
            pieces += chunk
        elif kind == _LAST:
            out.append(pieces + chunk)
    parsed = []
    for raw in out:
        record = wandb_internal_pb2.Record()
        record.ParseFromString(raw)
        parsed.append(record)
    return parsed


def history(path: str | Path) -> list[dict]:
    """Every `run.log(...)` row as {key: value}."""
    rows = []
    for record in records(path):
        if record.WhichOneof("record_type") == "history":
            items = record.history.item
            rows.append({item.key or "/".join(item.nested_key): json.loads(item.value_json) for item in items})
    return rows


def config(path: str | Path) -> dict:
    """The run config as logged (later updates win)."""
    merged = {}
    for record in records(path):
        if record.WhichOneof("record_type") == "config":
            for item in record.config.update:
                merged[item.key or "/".join(item.nested_key)] = json.loads(item.value_json)
    return merged


def tables(path: str | Path) -> list[dict]:
    """Every table the run logged, in order: W&B records a table (and its images) as a `run_table`
    artifact, staged on disk until `wandb sync`. Each as {"name", "columns", "data", "files"}, where
    `files` maps the artifact's paths (e.g. an image cell's "path") to the staged local files."""
    out = []
    for record in records(path):
        if record.WhichOneof("record_type") != "artifact" or record.artifact.type != "run_table":
            continue
        files = {entry.path: Path(entry.local_path) for entry in record.artifact.manifest.contents}
        (name,) = [p for p in files if p.endswith(".table.json")]
        table = json.loads(files[name].read_text())
        out.append({"name": name.removesuffix(".table.json"), **table, "files": files})
    return out


def artifacts(path: str | Path) -> list:
    """The artifact records of the run (checkpoints logged with `log_model`, tables, ...)."""
    return [r.artifact for r in records(path) if r.WhichOneof("record_type") == "artifact"]
