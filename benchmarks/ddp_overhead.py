"""What `find_unused_parameters=True` costs a GAN step under DDP, against G and D wrapped apart.

Two CPU processes (gloo) train the 28 px DCGAN CGAN's nets with the GAN step (D step on real and
detached fakes, then G step through a frozen D), in two ways:

  one_ddp   G and D in one DistributedDataParallel with find_unused_parameters=True, each
            backward preceded by the reducer's graph search: what Lightning does with the whole
            LightningModule (and what gan_lightning's modules select).
  two_ddp   DDP(G) and DDP(D), no search; the G step's pass through D skips D's wrapper.

It reports the median step time (modes interleaved) and, through a counting communication
hook, the gradient elements all-reduced per step: the search itself is cheap, but the unused
net's (zero) gradients are still all-reduced with the used ones. Usage:

  python benchmarks/ddp_overhead.py [--ngf 64 --batch 64 --steps 20 --repeats 3]
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import sys
import time
from pathlib import Path

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch import nn
from torch.distributed.algorithms.ddp_comm_hooks.default_hooks import allreduce_hook
from torch.nn.parallel import DistributedDataParallel as DDP

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gan_lightning import ConditionalGAN  # noqa: E402


class _Side(nn.Module):
    """One player: a net and its label encoder. (x, labels) -> images (G) or logits (D)."""

    def __init__(self, net: nn.Module, label: nn.Module) -> None:
        super().__init__()
        self.net, self.label = net, label

    def forward(self, x: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        return self.net(x, self.label(labels))


class _Both(nn.Module):
    """G and D in one module, as inside a LightningModule; `forward(side, ...)` runs one player."""

    def __init__(self, g: _Side, d: _Side) -> None:
        super().__init__()
        self.g, self.d = g, d

    def forward(self, side: str, x: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        return self.g(x, labels) if side == "g" else self.d(x, labels)


def _counting_hook(counter: list[int]):
    def hook(state, bucket):
        counter[0] += bucket.buffer().numel()
        return allreduce_hook(state, bucket)

    return hook


def _run(mode: str, args, counter: list[int]) -> float:
    """Median seconds per GAN step; `counter[0]` grows by the elements all-reduced."""
    torch.manual_seed(0)
    gan = ConditionalGAN(ngf=args.ngf, ndf=args.ngf, metrics=False)
    opt_g, opt_d = gan.configure_optimizers()
    d_params = gan.d_parameters()
    g, d = _Side(gan.generator, gan.g_label), _Side(gan.discriminator, gan.d_label)
    if mode == "one_ddp":
        both = DDP(_Both(g, d), find_unused_parameters=True)
        wrappers = [both]
        g_fwd = lambda x, y: both("g", x, y)  # noqa: E731
        d_fwd = d_frozen = lambda x, y: both("d", x, y)  # noqa: E731
    else:
        g_fwd, d_fwd = DDP(g), DDP(d)
        wrappers = [g_fwd, d_fwd]
        d_frozen = d  # the G step computes no D gradient: bypass D's reducer, which would wait for them
    for w in wrappers:
        w.register_comm_hook(None, _counting_hook(counter))
    times = []
    for step in range(args.warmup + args.steps):
        real = torch.rand(args.batch, 1, 28, 28) * 2 - 1  # (B, 1, 28, 28)
        labels = torch.randint(0, 10, (args.batch,))
        if step == args.warmup:
            counter[0] = 0
        t0 = time.perf_counter()
        z, fake_labels = gan.sample_z(args.batch), gan.sample_labels(args.batch)
        fake = g_fwd(z, fake_labels)
        d_loss = gan.loss_fn.d_loss(d_fwd(real, labels), d_fwd(fake.detach(), fake_labels))
        opt_d.zero_grad(set_to_none=True)
        d_loss.backward()
        opt_d.step()
        for p in d_params:  # frozen D in the G step, as toggled_optimizer does
            p.requires_grad_(False)
        g_loss = gan.loss_fn.g_loss(d_frozen(fake, fake_labels))
        opt_g.zero_grad(set_to_none=True)
        g_loss.backward()
        opt_g.step()
        for p in d_params:
            p.requires_grad_(True)
        if step >= args.warmup:
            times.append(time.perf_counter() - t0)
    counter[0] //= args.steps
    return statistics.median(times)


def _worker(rank: int, port: int, args, out: str) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    torch.set_num_threads(args.threads)
    dist.init_process_group("gloo", rank=rank, world_size=2)
    try:
        results: dict[str, list] = {"one_ddp": [], "two_ddp": []}
        for _ in range(args.repeats):
            for mode in results:  # interleaved
                counter = [0]
                results[mode].append((_run(mode, args, counter), counter[0]))
        if rank == 0:
            torch.save(results, out)
    finally:
        dist.destroy_process_group()


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--ngf", type=int, default=64, help="ngf = ndf of the DCGAN CGAN")
    p.add_argument("--batch", type=int, default=64, help="per-rank batch")
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--threads", type=int, default=1, help="threads per rank")
    args = p.parse_args(argv)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    out = Path(os.environ.get("TMPDIR", "/tmp")) / f"ddp_overhead_{os.getpid()}.pt"
    mp.spawn(_worker, args=(port, args, str(out)), nprocs=2, join=True)
    results = torch.load(out)
    out.unlink()
    rows = {m: (statistics.median(t for t, _ in r), r[0][1]) for m, r in results.items()}
    print(
        f"2 ranks (gloo, CPU, {args.threads} thread each), DCGAN CGAN 28 px ngf=ndf={args.ngf}, batch {args.batch}/rank"
    )
    print("| wrapping | median step (ms) | gradient elements all-reduced per step |")
    print("| --- | ---: | ---: |")
    for mode, (t, n) in rows.items():
        print(f"| {mode} | {t * 1e3:.1f} | {n:,} |")
    print(f"one_ddp / two_ddp step time: {rows['one_ddp'][0] / rows['two_ddp'][0]:.3f}")


if __name__ == "__main__":
    main()
