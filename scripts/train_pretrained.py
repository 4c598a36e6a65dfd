"""Train, measure and pack a shipped pretrained generator (`gan_lightning/assets/pretrained/<name>/`).

    python scripts/train_pretrained.py mnist-cgan --data_dir data --max_time 00:02:00:00 --threads 2 --overwrite
    python scripts/train_pretrained.py mnist-gan --data_dir data --max_time 00:02:00:00 --trainer.accelerator gpu

1. `gan-lightning fit` of the name's config (`gan_lightning.sharing.pretrained.PRETRAINED`) on the MNIST
   under `--data_dir`, for the budget `--max_time` (wall clock, validation included) and/or
   `--max_epochs`; any argument this script does not know goes to `fit` as an override.
2. `gan-lightning export --format hf` of its last checkpoint into a staging folder: the EMA
   generator as fp16 safetensors, with the run's steps in the card.
3. `gan-lightning evaluate --pretrained <staging folder>` with `--n_samples` samples (seed 0) against
   the MNIST test split under `--data_dir` and against the test split of the sample shipped in the
   package (what a user gets offline right after `pip install`), and `evaluate --real` for the floor.
4. The folder, with those numbers, the budget, the data, the seed and the commands in its card,
   written to `--out` (default: the package's asset folder for the name).

`--ckpt_path RUN/checkpoints/last.ckpt` skips step 1 and packs a run made otherwise (e.g. one seed of
`benchmarks/quality.py`); `--trained_by "COMMAND"` then says in the card how that run was made.

    python scripts/train_pretrained.py mnist-cgan --data_dir data --ckpt_path RUN/checkpoints/last.ckpt \
        --trained_by "python benchmarks/quality.py ..." --overwrite

The metrics are measured on the packed fp16 weights, so `gan-lightning evaluate --pretrained <name>`
repeats them exactly (same seed, same test split).
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # this checkout's package, also when another copy is installed

from gan_lightning.commands.export import HF_FILES, export_hf  # noqa: E402
from gan_lightning.data import load_split, locate  # noqa: E402
from gan_lightning.modules import GAN  # noqa: E402
from gan_lightning.reliability.runs import find_last_checkpoint  # noqa: E402
from gan_lightning.sharing.pretrained import ASSETS, PRETRAINED  # noqa: E402

KEEP = ("fid", "kid", "class_acc", "modes", "kl_uniform", "is", "diversity", "diversity_min", "class_fid")
KEEP += ("precision", "recall", "sample_cluster_purity", "sample_cluster_nmi")


def run(args: list[str], env: dict, capture: bool = False) -> str:
    """One `gan-lightning` command through this Python (`python -m gan_lightning`), echoed first."""
    print("+ gan-lightning " + shlex.join(args), flush=True)
    done = subprocess.run(
        [sys.executable, "-m", "gan_lightning", *args], env=env, cwd=ROOT, text=True, capture_output=capture
    )
    if done.returncode != 0:
        sys.exit(f"gan-lightning {args[0]} failed (exit {done.returncode}){': ' + done.stderr if capture else ''}")
    return done.stdout if capture else ""


def evaluate(source: list[str], n_samples: int, data_dir: str, env: dict) -> dict:
    args = ["evaluate", *source, "--n_samples", str(n_samples), "--seed", "0", "--data_dir", data_dir]
    return json.loads(run(args, env, capture=True))


def entry(what: str, test_data: str, n_samples: int, command: str, values: dict) -> dict:
    return {
        "what": what,
        "test_data": test_data,
        "n_samples": n_samples,
        "seed": 0,
        "command": command,
        "values": {key: values[key] for key in KEEP if key in values},
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("name", choices=sorted(PRETRAINED))
    p.add_argument("--data_dir", required=True, help="folder holding MNIST (MNIST/raw/*.gz or the four IDX files)")
    p.add_argument("--max_time", default="00:00:03:00", help="training budget DD:HH:MM:SS (default 3 minutes)")
    p.add_argument("--max_epochs", type=int, default=-1, help="epoch limit as well (default -1: the time decides)")
    p.add_argument("--seed", type=int, default=0, help="seed_everything of the training run")
    p.add_argument("--threads", type=int, default=None, help="CPU threads for training and evaluation")
    p.add_argument("--n_samples", type=int, default=10_000, help="samples per evaluation (seed 0)")
    p.add_argument("--work", default=str(ROOT / "runs" / "pretrained"), help="where the training runs go")
    p.add_argument("--out", default=None, help="the model folder (default: the package's asset folder)")
    p.add_argument("--overwrite", action="store_true", help="replace the model files in --out")
    p.add_argument("--ckpt_path", default=None, help="pack this checkpoint instead of training (skips step 1)")
    p.add_argument("--trained_by", default=None, help="with --ckpt_path: the command that trained it, for the card")
    args, fit_overrides = p.parse_known_args()
    if (args.ckpt_path is None) != (args.trained_by is None):
        p.error("--ckpt_path and --trained_by go together: the card must say how the packed run was trained")
    if args.ckpt_path is not None and (fit_overrides or args.max_time != p.get_default("max_time")):
        given = fit_overrides or args.max_time
        p.error(f"--ckpt_path packs a finished run: training settings do not apply, got {given}")
    if args.ckpt_path is not None and not Path(args.ckpt_path).is_file():
        p.error(f"--ckpt_path: no checkpoint file at {args.ckpt_path!r}")

    config, _ = PRETRAINED[args.name]
    out = Path(args.out) if args.out else ASSETS / args.name
    taken = [name for name in HF_FILES if (out / name).exists()]
    if taken and not args.overwrite:
        sys.exit(f"out: {out} already holds {', '.join(taken)}; pass --overwrite to replace them")
    source = locate("mnist", args.data_dir)
    if source is None:
        sys.exit(f"data_dir: no MNIST IDX files under {args.data_dir}")
    n_train = len(load_split(source, "train")[1])
    env = dict(os.environ, WANDB_MODE="disabled")
    if args.threads:
        env.update(OMP_NUM_THREADS=str(args.threads), MKL_NUM_THREADS=str(args.threads))

    # 1. train (or take the given run's checkpoint)
    if args.ckpt_path is not None:
        last, minutes = Path(args.ckpt_path), None
    else:
        last, minutes = train(args, config, Path(args.work) / args.name, fit_overrides, env)

    with tempfile.TemporaryDirectory() as tmp:
        # 2. pack the EMA generator (fp16) exactly as it ships
        staged = Path(tmp) / args.name
        run(["export", "--ckpt_path", str(last), "--format", "hf", "--out", str(staged), "--n_samples", "0"], env)
        # 3. measure the packed weights: full test split, the shipped sample's, and the real-digit floor
        empty = Path(tmp) / "no-data"  # no MNIST here: evaluate falls back to the shipped sample
        empty.mkdir()
        n = args.n_samples
        full = evaluate(["--pretrained", str(staged)], n, args.data_dir, env)
        sample = evaluate(["--pretrained", str(staged)], n, str(empty), env)
        floor = evaluate(["--real"], n, args.data_dir, env)
        ref = args.name
        metrics = [
            entry(
                "this model",
                f"MNIST test split ({full['n_real']:,} digits)",
                n,
                f"gan-lightning evaluate --pretrained {ref} --n_samples {n} --data_dir data",
                full,
            ),
            entry(
                "this model",
                f"shipped sample test split ({sample['n_real']:,} digits)",
                n,
                f"gan-lightning evaluate --pretrained {ref} --n_samples {n}  # in a folder without data/",
                sample,
            ),
            entry(
                "real training digits (the floor)",
                f"MNIST test split ({floor['n_real']:,} digits)",
                n,
                f"gan-lightning evaluate --real --n_samples {n} --data_dir data",
                floor,
            ),
        ]
        # 4. the final folder: same weights, card with the numbers and how they were made
        model = GAN.from_pretrained(staged)
        threads = args.threads or torch.get_num_threads()
        if args.ckpt_path is None:
            command = f"python scripts/train_pretrained.py {args.name} --data_dir data --max_time {args.max_time}"
            command += f" --max_epochs {args.max_epochs}" if args.max_epochs != -1 else ""
            command += f" --seed {args.seed} --n_samples {n}" + (f" --threads {args.threads}" if args.threads else "")
            command += (" " + shlex.join(fit_overrides)) if fit_overrides else ""
            training = {
                "config": f"`{config}`" + (f" with `{shlex.join(fit_overrides)}`" if fit_overrides else ""),
                "data": f"MNIST: {n_train:,} real training digits (the test split only scores)",
                "budget": f"max_time {args.max_time}"
                + (f", max_epochs {args.max_epochs}" if args.max_epochs != -1 else "")
                + f" (wall clock, validation included; {minutes:.1f} min used)",
                "hardware": _hardware(fit_overrides, threads),
                "seed": f"seed_everything {args.seed}; metrics: {n:,} samples, noise seed 0",
                "command": f"`{command}`",
            }
        else:  # a run made by another command: that command is the recipe, this one only packed it
            made = _run_config(last)
            trainer = made.get("trainer") or {}
            # (an epoch limit of 1000 or more is the benchmark's "no limit")
            given = {k: trainer.get(k) for k in ("max_steps", "max_epochs", "max_time")}
            given["max_epochs"] = None if (given["max_epochs"] or 0) >= 1000 else given["max_epochs"]
            bounds = [f"{k} {v}" for k, v in given.items() if v not in (None, -1)]
            pack = f"python scripts/train_pretrained.py {args.name} --data_dir data"
            pack += " --ckpt_path RUN/checkpoints/last.ckpt"
            training = {
                "config": f"`{config}`",
                "data": f"MNIST: {n_train:,} real training digits (the test split only scores)",
                "budget": ", ".join(bounds) + " (the bounds in the run's config.yaml; the steps it reached are below)"
                if bounds
                else "see the training command",
                "seed": f"seed_everything {made.get('seed_everything', '?')}; metrics: {n:,} samples, noise seed 0",
                "command": f"trained by `{args.trained_by}`; packed by `{pack} --trained_by ...`",
            }
        model.hub_info["metrics"] = metrics
        model.hub_info["training"] = {**training, **model.hub_info.get("training", {})}  # + the checkpoint's steps
        final = Path(tmp) / "final"
        export_hf(model, final, n_samples=0, model_ref=ref)
        a, b = _tensors(staged), _tensors(final)
        if a.keys() != b.keys() or any(not torch.equal(a[k], b[k]) for k in a):
            sys.exit("the packed weights changed between measuring and writing")
        out.mkdir(parents=True, exist_ok=True)
        for name in HF_FILES:
            (out / name).write_bytes((final / name).read_bytes())
    print(
        f"wrote {out}: FID {full['fid']:.3f} (floor {floor['fid']:.3f}), class acc {full.get('class_acc', '-')}, "
        f"modes {full['modes']}, KL uniform {full['kl_uniform']:.4f}"
    )


def train(args: argparse.Namespace, config: str, root: Path, fit_overrides: list[str], env: dict) -> tuple[Path, float]:
    """Step 1: `gan-lightning fit` for the budget; (its last checkpoint, minutes taken)."""
    fit = ["fit", "--config", config, "--config", "configs/logger/csv.yaml"]
    fit += [f"--seed_everything={args.seed}", f"--trainer.max_time={args.max_time}"]
    fit += [f"--trainer.max_epochs={args.max_epochs}", f"--trainer.default_root_dir={root}"]
    fit += [f"--data.data_dir={args.data_dir}", "--data.download=false", "--trainer.enable_progress_bar=false"]
    fit += fit_overrides
    started = time.perf_counter()
    run(fit, env)
    minutes = (time.perf_counter() - started) / 60
    last = find_last_checkpoint(root)
    if last is None:
        sys.exit(f"no last.ckpt under {root}")
    return last, minutes


def _run_config(ckpt: Path) -> dict:
    """The config.yaml Lightning wrote beside the run's checkpoints folder ({} if there is none)."""
    import yaml

    path = ckpt.parent.parent / "config.yaml"
    return (yaml.safe_load(path.read_text()) or {}) if path.is_file() else {}


def _hardware(fit_overrides: list[str], threads: int) -> str:
    # The configs leave trainer.accelerator on "auto": a visible GPU trains unless the overrides say cpu.
    if torch.cuda.is_available() and "cpu" not in " ".join(fit_overrides):
        return torch.cuda.get_device_name(0)
    return f"CPU, {threads} thread(s)"


def _tensors(folder: Path) -> dict:
    from safetensors.torch import load_file

    return load_file(str(folder / "model.safetensors"))


if __name__ == "__main__":
    main()
