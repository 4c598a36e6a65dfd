"""Sample quality per config for a fixed wall-clock training budget, scored with the project's metrics.

For every config: `gan-lightning fit` on the MNIST found under --data_dir for --budget_min minutes
(Lightning's `trainer.max_time`; in-training validation off so the whole budget trains), then
`evaluate` of its last checkpoint: --n_samples samples against the official test split. Writes a
markdown table and the raw JSON next to it.

    python benchmarks/quality.py --data_dir ../shared/data --budget_min 10            # the default configs
    python benchmarks/quality.py --data_dir ../shared/data --budget_min 10 --configs configs/gan_mlp.yaml
    python benchmarks/quality.py --budget_min 1 --n_samples 2000 --set model.init_args.ema_decay=0.999

Each fit runs in its own process with --threads torch threads, one after another: run it on an
otherwise idle machine, since the budget is wall-clock time.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_CONFIGS = ["configs/cgan_dcgan28.yaml", "configs/gan_dcgan28.yaml"]
COLUMNS = ["config", "steps (G)", "epochs", "FID", "KID", "class_acc", "modes", "KL(unif)", "IS", "diversity",
           "class_fid", "train min"]


def _fmt(value, digits: int = 2) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def train(config: str, args: argparse.Namespace, root: Path) -> tuple[Path, float]:
    """Fit `config` for the budget; returns (last checkpoint, seconds the fit process took)."""
    minutes = args.budget_min
    fit_args = [
        "fit", "--config", config,
        "--config", str(REPO / "configs/logger/csv.yaml"),
        "--trainer.default_root_dir", str(root),
        "--trainer.max_epochs", "100000",
        "--trainer.max_time", f"00:00:{int(minutes):02d}:{round((minutes % 1) * 60):02d}",
        "--trainer.limit_val_batches", "0",
        "--trainer.enable_progress_bar", "false",
        "--data.data_dir", args.data_dir,
        "--data.download", "false",
    ]  # fmt: skip
    for item in args.set:
        key, _, value = item.partition("=")
        fit_args += [f"--{key}", value]
    # The console script in a process of its own, with a fixed number of torch threads.
    launcher = (
        f"import sys, torch; torch.set_num_threads({args.threads}); "
        "from gan_lightning.cli import main; main(sys.argv[1:])"
    )
    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads), WANDB_MODE="disabled")
    t0 = time.perf_counter()
    with open(root / "fit.log", "w") as log:
        subprocess.run([sys.executable, "-c", launcher, *fit_args], cwd=REPO, env=env, stdout=log,
                       stderr=subprocess.STDOUT, check=True)  # fmt: skip
    return newest_checkpoint(root), time.perf_counter() - t0


def newest_checkpoint(root: Path) -> Path:
    ckpts = sorted(root.glob("lightning_logs/version_*/checkpoints/last.ckpt"), key=lambda p: p.stat().st_mtime)
    if not ckpts:
        raise RuntimeError(f"no last.ckpt under {root} (see {root / 'fit.log'})")
    return ckpts[-1]


def write_tables(rows: list[dict], args: argparse.Namespace) -> None:
    """The markdown table and the raw JSON of every config scored so far."""
    lines = [
        f"Training budget {args.budget_min} min per config, torch threads {args.threads}, data {args.data_dir}, "
        f"{args.n_samples} samples vs the test split." + (f" Overrides: {' '.join(args.set)}" if args.set else ""),
        "",
        "| " + " | ".join(COLUMNS) + " |",
        "| " + " | ".join("---" for _ in COLUMNS) + " |",
    ]
    for r in rows:
        cells = [r["config"], r["g_steps"], r["epochs"], _fmt(r["fid"]), _fmt(r["kid"], 4), _fmt(r.get("class_acc"), 3),
                 r["modes"], _fmt(r["kl_uniform"], 3), _fmt(r["is"]), _fmt(r.get("diversity")),
                 _fmt(r.get("class_fid")), _fmt(r["fit_seconds"] and r["fit_seconds"] / 60, 1)]
        lines.append("| " + " | ".join(map(str, cells)) + " |")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".md").write_text("\n".join(lines) + "\n")
    out.with_suffix(".json").write_text(json.dumps(rows, indent=2) + "\n")
    print("\n".join(lines), flush=True)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--configs", nargs="+", default=DEFAULT_CONFIGS)
    p.add_argument("--budget_min", type=float, default=10.0, help="training wall-clock minutes per config")
    p.add_argument("--data_dir", default="data", help="MNIST folder (IDX files); the shipped sample if none")
    p.add_argument("--n_samples", type=int, default=10_000, help="samples scored per config")
    p.add_argument("--threads", type=int, default=2, help="torch threads of each fit")
    p.add_argument("--set", nargs="*", default=[], help="overrides KEY=VALUE, e.g. model.init_args.ema_decay=0.999")
    p.add_argument("--out", default="benchmarks/results/quality", help="output prefix (.md and .json)")
    p.add_argument("--work_dir", default="runs/benchmark_quality", help="where the runs are kept")
    p.add_argument("--score_only", action="store_true", help="no training: score the newest last.ckpt in --work_dir")
    args = p.parse_args(argv)
    if args.budget_min <= 0 or args.budget_min >= 60:
        p.error(f"--budget_min must be in (0, 60), got {args.budget_min}")

    import torch

    from gan_lightning.evaluate import evaluate

    torch.set_num_threads(args.threads)
    rows = []
    for config in args.configs:
        name = Path(config).stem
        root = Path(args.work_dir) / name
        root.mkdir(parents=True, exist_ok=True)
        if args.score_only:
            ckpt, seconds = newest_checkpoint(root), None
        else:
            print(f"[{name}] training for {args.budget_min} min ...", flush=True)
            ckpt, seconds = train(config, args, root)
        state = torch.load(ckpt, map_location="cpu", weights_only=False)
        g_steps = int(state["state_dict"].get("g_steps", -1))
        result = evaluate(str(ckpt), n_samples=args.n_samples, data_dir=args.data_dir)
        fit_seconds = None if seconds is None else round(seconds, 1)
        result.update(config=name, g_steps=g_steps, epochs=state["epoch"] + 1, fit_seconds=fit_seconds,
                      checkpoint=str(ckpt), overrides=args.set)
        rows.append(result)
        print(json.dumps({k: result.get(k) for k in ("config", "g_steps", "fid", "kid", "class_acc", "modes")}),
              flush=True)
        write_tables(rows, args)  # after every config: a crash later keeps what was measured



if __name__ == "__main__":
    main()
