"""Read and write the IDX files MNIST and Fashion-MNIST ship in (gzip or not).

A reader of our own (20 lines of numpy) so that a truncated download or a file of the wrong
kind gets an error naming the file, instead of a reshape traceback deep in a library.
"""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np

from gan_lightning.reliability.inputs import BadFileError

# IDX magic: two zero bytes, a type code (0x08 = uint8), then the number of dimensions.
_MAGIC = {3: 0x00000803, 1: 0x00000801}  # images (N, H, W) / labels (N,)


def read_idx(path: str | Path, ndim: int) -> np.ndarray:
    """Return the uint8 array stored in an IDX file with `ndim` dimensions (3 images, 1 labels).

    Raises:
        BadFileError: the file is empty, cut short or padded, not gzip where it says so, or not a uint8 IDX
            file of `ndim` dimensions (a ValueError naming the file).
    """
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as f:
            data = f.read()
    except (OSError, EOFError) as err:  # gzip raises these on a truncated or non-gzip file
        raise BadFileError(f"Cannot read IDX file {path}: {err}") from err
    header = 4 + 4 * ndim
    if len(data) < 4:
        raise BadFileError(f"IDX file {path} is truncated: {len(data)} bytes, header needs {header}")
    magic = struct.unpack(">I", data[:4])[0]
    if magic != _MAGIC[ndim]:
        raise BadFileError(
            f"IDX file {path} has magic number {magic:#010x}, expected {_MAGIC[ndim]:#010x} "
            f"(uint8, {ndim}-d {'images' if ndim == 3 else 'labels'})"
        )
    if len(data) < header:
        raise BadFileError(f"IDX file {path} is truncated: {len(data)} bytes, header needs {header}")
    shape = struct.unpack(f">{ndim}I", data[4:header])
    expected = header + int(np.prod(shape))
    if len(data) != expected:
        raise BadFileError(
            f"IDX file {path} is truncated or padded: {len(data)} bytes, its header "
            f"(shape {tuple(shape)}) says {expected}"
        )
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(shape)


def write_idx(path: str | Path, array: np.ndarray) -> None:
    """Write a uint8 array of 1 or 3 dimensions as an IDX file (gzip when `path` ends in .gz)."""
    path = Path(path)
    array = np.ascontiguousarray(array, dtype=np.uint8)
    if array.ndim not in _MAGIC:
        raise ValueError(f"write_idx: array must have 1 or 3 dimensions, got shape {array.shape}")
    payload = struct.pack(">I", _MAGIC[array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "wb") as f:
        f.write(payload + array.tobytes())
