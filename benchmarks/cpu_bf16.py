"""bf16 autocast against float32 on this CPU: one generator step's work (G forward, D forward, backward
through both) for the nets of a GAN or ConditionalGAN config, its batch size, interleaved repeats, medians.

    python benchmarks/cpu_bf16.py --config cgan_dcgan28
    ONEDNN_MAX_CPU_ISA=AVX512_CORE python benchmarks/cpu_bf16.py   # as on a CPU without bf16 units
    ONEDNN_MAX_CPU_ISA=AVX2 python benchmarks/cpu_bf16.py          # as on a laptop without AVX-512

`ONEDNN_MAX_CPU_ISA` caps the instructions oneDNN (torch's CPU convolutions) may use, so one machine
with AMX also shows what a CPU without bf16 units does with `bf16-mixed`.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

import torch

from gan_lightning.commands.cli import run_cli
from gan_lightning.commands.configs import resolve_config_names


def build(config: str) -> tuple[torch.nn.Module, int]:
    """The config's model and batch size, as the console script builds them (no metrics, no EMA: the nets)."""
    argv, sys.argv = sys.argv, sys.argv[:1]  # LightningCLI warns when it also sees this script's own arguments
    try:
        settings = ["--trainer.logger=false", "--model.init_args.metrics=false", "--model.init_args.ema_decay=null"]
        cli = run_cli([*resolve_config_names(["--config", config]), *settings, "--data.download=false"], run=False)
    finally:
        sys.argv = argv
    return cli.model, cli.datamodule.batch_size


def step_ms(model: torch.nn.Module, batch: int, bf16: bool, steps: int) -> float:
    """Milliseconds per generator step's work, after 5 warm-up steps."""
    labels = torch.arange(batch) % 10  # digits; a GAN's nets ignore them

    def one() -> None:
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            fake = model.generate(torch.randn(batch, model.hparams.latent_dim), labels)
            logits = model.discriminate(fake, labels)
        logits.float().mean().backward()

    for _ in range(5):
        one()
    start = time.perf_counter()
    for _ in range(steps):
        one()
    return (time.perf_counter() - start) / steps * 1000


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", default="cgan_dcgan28")
    p.add_argument("--steps", type=int, default=40)
    p.add_argument("--repeats", type=int, default=3)
    args = p.parse_args()
    torch.manual_seed(0)
    model, batch = build(args.config)
    times: dict[str, list[float]] = {"float32": [], "bf16": []}
    for _ in range(args.repeats):  # interleaved
        for mode in times:
            times[mode].append(step_ms(model, batch, mode == "bf16", args.steps))
    f32, b16 = statistics.median(times["float32"]), statistics.median(times["bf16"])
    isa = os.environ.get("ONEDNN_MAX_CPU_ISA") or "none"
    units = torch.cpu._is_amx_tile_supported(), torch.cpu._is_avx512_bf16_supported()
    print(
        f"{args.config}, batch {batch}, oneDNN ISA cap {isa}, CPU AMX / AVX512-BF16 {units}, "
        f"{torch.get_num_threads()} threads"
    )
    print(
        f"float32 {f32:.1f} ms, bf16 {b16:.1f} ms per generator step's work: bf16 is {f32 / b16:.2f}x float32's speed"
    )
    print("every repeat (ms): " + "; ".join(f"{m} {', '.join(f'{t:.1f}' for t in ts)}" for m, ts in times.items()))


if __name__ == "__main__":
    main()
