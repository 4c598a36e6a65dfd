"""Train the MNIST classifier behind the quality metrics and save small (fp16) weights with metadata.

    python -m gan_lightning.metrics.train_classifier --data_dir DIR \\
        --out gan_lightning/assets/mnist_classifier.pt

Reads the training and official test split the way `MNISTDataModule` finds them (IDX files
under `--data_dir`, else the shipped sample), trains on the whole training split with random
affine jitter (a small digit set generalises much better with it), and reports the accuracy on
the test split once, at the end: the test split is never used to choose anything.
"""

from __future__ import annotations

import argparse
import json
import math
import shlex
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from gan_lightning.data import SAMPLE_DIR, load_split, locate
from gan_lightning.metrics.classifier import MNISTClassifier


def jitter(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Random small rotation, scale, shear and shift per image; x (B, 1, 28, 28) in [-1, 1]."""
    b = x.shape[0]
    u = lambda lo, hi: torch.empty(b).uniform_(lo, hi, generator=generator)  # noqa: E731
    angle, scale, shear = u(-0.21, 0.21), u(0.9, 1.1), u(-0.15, 0.15)  # radians, factor, slope
    tx, ty = u(-0.15, 0.15), u(-0.15, 0.15)  # 0.15 of the half-width: about 2 px
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    theta = torch.stack([torch.stack([cos, -sin + shear, tx], 1), torch.stack([sin, cos, ty], 1)], 1)  # (B, 2, 3)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    # grid_sample pads with 0, which is grey in [-1, 1]: shift so the background is 0, then back.
    return F.grid_sample(x + 1, grid, mode="bilinear", padding_mode="zeros", align_corners=False) - 1


def to_unit(images: torch.Tensor) -> torch.Tensor:
    return images.unsqueeze(1).float().div(127.5).sub(1.0)  # (N, 1, 28, 28) in [-1, 1]


@torch.no_grad()
def accuracy(net: MNISTClassifier, x: torch.Tensor, y: torch.Tensor, batch_size: int = 1000) -> float:
    net.eval()
    correct = sum(
        (net(x[i : i + batch_size]).argmax(1) == y[i : i + batch_size]).sum().item()
        for i in range(0, len(x), batch_size)
    )
    return correct / len(x)


def train(
    x: torch.Tensor, y: torch.Tensor, epochs: int, batch_size: int, lr: float, seed: int, log=print
) -> MNISTClassifier:
    """Fit a fresh classifier on x (N, 1, 28, 28) in [-1, 1] and labels y (N,)."""
    gen = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    net = MNISTClassifier()
    steps_per_epoch = math.ceil(len(x) / batch_size)
    opt = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=5e-4)
    # One-cycle: a short warm-up, then a cosine decay to ~0; robust without any tuning on test data.
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=epochs * steps_per_epoch, pct_start=0.15)
    for epoch in range(epochs):
        net.train()
        perm, total, t0 = torch.randperm(len(x), generator=gen), 0.0, time.perf_counter()
        for i in range(0, len(x), batch_size):
            idx = perm[i : i + batch_size]
            loss = F.cross_entropy(net(jitter(x[idx], gen)), y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            total += loss.item() * len(idx)
        log(f"epoch {epoch + 1}/{epochs}  train loss {total / len(x):.4f}  {time.perf_counter() - t0:.1f}s")
    return net.eval()


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

    source = locate("mnist", args.data_dir)
    if source is None:
        print(f"no MNIST IDX files under {args.data_dir}: training on the shipped sample {SAMPLE_DIR}", file=sys.stderr)
        source = SAMPLE_DIR
    (train_x, train_y), (test_x, test_y) = load_split(source, "train"), load_split(source, "test")
    print(f"data: {source}  train {len(train_y)}  test {len(test_y)}")

    t0 = time.perf_counter()
    net = train(to_unit(train_x), train_y, args.epochs, args.batch_size, args.lr, args.seed)
    minutes = (time.perf_counter() - t0) / 60
    # Score exactly what ships: the weights rounded to fp16 and loaded back.
    state = {k: v.half() if v.is_floating_point() else v for k, v in net.state_dict().items()}
    net.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in state.items()})
    test_acc = accuracy(net, to_unit(test_x), test_y)
    train_acc = accuracy(net, to_unit(train_x), train_y)
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
        "command": "python -m gan_lightning.metrics.train_classifier "
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
