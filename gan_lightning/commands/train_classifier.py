"""Train the MNIST classifier behind the quality metrics and save small (fp16) weights with metadata.

    python -m gan_lightning.commands.train_classifier --data_dir data --out gan_lightning/assets/mnist_classifier.pt

Reads the training and official test split the way `MNISTDataModule` finds them (IDX files
under `--data_dir`, else the shipped sample), trains on the whole training split
(`gan_lightning.metrics.train_classifier.train`: random affine jitter, one-cycle schedule), and
reports the accuracy on the test split once, at the end: the test split is never used to choose anything.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from pathlib import Path

import torch

from gan_lightning.data import load_split, mnist_or_sample, to_unit_range
from gan_lightning.metrics.train_classifier import accuracy, train


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data_dir", default="data", help="folder searched for the MNIST IDX files (as data.data_dir)")
    p.add_argument("--out", required=True, type=Path, help="weights file to write (.pt)")
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--batch_size", type=int, default=128)
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)")
    p.add_argument("--force", action="store_true", help="overwrite --out if it exists")
    args = p.parse_args(argv)
    for name in ("epochs", "batch_size"):
        if getattr(args, name) <= 0:
            raise SystemExit(f"--{name} must be a positive integer, got {getattr(args, name)!r}")
    if args.out.exists() and not args.force:
        raise SystemExit(f"--out {args.out} exists; pass --force to overwrite it")
    if args.threads is not None:
        torch.set_num_threads(args.threads)

    source = mnist_or_sample(args.data_dir, note=lambda message: print(message, file=sys.stderr))
    (train_x, train_y), (test_x, test_y) = load_split(source, "train"), load_split(source, "test")
    print(f"data: {source}  train {len(train_y)}  test {len(test_y)}")

    t0 = time.perf_counter()
    net = train(to_unit_range(train_x), train_y, args.epochs, args.batch_size, args.lr, args.seed)
    minutes = (time.perf_counter() - t0) / 60
    # Score exactly what ships: the weights rounded to fp16 and loaded back.
    state = {k: v.half() if v.is_floating_point() else v for k, v in net.state_dict().items()}
    net.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in state.items()})
    test_acc = accuracy(net, to_unit_range(test_x), test_y)
    train_acc = accuracy(net, to_unit_range(train_x), train_y)
    meta = {
        "test_accuracy": round(test_acc, 5),
        "train_accuracy": round(train_acc, 5),
        "train_size": len(train_y),
        "test_size": len(test_y),
        "data_source": str(source),
        "epochs": args.epochs,
        "seed": args.seed,
        "train_minutes": round(minutes, 2),
        "threads": torch.get_num_threads(),
        "torch": str(torch.__version__),
        "command": "python -m gan_lightning.commands.train_classifier "
        + shlex.join(sys.argv[1:] if argv is None else argv),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"state_dict": state, "meta": meta}, args.out)  # the net is built with its defaults: nothing to save
    print(json.dumps(meta, indent=2))
    print(
        f"test accuracy {test_acc:.4f} on {len(test_y)} test digits; wrote {args.out} ({args.out.stat().st_size} bytes)"
    )
    return meta


if __name__ == "__main__":
    main()
