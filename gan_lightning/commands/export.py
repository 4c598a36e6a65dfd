"""`gan-lightning export`: a trained generator in a form others use, without gan_lightning's training code.

    gan-lightning export --ckpt_path RUN/checkpoints/last.ckpt --format hf --out my-cgan --data_dir data
    gan-lightning export --pretrained mnist-cgan --format onnx --out generator.onnx

``--format hf``: a Hugging Face Hub folder (`gan_lightning.sharing.hub`: fp16 weights, config.json, a model
card, sample.png) that `from_pretrained` and `--pretrained` load and `hf upload` (or
`model.push_to_hub`) publishes. With its `app.py` and `requirements.txt` (`gan_lightning.sharing.space`)
the same folder is also a Hugging Face Space that serves the model's `gan-lightning demo` page.
The card's metrics table is measured on the folder's own weights with `evaluate` (``--n_samples``,
default 10,000; 0 skips it) against the test split under ``--data_dir`` (else the shipped sample).

``--format onnx``: one ONNX file of the sampling generator. Inputs ``z`` float32 (N, latent_dim)
and, for a conditional model, ``labels`` int64 (N,) (digits 0-9); output ``images`` float32
(N, C, H, W) in [-1, 1]; N is free. With `onnxruntime` installed the file is run once and compared
with PyTorch on the same inputs (``pip install gan_lightning[export]``).

Nothing is overwritten without ``--overwrite``; bad input ends with one line and exit code 2.
"""

from __future__ import annotations

import argparse
import importlib.util
import shutil
import sys
import tempfile
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

import torch
from torch import nn

from gan_lightning.commands.generate import OneLineParser, add_source_arguments, cpu_noise, load_source
from gan_lightning.data import SAMPLE_DIR
from gan_lightning.reliability.checkpoints import read_checkpoint
from gan_lightning.sharing.pretrained import SAMPLE_NAME, WEIGHTS_NAME
from gan_lightning.sharing.space import SPACE_FILES, write_space

if TYPE_CHECKING:  # the model classes load Lightning: not needed to parse arguments
    from gan_lightning.modules import GAN

FORMATS = ("hf", "onnx")
HF_FILES = ("config.json", WEIGHTS_NAME, "README.md", SAMPLE_NAME)  # the model folder
EXPORT_FILES = (*HF_FILES, *SPACE_FILES)  # what `export --format hf` writes: the model folder, also a Space
ONNX_TOLERANCE = 1e-4  # largest |onnxruntime - torch| pixel difference accepted by the check
_MISSING_EXPORT = (
    "ONNX export needs the `{}` package; pip install 'gan_lightning[export]' (onnx, onnxscript, onnxruntime)"
)


class ExportError(ValueError):
    """Bad input to `export`: reported as one line, exit code 2."""


# -- ONNX --------------------------------------------------------------------------------------
class SamplingGraph(nn.Module):
    """What the ONNX file computes: the model's sampling generator (its EMA copy when it keeps one)
    wired the model's own way (`generate`): z (N, latent_dim) [, labels (N,)] -> images (N, C, H, W)."""

    def __init__(self, model: GAN) -> None:
        super().__init__()
        self.g = model.sampling_modules()
        self.conditional = model.conditional
        self._wire = model.generate  # a bound method, not a submodule: only `g`'s weights are exported

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        return self._wire(z, labels if self.conditional else None, self.g)


def example_inputs(model: GAN, n: int, seed: int = 0) -> tuple[torch.Tensor, ...]:
    """(z,) or (z, labels): n noise vectors from `seed` and, for a conditional model, digits 0, 1, ..."""
    z = cpu_noise(model, n, torch.Generator().manual_seed(seed))  # (n, latent_dim)
    if not model.conditional:
        return (z,)
    return z, torch.arange(n) % model.hparams.num_classes  # (n,) int64


def export_onnx(model: GAN, out: Path) -> float | None:
    """Write the ONNX file; return the largest |onnxruntime - torch| difference (None without onnxruntime).

    Raises:
        ModuleNotFoundError: `onnx` or `onnxscript` missing (torch's exporter needs both).
        ExportError: onnxruntime's images differ from PyTorch's by more than `ONNX_TOLERANCE`.
    """
    for package in ("onnx", "onnxscript"):
        if importlib.util.find_spec(package) is None:
            raise ModuleNotFoundError(_MISSING_EXPORT.format(package))
    graph = SamplingGraph(model.cpu().float()).eval()
    inputs = example_inputs(model, 2)  # two rows: a batch size of 1 would be fixed into the graph
    batch = torch.export.Dim("batch")
    names = ["z", "labels"][: len(inputs)]
    with torch.no_grad(), warnings.catch_warnings():
        # Both inputs share the batch axis; the exporter says so once per name.
        warnings.filterwarnings("ignore", message="# The axis name", category=UserWarning)
        torch.onnx.export(
            graph,
            inputs,
            str(out),
            input_names=names,
            output_names=["images"],
            dynamic_shapes=tuple({0: batch} for _ in inputs),
            dynamo=True,
            external_data=False,  # one self-contained file (the generator is a few MB)
            verbose=False,
        )
    if importlib.util.find_spec("onnxruntime") is None:
        return None
    return check_onnx(model, out)


def check_onnx(model: GAN, path: Path, n: int = 5) -> float:
    """Run the file with onnxruntime on fresh inputs (another batch size than the export's) and compare
    with the model's own sampling path.

    Raises:
        ExportError: the largest pixel difference exceeds `ONNX_TOLERANCE`.
    """
    import onnxruntime

    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    inputs = example_inputs(model, n, seed=1)
    feed = {meta.name: tensor.numpy() for meta, tensor in zip(session.get_inputs(), inputs, strict=True)}
    (images,) = session.run(["images"], feed)
    expected = model.decode(*inputs)  # (n, C, H, W)
    error = float((torch.from_numpy(images) - expected).abs().max())
    if not error <= ONNX_TOLERANCE:
        raise ExportError(f"out: onnxruntime's images differ from PyTorch's by {error:.2e} (> {ONNX_TOLERANCE})")
    return error


# -- Hugging Face folder -------------------------------------------------------------------------
def checkpoint_training_info(ckpt_path: str | Path) -> dict:
    """What a Lightning checkpoint says about its run: steps, epoch, data settings (no local paths)."""
    checkpoint = read_checkpoint(ckpt_path)
    g_steps = checkpoint["state_dict"].get("g_steps")
    data = checkpoint.get("datamodule_hyper_parameters") or {}
    info = {
        "checkpoint": Path(ckpt_path).name,
        "epoch at save (from 0)": checkpoint.get("epoch"),
        "optimizer steps (D + G)": checkpoint.get("global_step"),
        "generator steps": int(g_steps) if g_steps is not None else None,
        "data settings": ", ".join(f"{k}={data[k]}" for k in ("dataset", "image_size", "batch_size") if k in data)
        or None,
    }
    return {key: value for key, value in info.items() if value is not None}


def measure(model: GAN, n_samples: int, data_dir: str, seed: int, model_ref: str) -> dict:
    """One metrics-table entry of the card: `evaluate` on `model`, with the command that repeats it."""
    from gan_lightning.commands.evaluate import (
        evaluate,  # evaluate imports this module's neighbours; keep startup light
    )

    values = evaluate(model=model, n_samples=n_samples, data_dir=data_dir, seed=seed)
    if Path(values["data_source"]) == SAMPLE_DIR:
        test_data = f"shipped sample test split ({values['n_real']:,} digits)"
        where = ""  # what `evaluate` uses when --data_dir holds no MNIST
    else:
        test_data = f"MNIST test split ({values['n_real']:,} digits)"
        where = " --data_dir data"
    keep = ("fid", "kid", "class_acc", "modes", "kl_uniform", "is", "diversity", "diversity_min", "class_fid")
    return {
        "what": "this model",
        "test_data": test_data,
        "n_samples": n_samples,
        "seed": seed,
        "command": f"gan-lightning evaluate --pretrained {model_ref} --n_samples {n_samples} --seed {seed}{where}",
        "values": {key: values[key] for key in keep if key in values},
    }


def export_hf(
    model: GAN,
    out: Path,
    n_samples: int = 10_000,
    data_dir: str = "data",
    seed: int = 0,
    model_ref: str | None = None,
    training: dict | None = None,
    space: bool = False,
) -> GAN:
    """Write the Hub folder; with `n_samples` > 0 its card's metrics are measured on the saved (fp16) weights.
    `space`: also the files that make it a Hugging Face Space (`sharing.space`; the command writes them,
    the shipped models do not carry them). Returns the model as loaded back from the folder."""
    from gan_lightning.modules import GAN  # Lightning: loaded to export, not for --help

    model_ref = model_ref or str(out)
    if training:
        model.hub_info["training"] = {**model.hub_info.get("training", {}), **training}
    with tempfile.TemporaryDirectory() as tmp:  # the folder appears complete or not at all
        staged = Path(tmp) / "model"
        model.save_pretrained(staged, model_card_kwargs={"model_ref": model_ref})
        saved = GAN.from_pretrained(staged)
        if n_samples > 0:
            entry = measure(saved, n_samples, data_dir, seed, model_ref)
            saved.hub_info["metrics"] = [*saved.hub_info.get("metrics", []), entry]
            (staged / "README.md").unlink()  # the card is rewritten with the metrics
            saved.save_pretrained(staged, model_card_kwargs={"model_ref": model_ref})
        if space:
            write_space(staged, model_ref)
        out.mkdir(parents=True, exist_ok=True)
        for name in EXPORT_FILES if space else HF_FILES:
            shutil.copyfile(staged / name, out / name)
    return saved


def _check_out(out: Path, fmt: str, overwrite: bool) -> None:
    if fmt == "onnx":
        if out.suffix.lower() != ".onnx":
            raise ExportError(f"out: --format onnx writes one file ending in .onnx, got {str(out)!r}")
        if out.is_dir():
            raise ExportError(f"out: {str(out)!r} is a folder; give a file name ending in .onnx")
        if out.exists() and not overwrite:
            raise ExportError(f"out: {str(out)!r} already exists; pass --overwrite to replace it")
        return
    if out.exists() and not out.is_dir():
        raise ExportError(f"out: --format hf writes a folder, and {str(out)!r} is a file")
    taken = [name for name in EXPORT_FILES if (out / name).exists()]
    if taken and not overwrite:
        raise ExportError(f"out: {str(out)!r} already holds {', '.join(taken)}; pass --overwrite to replace them")


# -- command line ----------------------------------------------------------------------------
def _parser() -> argparse.ArgumentParser:
    p = OneLineParser(
        prog="gan-lightning export",
        description="Write a trained generator as a Hugging Face Hub folder (--format hf) or an ONNX file.",
    )
    add_source_arguments(p)
    p.add_argument("--format", required=True, choices=FORMATS, help="hf: a Hub folder; onnx: one .onnx file")
    p.add_argument("--out", required=True, help="hf: a folder; onnx: a file ending in .onnx")
    p.add_argument("--overwrite", action="store_true", help="replace what an earlier export wrote at --out")
    hf = p.add_argument_group("--format hf: the model card's metrics")
    hf.add_argument("--n_samples", type=int, help="samples evaluated for the card (default 10000; 0: no metrics)")
    hf.add_argument("--data_dir", help="folder searched for the MNIST test split (default: data; else the sample)")
    hf.add_argument("--seed", type=int, help="evaluation noise seed (default 0)")
    hf.add_argument("--name", help="how the card's commands refer to the model, e.g. owner/repo (default: --out)")
    return p


def main(argv: list[str] | None = None) -> None:
    parser = _parser()
    args = parser.parse_args(argv)
    hf_only = {"n_samples": args.n_samples, "data_dir": args.data_dir, "seed": args.seed, "name": args.name}
    try:
        out = Path(args.out)
        if args.format == "onnx" and any(v is not None for v in hf_only.values()):
            given = ", ".join(f"--{k}" for k, v in hf_only.items() if v is not None)
            raise ExportError(f"{given}: only for --format hf (the card's metrics); --format onnx takes none")
        n_samples = 10_000 if args.n_samples is None else args.n_samples
        if isinstance(n_samples, int) and n_samples < 0:
            raise ExportError(f"n_samples must be >= 0 (0: no metrics), got {n_samples}")
        _check_out(out, args.format, args.overwrite)
        model = load_source(args.ckpt_path, args.pretrained)
        if args.format == "onnx":
            out.parent.mkdir(parents=True, exist_ok=True)
            error = export_onnx(model, out)
            checked = (
                "not checked: onnxruntime is not installed" if error is None else f"onnxruntime max |diff| {error:.1e}"
            )
            print(f"wrote {out} (inputs {'z, labels' if model.conditional else 'z'}; output images; {checked})")
            return
        training = checkpoint_training_info(args.ckpt_path) if args.ckpt_path else None
        export_hf(model, out, n_samples, args.data_dir or "data", args.seed or 0, args.name, training, space=True)
    except (ValueError, ModuleNotFoundError) as err:  # ExportError, GenerateError, pretrained/checkpoint errors
        parser.exit(2, f"{parser.prog}: error: {err}\n")
    metrics = "no metrics" if n_samples == 0 else f"metrics of {n_samples} samples"
    print(f"wrote {out}/ ({', '.join(EXPORT_FILES)}; {metrics})")


if __name__ == "__main__":
    main(sys.argv[1:])
