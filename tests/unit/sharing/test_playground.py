"""The demo page's work without the page: each drawing is `gan-lightning generate`'s file for the command
it names, byte for byte; the walk starts and ends on `generate`'s grids; bad values are one line naming
the field; the page's folder keeps only recent requests."""

from __future__ import annotations

import re
import shlex

import numpy as np
import pytest
import torch
from PIL import Image

from gan_lightning.commands.cli import main
from gan_lightning.commands.generate import generate_images, load_sampler
from gan_lightning.sampling.walk import walk
from gan_lightning.sharing import playground as playground_module
from gan_lightning.sharing.playground import Playground


@pytest.fixture(scope="module")
def models():
    return {name: load_sampler(pretrained=name) for name in ("mnist-cgan", "mnist-gan")}


def _playground(models, name, tmp_path) -> Playground:
    folder = tmp_path / "page"
    folder.mkdir(exist_ok=True)
    return Playground(models[name], ["--pretrained", name], folder)


# (model, the page's fields: digits, how many, seed, truncation, cluster)
DRAWS = [
    ("mnist-cgan", ("7", 10, 3, 1.0, None)),
    ("mnist-cgan", ("3, 7", 4.0, -2, 0.8, None)),  # a number field sends 4 as 4.0
    ("mnist-cgan", ("", 2, 0, 1.0, None)),  # empty: all ten digits
    ("mnist-gan", (None, 16, 5, 1.0, None)),
    ("mnist-gan", (None, 9, 1, 0.7, 7)),  # one cluster
]


@pytest.mark.parametrize(("name", "fields"), DRAWS, ids=[f"{n}-{i}" for i, (n, _) in enumerate(DRAWS)])
def test_a_drawing_is_the_file_of_the_generate_command_it_names(models, tmp_path, capsys, name, fields):
    drawing = _playground(models, name, tmp_path).draw(*fields)
    png, npz = drawing.files
    assert "\n" not in drawing.text
    command = shlex.split(drawing.text.split("as drawn by: ")[1])
    assert command[:2] == ["gan-lightning", "generate"] and command[-2:] == ["--out", png.name]
    for shown in (png, npz):
        out = tmp_path / f"generate{shown.suffix}"
        main([*command[1:-1], str(out)])
        assert out.read_bytes() == shown.read_bytes()
    assert f"wrote {len(np.load(npz)['labels'])} images" in capsys.readouterr().out


def test_the_walk_starts_and_ends_on_generates_grids(models):
    for name, settings in [
        ("mnist-cgan", {"digits": [2, 5], "n_per_digit": 3, "truncation": 0.9}),
        ("mnist-gan", {"n": 6, "cluster": 11}),
    ]:
        model = models[name]
        path = walk(model, seed=4, to_seed=9, **settings)
        for position, seed in ((0, 4), (1, 9)):
            images, labels = generate_images(model, seed=seed, **settings)
            assert torch.equal(path.at(position), images) and torch.equal(path.labels, labels)
        frames = path.frames(5)
        assert len(frames) == 5 and torch.equal(frames[0], path.at(0)) and torch.equal(frames[-1], path.at(1))
        assert not torch.equal(path.at(0.5), frames[0]) and torch.equal(path.at(0.5), frames[2])


def test_the_gif_goes_there_and_back_and_the_frame_is_the_walks_grid(models, tmp_path):
    page = _playground(models, "mnist-cgan", tmp_path)
    gif, frame = page.walk("7", 10, 3, 1.0, None, 4, 6, 0).files
    drawn = np.asarray(Image.open(page.draw("7", 10, 3, 1.0).files[0]))
    assert np.array_equal(np.asarray(Image.open(frame)), drawn)  # position 0: the drawing of seed 3
    with Image.open(gif) as animation:
        assert animation.n_frames == 6 + 4  # to the end seed and back, without repeating the ends
        assert np.array_equal(np.asarray(animation.convert("L")), drawn)  # grey levels kept: lossless
    at_end = page.walk_at("7", 10, 3, 1.0, None, 4, 1.0).files[0]
    assert at_end.read_bytes() == page.draw("7", 10, 4, 1.0).files[0].read_bytes()


@pytest.mark.parametrize(
    ("name", "call", "match"),
    [
        ("mnist-cgan", ("draw", "3 x", 10, 0, 1.0), r"digits must be whole numbers separated by spaces .*got '3 x'"),
        ("mnist-cgan", ("draw", "12", 10, 0, 1.0), r"digits must be in 0\.\.9, got \[12\]"),  # generate's check
        ("mnist-cgan", ("draw", "7", 0, 0, 1.0), r"how many must be an integer in 1\.\.100, got 0"),
        ("mnist-cgan", ("draw", "7", 2.5, 0, 1.0), r"how many must be an integer in 1\.\.100, got 2\.5"),
        ("mnist-cgan", ("draw", "7", None, 0, 1.0), r"how many must be an integer in 1\.\.100, got nothing"),
        ("mnist-gan", ("draw", None, 1001, 0, 1.0), r"how many must be an integer in 1\.\.1000, got 1001"),
        ("mnist-cgan", ("draw", "7", 10, 2.0**61, 1.0), r"seed must be an integer in -2\*\*53\.\.2\*\*53, got 2\d{18}"),
        ("mnist-cgan", ("draw", "7", 10, 0, 0.0), r"truncation must be a number in \(0, 1\], got 0\.0"),
        ("mnist-cgan", ("draw", "7", 10, 0, "x"), r"truncation must be a number, got 'x'"),
        ("mnist-gan", ("draw", None, 10, 0, 1.0, 400), r"cluster must be an integer in 0\.\.399, got 400"),
        ("mnist-cgan", ("walk", "7", 10, 0, 1.0, None, "", 16), r"walk to seed must be an integer .*got nothing"),
        ("mnist-cgan", ("walk", "7", 10, 0, 1.0, None, 1, 61), r"frames must be an integer in 2\.\.60, got 61"),
        ("mnist-cgan", ("walk_at", "7", 10, 0, 1.0, None, 1, 1.5), r"position must be a number in \[0, 1\], got 1\.5"),
    ],
    ids=[
        "digits-words",
        "digit-range",
        "count-zero",
        "count-fraction",
        "count-empty",
        "n-too-many",
        "seed-too-big",
        "truncation-zero",
        "truncation-text",
        "cluster-range",
        "to-seed-empty",
        "frames-too-many",
        "position",
    ],
)
def test_a_bad_value_is_one_line_naming_the_field(models, tmp_path, name, call, match):
    page = _playground(models, name, tmp_path)
    method, *values = call
    with pytest.raises(ValueError) as error:
        getattr(page, method)(*values)
    assert re.fullmatch(match, str(error.value)), str(error.value)
    assert not any((tmp_path / "page").iterdir())  # nothing written for a refused request


def test_the_folder_keeps_only_recent_requests(models, tmp_path, monkeypatch):
    monkeypatch.setattr(playground_module, "KEEP", 2)
    page = _playground(models, "mnist-cgan", tmp_path)
    files = [page.draw("1", 1, seed, 1.0).files[0] for seed in range(4)]
    assert [f.exists() for f in files] == [False, False, True, True]
    assert len(list((tmp_path / "page").iterdir())) == 2
