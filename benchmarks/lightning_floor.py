"""What Lightning's loop costs per batch by itself: the floor under any `fit` overhead.

A toy GAN-shaped step (D: one Linear, G: one Linear, two fused Adams, batch 1) timed three ways
in `Trainer.fit` with manual optimization, nothing logged, no callbacks: an empty `training_step`
(the loop, data fetching and hooks), a D step only, and D + G steps; then the same D + G steps in
a bare loop. `fit (D+G) - bare (D+G)` is what two `manual_backward` + `optimizer.step` pairs and
the loop add per batch, before any project code runs.

  python benchmarks/lightning_floor.py [--batches 2000]
"""

from __future__ import annotations

import argparse
import os
import time

import lightning as L
import torch
from torch.utils.data import DataLoader, TensorDataset


class Toy(L.LightningModule):
    def __init__(self, work: str) -> None:
        super().__init__()
        self.automatic_optimization, self.work = False, work
        self.g, self.d = torch.nn.Linear(100, 784), torch.nn.Linear(784, 1)

    def configure_optimizers(self):
        return [torch.optim.Adam(self.g.parameters(), fused=True), torch.optim.Adam(self.d.parameters(), fused=True)]

    def training_step(self, batch, batch_idx) -> None:
        if self.work == "empty":
            return
        opt_g, opt_d = self.optimizers()
        loss = self.d(batch[0]).mean()
        opt_d.zero_grad()
        self.manual_backward(loss)
        opt_d.step()
        if self.work == "D+G":
            loss = self.d(self.g(torch.randn(1, 100))).mean()
            opt_g.zero_grad()
            self.manual_backward(loss)
            opt_g.step()


class _Clock(L.Callback):
    def __init__(self, warmup: int, batches: int) -> None:
        self.warmup, self.batches = warmup, batches

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        if batch_idx == self.warmup:
            self.t0 = time.perf_counter()
        elif batch_idx == self.warmup + self.batches:
            self.ms = (time.perf_counter() - self.t0) / self.batches * 1e3
            trainer.should_stop = True


def bare(batches: int, warmup: int) -> float:
    g, d = torch.nn.Linear(100, 784), torch.nn.Linear(784, 1)
    opt_g, opt_d = torch.optim.Adam(g.parameters(), fused=True), torch.optim.Adam(d.parameters(), fused=True)
    data = torch.randn(batches + warmup, 784)
    for i in range(batches + warmup):
        if i == warmup:
            t0 = time.perf_counter()
        loss = d(data[i : i + 1]).mean()
        opt_d.zero_grad()
        loss.backward()
        opt_d.step()
        loss = d(g(torch.randn(1, 100))).mean()
        opt_g.zero_grad()
        loss.backward()
        opt_g.step()
    return (time.perf_counter() - t0) / batches * 1e3


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--batches", type=int, default=2000)
    p.add_argument("--warmup", type=int, default=50)
    args = p.parse_args()
    torch.set_num_threads(1)
    os.environ.pop("PYTORCH_NVML_BASED_CUDA_CHECK", None)  # as in a script without Lightning (see docs/speed.md)
    print(f"bare (D+G): {bare(args.batches, args.warmup):.3f} ms/batch")
    for work in ("empty", "D", "D+G"):
        clock = _Clock(args.warmup, args.batches)
        data = DataLoader(TensorDataset(torch.randn(args.batches + args.warmup + 1, 784)), batch_size=1)
        trainer = L.Trainer(max_epochs=1, logger=False, callbacks=[clock], enable_progress_bar=False,
                            enable_checkpointing=False, enable_model_summary=False, accelerator="cpu")  # fmt: skip
        os.environ["PYTORCH_NVML_BASED_CUDA_CHECK"] = "0"  # what the GAN modules do while a CPU fit trains
        trainer.fit(Toy(work), data)
        print(f"fit ({work}): {clock.ms:.3f} ms/batch")


if __name__ == "__main__":
    main()
