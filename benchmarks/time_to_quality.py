"""Time to quality: how long until the digits look right, through the README's own command.

For every config and seed: one `gan-lightning fit` process, exactly as a user runs it (its validation,
callbacks and W&B logger, offline), stopped by `--trainer.max_time`, with one callback added:
`WallClockSnapshots` keeps the model's weights each time the process's age (start-up included,
measured from the moment this script launches it) passes a mark (every --every_s seconds), and
times every validation. Scoring happens afterwards, so it costs the run nothing: `evaluate` (the
project's metrics: FID, class accuracy, KID, modes) of each kept state against the official test
split. Writes a table, the raw JSON and a plot of FID against minutes (one line per config, the
band between its best and worst seed) next to --out.

    python benchmarks/time_to_quality.py --data_dir DIR --configs cgan_dcgan28 gan_dcgan28_selfcond \\
        --minutes 3 --seeds 0 1 2

The headline: minutes until FID <= 3x the real floor (1.86: the 10,000 real training digits
against the test set, docs/metrics.md) and class accuracy >= 0.98, for the worst seed. A wall-clock
benchmark needs an otherwise idle machine: runs go one after another, then the scoring.
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
from typing import Any

import lightning as L
import torch

REPO = Path(__file__).resolve().parent.parent
FLOOR = 1.86  # FID of the real training digits against the test set, 10,000 each (docs/metrics.md)
TARGET = {"fid": 3 * FLOOR, "class_acc": 0.98}
COLUMNS = [("min", "minutes", 2), ("batches", "batches", 0), ("G steps", "g_steps", 0), ("FID", "fid", 2),
           ("class_acc", "class_acc", 4), ("KID", "kid", 4), ("modes", "modes", 0)]  # fmt: skip


class WallClockSnapshots(L.Callback):
    """Keeps the model's weights at wall-clock marks of the process's age, and times validation.

    Args:
        folder: where the states go (`mark_<seconds>.pt`, each with its age, batches and G steps) and
            `timing.json` (validation seconds, fit seconds) at the end.
        t0: the launch time of the process (`time.time()` of whoever started it): marks count from it.
        every_s: seconds between marks.
    """

    def __init__(self, folder: str, t0: float, every_s: float = 30.0) -> None:
        self.folder, self.t0, self.every_s = Path(folder), float(t0), float(every_s)
        self.next_mark, self.validation_s, self._val_start = self.every_s, 0.0, None
        self.folder.mkdir(parents=True, exist_ok=True)

    def on_train_batch_end(self, trainer: L.Trainer, pl_module: L.LightningModule, *args: Any) -> None:
        age = time.time() - self.t0
        if age >= self.next_mark:
            self._keep(trainer, pl_module, age)
            while self.next_mark <= age:
                self.next_mark += self.every_s

    def on_validation_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._val_start = time.perf_counter()

    def on_validation_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if self._val_start is not None:
            self.validation_s += time.perf_counter() - self._val_start
            self._val_start = None

    def on_train_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        age = time.time() - self.t0
        self._keep(trainer, pl_module, age)  # the state the budget ends with
        timing = {"validation_s": self.validation_s, "age_at_end_s": age}
        (self.folder / "timing.json").write_text(json.dumps(timing))

    def _keep(self, trainer: L.Trainer, pl_module: L.LightningModule, age: float) -> None:
        if not trainer.is_global_zero:
            return
        state = {k: v.detach().cpu() for k, v in pl_module.state_dict().items()}
        # Batches trained so far: Lightning's logging count, which it advances right after this hook.
        info = {"age_s": age, "batches": trainer.fit_loop.epoch_loop._batches_that_stepped + 1,
                "g_steps": int(getattr(pl_module, "generator_steps", 0))}  # fmt: skip
        torch.save({"state_dict": state, **info}, self.folder / f"mark_{age:08.2f}.pt")


def train(
    config: str, seed: int, args: argparse.Namespace, root: Path, callback: str = "time_to_quality.WallClockSnapshots"
) -> Path:
    """One fit process of `config` for --minutes, with `callback` (a `WallClockSnapshots`, by import path
    from benchmarks/); returns the folder of its snapshots."""
    snapshots = root / "snapshots"
    t0 = time.time()
    cmd = [
        sys.executable, "-m", "gan_lightning", "fit", "--config", str(REPO / "configs" / f"{config}.yaml"),
        f"--data.data_dir={args.data_dir}", "--data.download=false", f"--seed_everything={seed}",
        f"--trainer.max_time=00:00:{args.minutes // 60:02d}:{args.minutes % 60:02d}",
        f"--trainer.default_root_dir={root}", "--trainer.enable_progress_bar=false",
        f"--trainer.callbacks+={callback}", f"--trainer.callbacks.init_args.folder={snapshots}",
        f"--trainer.callbacks.init_args.t0={t0}", f"--trainer.callbacks.init_args.every_s={args.every_s}",
        *[f"--{item}" for item in args.set],
    ]  # fmt: skip
    env = {**os.environ, "WANDB_MODE": "offline", "PYTHONPATH": os.pathsep.join([str(REPO / "benchmarks"), str(REPO)])}
    env["OMP_NUM_THREADS"] = str(args.threads)
    with open(root / "fit.log", "w") as log:
        subprocess.run(cmd, check=True, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=root)
    timing = json.loads((snapshots / "timing.json").read_text())
    timing["process_s"] = time.time() - t0
    (snapshots / "timing.json").write_text(json.dumps(timing))
    return snapshots


def score(snapshots: Path, seed: int, args: argparse.Namespace) -> list[dict]:
    """`evaluate` of every kept state, in the order of the marks."""
    from gan_lightning.commands.evaluate import evaluate
    from gan_lightning.commands.generate import load_model

    (last,) = sorted(snapshots.parent.rglob("last.ckpt"))
    model = load_model(last)  # the run's structure; each state is loaded into it
    rows = []
    for path in sorted(snapshots.glob("mark_*.pt")):
        kept = torch.load(path, weights_only=True)
        model.load_state_dict(kept["state_dict"])
        values = evaluate(model=model, n_samples=args.n_samples, data_dir=args.data_dir, seed=seed)
        rows.append({"minutes": kept["age_s"] / 60, "batches": kept["batches"], "g_steps": kept["g_steps"],
                     **{k: values[k] for k in ("fid", "class_acc", "kid", "modes") if k in values}})  # fmt: skip
    return rows


def minutes_to_target(rows: list[dict], conditional: bool) -> float | None:
    """The first mark at which FID (and, for a conditional model, class accuracy) meets `TARGET`, and
    stays met at every later mark; None if the run never gets there."""

    def met(row: dict) -> bool:
        return row["fid"] <= TARGET["fid"] and (not conditional or row.get("class_acc", 0.0) >= TARGET["class_acc"])

    found = None
    for row in rows:
        found = (row["minutes"] if found is None else found) if met(row) else None
    return found


def _fmt(value: Any, digits: int) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value:,.{digits}f}" if digits else f"{int(round(value)):,}"


def write_report(results: dict, args: argparse.Namespace, out: Path) -> None:
    lines = [
        "# Time to quality", "",
        f"- command: `python benchmarks/time_to_quality.py {' '.join(args.argv)}`",
        f"- budget {args.minutes} s per run (whole process, start-up included; `--trainer.max_time` stops training "
        f"{args.minutes} s after fit starts), marks every {args.every_s:g} s, scored with {args.n_samples:,} samples "
        f"against the official test split; target: FID <= {TARGET['fid']:.2f} (3x the real floor {FLOOR}) and, "
        f"for conditional models, class_acc >= {TARGET['class_acc']}",
        f"- machine: {os.cpu_count()} CPU cores, {args.threads} torch thread(s), torch {torch.__version__}", "",
        "| config | seed | minutes to target | validation share | process (s) |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]  # fmt: skip
    for (config, seed), run in results.items():
        reached = minutes_to_target(run["rows"], run["conditional"])
        share = run["timing"]["validation_s"] / run["timing"]["process_s"]
        lines.append(f"| {config} | {seed} | {_fmt(reached, 2)} | {share:.1%} | {run['timing']['process_s']:.0f} |")
    for (config, seed), run in results.items():
        lines += ["", f"## {config}, seed {seed}", "", "| " + " | ".join(c[0] for c in COLUMNS) + " |",
                  "| " + " | ".join("---:" for _ in COLUMNS) + " |"]  # fmt: skip
        for row in run["rows"]:
            lines.append("| " + " | ".join(_fmt(row.get(key), digits) for _, key, digits in COLUMNS) + " |")
    out.write_text("\n".join(lines) + "\n")


def plot(results: dict, out: Path) -> None:
    """FID against minutes: per config the median over seeds at each mark, and the band of its seeds."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6.4, 4.0))
    ax = fig.subplots()
    for config in dict.fromkeys(c for c, _ in results):
        runs = [run["rows"] for (c, _), run in results.items() if c == config]
        marks = min(len(rows) for rows in runs)
        minutes = [sorted(rows[i]["minutes"] for rows in runs)[len(runs) // 2] for i in range(marks)]
        fids = [[rows[i]["fid"] for rows in runs] for i in range(marks)]
        ax.plot(minutes, [sorted(f)[len(f) // 2] for f in fids], marker="o", label=config)
        ax.fill_between(minutes, [min(f) for f in fids], [max(f) for f in fids], alpha=0.2)
    ax.axhline(TARGET["fid"], color="grey", linestyle="--", label=f"3x real floor ({TARGET['fid']:.2f})")
    ax.set_yscale("log")
    ax.set_xlabel("minutes of wall time (whole process, start-up included)")
    ax.set_ylabel("FID (classifier features, 10k test digits)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out, dpi=120)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--configs", nargs="+", default=["cgan_dcgan28", "gan_dcgan28_selfcond"])
    p.add_argument("--data_dir", default="data", help="MNIST IDX files (else the shipped 6,000-digit sample)")
    p.add_argument("--minutes", type=float, default=3.0, help="wall-clock budget of each run")
    p.add_argument("--every_s", type=float, default=30.0, help="seconds between kept states")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--n_samples", type=int, default=10_000, help="samples per scoring (10,000: the floor's)")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE", help="overrides, e.g. data.batch_size=128")
    p.add_argument("--work_dir", default="runs/time_to_quality")
    p.add_argument("--out", default=str(REPO / "benchmarks" / "results" / "time_to_quality_cpu.md"))
    args = p.parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)
    args.minutes = int(round(args.minutes * 60))  # seconds from here on
    args.data_dir = str(Path(args.data_dir).resolve())  # each fit runs in its own folder
    return args


def run_folders(args: argparse.Namespace, work: Path):
    """(config, seed, a new folder for its run) for every run asked for; an existing folder is refused, never reused."""
    for config in args.configs:
        for seed in args.seeds:
            root = work / f"{config}-seed{seed}"
            if root.exists():
                raise SystemExit(f"work_dir: {str(root)!r} exists; give a new --work_dir")
            root.mkdir(parents=True)
            yield config, seed, root


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    work = Path(args.work_dir).resolve()
    trained = {}
    for config, seed, root in run_folders(args, work):
        trained[config, seed] = train(config, seed, args, root)
        print(f"trained {config} seed {seed}", flush=True)
    results = {}
    for (config, seed), snapshots in trained.items():
        rows = score(snapshots, seed, args)
        conditional = "ConditionalGAN" in (REPO / "configs" / f"{config}.yaml").read_text()
        timing = json.loads((snapshots / "timing.json").read_text())
        results[config, seed] = {"rows": rows, "conditional": conditional, "timing": timing}
        print(f"scored {config} seed {seed}", flush=True)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".json").write_text(json.dumps([{"config": c, "seed": s, **r} for (c, s), r in results.items()]))
    write_report(results, args, out)
    plot(results, out.with_suffix(".png"))
    print(f"wrote {out}, {out.with_suffix('.json')} and {out.with_suffix('.png')}")


if __name__ == "__main__":
    main()
