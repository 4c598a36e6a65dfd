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
images are drawn and written 1,000 at a time (`gan_lightning.sampling`), with the noise of
one draw. Bad input ends with one line on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import torch

from gan_lightning.checks import check_interval, check_seed
from gan_lightning.grids import default_nrow
from gan_lightning.sampling.chunked import progress
from gan_lightning.sampling.images import (
    SUFFIXES,
    GenerateError,
    check_out,
    cpu_noise,
    generate_images,
    image_chunks,
    sample_inputs,
    sample_labels,
    write_output,
    write_pieces,
)
from gan_lightning.sharing.folder import FolderGenerator
from gan_lightning.sharing.pretrained import PRETRAINED

# The drawing and writing live in `gan_lightning.sampling.images` (the modules' sample grids use them
# too); they stay importable from here, where users of `generate` look for them.
__all__ = [
    "SUFFIXES",
    "GenerateError",
    "add_source_arguments",
    "check_out",
    "cpu_noise",
    "generate_images",
    "image_chunks",
    "load_model",
    "load_sampler",
    "load_source",
    "main",
    "sample_inputs",
    "sample_labels",
    "write_output",
    "write_pieces",
]

if TYPE_CHECKING:
    from gan_lightning.modules import GAN

_OUR_KEYS = ("arch", "latent_dim", "image_size", "loss")  # hyperparameters every gan_lightning model saves


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
        nrow = args.nrow or default_nrow(conditional, n, args.n_per_digit)
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
