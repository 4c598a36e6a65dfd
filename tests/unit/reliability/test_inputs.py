"""Every reader of a file the user hands us, given a broken file, names the file and what is wrong, in one line.

`READERS` x `DAMAGES`: each reader gets an empty file, its good file cut in half, bytes of no format, and
(where its format allows one) a well-formed file holding a value out of range. A new reader joins by a
`Reader` row; the walk then holds it to the same rule.
"""

from __future__ import annotations

import gzip
import shutil
import struct
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import save as save_safetensors

from gan_lightning.commands.configs import check_config_files
from gan_lightning.data.files import load_split
from gan_lightning.metrics.classifier import DEFAULT_WEIGHTS, load_classifier
from gan_lightning.reliability.checkpoints import read_checkpoint
from gan_lightning.reliability.inputs import BadFileError

ROOT = Path(__file__).resolve().parents[3]
PRETRAINED = ROOT / "gan_lightning" / "assets" / "pretrained" / "mnist-cgan"
GARBAGE = b"\x00\xff\xfe not a file of this format \x01\x02" * 8


@dataclass
class Reader:
    name: str
    file: str  # the file's name in the folder the reader is given
    good: Callable[[], bytes]  # the bytes of a file it reads
    read: Callable[[Path], object]  # reads the folder's file (the folder is the file's parent)
    out_of_range: Callable[[], bytes]  # well-formed, but a value out of range (every format here has one)


def _idx(array: np.ndarray, gz: bool = False) -> bytes:
    """An IDX file's bytes: magic (uint8, ndim), the shape, the values (gzip-compressed when `gz`)."""
    data = struct.pack(">I", 0x800 + array.ndim) + struct.pack(f">{array.ndim}I", *array.shape) + array.tobytes()
    return gzip.compress(data) if gz else data


def _images(size: int = 28) -> np.ndarray:
    return np.zeros((4, size, size), dtype=np.uint8)


def _labels(top: int = 9) -> np.ndarray:
    return np.array([0, 3, 7, top], dtype=np.uint8)


def _split(folder: Path, damaged: str) -> None:
    """The train split of `folder`, with the one file under test damaged and its partner good."""
    partners = {"train-images-idx3-ubyte": _idx(_images()), "train-labels-idx1-ubyte": _idx(_labels())}
    for name, data in partners.items():
        if not (folder / name).exists() and not damaged.startswith(name):
            (folder / name).write_bytes(data)
    load_split(folder, "train")


def _torch_bytes(obj: object) -> bytes:
    import io

    buffer = io.BytesIO()
    torch.save(obj, buffer)
    return buffer.getvalue()


def _model_folder(path: Path) -> None:
    """`path` is the damaged file: the rest of the shipped model folder is put around it."""
    for src in PRETRAINED.iterdir():
        if not (path.parent / src.name).exists():
            shutil.copy(src, path.parent / src.name)
    from gan_lightning import GAN

    GAN.from_pretrained(str(path.parent))


def _checkpoint() -> bytes:
    return _torch_bytes({"state_dict": {"w": torch.zeros(64, 64)}, "hyper_parameters": {"arch": "mlp"}})


READERS = [
    Reader(
        "yaml config",
        "config.yaml",
        lambda: (ROOT / "configs" / "gan_mlp.yaml").read_bytes(),
        lambda path: check_config_files(["fit", "--config", str(path)]),
        lambda: b"- fit\n- --trainer.max_epochs=3\n",  # a list, not settings
    ),
    Reader(
        "model folder config.json",
        "config.json",
        lambda: (PRETRAINED / "config.json").read_bytes(),
        _model_folder,
        lambda: (PRETRAINED / "config.json").read_bytes().replace(b'"image_size": 28', b'"image_size": 32', 1),
    ),
    Reader(
        "model folder weights",
        "model.safetensors",
        lambda: (PRETRAINED / "model.safetensors").read_bytes(),
        _model_folder,
        lambda: save_safetensors({"generator.net.0.weight": torch.zeros(3, 3)}),  # not this model's layers
    ),
    Reader(
        "checkpoint",
        "model.ckpt",
        _checkpoint,
        read_checkpoint,
        lambda: _torch_bytes({"weights": [1, 2, 3]}),  # a torch file, but no state_dict
    ),
    Reader(
        "IDX images",
        "train-images-idx3-ubyte",
        lambda: _idx(_images()),
        lambda path: _split(path.parent, path.name),
        lambda: _idx(_images(32)),  # 32 x 32 pixels
    ),
    Reader(
        "IDX images (gzip)",
        "train-images-idx3-ubyte.gz",
        lambda: _idx(_images(), gz=True),
        lambda path: _split(path.parent, path.name),
        lambda: _idx(_images(32), gz=True),
    ),
    Reader(
        "IDX labels",
        "train-labels-idx1-ubyte",
        lambda: _idx(_labels()),
        lambda path: _split(path.parent, path.name),
        lambda: _idx(_labels(top=200)),  # not a digit
    ),
    Reader(
        "classifier weights",
        "classifier.pt",
        lambda: DEFAULT_WEIGHTS.read_bytes(),
        load_classifier,
        lambda: _torch_bytes({"state_dict": {"conv.weight": torch.zeros(2, 2)}}),  # not the classifier's layers
    ),
]
DAMAGES: dict[str, Callable[[Reader], bytes]] = {
    "empty": lambda r: b"",
    "truncated": lambda r: r.good()[: len(r.good()) // 2],
    "garbage": lambda r: GARBAGE,
    "out_of_range": lambda r: r.out_of_range(),
}


@pytest.mark.parametrize("damage", list(DAMAGES))
@pytest.mark.parametrize("reader", READERS, ids=[r.name.replace(" ", "_") for r in READERS])
def test_a_broken_file_is_named_with_what_is_wrong(reader, damage, tmp_path):
    data = DAMAGES[damage](reader)
    if reader.name == "yaml config" and damage == "truncated":
        # YAML cut at a line end is a shorter YAML file (the parser then names its keys): cut inside a list.
        data = reader.good() + b"model:\n  init_args:\n    g_hidden: [256, 5"
    path = tmp_path / reader.file
    path.write_bytes(data)
    with pytest.raises(ValueError) as info:  # BadFileError, or the checkpoint/model-folder errors (ValueErrors)
        reader.read(path)
    message = str(info.value)
    assert str(path) in message, message
    assert "\n" not in message, message


def test_the_readers_raise_bad_file_error(tmp_path):
    path = tmp_path / "empty.yaml"
    path.write_bytes(b"# only a comment\n")
    with pytest.raises(BadFileError, match=r"^--config: '.*empty\.yaml' holds no settings"):
        check_config_files(["fit", "--config", str(path)])


def test_a_model_card_is_never_read(tmp_path):
    # README.md is written for people; loading reads config.json and the weights only.
    folder = tmp_path / "model"
    shutil.copytree(PRETRAINED, folder)
    (folder / "README.md").write_bytes(GARBAGE)
    from gan_lightning import GAN

    GAN.from_pretrained(str(folder))
