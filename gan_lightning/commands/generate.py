"""`gan-lightning generate`: images from a trained checkpoint or a pretrained model, as a PNG grid or raw arrays.

    gan-lightning generate --ckpt_path RUN/checkpoints/last.ckpt --digits 3 7 --n_per_digit 16 --seed 0 --out grid.png
    gan-lightning generate --ckpt_path RUN/checkpoints/last.ckpt --n 64 --out samples.npz
    gan-lightning generate --pretrained mnist-cgan --digits 3 7 --out digits.png      # shipped, offline
    gan-lightning generate --pretrained mnist-cgan --truncation 0.8 --out typical.png  # fewer odd digits

`--pretrained` takes a shipped name (`gan_lightning.sharing.pretrained`), a folder written by
`gan-lightning export --format hf`, or a Hugging Face Hub repo id.

A conditional checkpoint draws one grid row per digit (all ten by default); an unconditional one
draws `--n` images. `.npz` holds `images` (N, 1, H, W) float32 in [-1, 1] and `labels` (N,) int64
(-1 for an unconditional model). The same seed gives the same images: the noise comes from a
seeded `torch.Generator` on the CPU, where the model always runs here (checkpoints made on a GPU
load with `map_location="cpu"`). `--truncation` < 1 pulls the noise toward its mean (the truncation
trick): more typical, more often label-correct digits, less variety. Any count fits in memory: the
images are drawn and written 1,000 at a time (`gan_lightning.commands.chunked`), with the noise of
one draw. Bad input ends with one line on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import math
import sys
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, NoReturn

import numpy as np
import torch

from gan_lightning.checks import check_interval, check_seed
from gan_lightning.commands.chunked import CHUNK, ClusterRows, NoiseRows, progress, spans
from gan_lightning.grids import pixel_grid, pixels_image, to_pixels
from gan_lightning.noise import draw_noise
from gan_lightning.reliability.atomic import atomic_output
from gan_lightning.sharing.folder import FolderGenerator
from gan_lightning.sharing.pretrained import PRETRAINED

if TYPE_CHECKING:
    from gan_lightning.modules import GAN

SUFFIXES = (".png", ".npz")
_OUR_KEYS = ("arch", "latent_dim", "image_size", "loss")  # hyperparameters every gan_lightning model saves


class GenerateError(ValueError):
    """Bad input to `generate`: reported as one line, exit code 2."""


# -- loading ---------------------------------------------------------------------------------
def _read_checkpoint(path: Path) -> dict:
    # Lightning loads with the checkpoint readers: only a checkpoint or a Hub model needs the LightningModules.
    from gan_lightning.reliability.checkpoints import CheckpointError, read_checkpoint

    try:
        return read_checkpoint(path)
    except CheckpointError as err:
        raise GenerateError(str(err)) from None


def checkpoint_model_class(checkpoint: object, path: str | Path = "checkpoint") -> type[GAN]:
    """GAN or ConditionalGAN, from the hyperparameters saved in a Lightning checkpoint dict."""
    from gan_lightning.modules import model_class  # Lightning: loaded for a checkpoint only
    from gan_lightning.reliability.checkpoints import saved_model_name

    hparams = checkpoint.get("hyper_parameters") if isinstance(checkpoint, dict) else None
    if not isinstance(hparams, dict) or "state_dict" not in checkpoint or any(k not in hparams for k in _OUR_KEYS):
        raise GenerateError(
            f"ckpt_path: {str(path)!r} is not a gan_lightning GAN/ConditionalGAN checkpoint "
            f"(no {', '.join(_OUR_KEYS)} hyperparameters)"
        )
    return model_class(saved_model_name(hparams))


def load_model(ckpt_path: str | Path, **overrides) -> GAN:
    """The model of a gan_lightning checkpoint, on the CPU, in eval mode (`overrides`: hyperparameters)."""
    path = Path(ckpt_path)
    cls = checkpoint_model_class(_read_checkpoint(path), path)
    try:
        model = cls.load_from_checkpoint(path, map_location="cpu", **overrides)
    except Exception as err:
        reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise GenerateError(f"ckpt_path: {str(path)!r} does not load as a {cls.__name__} ({reason})") from None
    return model.eval()


def load_source(ckpt_path: str | Path | None = None, pretrained: str | None = None) -> GAN:
    """The model of a checkpoint or of a pretrained name / folder / Hub repo id (exactly one), on the CPU, in eval
    mode. Every command that takes `--ckpt_path` or `--pretrained` loads through here."""
    if (ckpt_path is None) == (pretrained is None):
        raise GenerateError("ckpt_path: give a checkpoint (--ckpt_path) or a pretrained model (--pretrained), not both")
    if ckpt_path is not None:
        return load_model(ckpt_path, inception_weights=None)  # the file named at training may not be here
    from gan_lightning.modules import GAN  # Lightning: the full model, for a Hub repo or a folder that needs it

    return GAN.from_pretrained(pretrained)  # either kind; ValueError subclasses with one line


def load_sampler(ckpt_path: str | Path | None = None, pretrained: str | None = None) -> GAN | FolderGenerator:
    """What `generate` draws from: a shipped model's or a local model folder's generator alone
    (`FolderGenerator`, the same images without importing Lightning), else the model of `load_source`."""
    if ckpt_path is None and pretrained is not None:
        sampler = FolderGenerator.load(pretrained)
        if sampler is not None:
            return sampler
    return load_source(ckpt_path, pretrained)


def add_source_arguments(parser: argparse.ArgumentParser, required: bool = True) -> None:
    """`--ckpt_path` / `--pretrained`, one of them."""
    group = parser.add_mutually_exclusive_group(required=required)
    group.add_argument("--ckpt_path", help="a checkpoint of a run, e.g. RUN/checkpoints/last.ckpt")
    group.add_argument(
        "--pretrained",
        help=f"a shipped model ({', '.join(PRETRAINED)}), a folder from `export --format hf`, or a Hub repo id",
    )


# -- sampling --------------------------------------------------------------------------------
def cpu_noise(model: GAN, n: int, generator: torch.Generator, truncation: float = 1.0) -> torch.Tensor:
    """`model.sample_z`'s noise (n, latent_dim), drawn on the CPU whatever device the model is on,
    so a seed gives the same numbers on every machine (`predict` draws while the model is on a GPU)."""
    return draw_noise(n, model.hparams, generator, "cpu", truncation)


def sample_labels(
    model: GAN,
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
    model: GAN,
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
    model: GAN,
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
    model: GAN,
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
    """`write_output` for images that arrive in pieces (`image_chunks`), `n` in all: an `.npz` is written
    as they arrive (one piece in memory), a `.png` keeps only their pixels (uint8) until its one grid."""
    try:
        with atomic_output(out, overwrite) as f:
            if out.suffix.lower() == ".png":
                _write_png(pieces, nrow, f)
            else:
                _write_npz(pieces, n, f)
    except FileExistsError:
        raise GenerateError(f"out: {str(out)!r} already exists; pass --overwrite to replace it") from None
    except OSError as err:
        reason = err.strerror or err
        raise GenerateError(f"out: cannot write {str(out)!r} ({reason}); no partial file was left") from None


def _write_npz(pieces: Iterable[tuple[torch.Tensor, torch.Tensor]], n: int, f: BinaryIO) -> None:
    """What `np.savez(f, images=float32 images, labels=labels)` writes, with the images streamed into
    their archive member: the header states all `n` rows, then each piece's bytes follow."""
    labels, written = [], 0
    with zipfile.ZipFile(f, "w", zipfile.ZIP_STORED, allowZip64=True) as archive:  # np.savez's layout
        with archive.open("images.npy", "w", force_zip64=True) as member:
            for images, part in pieces:
                rows = images.detach().cpu().numpy().astype("<f4", copy=False)
                if written == 0:
                    header = {"descr": "<f4", "fortran_order": False, "shape": (n, *rows.shape[1:])}
                    np.lib.format.write_array_header_1_0(member, header)
                member.write(np.ascontiguousarray(rows).data)
                written += len(rows)
                labels.append(part.numpy())
        if written != n:  # the header would not say what the file holds
            raise RuntimeError(f"_write_npz: the header promised {n} images, the pieces held {written}")
        with archive.open("labels.npy", "w", force_zip64=True) as member:
            np.lib.format.write_array(member, np.concatenate(labels))


def _write_png(pieces: Iterable[tuple[torch.Tensor, torch.Tensor]], nrow: int, f: BinaryIO) -> None:
    """The training grids' look (`to_grid`, `grid_image`), made from each piece's pixels: the same
    rounding as the grid of the float images, in a quarter of the memory."""
    pixels = torch.cat([to_pixels(images) for images, _ in pieces])  # (N, C, H, W) uint8
    grid = pixel_grid(pixels, nrow)  # (3, H', W') uint8, as torchvision's make_grid lays it out
    pixels_image(grid.permute(1, 2, 0).numpy()).save(f, format="PNG")


# -- command line ----------------------------------------------------------------------------
class OneLineParser(argparse.ArgumentParser):
    """argparse for the extra commands (generate, export): a bad argument is one line, exit code 2."""

    def error(self, message: str) -> NoReturn:  # one line instead of argparse's usage block
        self.exit(2, f"{self.prog}: error: {message}\n")


def _parser() -> argparse.ArgumentParser:
    p = OneLineParser(
        prog="gan-lightning generate",
        description="Draw images from a gan_lightning checkpoint or pretrained model into a PNG grid or an NPZ file.",
    )
    add_source_arguments(p)
    p.add_argument("--out", required=True, help="output file: .png (a grid) or .npz (images, labels)")
    p.add_argument("--digits", type=int, nargs="+", help="conditional model: digits to draw (default: all)")
    p.add_argument("--n_per_digit", type=int, help="conditional model: images per digit (default 10)")
    p.add_argument("--n", type=int, help="unconditional model: number of images (default 100)")
    p.add_argument("--cluster", type=int, help="self-conditioned model: draw all images from this cluster")
    p.add_argument("--nrow", type=int, help="PNG: images per row (default: n_per_digit, or sqrt(n))")
    p.add_argument("--seed", type=int, default=0, help="noise seed; the same seed gives the same images")
    p.add_argument(
        "--truncation",
        type=float,
        default=1.0,
        help="in (0, 1]: pull the noise toward its mean; below 1, more typical digits, less variety (default 1: off)",
    )
    p.add_argument("--overwrite", action="store_true", help="replace --out if it exists")
    return p


def main(argv: list[str] | None = None) -> None:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        out = Path(args.out)
        check_out(out, args.overwrite)
        if args.nrow is not None and args.nrow <= 0:
            raise GenerateError(f"nrow must be a positive integer, got {args.nrow!r}")
        check_interval("truncation", args.truncation, 0.0, 1.0, lo_open=True)  # before the model loads
        check_seed("seed", args.seed)
        model = load_sampler(args.ckpt_path, args.pretrained)
        n, pieces = image_chunks(model, args.digits, args.n_per_digit, args.n, args.seed, args.truncation, args.cluster)
        conditional = getattr(model, "conditional", False)
        nrow = args.nrow or ((args.n_per_digit or 10) if conditional else math.ceil(math.sqrt(n)))
        digits = set()
        with progress(n, "generate") as bar:
            write_pieces(_counted(pieces, bar, digits), n, out, nrow, args.overwrite)
    except ValueError as err:  # GenerateError, and the pretrained / checkpoint loaders' one-line errors
        parser.exit(2, f"{parser.prog}: error: {err}\n")
    what = f"digits {sorted(digits)}" if conditional else "unconditional"
    if args.cluster is not None:
        what += f", cluster {args.cluster}"
    truncated = f", truncation {args.truncation:g}" if args.truncation != 1 else ""
    print(f"wrote {n} images ({what}, seed {args.seed}{truncated}) to {out}")


def _counted(pieces: Iterable[tuple[torch.Tensor, torch.Tensor]], bar, digits: set[int]):
    """The pieces as they are written, moving the progress bar and noting the digits drawn."""
    for images, labels in pieces:
        yield images, labels
        bar.update(len(labels))
        digits.update(labels.unique().tolist())


if __name__ == "__main__":
    main(sys.argv[1:])
