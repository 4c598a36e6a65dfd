"""Training throughput of `fit` against a bare PyTorch loop over the same nets, per config.

Four modes, side by side in one process, interleaved and repeated (the median is reported, so a
burst of load on a shared machine moves one sample, not the result):

  fit (user)   `Trainer.fit` on the config exactly as `gan-lightning fit --config ...` builds it:
               its callbacks (checkpoints, grids, loss curves, progress bar) and its logger
               (W&B, offline); validation off (it runs between epochs, outside the timed window).
  fit (plain)  `Trainer.fit` on the same model and data module with no logger, callbacks or bar.
  bare         `benchmarks/bare_loop.py`: the same nets, loss, optimizers, EMA and batch size in a
               hand-written loop, batches cut from the training set normalised once in memory.
  tutorial     the bare loop fed the way most tutorials do: a DataLoader over a dataset that makes a
               PIL image of each digit, then ToTensor and Normalize.

Each measurement times `--steps` batches (default: as many as fit in one epoch after `--warmup`,
at most `--max_steps`) from the start of one batch to the start of another, inside one epoch:
steady-state training, no epoch-end work. With `--fit_args --data.steps_per_batch=K` fit's Lightning
batches carry K batches each: the counts are rounded to whole groups and every rate is per batch of
`data.batch_size`, as the bare loop's. `--whole_process N` also times whole processes of N
epochs (startup included, no validation): the console script against `bare_loop.py`.
`--group K ...` adds a `fit (user) K=k` mode for each k (the user's fit with `data.steps_per_batch=k`),
interleaved with the others, so one run compares group sizes side by side.

  python benchmarks/throughput.py --data_dir DIR                        # every 28 px config, 2 threads
  python benchmarks/throughput.py --data_dir DIR --configs cgan_dcgan28 gan_mlp_tutorial_v2 --whole_process 4
  python benchmarks/throughput.py --data_dir DIR --configs gan_mlp cgan_mlp --group 8    # K=1 against K=8
  python benchmarks/throughput.py --device gpu --precision bf16-mixed --configs cgan_dcgan28
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import lightning as L
import torch
from torch.utils.data import DataLoader, Dataset

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a checkout without installing
sys.path.insert(0, str(ROOT / "benchmarks"))

from bare_loop import BareGAN, tensor_batches  # noqa: E402

from gan_lightning.commands.cli import run_cli  # noqa: E402
from gan_lightning.modules.steps import MAX_STEPS_PER_BATCH  # noqa: E402

CONFIGS = ["cgan_dcgan28", "gan_dcgan28", "cgan_mlp", "gan_mlp", "gan_mlp_tutorial_v2", "gan_mlp_tutorial_v1"]
MODES = ["fit (user)", "fit (plain)", "bare", "tutorial"]


def cli_args(config: str, args, root: str) -> list[str]:
    return [
        "--config", str(ROOT / "configs" / f"{config}.yaml"), f"--data.data_dir={args.data_dir}",
        "--data.download=false", "--trainer.limit_val_batches=0", f"--trainer.default_root_dir={root}",
        f"--trainer.accelerator={args.device}", f"--trainer.precision={args.precision}",
        *(["--model.init_args.compile=true"] if args.compile else []), *args.fit_args,
    ]  # fmt: skip


def build(config: str, args, root: str, user: bool, group: int | None = None):
    """The config's trainer, model and data module, as the console script builds them (`group`: with
    that many batches per Lightning batch instead of the config's)."""
    argv, sys.argv = sys.argv, sys.argv[:1]  # LightningCLI warns when it also sees this script's own arguments
    try:
        extra = [] if user else ["--trainer.logger=false", "--model.init_args.metrics=false"]
        extra += [] if group is None else [f"--data.steps_per_batch={group}"]
        cli = run_cli(cli_args(config, args, root) + extra, run=False)
    finally:
        sys.argv = argv
    return cli


def hparams(cli) -> dict:
    """The model's settings as plain JSON values (for the bare loop, in or out of this process)."""
    hp = {k: (list(v) if isinstance(v, tuple) else v) for k, v in dict(cli.model.hparams).items()}
    hp["batch_size"] = cli.datamodule.batch_size
    return hp


class _StopWatch(L.Callback):
    """Times from the first Lightning batch that starts after `warmup` batches to the first that starts
    `steps` batches later, then stops fit. Counted in batches of `data.batch_size` (Lightning's logging
    count, which a group of K advances by K), so any group size, `auto`'s too, is timed alike."""

    def __init__(self, warmup: int, steps: int, sync: Callable[[], None]) -> None:
        self.warmup, self.steps, self.sync = warmup, steps, sync
        self.start: tuple[float, int] | None = None
        self.per_batch: float | None = None  # seconds per batch of data.batch_size

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        done = trainer.fit_loop.epoch_loop._batches_that_stepped
        if self.start is None and done >= self.warmup:
            self.sync()
            self.start = (time.perf_counter(), done)
        elif self.start is not None and done >= self.start[1] + self.steps:
            self.sync()
            self.per_batch = (time.perf_counter() - self.start[0]) / (done - self.start[1])
            trainer.should_stop = True


def run_fit(cli, user: bool, warmup: int, steps: int, sync) -> float:
    """Seconds per batch of `data.batch_size`."""
    watch = _StopWatch(warmup, steps, sync)
    if user:
        trainer = cli.trainer
        trainer.callbacks.append(watch)
    else:
        trainer = L.Trainer(
            accelerator=cli.trainer.accelerator, devices=1, max_epochs=-1, logger=False, callbacks=[watch],
            limit_val_batches=0, enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False,
            precision=cli.trainer.precision_plugin.precision, log_every_n_steps=cli.trainer.log_every_n_steps,
        )  # fmt: skip
    trainer.fit(cli.model, cli.datamodule)
    return watch.per_batch


class _TutorialMNIST(Dataset):
    """What `torchvision.datasets.MNIST` does per item: uint8 digit -> PIL image -> transform."""

    def __init__(self, images: torch.Tensor, labels: torch.Tensor) -> None:
        from torchvision import transforms

        self.images, self.labels = images.numpy(), labels.tolist()
        self.transform = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.5,), (0.5,))])

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, i: int):
        from PIL import Image

        return self.transform(Image.fromarray(self.images[i], mode="L")), self.labels[i]


def tutorial_batches(images: torch.Tensor, labels: torch.Tensor, batch: int, device) -> Iterator:
    loader = DataLoader(_TutorialMNIST(images, labels), batch_size=batch, shuffle=True, drop_last=True)
    while True:
        for x, y in loader:
            yield x.to(device, non_blocking=True), y.to(device, non_blocking=True)


def run_bare(hp: dict, batches: Iterator, warmup: int, steps: int, sync, device: str, args) -> float:
    # As in a bare script's own process: Lightning's import sets this (a slow CUDA check in every Adam step).
    nvml = os.environ.pop("PYTORCH_NVML_BASED_CUDA_CHECK", None)
    try:
        return _time_bare(hp, batches, warmup, steps, sync, device, args)
    finally:
        if nvml is not None:
            os.environ["PYTORCH_NVML_BASED_CUDA_CHECK"] = nvml


def _time_bare(hp: dict, batches: Iterator, warmup: int, steps: int, sync, device: str, args) -> float:
    model = BareGAN(hp, device, args.precision)
    if args.compile:
        model.compile()
    for i in range(warmup + steps + 1):
        if i == warmup:
            sync()
            t0 = time.perf_counter()
        elif i == warmup + steps:
            sync()
            return time.perf_counter() - t0
        model.step(*next(batches))
    raise AssertionError("unreachable")


def group_size(text: str) -> int | str:
    """A `--group` value: a positive integer or ``auto``."""
    if text == "auto" or (text.isdigit() and int(text) > 0):
        return text if text == "auto" else int(text)
    raise argparse.ArgumentTypeError(f"a positive integer or auto, got {text!r}")


def group_mode(k: int | str) -> str:
    return f"fit (user) K={k}"


def measure(config: str, args, work: Path) -> tuple[dict[str, list[float]], int, int]:
    """{mode: [seconds per batch, ...]}, the batch size and the timed batches per measurement."""
    probe = build(config, args, str(work / "probe"), user=False)
    probe.datamodule.setup("fit")
    hp, ds = hparams(probe), probe.datamodule.train_set
    batch, per_epoch = hp["batch_size"], len(ds) // hp["batch_size"]
    fixed = [k for k in args.group if k != "auto"]  # "auto" (in a config or here) is sized when fit starts
    unit = math.lcm(probe.datamodule.steps_per_batch, *fixed)  # fixed group sizes time whole groups
    auto = "auto" in args.group or probe.datamodule.order.undecided
    last = max(unit, MAX_STEPS_PER_BATCH if auto else 1)  # the timed window ends before the epoch's last group
    steps = args.steps or max(1, min(per_epoch - args.warmup - last, args.max_steps))
    steps, warmup = max(unit, steps - steps % unit), -(-args.warmup // unit) * unit
    device = "cuda" if args.device == "gpu" else "cpu"
    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
    groups = {"fit (user)": None, "fit (plain)": None} | {group_mode(k): k for k in args.group}  # fit mode -> K
    times: dict[str, list[float]] = {m: [] for m in [*MODES, *list(groups)[2:]]}
    for r in range(args.repeats):
        for mode in times:  # interleaved: slow phases of a shared machine hit every mode alike
            L.seed_everything(r, verbose=False)
            if mode.startswith("fit"):
                user, k = mode != "fit (plain)", groups[mode]
                cli = build(config, args, str(work / f"{config}-{r}-{mode.replace(' ', '')}"), user=user, group=k)
                times[mode].append(run_fit(cli, user, warmup, steps, sync))
            else:
                make = tensor_batches if mode == "bare" else tutorial_batches
                seconds = run_bare(hp, make(ds.images, ds.labels, batch, device), warmup, steps, sync, device, args)
                times[mode].append(seconds / steps)
    return times, batch, steps


def whole_process(config: str, args, work: Path) -> tuple[dict[str, list[float]], str]:
    """Wall seconds of whole processes (startup included, no validation): the console script vs the
    bare loop, `args.whole_process` epochs, or `args.whole_max_batches` batches of one epoch if fewer."""
    probe = build(config, args, str(work / "probe-whole"), user=False)
    probe.datamodule.setup("fit")
    hp = hparams(probe)
    per_epoch = len(probe.datamodule.train_set) // hp["batch_size"]
    hp_file = work / f"{config}.json"
    hp_file.write_text(json.dumps(hp))
    if args.whole_process * per_epoch <= args.whole_max_batches:
        run, fit_len, bare_len = f"{args.whole_process} epochs", [f"--trainer.max_epochs={args.whole_process}"], []
        bare_len = ["--epochs", str(args.whole_process)]
    else:
        n = args.whole_max_batches
        group = probe.datamodule.steps_per_batch  # Lightning batches of fit hold this many batches each
        run, fit_len = f"{n} batches", ["--trainer.max_epochs=1", f"--trainer.limit_train_batches={-(-n // group)}"]
        bare_len = ["--epochs", "1", "--max_batches", str(n)]
    env = {**os.environ, "WANDB_MODE": "offline", "OMP_NUM_THREADS": str(args.threads or torch.get_num_threads())}
    device = "cuda" if args.device == "gpu" else "cpu"
    walls: dict[str, list[float]] = {"fit": [], "bare": []}
    for r in range(args.repeats):
        root = work / f"{config}-whole-{r}"
        fit_cmd = [sys.executable, "-m", "gan_lightning", "fit", *cli_args(config, args, str(root)), *fit_len,
                   "--trainer.enable_progress_bar=false"]  # fmt: skip
        bare_cmd = [sys.executable, str(ROOT / "benchmarks" / "bare_loop.py"), "--hparams", str(hp_file),
                    "--data_dir", args.data_dir, *bare_len, "--device", device,
                    "--precision", args.precision, "--seed", str(r)]  # fmt: skip
        for name, cmd in (("fit", fit_cmd), ("bare", bare_cmd)):
            t0 = time.perf_counter()
            subprocess.run(cmd, check=True, env=env, cwd=work, capture_output=True)
            walls[name].append(time.perf_counter() - t0)
    return walls, run


def table(results: dict, batches: dict, steps: dict) -> str:
    extra = [m for m in next(iter(results.values())) if m not in MODES]  # the `--group` modes
    lines = [
        "| config | batch | timed batches | fit (user) batches/s | fit (plain) batches/s | bare batches/s "
        "| tutorial batches/s | fit (user) img/s | fit (user) / bare | fit (plain) / bare | overhead ms/batch "
        "| fit (user) / tutorial |" + "".join(f" {m} / bare | {m} overhead ms/batch |" for m in extra),
        "| --- |" + " ---: |" * (11 + 2 * len(extra)),
    ]
    for config, times in results.items():
        med = {m: statistics.median(v) for m, v in times.items()}  # seconds per batch
        rate = {m: 1.0 / s for m, s in med.items()}
        lines.append(
            f"| {config} | {batches[config]} | {steps[config]} "
            f"| {rate['fit (user)']:,.1f} | {rate['fit (plain)']:,.1f} "
            f"| {rate['bare']:,.1f} | {rate['tutorial']:,.1f} | {rate['fit (user)'] * batches[config]:,.0f} "
            f"| {med['bare'] / med['fit (user)']:.2f}x | {med['bare'] / med['fit (plain)']:.2f}x "
            f"| {(med['fit (user)'] - med['bare']) * 1e3:+.2f} | {med['tutorial'] / med['fit (user)']:.2f}x |"
            + "".join(f" {med['bare'] / med[m]:.2f}x | {(med[m] - med['bare']) * 1e3:+.2f} |" for m in extra)
        )
    return "\n".join(lines)


def whole_table(walls: dict) -> str:
    lines = [
        "| config | run | fit process (s) | bare process (s) | fit / bare speed |",
        "| --- | --- | ---: | ---: | ---: |",
    ]
    for config, (w, run) in walls.items():
        fit, bare = statistics.median(w["fit"]), statistics.median(w["bare"])
        lines.append(f"| {config} | {run} | {fit:.1f} | {bare:.1f} | {bare / fit:.2f}x |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--configs", nargs="+", default=CONFIGS, choices=CONFIGS, metavar="CONFIG")
    p.add_argument("--data_dir", default="data", help="IDX files (else the shipped 6,000-digit sample)")
    p.add_argument("--device", default="cpu", choices=["cpu", "gpu"])
    p.add_argument("--steps", type=int, default=None, help="timed batches per measurement (default: one epoch's worth)")
    p.add_argument("--max_steps", type=int, default=2000, help="cap on the default timed batches")
    p.add_argument("--warmup", type=int, default=10, help="untimed batches first (allocator, caches, compile)")
    p.add_argument("--repeats", type=int, default=3, help="measurements per mode; the median is reported")
    p.add_argument("--precision", default="32-true", choices=["32-true", "bf16-mixed", "16-mixed"])
    p.add_argument("--compile", action="store_true", help="torch.compile the nets in every mode")
    p.add_argument("--threads", type=int, default=2, help="torch.set_num_threads (0: torch's choice)")
    p.add_argument("--whole_process", type=int, default=0, metavar="EPOCHS", help="also time whole processes")
    p.add_argument("--whole_max_batches", type=int, default=3000, help="whole processes: at most this many batches")
    p.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "throughput_cpu.md"))
    p.add_argument("--group", nargs="+", type=group_size, default=[], metavar="K",
                   help="also time the user's fit with data.steps_per_batch=K (a number or auto)")  # fmt: skip
    p.add_argument("--fit_args", nargs=argparse.REMAINDER, default=[], help="CLI overrides for both fit modes")
    args = p.parse_args(argv)
    args.data_dir = str(Path(args.data_dir).resolve())  # the whole-process runs start in another folder
    if args.threads:
        torch.set_num_threads(args.threads)
    os.environ.setdefault("WANDB_MODE", "offline")  # the user's fit logs to W&B; offline here, as without credentials

    results, batches, steps, walls = {}, {}, {}, {}
    with tempfile.TemporaryDirectory() as tmp:
        for config in args.configs:
            results[config], batches[config], steps[config] = measure(config, args, Path(tmp))
            print(
                f"{config}: "
                + "; ".join(f"{m} " + " ".join(f"{1 / s:,.1f}" for s in v) for m, v in results[config].items())
            )
            if args.whole_process:
                walls[config] = whole_process(config, args, Path(tmp))
                print(f"{config} whole process: {walls[config]}")
    command = "python benchmarks/throughput.py " + " ".join(argv if argv is not None else sys.argv[1:])
    report = (
        f"Training throughput, median of {args.repeats} interleaved measurements per mode; each times the "
        f"given number of batches inside one epoch after {args.warmup} warm-up batches. Precision "
        f"{args.precision}{', compiled' if args.compile else ''}.\n\n"
        f"- command: `{command.strip()}`\n- machine: {platform.processor() or ''} {platform.machine()}, "
        f"device {torch.cuda.get_device_name() if args.device == 'gpu' else 'cpu'}, torch {torch.__version__}, "
        f"lightning {L.__version__}, {torch.get_num_threads()} thread(s)\n\n" + table(results, batches, steps)
    )
    if walls:
        report += "\n\nWhole processes (startup included, no validation; median wall seconds):\n\n"
        report += whole_table(walls)
    raw = "\n".join(f"- {c}: " + "; ".join(f"{m} " + ", ".join(f"{1 / s:,.1f}" for s in v) for m, v in t.items())
                    for c, t in results.items())  # fmt: skip
    report += "\n\nEvery measurement (batches/s, in run order):\n\n" + raw + "\n"
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(report)
    print(report)
    print(f"written to {out}")


if __name__ == "__main__":
    main()
