"""What each quality technique costs per training batch of the 28 px DCGAN CGAN (`configs/cgan_dcgan28.yaml`).

Every setting trains the config's model (metrics off) with Lightning's `fit` on the shipped sample
for --batches batches; the median time of the batches after --warmup is its cost. The time is the
process's CPU time (`time.process_time`, with one torch thread): unlike wall-clock time it does not
count the moments other jobs on a shared machine hold the core. Settings run in turn, --rounds
times, and the table gives the median over rounds and the ratio to the plain config. Quality is
not measured here: that is benchmarks/quality.py's job.

    python benchmarks/technique_cost.py --threads 1 --out benchmarks/results/technique_cost_cpu.md
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import warnings
from pathlib import Path

import lightning as L
import torch
import yaml

from gan_lightning import ConditionalGAN, MNISTDataModule

REPO = Path(__file__).resolve().parent.parent
SETTINGS = {
    "plain": {},
    "augment translation,cutout": dict(augment="translation,cutout"),
    "augment translation,cutout,color": dict(augment="translation,cutout,color"),
    "adaptive augment (ada_target 0.6)": dict(augment="translation,cutout", augment_p=0.0, ada_target=0.6),
    "r1_gamma 1, r1_every 16 (lazy)": dict(r1_gamma=1.0),
    "r1_gamma 1, r1_every 1": dict(r1_gamma=1.0, r1_every=1),
    "lecam_weight 0.3": dict(lecam_weight=0.3),
    "topk_decay 0.99": dict(topk_decay=0.99),
    "conditioning cbn": dict(conditioning="cbn"),
}


class _BatchTimes(L.Callback):
    def __init__(self) -> None:
        self.times: list[float] = []

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        self._t0 = time.process_time()

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        self.times.append(time.process_time() - self._t0)


def batch_seconds(init_args: dict, overrides: dict, batches: int, warmup: int, batch_size: int, root: str) -> float:
    torch.manual_seed(0)
    model = ConditionalGAN(**{**init_args, **overrides, "metrics": False})
    timer = _BatchTimes()
    trainer = L.Trainer(
        default_root_dir=root, max_epochs=1, limit_train_batches=batches, limit_val_batches=0, logger=False,
        enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False, accelerator="cpu",
        devices=1, callbacks=[timer], log_every_n_steps=20,
    )  # fmt: skip
    trainer.fit(model, MNISTDataModule(data_dir=root, download=False, batch_size=batch_size))
    return statistics.median(timer.times[warmup:])


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--batches", type=int, default=25)
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--threads", type=int, default=1, help="1: CPU time then measures the work of one core")
    p.add_argument("--out", default=None, help="also write the table to this markdown file")
    args = p.parse_args(argv)
    if args.warmup >= args.batches:
        p.error(f"--warmup must be below --batches ({args.batches}), got {args.warmup}")
    torch.set_num_threads(args.threads)
    warnings.filterwarnings("ignore")
    config = yaml.safe_load((REPO / "configs" / "cgan_dcgan28.yaml").read_text())
    init_args, batch_size = config["model"]["init_args"], config["data"]["batch_size"]
    times: dict[str, list[float]] = {name: [] for name in SETTINGS}
    with tempfile.TemporaryDirectory() as root:
        for _ in range(args.rounds):
            for name, overrides in SETTINGS.items():
                times[name].append(batch_seconds(init_args, overrides, args.batches, args.warmup, batch_size, root))
    base = statistics.median(times["plain"])
    lines = [
        f"cgan_dcgan28 (batch {batch_size}), {torch.get_num_threads()} torch thread(s), process CPU time, median of "
        f"batches {args.warmup + 1}-{args.batches} in each of {args.rounds} rounds",
        "",
        "| setting | CPU ms per batch | vs plain |",
        "| --- | ---: | ---: |",
    ]
    for name, values in times.items():
        ms = statistics.median(values) * 1000
        lines.append(f"| {name} | {ms:.0f} | {ms / (base * 1000):.2f}x |")
    text = "\n".join(lines)
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n")


if __name__ == "__main__":
    main()
