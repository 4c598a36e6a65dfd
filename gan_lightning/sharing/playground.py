"""What the demo page does, without the page: its fields' values checked, the drawing made by the
functions `gan-lightning generate` uses, and the files the page shows written into one folder.

`gan_lightning.sharing.page` lays the fields out with Gradio and shows what comes back here; nothing
in this file imports Gradio, so it is tested and reused without a server. The page's settings are
`generate`'s: `draw` gives exactly the images and the PNG / NPZ bytes of the `generate` command it
names in its message (`generate_images`, `write_output`, `default_nrow`). A bad value ends in a
`PageError` (a ValueError) of one line, "<field> must be <what is allowed>, got <what was given>",
with the field named as the page labels it; the page shows it and keeps serving.
"""

from __future__ import annotations

import re
import shlex
import shutil
import tempfile
import threading
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from gan_lightning.checks import check_interval
from gan_lightning.grids import default_nrow
from gan_lightning.sampling.images import Sampler, generate_images, write_output
from gan_lightning.sampling.walk import walk, write_gif

MAX_PER_DIGIT = 100  # a conditional model's images per digit: 1,000 at most with all ten digits
MAX_IMAGES = 1000  # an unconditional model's images (one piece of `generate`'s drawing)
MAX_FRAMES = 60  # frames of a walk
SEED_LIMIT = 2**53  # the largest integer a browser's number holds exactly: a seed past it would be rounded
KEEP = 64  # requests whose files stay on disk (the page has shown the older ones and keeps its own copy)


class PageError(ValueError):
    """A bad value in the page: one line naming the field, what it takes and what it was given."""


@dataclass(frozen=True)
class Drawing:
    """What a request wrote (`files`, in the order the page shows them) and the line that says what it is."""

    files: tuple[Path, ...]
    text: str


class Playground:
    """The demo page's work for one model: `draw`, `walk` and `walk_at`, each writing into a fresh
    folder under `folder` (the caller's temporary folder; the oldest beyond `KEEP` are removed).

    Args:
        model: what `generate` draws from (`commands.generate.load_sampler`), on the CPU.
        source: how `generate` is told about the model, e.g. ``["--pretrained", "mnist-cgan"]``: the
            command each drawing names.
        folder: an existing folder that this playground alone writes into.
    """

    def __init__(self, model: Sampler, source: list[str], folder: str | Path) -> None:
        self.model, self.source, self.folder = model.cpu(), list(source), Path(folder)
        self.conditional = bool(getattr(model, "conditional", False))
        self.clustered = bool(getattr(model, "clustered", False))
        self.default_count = 10 if self.conditional else 100  # generate's --n_per_digit / --n
        self._lock = threading.Lock()  # one drawing at a time: a cluster's noise borrows the model's sample_z
        self._made: deque[Path] = deque()
        self._count = 0

    @property
    def max_count(self) -> int:
        return MAX_PER_DIGIT if self.conditional else MAX_IMAGES

    @property
    def clusters(self) -> int:
        return int(self.model.label_count) if self.clustered else 0

    # -- the page's requests -------------------------------------------------------------------
    def draw(self, digits: Any, how_many: Any, seed: Any, truncation: Any, cluster: Any = None) -> Drawing:
        """The grid (PNG) and arrays (NPZ) `generate` writes for these settings."""
        settings = self.settings(digits, how_many, seed, truncation, cluster)
        with self._lock, torch.no_grad():
            images, labels = generate_images(self.model, **settings)
        folder = self._new_folder()
        stem = f"samples-seed{settings['seed']}"
        files = (folder / f"{stem}.png", folder / f"{stem}.npz")
        for out in files:
            write_output(images, labels, out, self._nrow(settings, len(labels)))
        command = self.command(settings, files[0].name)
        return Drawing(files, f"{len(labels)} images ({self._what(settings, labels)}), as drawn by: {command}")

    def walk(
        self,
        digits: Any,
        how_many: Any,
        seed: Any,
        truncation: Any,
        cluster: Any,
        to_seed: Any,
        frames: Any,
        position: Any = 0.0,
    ) -> Drawing:
        """An animated GIF of the walk from this drawing to the same drawing with `to_seed`, and the
        walk's grid (PNG) at `position` in [0, 1] (0: `draw`'s grid for `seed`, 1: for `to_seed`)."""
        settings = self.settings(digits, how_many, seed, truncation, cluster)
        end = self._seed("walk to seed", to_seed)
        count = _integer("frames", frames, 2, MAX_FRAMES)
        position = _position(position)
        with self._lock:
            path = walk(self.model, to_seed=end, **settings)
            steps, images = path.frames(count), path.at(position)
        folder = self._new_folder()
        stem = f"walk-seed{settings['seed']}-to-seed{end}"
        nrow = self._nrow(settings, len(images))
        write_gif(steps, nrow, folder / f"{stem}.gif")
        write_output(images, path.labels, folder / f"{stem}-at-{position:g}.png", nrow)
        text = f"walk from seed {settings['seed']} to seed {end} in {count} frames, and back; shown at {position:g}"
        return Drawing((folder / f"{stem}.gif", folder / f"{stem}-at-{position:g}.png"), text)

    def walk_at(
        self, digits: Any, how_many: Any, seed: Any, truncation: Any, cluster: Any, to_seed: Any, position: Any
    ) -> Drawing:
        """The walk's grid (PNG) at `position` in [0, 1]: 0 is `draw`'s grid for `seed`, 1 for `to_seed`."""
        settings = self.settings(digits, how_many, seed, truncation, cluster)
        end = self._seed("walk to seed", to_seed)
        position = _position(position)
        with self._lock:
            path = walk(self.model, to_seed=end, **settings)
            images = path.at(position)
        out = self._new_folder() / f"walk-seed{settings['seed']}-to-seed{end}-at-{position:g}.png"
        write_output(images, path.labels, out, self._nrow(settings, len(images)))
        return Drawing((out,), f"position {position:g} of the walk from seed {settings['seed']} to seed {end}")

    # -- the fields -----------------------------------------------------------------------------
    def settings(self, digits: Any, how_many: Any, seed: Any, truncation: Any, cluster: Any = None) -> dict:
        """The page's fields as `generate_images`' arguments (checked here, and there as for `generate`)."""
        count = _integer("how many", how_many, 1, self.max_count)
        truncation = _number("truncation", truncation)
        check_interval("truncation", truncation, 0.0, 1.0, lo_open=True)
        settings = {
            "digits": parse_digits(digits) if self.conditional else None,
            "n_per_digit": count if self.conditional else None,
            "n": None if self.conditional else count,
            "seed": self._seed("seed", seed),
            "truncation": truncation,
            "cluster": None,
        }
        if self.clustered and cluster not in (None, ""):
            settings["cluster"] = _integer("cluster", cluster, 0, self.clusters - 1)
        return settings

    def command(self, settings: dict, out: str) -> str:
        """The `gan-lightning generate` command that draws these settings."""
        args = ["gan-lightning", "generate", *self.source]
        if settings["digits"]:
            args += ["--digits", *map(str, settings["digits"])]
        if settings["n_per_digit"] is not None:
            args += ["--n_per_digit", str(settings["n_per_digit"])]
        if settings["n"] is not None:
            args += ["--n", str(settings["n"])]
        if settings["cluster"] is not None:
            args += ["--cluster", str(settings["cluster"])]
        args += ["--seed", str(settings["seed"])]
        if settings["truncation"] != 1:
            args += ["--truncation", f"{settings['truncation']:g}"]
        return shlex.join([*args, "--out", out])

    @staticmethod
    def _seed(name: str, value: Any) -> int:
        return _integer(name, value, -SEED_LIMIT, SEED_LIMIT, "-2**53..2**53")

    def _nrow(self, settings: dict, n: int) -> int:
        return default_nrow(self.conditional, n, settings["n_per_digit"])

    def _what(self, settings: dict, labels: torch.Tensor) -> str:
        what = f"digits {sorted(set(labels.tolist()))}" if self.conditional else "unconditional"
        if settings["cluster"] is not None:
            what += f", cluster {settings['cluster']}"
        truncated = f", truncation {settings['truncation']:g}" if settings["truncation"] != 1 else ""
        return f"{what}, seed {settings['seed']}{truncated}"

    def _new_folder(self) -> Path:
        """A fresh folder for one request's files; the oldest beyond `KEEP` go."""
        self._count += 1
        folder = Path(tempfile.mkdtemp(prefix=f"{self._count:06d}-", dir=self.folder))
        self._made.append(folder)
        while len(self._made) > KEEP:
            shutil.rmtree(self._made.popleft(), ignore_errors=True)
        return folder


# -- one field ---------------------------------------------------------------------------------------
def parse_digits(text: Any) -> list[int] | None:
    """The digits field, e.g. ``"3 7"`` or ``"3, 7"``, as `--digits` takes them (empty: all ten). Their
    range is `generate`'s check (``digits must be in 0..9``)."""
    text = "" if text is None else str(text)
    words = [word for word in re.split(r"[\s,]+", text.strip()) if word]
    if not all(re.fullmatch(r"[+-]?\d+", word) for word in words):
        raise PageError(f"digits must be whole numbers separated by spaces (e.g. 3 7; empty: all), got {text!r}")
    return [int(word) for word in words] or None


def _shown(value: Any) -> str:
    """What a field was given, as typed: nothing for an empty field, 7 for the 7.0 a number field may send."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return "nothing"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return repr(value)


def _number(name: str, value: Any) -> float:
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            pass
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise PageError(f"{name} must be a number, got {_shown(value)}")
    return value


def _position(value: Any) -> float:
    position = _number("position", value)
    check_interval("position", position, 0.0, 1.0)
    return position


def _integer(name: str, value: Any, lo: int, hi: int, allowed: str | None = None) -> int:
    """`value` as an int in lo..hi; a number field sends 3 as 3.0, which counts, and 3.5, which does not."""
    given = value
    if isinstance(value, str) and re.fullmatch(r"\s*[+-]?\d+\s*", value):
        value = int(value)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise PageError(f"{name} must be an integer in {allowed or f'{lo}..{hi}'}, got {_shown(given)}")
    return value
