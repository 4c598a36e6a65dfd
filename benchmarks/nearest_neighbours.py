"""Are the samples copies of training digits? Nearest-neighbour distances in pixel space.

For each checkpoint: `--n` samples (noise seed 0; a conditional model asked for digits 0, 1, 2, ...),
each one's Euclidean distance (pixels in [-1, 1]) to its nearest training digit, against the same for
`--n` test digits, which nobody trained on. A model that copies its training digits has samples far
nearer to them than test digits are; the table gives the medians and the share of samples nearer
than the nearest 5% of test digits (5%: as near as test digits; far above it: copies).

    python benchmarks/nearest_neighbours.py --data_dir DIR RUN/checkpoints/last.ckpt [...]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's package

from gan_lightning.commands.generate import load_model  # noqa: E402
from gan_lightning.data import load_split, mnist_or_sample, to_unit_range  # noqa: E402


def nearest(x: torch.Tensor, train: torch.Tensor, block: int = 500) -> torch.Tensor:
    """Distance (N,) from each row of `x` (N, D) to its nearest row of `train` (M, D)."""
    return torch.cat([torch.cdist(b, train).min(1).values for b in x.split(block)])


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("checkpoints", nargs="+")
    p.add_argument("--data_dir", default="data")
    p.add_argument("--n", type=int, default=2000, help="samples, and test digits, per row")
    args = p.parse_args(argv)
    source = mnist_or_sample(args.data_dir)
    train = to_unit_range(load_split(source, "train")[0]).flatten(1)  # (M, 784)
    test = to_unit_range(load_split(source, "test")[0][: args.n]).flatten(1)
    d_test = nearest(test, train)
    near = d_test.quantile(0.05)
    print("| model | median distance, samples | median distance, test digits | samples nearer than 5% of test |")
    print("| --- | ---: | ---: | ---: |")
    for path in args.checkpoints:
        model = load_model(path).eval()
        labels = torch.arange(args.n) % model.hparams.num_classes if model.conditional else None
        with torch.no_grad():
            samples = model.decode(model.sample_z(args.n, torch.Generator().manual_seed(0)), labels).flatten(1)
        d = nearest(samples.float(), train)
        share = (d < near).float().mean()
        print(f"| {path} | {d.median():.2f} | {d_test.median():.2f} | {share:.3f} |")


if __name__ == "__main__":
    main()
