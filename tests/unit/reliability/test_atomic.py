"""Files a user asked for appear whole or not at all: every writer, interrupted half-way, leaves nothing."""

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from gan_lightning.callbacks.animation import write_gif
from gan_lightning.callbacks.sinks import save_png
from gan_lightning.commands.generate import GenerateError, write_output
from gan_lightning.reliability.atomic import atomic_output

IMAGES, LABELS = torch.zeros(4, 1, 28, 28), torch.full((4,), -1)
GRID = torch.zeros(3, 30, 30)
FRAMES = [Image.new("L", (30, 30)), Image.new("L", (30, 30), 255)]

# Each writer a user's file goes through, with the file it writes.
WRITERS = {
    "generate .npz": (lambda folder: write_output(IMAGES, LABELS, folder / "out.npz", 2), "out.npz"),
    "generate .png": (lambda folder: write_output(IMAGES, LABELS, folder / "out.png", 2), "out.png"),
    "grid png": (lambda folder: save_png(GRID, folder / "grid.png"), "grid.png"),
    "training gif": (lambda folder: write_gif(FRAMES, folder / "training.gif", fps=4), "training.gif"),
}


class Interrupted(BaseException):  # like KeyboardInterrupt: not an OSError a writer might turn into a message
    pass


@pytest.fixture
def interrupt_writes(monkeypatch):
    """Every write to an open file raises after the first few bytes are on disk."""
    import builtins

    real_open = builtins.open

    class HalfFile:
        def __init__(self, f):
            self.f, self.written = f, 0

        def write(self, data):
            if self.written > 8:
                raise Interrupted
            self.written += len(data)
            return self.f.write(data[:16])

        def __getattr__(self, name):
            return getattr(self.f, name)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.f.close()

    def half_open(file, mode="r", *args, **kwargs):
        f = real_open(file, mode, *args, **kwargs)
        return HalfFile(f) if "w" in mode and str(file).endswith(".tmp") else f

    monkeypatch.setattr(builtins, "open", half_open)


@pytest.mark.parametrize("writer", WRITERS, ids=list(WRITERS))
def test_an_interrupted_write_leaves_no_file(tmp_path, interrupt_writes, writer):
    write, name = WRITERS[writer]
    with pytest.raises(Interrupted):
        write(tmp_path)
    assert list(tmp_path.iterdir()) == []  # neither the file nor a temporary one


@pytest.mark.parametrize("writer", WRITERS, ids=list(WRITERS))
def test_a_finished_write_is_whole(tmp_path, writer):
    write, name = WRITERS[writer]
    write(tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == [name]
    if name.endswith(".npz"):
        assert np.load(tmp_path / name)["images"].shape == (4, 1, 28, 28)
    else:
        Image.open(tmp_path / name).load()  # a complete image file


def test_without_overwrite_an_existing_file_is_kept(tmp_path):
    (tmp_path / "out.npz").write_bytes(b"keep me")
    with pytest.raises(GenerateError, match="already exists; pass --overwrite"):
        write_output(IMAGES, LABELS, tmp_path / "out.npz", 2)
    assert (tmp_path / "out.npz").read_bytes() == b"keep me"
    with pytest.raises(FileExistsError), atomic_output(tmp_path / "out.npz", overwrite=False) as f:
        f.write(b"new")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.npz"]


def test_overwrite_replaces_in_one_step(tmp_path):
    target: Path = tmp_path / "out.npz"
    target.write_bytes(b"old")
    write_output(IMAGES, LABELS, target, 2, overwrite=True)
    assert np.load(target)["labels"].tolist() == [-1] * 4
