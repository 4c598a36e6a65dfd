"""Sample quality per config for a fixed wall-clock training budget, scored with the project's metrics.

For every config (and variant, and seed): `gan-lightning fit` on the MNIST found under --data_dir
for --budget_min minutes (Lightning's `trainer.max_time`; in-training validation off so the whole
budget trains), then `evaluate` of its last checkpoint: --n_samples samples against the official
test split. Writes a markdown table and the raw JSON next to it.

    python benchmarks/quality.py --data_dir DIR --budget_min 10            # the default configs
    python benchmarks/quality.py --data_dir DIR --budget_min 10 --configs configs/gan_mlp.yaml
    python benchmarks/quality.py --budget_min 1 --n_samples 2000 --set model.init_args.ema_decay=0.999

Robust evidence: `--seeds 0 1 2` trains each config once per seed (`seed_everything`; the evaluation
noise uses the same seed) and reports every metric as mean +- std over the seeds with the worst
seed beside it. `--variant "NAME KEY=VALUE ..."` (repeatable) runs every config once per variant,
e.g. with and without augmentation; `--train_subset N` trains on N digits, N/10 of each class
(`data.train_subset`), the low-data track; `--cas` adds the Classification Accuracy Score of
conditional models (two classifier trainings: about two minutes per run on one CPU thread).

    python benchmarks/quality.py --data_dir DIR --budget_min 10 --seeds 0 1 2 --train_subset 1000 \\
        --variant base --variant "diffaug model.init_args.augment=translation,cutout" --cas

Each fit runs in its own process with --threads torch threads, one after another. A wall-clock
budget needs an otherwise idle machine; on a shared one, `--budget_batches N` fixes the work
instead (N training batches, i.e. `trainer.max_steps` of N discriminator steps plus N / n_critic
generator steps): the numbers then do not depend on what else the machine runs, and N can be
chosen as what --budget_min minutes buy at the config's measured throughput (benchmarks/throughput.py).

    python benchmarks/quality.py --data_dir DIR --configs configs/cgan_dcgan28.yaml \
        --budget_batches 6540 --seeds 0 1 2 --cas
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_CONFIGS = ["configs/cgan_dcgan28.yaml", "configs/gan_dcgan28.yaml"]
# The per-run table: (heading, result key, digits).
RUN_COLUMNS = [("steps (G)", "g_steps", 0), ("epochs", "epochs", 0), ("FID", "fid", 2), ("KID", "kid", 4),
               ("class_acc", "class_acc", 3), ("modes", "modes", 0), ("KL(unif)", "kl_uniform", 3), ("IS", "is", 2),
               ("diversity", "diversity", 2), ("class_fid", "class_fid", 2), ("precision", "precision", 3),
               ("recall", "recall", 3), ("density", "density", 3), ("coverage", "coverage", 3), ("CAS", "cas", 3),
               ("CAS real", "cas_real", 3), ("purity", "sample_cluster_purity", 3)]  # fmt: skip
# Metrics summarised over seeds, with their table heading and digits.
SUMMARY = {
    "fid": ("FID", 2),
    "kid": ("KID", 4),
    "class_acc": ("class_acc", 3),
    "precision": ("precision", 3),
    "recall": ("recall", 3),
    "density": ("density", 3),
    "coverage": ("coverage", 3),
    "cas": ("CAS", 3),
    "cas_real": ("CAS real", 3),
    "is": ("IS", 2),
    "diversity": ("diversity", 2),
    "kl_uniform": ("KL(unif)", 3),
    "modes": ("modes", 1),
    "class_fid": ("class_fid", 2),
    "g_steps": ("steps (G)", 0),
    "sample_cluster_purity": ("cluster purity", 3),  # self-conditioned models
}
LOWER_IS_BETTER = {"fid", "kid", "kl_uniform", "class_fid"}
ONE_IS_BEST = {"diversity", "density"}  # 1 is real-like; the worst seed is the farthest from 1


def _fmt(value, digits: int = 2) -> str:
    if value is None:
        return "-"
    if isinstance(value, float) and digits:
        return f"{value:.{digits}f}"
    return str(round(value)) if isinstance(value, float) else str(value)


def parse_variant(text: str) -> tuple[str, list[str]]:
    """``"NAME KEY=VALUE ..."`` -> (NAME, ["KEY=VALUE", ...]).

    Raises:
        ValueError: no name, or an override without ``=``.
    """
    name, *overrides = text.split()
    if not name or "=" in name:
        raise ValueError(f"--variant must start with a name, then KEY=VALUE overrides, got {text!r}")
    for item in overrides:
        if "=" not in item:
            raise ValueError(f"--variant {name}: overrides are KEY=VALUE, got {item!r}")
    return name, overrides


def n_critic(config: str, overrides: list[str]) -> int:
    """The run's n_critic: the last override of it, else the config file's, else the model's default 1."""
    import yaml

    value = (yaml.safe_load(Path(config).read_text()) or {}).get("model", {}).get("init_args", {}).get("n_critic", 1)
    for item in overrides:
        key, _, text = item.partition("=")
        if key.strip("-") == "model.init_args.n_critic":
            value = int(text)
    return int(value)


def fit_args(config: str, args: argparse.Namespace, root: Path, seed: int | None, overrides: list[str]) -> list[str]:
    """The `gan-lightning fit` arguments of one run."""
    # A batch budget keeps max_time only as a safety stop, long enough for a busy shared machine.
    minutes = 6 * 60.0 if args.budget_batches else args.budget_min
    seconds = round(minutes * 60)
    cmd = [
        "fit", "--config", config,
        "--config", str(REPO / "configs/logger/csv.yaml"),
        "--trainer.default_root_dir", str(root),
        "--trainer.max_epochs", "100000",
        "--trainer.max_time", f"00:{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}",  # DD:HH:MM:SS
        "--trainer.limit_val_batches", "0",
        "--trainer.enable_progress_bar", "false",
        "--data.data_dir", args.data_dir,
        "--data.download", "false",
    ]  # fmt: skip
    if args.budget_batches:
        # Lightning's max_steps counts every optimizer step: N D steps and N / n_critic G steps.
        steps = args.budget_batches + args.budget_batches // n_critic(config, [*args.set, *overrides])
        cmd += ["--trainer.max_steps", str(steps)]
    if seed is not None:
        cmd += ["--seed_everything", str(seed)]
    if args.train_subset is not None:
        cmd += ["--data.train_subset", str(args.train_subset)]
    for item in [*args.set, *overrides]:
        key, _, value = item.partition("=")
        cmd += [f"--{key}", value]
    return cmd


def train(config: str, args: argparse.Namespace, root: Path, seed: int | None, overrides: list[str]):
    """Fit one run for the budget; returns (last checkpoint, seconds the fit process took)."""
    # The console script in a process of its own, with a fixed number of torch threads.
    launcher = (
        f"import sys, torch; torch.set_num_threads({args.threads}); "
        "from gan_lightning.commands.cli import main; main(sys.argv[1:])"
    )
    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads), WANDB_MODE="disabled")
    t0 = time.perf_counter()
    with open(root / "fit.log", "w") as log:
        subprocess.run(
            [sys.executable, "-c", launcher, *fit_args(config, args, root, seed, overrides)],
            cwd=REPO,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            check=True,
        )
    return newest_checkpoint(root), time.perf_counter() - t0


def newest_checkpoint(root: Path) -> Path:
    ckpts = sorted(root.glob("lightning_logs/version_*/checkpoints/last.ckpt"), key=lambda p: p.stat().st_mtime)
    if not ckpts:
        raise RuntimeError(f"no last.ckpt under {root} (see {root / 'fit.log'})")
    return ckpts[-1]


def worst(key: str, values: list[float]) -> float:
    if key in LOWER_IS_BETTER:
        return max(values)
    if key in ONE_IS_BEST:
        return max(values, key=lambda v: abs(v - 1))
    return min(values)


def summarize(rows: list[dict]) -> list[dict]:
    """Per (config, variant): for every metric in SUMMARY that the runs have, its mean, sample std
    (None for one run) and worst value over the seeds, and the seeds themselves."""
    groups: dict[tuple[str, str], list[dict]] = {}
    for r in rows:
        groups.setdefault((r["config"], r.get("variant", "")), []).append(r)
    out = []
    for (config, variant), runs in groups.items():
        entry = {"config": config, "variant": variant, "seeds": [r.get("run_seed") for r in runs]}
        for key in SUMMARY:
            values = [float(r[key]) for r in runs if r.get(key) is not None]
            if len(values) != len(runs):
                continue  # a metric some runs lack (class_acc of a GAN, CAS without --cas) is not summarised
            mean = sum(values) / len(values)
            std = math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1)) if len(values) > 1 else None
            entry[key] = {"mean": mean, "std": std, "worst": worst(key, values)}
        out.append(entry)
    return out


def summary_table(summary: list[dict]) -> list[str]:
    """Markdown: mean +- std (worst seed) of every metric, one row per config and variant."""
    keys = [k for k in SUMMARY if any(k in s for s in summary)]
    head = ["config", "variant", "seeds", *(SUMMARY[k][0] for k in keys)]
    lines = ["| " + " | ".join(head) + " |", "| " + " | ".join("---" for _ in head) + " |"]
    for s in summary:
        cells = [s["config"], s["variant"] or "-", " ".join(map(str, s["seeds"]))]
        for k in keys:
            m, digits = s.get(k), SUMMARY[k][1]
            if m is None:
                cells.append("-")
            elif m["std"] is None:
                cells.append(_fmt(m["mean"], digits))
            else:
                cells.append(f"{_fmt(m['mean'], digits)} ± {_fmt(m['std'], digits)} ({_fmt(m['worst'], digits)})")
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def write_tables(rows: list[dict], args: argparse.Namespace) -> None:
    """The markdown tables (summary over seeds, then every run) and the raw JSON of every run so far."""
    subset = (
        f", trained on {args.train_subset} digits ({args.train_subset // 10} per class)" if args.train_subset else ""
    )
    budget = f"{args.budget_batches} training batches" if args.budget_batches else f"{args.budget_min} min"
    threads = sorted({str(r["threads"]) for r in rows if r.get("threads")}) or [str(args.threads)]
    lines = [
        f"Training budget {budget} per run, torch threads {' or '.join(threads)}, data {args.data_dir}{subset}, "
        f"{args.n_samples} samples vs the test split." + (f" Overrides: {' '.join(args.set)}" if args.set else ""),
        "",
    ]
    if args.seeds or args.include:
        lines += [
            "Mean ± std over the seeds (worst seed in brackets):",
            "",
            *summary_table(summarize(rows)),
            "",
            "Every run:",
            "",
        ]
    head = ["config", *(h for h, _, _ in RUN_COLUMNS), "train min"]
    lines += ["| " + " | ".join(head) + " |", "| " + " | ".join("---" for _ in head) + " |"]
    for r in rows:
        name = run_label(r["config"], r.get("variant", ""), r.get("run_seed"))
        minutes = r["fit_seconds"] and r["fit_seconds"] / 60
        cells = [name, *(_fmt(r.get(key), digits) for _, key, digits in RUN_COLUMNS), _fmt(minutes, 1)]
        lines.append("| " + " | ".join(cells) + " |")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".md").write_text("\n".join(lines) + "\n")
    out.with_suffix(".json").write_text(json.dumps(rows, indent=2) + "\n")
    print("\n".join(lines), flush=True)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--configs", nargs="+", default=DEFAULT_CONFIGS)
    p.add_argument("--budget_min", type=float, default=10.0, help="training wall-clock minutes per run")
    p.add_argument(
        "--budget_batches", type=int, default=None, help="train N batches instead of --budget_min (shared machines)"
    )
    p.add_argument("--data_dir", default="data", help="MNIST folder (IDX files); the shipped sample if none")
    p.add_argument("--n_samples", type=int, default=10_000, help="samples scored per run")
    p.add_argument("--threads", type=int, default=2, help="torch threads of each fit")
    p.add_argument("--set", nargs="*", default=[], help="overrides KEY=VALUE, e.g. model.init_args.ema_decay=0.999")
    p.add_argument(
        "--seeds",
        nargs="+",
        type=int,
        default=None,
        help="train every config once per seed; report mean, std and worst seed (default: the config's)",
    )
    p.add_argument(
        "--variant",
        action="append",
        default=None,
        metavar='"NAME KEY=VALUE ..."',
        help="run every config with these overrides too (repeatable); default: one run as configured",
    )
    p.add_argument("--train_subset", type=int, default=None, help="train on N digits, N/10 per class (low-data track)")
    p.add_argument("--cas", action="store_true", help="add the Classification Accuracy Score of conditional models")
    p.add_argument("--out", default="benchmarks/results/quality", help="output prefix (.md and .json)")
    p.add_argument("--work_dir", default="runs/benchmark_quality", help="where the runs are kept")
    p.add_argument("--score_only", action="store_true", help="no training: score the newest last.ckpt in each run dir")
    p.add_argument(
        "--include",
        nargs="+",
        default=[],
        metavar="JSON",
        help="rows of earlier runs (their .json) reported with this run's, e.g. seeds run in separate processes",
    )
    p.add_argument("--report_only", action="store_true", help="no runs: write the tables of the --include rows")
    args = p.parse_args(argv)
    if args.report_only and not args.include:
        p.error("--report_only needs --include JSON files to report")
    if args.budget_min <= 0 or args.budget_min >= 60:
        p.error(f"--budget_min must be in (0, 60), got {args.budget_min}")
    if args.budget_batches is not None and args.budget_batches <= 0:
        p.error(f"--budget_batches must be a positive integer, got {args.budget_batches}")
    if args.train_subset is not None and args.train_subset <= 0:
        p.error(f"--train_subset must be a positive integer, got {args.train_subset}")
    if args.seeds is not None and len(set(args.seeds)) != len(args.seeds):
        p.error(f"--seeds must not repeat a seed, got {args.seeds}")
    try:
        args.variants = [parse_variant(v) for v in args.variant] if args.variant else [("", [])]
    except ValueError as err:
        p.error(str(err))
    if len({name for name, _ in args.variants}) != len(args.variants):
        p.error(f"--variant names must differ, got {[name for name, _ in args.variants]}")
    return args


def run_label(config: str, variant: str, seed: int | None) -> str:
    return " ".join(x for x in (config, variant, f"seed {seed}" if seed is not None else "") if x)


def run_dir(args: argparse.Namespace, config: str, variant: str, seed: int | None) -> Path:
    """runs/<config>[/<variant>][/seed_<s>]: the plain layout when neither is asked for."""
    root = Path(args.work_dir) / Path(config).stem
    if variant:
        root = root / variant
    return root / f"seed_{seed}" if seed is not None else root


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    rows = [row for path in args.include for row in json.loads(Path(path).read_text())]
    if args.report_only:
        rows.sort(key=lambda r: (r["config"], r.get("variant", ""), r.get("run_seed") or 0))
        write_tables(rows, args)
        return

    import torch

    from gan_lightning.commands.evaluate import evaluate
    from gan_lightning.reliability.checkpoints import saved_model_name

    torch.set_num_threads(args.threads)
    for config in args.configs:
        for variant, overrides in args.variants:
            for seed in args.seeds or [None]:
                name = Path(config).stem
                label = run_label(name, variant, seed)
                root = run_dir(args, config, variant, seed)
                root.mkdir(parents=True, exist_ok=True)
                if args.score_only:
                    ckpt, seconds = newest_checkpoint(root), None
                else:
                    budget = f"{args.budget_batches} batches" if args.budget_batches else f"{args.budget_min} min"
                    print(f"[{label}] training for {budget} ...", flush=True)
                    ckpt, seconds = train(config, args, root, seed, overrides)
                state = torch.load(ckpt, map_location="cpu", weights_only=False)
                g_steps = int(state["state_dict"].get("g_steps", -1))
                cas = args.cas and saved_model_name(state.get("hyper_parameters") or {}) == "ConditionalGAN"
                result = evaluate(
                    str(ckpt),
                    n_samples=args.n_samples,
                    data_dir=args.data_dir,
                    seed=seed if seed is not None else 0,
                    cas=cas,
                )
                fit_seconds = None if seconds is None else round(seconds, 1)
                result.update(
                    config=name,
                    variant=variant,
                    run_seed=seed,
                    train_subset=args.train_subset,
                    g_steps=g_steps,
                    epochs=state["epoch"] + 1,
                    fit_seconds=fit_seconds,
                    threads=args.threads,
                    checkpoint=str(ckpt),
                    overrides=[*args.set, *overrides],
                )
                rows.append(result)
                keys = ("config", "variant", "run_seed", "g_steps", "fid", "kid", "class_acc", "precision", "recall")
                print(json.dumps({k: result.get(k) for k in keys}), flush=True)
                write_tables(rows, args)  # after every run: a crash later keeps what was measured


if __name__ == "__main__":
    main()
