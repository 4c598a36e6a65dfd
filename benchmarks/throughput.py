"""Training throughput (images/s) of `fit` for each 28 px config, against two plain PyTorch loops.

  lightning  `Trainer.fit` on the config's model and data module, as the CLI builds them, with no
             logger, no callbacks (no image grids, no checkpoints) and no validation: the training
             loop itself, including its per-step `self.log` calls and its data path.
  plain      the ceiling: the same nets, loss, optimizers and batch size in a hand-written loop
             (D step, then G step on the same fakes, D frozen during the G step), batches cut
             from the dataset already normalised in memory; no logging.
  tutorial   the same loop fed the way most GAN tutorials do: a DataLoader over a dataset that
             turns each digit into a PIL image, then ToTensor and Normalize, one image at a time.

Each measurement skips `--warmup` batches, then times about `--images` images (data included;
at least 20 and at most 300 batches, so batch-size-1 configs measure per-step overhead). Modes are
interleaved and repeated `--repeats` times; the table reports the median, so a burst of load from
other processes moves one sample, not the result. Usage:

  python benchmarks/throughput.py --data_dir ../shared/data --threads 1
  python benchmarks/throughput.py --configs cgan_dcgan28 --lightning_args --model.init_args.channels_last=true
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import lightning as L
import torch
from torch.utils.data import DataLoader, Dataset

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a checkout without installing

from gan_lightning.batches import to_unit_range  # noqa: E402
from gan_lightning.cli import run_cli  # noqa: E402

CONFIGS = ["cgan_dcgan28", "gan_dcgan28", "cgan_mlp", "gan_mlp", "gan_mlp_tutorial_v2", "gan_mlp_tutorial_v1"]
MODES = ["lightning", "plain", "tutorial"]


def build(config: str, data_dir: str, extra: list[str]) -> tuple[L.LightningModule, L.LightningDataModule]:
    """The config's model and data module, exactly as `gan-lightning fit --config ...` builds them."""
    args = [
        "--config", str(ROOT / "configs" / f"{config}.yaml"), "--trainer.logger=false",
        f"--data.data_dir={data_dir}", "--data.download=false", "--model.init_args.metrics=false", *extra,
    ]  # fmt: skip
    argv, sys.argv = sys.argv, sys.argv[:1]  # LightningCLI warns when it also sees this script's own arguments
    try:
        cli = run_cli(args, run=False)
    finally:
        sys.argv = argv
    cli.datamodule.setup("fit")
    return cli.model, cli.datamodule


class _StopWatch(L.Callback):
    """Times batches warmup .. warmup+steps-1 (start of one to start of the next), then stops fit."""

    def __init__(self, warmup: int, steps: int, sync: Callable[[], None]) -> None:
        self.warmup, self.steps, self.sync, self.seen, self.elapsed = warmup, steps, sync, 0, None

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        if self.seen == self.warmup:
            self.sync()
            self.t0 = time.perf_counter()
        elif self.seen == self.warmup + self.steps:
            self.sync()
            self.elapsed = time.perf_counter() - self.t0
            trainer.should_stop = True
        self.seen += 1


def run_lightning(model, dm, warmup: int, steps: int, device: str, sync, precision: str) -> float:
    watch = _StopWatch(warmup, steps, sync)
    trainer = L.Trainer(
        accelerator=device, devices=1, max_epochs=-1, logger=False, callbacks=[watch], limit_val_batches=0,
        enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False, precision=precision,
    )  # fmt: skip
    trainer.fit(model, dm)
    return watch.elapsed


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


def tensor_batches(images: torch.Tensor, labels: torch.Tensor, batch: int, device) -> Iterator:
    """The ceiling's data: the whole dataset normalised once, batches cut from a fresh permutation."""
    x = to_unit_range(images.to(device))  # (N, 1, 28, 28) in [-1, 1]
    y = labels.to(device)
    while True:
        perm = torch.randperm(len(y), device=device)
        for s in range(0, len(y) - batch + 1, batch):
            idx = perm[s : s + batch]
            yield x[idx], y[idx]


def tutorial_batches(images: torch.Tensor, labels: torch.Tensor, batch: int, device, workers: int) -> Iterator:
    loader = DataLoader(_TutorialMNIST(images, labels), batch_size=batch, shuffle=True, drop_last=True,
                        num_workers=workers, persistent_workers=workers > 0)  # fmt: skip
    while True:
        for x, y in loader:
            yield x.to(device, non_blocking=True), y.to(device, non_blocking=True)


def run_plain(model, batches: Iterator, warmup: int, steps: int, sync, precision: str) -> float:
    """The training step of `GAN.training_step` (n_critic 1 or more) without Lightning."""
    autocast = torch.autocast(model.device.type, dtype=torch.bfloat16, enabled=precision == "bf16-mixed")
    opt_g, opt_d = model.configure_optimizers()
    d_params, n_critic = model.d_parameters(), model.hparams.n_critic
    model.train()
    for i in range(warmup + steps + 1):
        if i == warmup:
            sync()
            t0 = time.perf_counter()
        elif i == warmup + steps:
            sync()
            return time.perf_counter() - t0
        real, labels = next(batches)
        n, g_turn = real.size(0), (i + 1) % n_critic == 0
        z, fake_labels = model.sample_z(n), model.sample_labels(n)
        with torch.set_grad_enabled(g_turn), autocast:
            fake = model.generate(z, fake_labels)
        with autocast:
            d_real, d_fake = model.discriminate(real, labels), model.discriminate(fake.detach(), fake_labels)
        d_loss = model.loss_fn.d_loss(d_real, d_fake)
        opt_d.zero_grad(set_to_none=True)
        d_loss.backward()
        opt_d.step()
        if g_turn:
            for p in d_params:
                p.requires_grad_(False)
            with autocast:
                d_fake = model.discriminate(fake, fake_labels)
            g_loss = model.loss_fn.g_loss(d_fake)
            opt_g.zero_grad(set_to_none=True)
            g_loss.backward()
            opt_g.step()
            for p in d_params:
                p.requires_grad_(True)
    raise AssertionError("unreachable")


def measure(config: str, args) -> dict[str, list[float]]:
    batch = build(config, args.data_dir, [])[1].batch_size
    steps = args.steps or min(max(args.images // batch, 20), 300)
    device = "cuda" if args.device == "gpu" else "cpu"
    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
    rates: dict[str, list[float]] = {m: [] for m in MODES}
    for _ in range(args.repeats):
        for mode in MODES:  # interleaved: slow phases of a shared machine hit every mode alike
            L.seed_everything(0, verbose=False)
            model, dm = build(config, args.data_dir, args.lightning_args if mode == "lightning" else [])
            if mode == "lightning":
                seconds = run_lightning(model, dm, args.warmup, steps, args.device, sync, args.precision)
            else:
                model.to(device)
                ds = dm.train_set
                if mode == "plain":
                    batches = tensor_batches(ds.images, ds.labels, batch, device)
                else:
                    batches = tutorial_batches(ds.images, ds.labels, batch, device, args.tutorial_workers)
                seconds = run_plain(model, batches, args.warmup, steps, sync, args.precision)
            rates[mode].append(batch * steps / seconds)
    return rates


def table(results: dict[str, dict[str, list[float]]], batches: dict[str, int]) -> str:
    lines = [
        "| config | batch | Lightning fit (img/s) | plain loop (img/s) | tutorial DataLoader (img/s) "
        "| fit / plain | fit / tutorial |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for config, rates in results.items():
        med = {m: statistics.median(v) for m, v in rates.items()}
        lines.append(
            f"| {config} | {batches[config]} | {med['lightning']:,.0f} | {med['plain']:,.0f} | {med['tutorial']:,.0f} "
            f"| {med['lightning'] / med['plain']:.2f}x | {med['lightning'] / med['tutorial']:.2f}x |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--configs", nargs="+", default=CONFIGS, choices=CONFIGS, metavar="CONFIG")
    p.add_argument("--data_dir", default="data", help="IDX files (else the shipped 6,000-digit sample)")
    p.add_argument("--device", default="cpu", choices=["cpu", "gpu"])
    p.add_argument("--images", type=int, default=2560, help="timed images per measurement (20..300 batches)")
    p.add_argument("--steps", type=int, default=None, help="timed batches per measurement (overrides --images)")
    p.add_argument("--warmup", type=int, default=5, help="untimed batches first (allocator, caches, compile)")
    p.add_argument("--repeats", type=int, default=3, help="measurements per mode; the median is reported")
    p.add_argument("--precision", default="32-true", choices=["32-true", "bf16-mixed"], help="all three modes")
    p.add_argument("--threads", type=int, default=None, help="torch.set_num_threads (default: torch's choice)")
    p.add_argument("--tutorial_workers", type=int, default=0, help="DataLoader workers of the tutorial mode")
    p.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "throughput_cpu.md"))
    p.add_argument("--lightning_args", nargs=argparse.REMAINDER, default=[], help="CLI overrides for fit only")
    args = p.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)

    results, batches = {}, {}
    for config in args.configs:
        results[config] = measure(config, args)
        batches[config] = build(config, args.data_dir, [])[1].batch_size
        print(f"{config}: " + "; ".join(f"{m} " + " ".join(f"{r:,.0f}" for r in v) for m, v in results[config].items()))
    command = "python benchmarks/throughput.py " + " ".join(argv if argv is not None else sys.argv[1:])
    header = (
        f"Training throughput, median of {args.repeats} interleaved runs of {args.steps or args.images} "
        f"{'batches' if args.steps else 'images (20..300 batches)'} after "
        f"{args.warmup} warm-up batches, precision {args.precision}.\n\n"
        f"- command: `{command.strip()}`\n- machine: {platform.processor() or ''} "
        f"{platform.machine()}, device {args.device}, torch {torch.__version__}, lightning {L.__version__}, "
        f"{torch.get_num_threads()} thread(s)\n"
    )
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    samples = "\n".join(
        f"- {config}: " + "; ".join(f"{m} " + ", ".join(f"{r:,.0f}" for r in v) for m, v in rates.items())
        for config, rates in results.items()
    )
    out.write_text(
        header + "\n" + table(results, batches) + "\n\nEvery measurement (img/s, in run order):\n\n" + samples + "\n"
    )
    print(table(results, batches))
    print(f"written to {out}")


if __name__ == "__main__":
    main()
