"""Images from a model's noise, in pieces, and the files they go to: what `gan-lightning generate`,
`predict`'s writer and a model folder's sample grid share.

Below the modules and the commands: the model is used through what every gan_lightning model (and a
model folder's generator alone, `sharing.folder`) offers -- ``hparams``, ``conditional``,
``clustered``, ``label_count``, ``decode`` -- so nothing here imports them. The noise comes from one
seeded draw on the CPU, handed out in pieces (`sampling.chunked`); a file appears whole or not at all
(`reliability.atomic`).
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any, BinaryIO, Protocol

import numpy as np
import torch

from gan_lightning.checks import check_interval, check_seed
from gan_lightning.grids import pixel_grid, pixels_image, to_pixels
from gan_lightning.noise import draw_noise
from gan_lightning.reliability.atomic import atomic_output
from gan_lightning.sampling.chunked import CHUNK, ClusterRows, NoiseRows, spans

SUFFIXES = (".png", ".npz")


class Sampler(Protocol):
    """What drawing needs of a model: every gan_lightning model has it, and so has a model folder's
    generator alone (`sharing.folder.FolderGenerator`); ``conditional``, ``clustered`` and
    ``label_count`` are read where they exist."""

    hparams: Any
    dtype: torch.dtype

    def decode(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor: ...

    def cpu(self) -> Any: ...


class GenerateError(ValueError):
    """Bad input to `generate` (or to the settings of predict that mirror it): one line, exit code 2."""


# -- sampling --------------------------------------------------------------------------------
def cpu_noise(model: Sampler, n: int, generator: torch.Generator, truncation: float = 1.0) -> torch.Tensor:
    """`model.sample_z`'s noise (n, latent_dim), drawn on the CPU whatever device the model is on,
    so a seed gives the same numbers on every machine (`predict` draws while the model is on a GPU)."""
    return draw_noise(n, model.hparams, generator, "cpu", truncation)


def sample_labels(
    model: Sampler,
    digits: list[int] | None = None,
    n_per_digit: int = 10,
    n: int = 100,
    seed: int = 0,
    names: tuple[str, str, str] = ("digits", "n_per_digit", "n"),
) -> torch.Tensor:
    """The labels (N,) int64 of `sample_inputs`, checked the same way (-1 for an unconditional model)."""
    conditional = getattr(model, "conditional", False)
    digits_name, per_digit_name, n_name = names
    if not conditional and digits:
        raise GenerateError(f"{digits_name}: this model is an unconditional GAN, which takes no digits; got {digits}")
    for name, value in ((per_digit_name, n_per_digit), (n_name, n)):
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise GenerateError(f"{name} must be a positive integer, got {value!r}")
    check_seed("seed", seed)  # data.predict_seed is checked where the data module takes it
    if not conditional:
        return torch.full((n,), -1, dtype=torch.long)
    classes = model.hparams.num_classes
    digits = list(range(classes)) if not digits else list(digits)
    bad = [d for d in digits if not 0 <= d < classes]
    if bad:
        raise GenerateError(f"{digits_name} must be in 0..{classes - 1}, got {bad}")
    return torch.tensor(digits).repeat_interleave(n_per_digit).long()  # (len(digits) * k,)


def sample_inputs(
    model: Sampler,
    digits: list[int] | None = None,
    n_per_digit: int = 10,
    n: int = 100,
    seed: int = 0,
    names: tuple[str, str, str] = ("digits", "n_per_digit", "n"),
    truncation: float = 1.0,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Noise (N, latent_dim) and labels (N,) (-1 for an unconditional model), on the CPU.

    A conditional model gets `n_per_digit` of each of `digits` (default: every class), digit-major
    so that a grid with `n_per_digit` columns has one row per digit; an unconditional model gets
    `n` and takes no digits. `names`: how the caller calls these three arguments, for the errors.
    `truncation`: see `gan_lightning.noise.truncate` (1: the noise as drawn).
    """
    labels = sample_labels(model, digits, n_per_digit, n, seed, names)
    return cpu_noise(model, len(labels), torch.Generator().manual_seed(seed), truncation), labels


def image_chunks(
    model: Sampler,
    digits: list[int] | None = None,
    n_per_digit: int | None = None,
    n: int | None = None,
    seed: int = 0,
    truncation: float = 1.0,
    cluster: int | None = None,
    chunk: int | None = None,
) -> tuple[int, Iterator[tuple[torch.Tensor, torch.Tensor]]]:
    """How many images, and an iterator of (images (k, C, H, W) in [-1, 1], labels (k,)) pieces of at
    most `chunk` images: what `generate_images` returns, in pieces, with the same numbers.

    The arguments are checked here, before any piece is drawn (see `generate_images`). `chunk`: by
    default `CHUNK`."""
    if getattr(model, "conditional", False):
        kind, unused = "a conditional GAN, which draws n_per_digit images of each digit", {"n": n}
    else:
        kind = "an unconditional GAN, which takes no digits (n sets how many images)"
        unused = {"digits": digits or None, "n_per_digit": n_per_digit}
    for name, value in unused.items():  # a setting this model cannot use is an error, never ignored
        if value is not None:
            raise GenerateError(f"{name}: this model is {kind}; got {name}={value}")
    if cluster is not None and not getattr(model, "clustered", False):
        raise GenerateError(f"cluster: only a SelfConditionedGAN has clusters, this model is {kind}; got {cluster}")
    n_per_digit = 10 if n_per_digit is None else n_per_digit
    n = 100 if n is None else n
    check_interval("truncation", truncation, 0.0, 1.0, lo_open=True)
    labels = sample_labels(model, digits, n_per_digit, n, seed)
    model = model.cpu()
    if cluster is not None:  # the same seed's noise, its angle redrawn inside the cluster's arc
        clusters = model.label_count
        if isinstance(cluster, bool) or not isinstance(cluster, int) or not 0 <= cluster < clusters:
            raise GenerateError(f"cluster must be in 0..{clusters - 1} (the model's clusters), got {cluster!r}")
        noise = ClusterRows(model, cluster, n, seed, truncation)
    else:
        noise = NoiseRows(model.hparams, len(labels), torch.Generator().manual_seed(seed), truncation)
    conditional = getattr(model, "conditional", False)

    def pieces() -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        for start, k in spans(len(labels), chunk or CHUNK):
            part = labels[start : start + k]
            images = model.decode(noise.take(k).to(model.dtype), part if conditional else None)
            yield images.float(), part

    return len(labels), pieces()


def generate_images(
    model: Sampler,
    digits: list[int] | None = None,
    n_per_digit: int | None = None,
    n: int | None = None,
    seed: int = 0,
    truncation: float = 1.0,
    cluster: int | None = None,
    chunk: int | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Images (N, C, H, W) in [-1, 1] and labels (N,) (-1 for an unconditional model); see `sample_inputs`.

    `n_per_digit` defaults to 10 and `n` to 100. `cluster`: a self-conditioned model's images all from
    this one of its clusters (`SelfConditionedGAN.noise_in_clusters`); by default from all of them.
    Drawn `chunk` images at a time (`image_chunks`); the chunk size does not change the images.

    Raises:
        GenerateError: a count that is not a positive integer, a digit out of range, or a setting the
            model cannot use (`digits`/`n_per_digit` for an unconditional model, `n` for a conditional one).
        ValueError: `truncation` outside (0, 1].
    """
    _, pieces = image_chunks(model, digits, n_per_digit, n, seed, truncation, cluster, chunk)
    images, labels = zip(*pieces, strict=True)
    return torch.cat(images), torch.cat(labels)


# -- writing ---------------------------------------------------------------------------------
def check_out(out: Path, overwrite: bool, argument: str = "out") -> None:
    """Before any work: `out` has a known suffix, is free (or may be replaced) and its folder can exist."""
    if out.suffix.lower() not in SUFFIXES:
        raise GenerateError(f"{argument} must end in one of {SUFFIXES}, got {str(out)!r}")
    if out.exists() and not overwrite:
        raise GenerateError(f"{argument}: {str(out)!r} already exists; pass --overwrite to replace it")
    if out.is_dir():
        raise GenerateError(f"{argument}: {str(out)!r} is a folder; give a file name ending in .png or .npz")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise GenerateError(
            f"{argument}: cannot create the folder {str(out.parent)!r} ({err.strerror or err})"
        ) from None


def write_output(images: torch.Tensor, labels: torch.Tensor, out: Path, nrow: int, overwrite: bool = False) -> None:
    """`.png`: one grid, `nrow` images per row; `.npz`: `images` float32 (N, C, H, W) in [-1, 1], `labels` (N,).
    The file appears whole or not at all (`atomic_output`): an interrupted write leaves nothing behind."""
    write_pieces([(images, labels)], len(labels), out, nrow, overwrite)


def write_pieces(
    pieces: Iterable[tuple[torch.Tensor, torch.Tensor]], n: int, out: Path, nrow: int, overwrite: bool = False
) -> None:
    """`write_output` for images that arrive in pieces (`image_chunks`), `n` in all (see `PieceWriter`)."""
    writer = PieceWriter(out, n, nrow, overwrite)
    try:
        for images, labels in pieces:
            writer.add(images, labels)
    except BaseException:
        writer.abort()
        raise
    writer.close()


class PieceWriter:
    """One output file of `n` images that arrive in pieces, for a caller that is handed them one at a
    time (`predict`'s writer) as much as for one that draws them (`write_pieces`).

    `add` each piece (images (k, C, H, W) in [-1, 1], labels (k,)), then `close` gives the file its
    name; `abort`, or an error on the way, leaves nothing behind (`atomic_output`). An `.npz` is
    written as the pieces arrive (what ``np.savez(images=float32, labels=labels)`` writes, with its
    header stating all `n` rows up front), so only one piece is in memory; a `.png` keeps only the
    pieces' pixels (uint8, a quarter of the floats) until its one grid of `nrow` images per row.

    Raises:
        GenerateError: the file cannot be written (a full disk, no permission), or it appeared
            meanwhile and `overwrite` is false; no partial file is left.
    """

    def __init__(self, out: str | Path, n: int, nrow: int, overwrite: bool = False) -> None:
        self.out, self.n, self.nrow, self.written = Path(out), n, nrow, 0
        self._png = self.out.suffix.lower() == ".png"
        self._pixels: list[torch.Tensor] = []  # (k, C, H, W) uint8 per piece, .png only
        self._labels: list[np.ndarray] = []
        self._file = ExitStack()  # holds atomic_output: closing it publishes the file
        self._archive: zipfile.ZipFile | None = None
        self._member: BinaryIO | None = None
        with self._said():
            f = self._file.enter_context(atomic_output(self.out, overwrite))
            if not self._png:
                self._archive = zipfile.ZipFile(f, "w", zipfile.ZIP_STORED, allowZip64=True)  # np.savez's layout
                self._member = self._archive.open("images.npy", "w", force_zip64=True)
            self._f = f

    def add(self, images: torch.Tensor, labels: torch.Tensor) -> None:
        if self.written + len(labels) > self.n:
            self.abort()
            raise RuntimeError(f"PieceWriter: {self.written + len(labels)} images for a file of {self.n}")
        with self._said():
            if self._png:
                self._pixels.append(to_pixels(images))
            else:
                rows = np.ascontiguousarray(images.detach().cpu().numpy().astype("<f4", copy=False))
                if self.written == 0:
                    header = {"descr": "<f4", "fortran_order": False, "shape": (self.n, *rows.shape[1:])}
                    np.lib.format.write_array_header_1_0(self._member, header)
                self._member.write(rows.data)
        self._labels.append(labels.detach().cpu().numpy())
        self.written += len(labels)

    def close(self) -> None:
        """Finish the file and give it its name."""
        if self.written != self.n:  # the header (or the grid) would not say what the file holds
            self.abort()
            raise RuntimeError(f"PieceWriter: {self.n} images promised for {str(self.out)!r}, {self.written} given")
        with self._said():
            if self._png:
                grid = pixel_grid(torch.cat(self._pixels), self.nrow)  # (3, H', W') uint8, make_grid's layout
                pixels_image(grid.permute(1, 2, 0).numpy()).save(self._f, format="PNG")
            else:
                self._member.close()
                with self._archive.open("labels.npy", "w", force_zip64=True) as member:
                    np.lib.format.write_array(member, np.concatenate(self._labels))
                self._archive.close()
            self._file.close()  # flushed, synced, and named in one step

    def abort(self) -> None:
        """Drop what was written: no file, no temporary file."""
        self._file.__exit__(GenerateError, GenerateError("aborted"), None)  # atomic_output removes its file
        # Close the archive's handles too, or their finalisers would write into the closed file later.
        # Whatever they raise now (a full disk, the interrupt that called us again) changes nothing:
        # the file is gone, and the caller is already raising its own error.
        for handle in (self._member, self._archive):
            if handle is not None:
                try:
                    handle.close()
                except BaseException:
                    pass
        self._member = self._archive = None
        self._pixels, self._labels = [], []

    @contextmanager
    def _said(self) -> Iterator[None]:
        try:
            yield
        except FileExistsError:
            self.abort()
            raise GenerateError(f"out: {str(self.out)!r} already exists; pass --overwrite to replace it") from None
        except OSError as err:
            self.abort()
            reason = err.strerror or err
            raise GenerateError(f"out: cannot write {str(self.out)!r} ({reason}); no partial file was left") from None
