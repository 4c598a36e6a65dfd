"""The GPU benchmark: `fit` against the bare loop on CUDA, a full-size epoch, mixed precision, host syncs.

One run, one report (`benchmarks/results/gpu_<card>.md`), for whenever a GPU is at hand:

1. speed: `fit` (the user's config; and with no callbacks/logger) against `bare_loop.py` for
   `cgan_dcgan28`, in 32-true, bf16-mixed and 16-mixed, and compiled in bf16-mixed; with one, with
   eight and with `auto` steps per Lightning batch (`data.steps_per_batch`) in 32-true and bf16-mixed;
   training data resident on the GPU in every mode (medians of interleaved repeats);
2. the wall time of one 60,000-image epoch of `cgan_dcgan28` at its default batch size
   (Fashion-MNIST, the full-size set that installs offline; MNIST's 60k when `--data_dir` has it);
3. a short bf16-mixed and 16-mixed training run each: finite losses and a sample grid PNG;
4. host syncs: `torch.cuda.set_sync_debug_mode("warn")` over steady-state batches between log steps.

  bash benchmarks/gpu.sh                    # installs the data, then runs this with the defaults
  python benchmarks/gpu.py --device cpu --tiny --out /tmp/gpu.md   # a few batches of each part on CPU (tests)
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

import lightning as L
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bare_loop import tensor_batches  # noqa: E402
from throughput import build, hparams, run_bare, run_fit  # noqa: E402

from gan_lightning.callbacks.sinks import save_png, to_grid  # noqa: E402

CONFIG = "cgan_dcgan28"


def _args(device: str, data_dir: str, precision: str, compile: bool, extra: list[str]) -> argparse.Namespace:
    fit_args = ["--data.device_resident=true", *extra]
    return argparse.Namespace(device="gpu" if device == "cuda" else "cpu", data_dir=data_dir, precision=precision,
                              compile=compile, fit_args=fit_args)  # fmt: skip


def speed(device: str, data_dir: str, work: Path, steps: int, repeats: int, tiny: list[str]) -> list[str]:
    """Rows of the speed table: (precision, compiled, steps per Lightning batch K) -> fit (user), fit (plain),
    bare batches/s. K > 1 pays Lightning's per-batch cost once per K steps (`data.steps_per_batch`); the bare
    loop is always the plain one-step-per-batch loop."""
    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
    group = 2 if tiny else 8
    settings = [("32-true", False, 1), ("32-true", False, group), ("32-true", False, "auto"), ("bf16-mixed", False, 1),
                ("bf16-mixed", False, group), ("bf16-mixed", False, "auto"), ("16-mixed", False, 1),
                ("bf16-mixed", True, 1)]  # fmt: skip
    if device == "cpu":  # Lightning's 16-mixed needs CUDA
        settings = [s for s in settings if s[0] != "16-mixed"]
    if tiny:  # a smoke run: compiling takes a minute even for tiny nets
        settings = [s for s in settings if not s[1]]
    rows = []
    for precision, compiled, k in settings:
        args = _args(device, data_dir, precision, compiled, [*tiny, f"--data.steps_per_batch={k}"])
        probe = build(CONFIG, args, str(work / "probe"), user=False)
        probe.datamodule.setup("fit")
        hp, ds = hparams(probe), probe.datamodule.train_set
        warmup = 2 if tiny else 30 if compiled else 10
        timed = steps if k == "auto" else max(k, steps - steps % k)  # whole groups of a fixed size
        times: dict[str, list[float]] = {"fit (user)": [], "fit (plain)": [], "bare": []}
        for r in range(repeats):
            for mode in times:
                L.seed_everything(r, verbose=False)
                if mode == "bare":
                    batches = tensor_batches(ds.images, ds.labels, hp["batch_size"], device)
                    per_batch = run_bare(hp, batches, warmup, timed, sync, device, args) / timed
                else:
                    user = mode == "fit (user)"
                    cli = build(CONFIG, args, str(work / f"{precision}-{compiled}-{k}-{r}-{user}"), user=user)
                    per_batch = run_fit(cli, user, warmup, timed, sync)  # seconds per batch, whatever K
                times[mode].append(1 / per_batch)
        med = {m: statistics.median(v) for m, v in times.items()}
        user, plain, bare = med["fit (user)"], med["fit (plain)"], med["bare"]
        shown = f"auto ({cli.datamodule.steps_per_batch})" if k == "auto" else k  # what the last fit chose
        rows.append(
            f"| {precision} | {'yes' if compiled else 'no'} | {shown} | {user:,.0f} | {plain:,.0f} | {bare:,.0f} "
            f"| {user / bare:.2f}x | {plain / bare:.2f}x | {(1 / user - 1 / bare) * 1e3:+.3f} |"
        )
        print(rows[-1], flush=True)
    return rows


class _EpochClock(L.Callback):
    def on_train_epoch_start(self, trainer, pl_module) -> None:
        torch.cuda.synchronize() if pl_module.device.type == "cuda" else None
        self.t0 = time.perf_counter()

    def on_train_epoch_end(self, trainer, pl_module) -> None:
        torch.cuda.synchronize() if pl_module.device.type == "cuda" else None
        self.seconds = time.perf_counter() - self.t0


def full_epoch(device: str, fashion_dir: str, data_dir: str, work: Path, tiny: list[str]) -> str:
    """Wall seconds of one training epoch of the full-size set through the console script's objects."""
    have_fashion = any(Path(fashion_dir).glob("train-images-idx3-ubyte*"))
    dataset = ["--data.dataset=fashion_mnist"] if have_fashion else []  # else MNIST from data_dir (smoke runs)
    args = _args(device, fashion_dir if have_fashion else data_dir, "bf16-mixed", False, [*dataset, *tiny])
    cli = build(CONFIG, args, str(work / "epoch"), user=False)
    clock = _EpochClock()
    trainer = L.Trainer(accelerator=args.device, devices=1, max_epochs=1, logger=False, callbacks=[clock],
                        limit_val_batches=0, enable_checkpointing=False, enable_progress_bar=False,
                        enable_model_summary=False, precision="bf16-mixed", log_every_n_steps=50,
                        limit_train_batches=3 if tiny else None)  # fmt: skip
    t0 = time.perf_counter()
    trainer.fit(cli.model, cli.datamodule)
    whole = time.perf_counter() - t0
    n = trainer.num_training_batches * cli.datamodule.batch_size
    name = "Fashion-MNIST" if have_fashion else "MNIST"
    batches = f"{trainer.num_training_batches} batches of {cli.datamodule.batch_size}"
    return (f"{name}, {n:,} images ({batches}), bf16-mixed, "
            f"data on the GPU: epoch {clock.seconds:.2f} s; whole `fit` call {whole:.2f} s")  # fmt: skip


def short_runs(device: str, data_dir: str, work: Path, out_dir: Path, batches: int, tiny: list[str]) -> list[str]:
    """A few hundred steps in each mixed precision: the losses must stay finite; a grid is saved."""
    lines = []
    for precision in ("bf16-mixed", "16-mixed"):
        if device == "cpu" and precision == "16-mixed":
            lines.append("- 16-mixed: not run (Lightning's 16-mixed needs CUDA)")
            continue
        args = _args(device, data_dir, precision, False, [f"--trainer.limit_train_batches={batches}",
                                                         "--trainer.max_epochs=1", *tiny])  # fmt: skip
        cli = build(CONFIG, args, str(work / f"short-{precision}"), user=False)
        cli.trainer.fit(cli.model, cli.datamodule)
        window = cli.model.training_log.last_window or {}
        finite = bool(window) and all(v == v and abs(v) != float("inf") for k, v in window.items() if k != "step")
        images = cli.model.sample(100, generator=torch.Generator(cli.model.device).manual_seed(0))
        grid = save_png(to_grid(images.float().cpu(), 10), out_dir / f"gpu_grid_{precision}.png")
        losses = ", ".join(f"{k.removeprefix('train/')} {v:.3f}" for k, v in window.items() if k != "step")
        lines.append(f"- {precision}: {cli.model.generator_steps} G steps, last losses {losses}; "
                     f"finite: {'yes' if finite else 'NO'}; grid `{grid.name}`")  # fmt: skip
        print(lines[-1], flush=True)
    return lines


def host_syncs(device: str, data_dir: str, work: Path, tiny: list[str]) -> str:
    """Syncs CUDA reports (set_sync_debug_mode) in steady-state batches that are not log steps."""
    if device != "cuda":
        return "not run (CUDA's sync debug mode needs a GPU; tests/integration/test_host_syncs.py counts them on CPU)"
    every, total = 25, 100
    args = _args(device, data_dir, "bf16-mixed", False, [f"--trainer.limit_train_batches={total}",
                 f"--trainer.log_every_n_steps={every}", "--trainer.max_epochs=1", *tiny])  # fmt: skip
    cli = build(CONFIG, args, str(work / "syncs"), user=True)
    counts: dict[int, int] = {}
    state = {"batch": -1}

    class Marker(L.Callback):
        def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
            state["batch"] = batch_idx

    cli.trainer.callbacks.append(Marker())
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        original = warnings.showwarning

        def note(message, category, *a, **k):
            if "synchroniz" in str(message):
                counts[state["batch"]] = counts.get(state["batch"], 0) + 1

        warnings.showwarning = note
        torch.cuda.set_sync_debug_mode("warn")
        try:
            cli.trainer.fit(cli.model, cli.datamodule)
        finally:
            torch.cuda.set_sync_debug_mode("default")
            warnings.showwarning = original
    for w in caught:
        note(w.message, w.category)
    between = {b: c for b, c in counts.items() if 5 <= b < total - 1 and (b + 1) % every}
    at_logs = sum(c for b, c in counts.items() if (b + 1) % every == 0)
    return (
        f"between log steps (batches 5..{total - 2}): {sum(between.values())} {between or ''}; at log steps: {at_logs}"
    )


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--device", default="cuda", choices=["cuda", "cpu"])
    p.add_argument("--data_dir", default="data", help="MNIST IDX files (else the shipped sample)")
    p.add_argument("--fashion_dir", default="/usr/share/datasets/fashion-mnist", help="full-size Fashion-MNIST")
    p.add_argument("--steps", type=int, default=300, help="timed batches per speed measurement")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--tiny", action="store_true", help="a few batches of each part, small nets (a smoke test)")
    p.add_argument("--out", default=None, help="report path (default benchmarks/results/gpu_<card>.md)")
    args = p.parse_args(argv)
    if args.device == "cuda" and not torch.cuda.is_available():
        raise SystemExit("gpu.py: error: --device cuda but torch sees no CUDA device; use --device cpu for a smoke run")
    card = torch.cuda.get_device_name() if args.device == "cuda" else platform.processor() or "cpu"
    tiny = (
        ["--model.init_args.ngf=8", "--model.init_args.ndf=8", "--trainer.limit_train_batches=12"] if args.tiny else []
    )
    steps, repeats = (3, 1) if args.tiny else (args.steps, args.repeats)
    out = Path(args.out or ROOT / "benchmarks" / "results" / f"gpu_{card.replace(' ', '_')}.md")
    out.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        rows = speed(args.device, args.data_dir, work, steps, repeats, tiny)
        epoch = full_epoch(args.device, args.fashion_dir, args.data_dir, work, tiny)
        print(epoch, flush=True)
        runs = short_runs(args.device, args.data_dir, work, out.parent, 4 if args.tiny else 300, tiny)
        syncs = host_syncs(args.device, args.data_dir, work, tiny)
    command = "python benchmarks/gpu.py " + " ".join(argv if argv is not None else sys.argv[1:])
    report = "\n".join([
        f"# GPU benchmark: {card}", "",
        f"- command: `{command.strip()}` ({time.perf_counter() - started:.0f} s in all)",
        f"- torch {torch.__version__}, lightning {L.__version__}, config `{CONFIG}`, batch size from the config",
        "", "## fit against the bare loop (batches/s, median of interleaved repeats, data on the device)", "",
        "| precision | compiled | steps per Lightning batch | fit (user) | fit (plain) | bare | fit (user) / bare "
        "| fit (plain) / bare | overhead ms/batch |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |", *rows,
        "", "## One full-size epoch", "", f"- {epoch}",
        "", "## Mixed precision, short runs", "", *runs,
        "", "## Host syncs (CUDA sync debug mode, bf16-mixed, the user's config)", "", f"- {syncs}", "",
    ])  # fmt: skip
    out.write_text(report)
    print(report)


if __name__ == "__main__":
    main()
