"""Files a user asked for appear whole or not at all.

`atomic_output` writes to a hidden temporary file beside the target and gives it the target's name
in one step at the end, so an interrupt (Ctrl-C, SIGTERM), a full disk or an error half-way leaves
no empty or truncated file behind, and a rerun is not refused because of one. Without `overwrite`
the final step refuses to replace a file that appeared meanwhile (`FileExistsError`).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO


def temporary_name(path: Path) -> Path:
    """A hidden name in the same folder (so the final rename stays on one file system), unique per process."""
    return path.with_name(f".{path.name}.{os.getpid()}.tmp")


def publish(tmp: Path, path: Path, overwrite: bool = True) -> None:
    """Give the finished `tmp` the name `path` in one step; without `overwrite`, never replace a file."""
    if overwrite:
        os.replace(tmp, path)  # atomic on POSIX and Windows within one folder
        return
    try:
        os.link(tmp, path)  # fails if `path` exists: no window in which another file is clobbered
    except FileExistsError:
        raise
    except OSError:  # a file system without hard links
        if path.exists():
            raise FileExistsError(path) from None
        os.replace(tmp, path)
    else:
        tmp.unlink()


@contextmanager
def atomic_output(path: str | Path, overwrite: bool = True) -> Iterator[BinaryIO]:
    """A binary file to write `path`'s content into; `path` gets it only if the block ends normally.

    Raises:
        FileExistsError: `overwrite` is false and `path` exists when the content is complete.
    """
    path = Path(path)
    tmp = temporary_name(path)
    try:
        with open(tmp, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())  # the bytes are on disk before the name points at them
        publish(tmp, path, overwrite)
    finally:
        tmp.unlink(missing_ok=True)  # an error, an interrupt or a refused name: no temporary file left
