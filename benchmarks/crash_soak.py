"""Crash soak: SIGKILL a `fit` at random moments, resume it with `--ckpt_path last`, compare the end.

A small MLP GAN trains on the shipped MNIST sample with a checkpoint every `every_n_train_steps`
optimizer steps. The soak starts the run, waits until it has written a checkpoint, lets it train
a random while longer, and kills it with SIGKILL (no handler runs, nothing is flushed: a power
cut as far as the run can tell). After each kill it records whether the killed run's `last.ckpt`
loads; then the same command plus `--ckpt_path last` goes on. After `kills` kills a last resume
trains to the end, and its final weights and optimizer states are compared, bit for bit, with
those of a run of the same length that was never stopped (on the CPU, one thread).

    nice -n 10 python benchmarks/crash_soak.py --kills 20 --out benchmarks/results/crash_soak.md

The kill moments are uniform over [0, T / (kills + 1)] after each segment's first checkpoint,
T being how long the uninterrupted run trained: the kills spread over the run on any machine.

`--writer lightning` puts Lightning's own checkpoint writer back (what runs without the CLI's
`AtomicCheckpointIO`), to compare; with `TMPDIR` on another filesystem than the run its rename
becomes a copy over the old file. `launch="fork"` (the test suite's soak) forks each fit from
this process, which has imported torch already (a new interpreter takes 10+ s on a shared CPU);
`launch="exec"` (this script's default) starts each as a new Python process.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from gan_lightning.reliability.checkpoints import CheckpointError, read_checkpoint  # noqa: E402

CONFIG = """
seed_everything: 0
trainer:
  logger:
    class_path: lightning.pytorch.loggers.CSVLogger
    init_args: {{name: lightning_logs}}
  callbacks:
    - class_path: lightning.pytorch.callbacks.ModelCheckpoint
      init_args: {{every_n_train_steps: {every}, save_last: true, save_top_k: 0}}
  max_epochs: {epochs}
  limit_train_batches: {batches}
  limit_val_batches: 0
  log_every_n_steps: 1000
  enable_progress_bar: false
  enable_model_summary: false
model:
  class_path: gan_lightning.GAN
  init_args: {{arch: mlp, g_hidden: [{hidden}], d_hidden: [{hidden}], latent_dim: 16, d_dropout: 0.3, metrics: false}}
data:
  download: false
  batch_size: 16
"""
WRITERS = ("atomic", "lightning")


@dataclass
class Soak:
    """What to run: the training run and the kills."""

    kills: int = 3
    every: int = 1  # every_n_train_steps (a batch makes 2 optimizer steps)
    epochs: int = 6
    batches: int = 10  # training batches per epoch
    hidden: int = 32  # MLP width: the checkpoint's size
    launch: str = "fork"
    writer: str = "atomic"
    seed: int | None = None  # of the kill moments


@dataclass
class Kill:
    delay_s: float  # how long the segment trained after its first checkpoint
    loads: bool = True  # its last.ckpt loads
    error: str = ""
    ckpt_step: int | None = None  # global_step of that last.ckpt
    mid_write: bool = False  # the kill landed inside a checkpoint write (a temporary file left, or last.ckpt broken)


@dataclass
class SoakResult:
    kills: list[Kill] = field(default_factory=list)
    train_s: float = 0.0  # how long the uninterrupted run trained
    final_step: int = 0
    reference_step: int = 0
    mismatches: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def equal(self) -> bool:
        return self.final_step == self.reference_step and not self.mismatches


# -- starting and killing fits -------------------------------------------------------------------
_LIGHTNING_WRITER = (
    "from gan_lightning.reliability.checkpoints import AtomicCheckpointIO; from lightning.pytorch.plugins.io import "
    "TorchCheckpointIO; AtomicCheckpointIO.save_checkpoint = TorchCheckpointIO.save_checkpoint; "
)


def _fit_in_child(args: list[str], writer: str) -> None:  # a forked fit: the CLI, on one thread
    torch.set_num_threads(1)
    if writer == "lightning":
        exec(_LIGHTNING_WRITER)
    from gan_lightning.commands.cli import main

    main(args)


class _Fit:
    """A running `gan-lightning fit`, forked from this process or a new interpreter."""

    def __init__(self, args: list[str], spec: Soak, log: Path) -> None:
        self.forked = spec.launch == "fork"
        if self.forked:
            self.proc = multiprocessing.get_context("fork").Process(target=_fit_in_child, args=(args, spec.writer))
            self.proc.start()
        else:
            code = (_LIGHTNING_WRITER if spec.writer == "lightning" else "") + (
                "import sys; from gan_lightning.commands.cli import main; main(sys.argv[1:])"
            )
            env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
            with open(log, "ab") as out:
                self.proc = subprocess.Popen([sys.executable, "-c", code, *args], stdout=out, stderr=out, env=env)
        self.pid = self.proc.pid

    def alive(self) -> bool:
        return self.proc.is_alive() if self.forked else self.proc.poll() is None

    def wait(self, timeout: float) -> int | None:
        if self.forked:
            self.proc.join(timeout)
            return self.proc.exitcode
        return self.proc.wait(timeout)

    def wait_for(self, path: Path, what: str, timeout: float = 300) -> None:
        deadline = time.monotonic() + timeout
        while not path.exists():
            if not self.alive() or time.monotonic() > deadline:
                raise RuntimeError(f"{what} wrote no {path.name} (exit code {self.wait(1)})")
            time.sleep(0.002)


def _args(work: Path, root: Path, spec: Soak, resume: bool) -> list[str]:
    config = work / "soak.yaml"
    config.write_text(CONFIG.format(every=spec.every, epochs=spec.epochs, batches=spec.batches, hidden=spec.hidden))
    args = ["fit", "--config", str(config), f"--trainer.default_root_dir={root}", f"--data.data_dir={work / 'data'}"]
    return args + (["--ckpt_path", "last"] if resume else [])


def _last(root: Path, segment: int) -> Path:
    return root / "lightning_logs" / f"version_{segment}" / "checkpoints" / "last.ckpt"


def _state(path: Path) -> dict:
    ckpt = read_checkpoint(path)
    optimizer = {
        f"optimizer {i} {key} {name}": t
        for i, s in enumerate(ckpt["optimizer_states"])
        for key, v in s["state"].items()
        for name, t in v.items()
    }
    return {"step": ckpt["global_step"], "tensors": {**ckpt["state_dict"], **optimizer}}


# -- the soak --------------------------------------------------------------------------------------
def soak(work: Path, spec: Soak) -> SoakResult:
    """Kill a run `spec.kills` times at random moments, resume it each time, compare it with an unkilled one."""
    work.mkdir(parents=True, exist_ok=True)
    rng, log = random.Random(spec.seed), work / "fit.log"
    result, began = SoakResult(), time.monotonic()

    reference = work / "reference"
    fit = _Fit(_args(work, reference, spec, resume=False), spec, log)
    fit.wait_for(_last(reference, 0), "the uninterrupted run")
    started = time.monotonic()
    if fit.wait(600) != 0:
        raise RuntimeError(f"the uninterrupted run failed; see {log}")
    result.train_s = round(time.monotonic() - started, 2)
    want = _state(_last(reference, 0))

    runs = work / "runs"
    for i in range(spec.kills):
        fit = _Fit(_args(work, runs, spec, resume=i > 0), spec, log)
        fit.wait_for(_last(runs, i), f"segment {i}")  # it is training: past setup and the resume
        kill = Kill(delay_s=round(rng.uniform(0, result.train_s / (spec.kills + 1)), 3))
        time.sleep(kill.delay_s)
        if not fit.alive():
            raise RuntimeError(f"segment {i} ended before its kill (exit code {fit.wait(1)}); see {log}")
        os.kill(fit.pid, signal.SIGKILL)
        fit.wait(60)
        try:
            kill.ckpt_step = int(read_checkpoint(_last(runs, i))["global_step"])
        except CheckpointError as err:
            kill.loads, kill.error = False, str(err)
        kill.mid_write = not kill.loads or any(_last(runs, i).parent.glob(".*.tmp"))
        result.kills.append(kill)

    fit = _Fit(_args(work, runs, spec, resume=True), spec, log)
    if fit.wait(600) != 0:
        raise RuntimeError(f"the last resume failed; see {log}")
    got = _state(_last(runs, spec.kills))
    result.final_step, result.reference_step = got["step"], want["step"]
    a, b = want["tensors"], got["tensors"]
    result.mismatches = sorted(
        k for k in a.keys() | b.keys() if k not in a or k not in b or not torch.equal(a[k], b[k])
    )
    result.seconds = round(time.monotonic() - began, 1)
    return result


def report(result: SoakResult, spec: Soak, command: str) -> str:
    lines = [
        f"## {spec.kills} kills, {spec.writer} checkpoint writer",
        "",
        f"Command: `{command}`",
        "",
        f"Run: MLP GAN (hidden width {spec.hidden}), {spec.epochs} epochs x {spec.batches} batches of 16 (2 optimizer "
        f"steps per batch), a checkpoint every {spec.every} optimizer step(s), writer: {spec.writer}, launch: "
        f"{spec.launch}, TMPDIR: {os.environ.get('TMPDIR', '(unset)')}. The uninterrupted run trained "
        f"{result.train_s} s; each kill came 0 to {round(result.train_s / (spec.kills + 1), 2)} s after the "
        f"segment's first checkpoint (seed {spec.seed}).",
        "",
        "| kill | delay (s) | last.ckpt loads | its global_step | inside a checkpoint write |",
        "| ---: | ---: | --- | ---: | --- |",
    ]
    for i, k in enumerate(result.kills, 1):
        loads = "yes" if k.loads else f"**no**: {k.error}"
        lines.append(f"| {i} | {k.delay_s} | {loads} | {k.ckpt_step} | {'yes' if k.mid_write else 'no'} |")
    verdict = "equal, bit for bit" if result.equal else f"DIFFERENT ({', '.join(result.mismatches[:5])})"
    lines += [
        "",
        f"- last.ckpt loaded after {sum(k.loads for k in result.kills)} of {len(result.kills)} kills; "
        f"{sum(k.mid_write for k in result.kills)} kills landed inside a checkpoint write.",
        f"- Final global_step {result.final_step} (uninterrupted run: {result.reference_step}); final weights and "
        f"optimizer states against the uninterrupted run: **{verdict}**.",
        f"- Wall time: {result.seconds} s.",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--kills", type=int, default=20)
    p.add_argument("--every_n_train_steps", type=int, default=1)
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--batches", type=int, default=20, help="training batches per epoch")
    p.add_argument("--hidden", type=int, default=256, help="MLP width (256: 3 MB of weights, 9 MB checkpoints)")
    p.add_argument("--writer", choices=WRITERS, default="atomic")
    p.add_argument("--launch", choices=("exec", "fork"), default="exec")
    p.add_argument("--seed", type=int, default=0, help="seeds the kill moments")
    p.add_argument("--work_dir", default="runs/crash_soak")
    p.add_argument("--out", help="append the result (markdown) to this file")
    args = p.parse_args()
    torch.set_num_threads(1)
    work = Path(args.work_dir)
    if work.exists() and any(work.iterdir()):
        p.error(f"--work_dir {str(work)!r} is not empty; give a new folder")
    spec = Soak(
        args.kills,
        args.every_n_train_steps,
        args.epochs,
        args.batches,
        args.hidden,
        args.launch,
        args.writer,
        args.seed,
    )
    result = soak(work, spec)
    text = report(result, spec, "python benchmarks/crash_soak.py " + " ".join(sys.argv[1:]))
    print(text)
    if args.out:
        out = Path(args.out)
        header = "" if out.exists() else "# Crash soak (benchmarks/crash_soak.py)\n\n"
        with open(out, "a") as f:
            f.write(header + text + "\n")
    sys.exit(0 if result.equal and all(k.loads for k in result.kills) else 1)


if __name__ == "__main__":
    main()
