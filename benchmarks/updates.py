"""What the direct update path (gan_lightning/modules/updates.py) saves: the same fit, once with it and once
through Lightning's `manual_backward` + `LightningOptimizer.step`, interleaved and repeated (medians).

Both fit modes of `throughput.py`: "user" (the console script's callbacks and W&B logger, offline) and
"plain" (no callbacks, no logger). The direct path skips the callbacks' empty hooks, so its gain is the
user mode's; in the plain mode there is nothing to skip and the two should tie.

  python benchmarks/updates.py --data_dir DIR --config gan_mlp_tutorial_v2 --repeats 9
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import types

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import throughput  # noqa: E402

from gan_lightning.modules.updates import Updates  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--config", default="gan_mlp_tutorial_v2", choices=throughput.CONFIGS)
    p.add_argument("--data_dir", default="data")
    p.add_argument("--repeats", type=int, default=9)
    p.add_argument("--steps", type=int, default=2000, help="timed batches per measurement")
    p.add_argument("--warmup", type=int, default=16)
    p.add_argument("--threads", type=int, default=2)
    args = p.parse_args()
    os.environ.setdefault("WANDB_MODE", "offline")
    torch.set_num_threads(args.threads)
    run_args = types.SimpleNamespace(
        data_dir=os.path.abspath(args.data_dir), device="cpu", precision="32-true", compile=False, fit_args=[]
    )
    probe = throughput.build(args.config, run_args, tempfile.mkdtemp(), user=False)
    group = probe.datamodule.steps_per_batch  # the config's own steps per Lightning batch
    prepare, rates = Updates.prepare, {}
    work = tempfile.mkdtemp()
    for r in range(args.repeats):
        for path in ("direct", "lightning"):
            for user in (True, False):
                Updates.prepare = prepare if path == "direct" else (lambda self, trainer, module: None)
                cli = throughput.build(args.config, run_args, f"{work}/{r}-{path}-{user}", user=user)
                per_batch = throughput.run_fit(cli, user, args.warmup, args.steps, lambda: None)  # s per batch
                rates.setdefault(("user" if user else "plain", path), []).append(1 / per_batch)
    Updates.prepare = prepare
    print(f"{args.config}, {group} step(s) per Lightning batch, {args.repeats} interleaved repeats, batches/s:")
    for mode in ("user", "plain"):
        direct, lightning = (statistics.median(rates[(mode, path)]) for path in ("direct", "lightning"))
        saved = (1 / lightning - 1 / direct) * 1e3
        print(f"  fit ({mode}): direct {direct:,.1f}, Lightning's path {lightning:,.1f}: {saved:+.3f} ms/batch saved")
        for path in ("direct", "lightning"):
            print(f"    {path}: " + ", ".join(f"{x:,.1f}" for x in rates[(mode, path)]))


if __name__ == "__main__":
    main()
