"""Do `channels_last` and `compile` speed up the 28 px DCGAN CGAN's training step here?

A/B in one process: the plain training step of `throughput.py` on two copies of the nets, one
with the switch, alternating every `--steps` steps for `--rounds` rounds (a short alternation
keeps a shared machine's load drift out of the ratio). Compilation happens in an untimed warm-up.

  python benchmarks/switches.py --threads 1
"""

from __future__ import annotations

import argparse
import copy
import statistics
import time

import torch
from bare_loop import tensor_batches

from gan_lightning import ConditionalGAN
from gan_lightning.data import SAMPLE_DIR, load_split
from gan_lightning.modules.speed import apply_to_nets


def run_plain(model, batches, warmup: int, steps: int, sync, precision: str) -> float:
    """Seconds for `steps` plain D+G steps of a GAN module's own nets (after `warmup` untimed ones)."""
    assert precision == "32-true"
    opt_g, opt_d = model.configure_optimizers()
    model.train()
    for i in range(warmup + steps):
        if i == warmup:
            sync()
            t0 = time.perf_counter()
        real, labels = next(batches)
        n = real.size(0)
        z, fake_labels = model.sample_z(n), model.sample_labels(n)
        fake = model.generate(z, fake_labels)
        d_loss = model.loss_fn.d_loss(model.discriminate(real, labels), model.discriminate(fake.detach(), fake_labels))
        opt_d.zero_grad(set_to_none=True)
        d_loss.backward()
        opt_d.step()
        with model.frozen(model.d_parameters()):
            g_loss = model.loss_fn.g_loss(model.discriminate(fake, fake_labels))
        opt_g.zero_grad(set_to_none=True)
        g_loss.backward()
        opt_g.step()
    sync()
    return time.perf_counter() - t0


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--switches", nargs="+", default=["channels_last", "compile"], choices=["channels_last", "compile"])
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--steps", type=int, default=2, help="steps per turn")
    p.add_argument("--rounds", type=int, default=6)
    p.add_argument("--threads", type=int, default=None)
    args = p.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    images, labels = load_split(SAMPLE_DIR, "train")
    sync = lambda: None  # noqa: E731 - CPU
    print(f"{torch.get_num_threads()} thread(s), batch {args.batch}\n")
    print("| switch | off (img/s) | on (img/s) | on / off | warm-up with the switch |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for switch in args.switches:
        torch.manual_seed(0)
        off = ConditionalGAN(metrics=False)
        on = copy.deepcopy(off)
        apply_to_nets([on.generator, on.discriminator], switch == "compile", switch == "channels_last")
        batches = tensor_batches(images, labels, args.batch, "cpu")
        run_plain(off, batches, 1, 1, sync, "32-true")  # warm-up without the switch (allocator, caches)
        t0 = time.perf_counter()
        run_plain(on, batches, 1, 1, sync, "32-true")  # warm-up: compilation (forward and backward graphs)
        warm = time.perf_counter() - t0
        rates = {"off": [], "on": []}
        for _ in range(args.rounds):
            for name, model in (("off", off), ("on", on)):
                rates[name].append(args.batch * args.steps / run_plain(model, batches, 0, args.steps, sync, "32-true"))
        a, b = statistics.median(rates["off"]), statistics.median(rates["on"])
        print(f"| {switch} | {a:,.0f} | {b:,.0f} | {b / a:.2f}x | {warm:.0f} s |")


if __name__ == "__main__":
    main()
