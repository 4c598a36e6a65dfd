"""Rebuild the real-MNIST sample shipped in gan_lightning/assets/mnist_sample.

    python scripts/make_mnist_sample.py --source DIR/MNIST/raw

Takes the first `--train_per_class` digits of each class from the training files and the first
`--test_per_class` of each class from the official test files, keeping their original order, so
the sample is class-balanced and the same every time it is rebuilt.
"""

import argparse
from pathlib import Path

import numpy as np

from gan_lightning.data.idx import read_idx, write_idx

OUT = Path(__file__).resolve().parents[1] / "gan_lightning" / "assets" / "mnist_sample"


def balanced(images: np.ndarray, labels: np.ndarray, per_class: int) -> tuple[np.ndarray, np.ndarray]:
    keep = np.sort(np.concatenate([np.flatnonzero(labels == c)[:per_class] for c in range(10)]))
    return images[keep], labels[keep]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--source", type=Path, required=True, help="folder holding the four MNIST IDX files")
    parser.add_argument("--train_per_class", type=int, default=600)
    parser.add_argument("--test_per_class", type=int, default=200)
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    for split, per_class in (("train", args.train_per_class), ("t10k", args.test_per_class)):
        images = read_idx(args.source / f"{split}-images-idx3-ubyte.gz", 3)
        labels = read_idx(args.source / f"{split}-labels-idx1-ubyte.gz", 1)
        images, labels = balanced(images, labels, per_class)
        write_idx(OUT / f"{split}-images-idx3-ubyte.gz", images)
        write_idx(OUT / f"{split}-labels-idx1-ubyte.gz", labels)
        print(f"{split}: {len(labels)} digits -> {OUT}")


if __name__ == "__main__":
    main()
