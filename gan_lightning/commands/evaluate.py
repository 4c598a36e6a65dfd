"""`gan-lightning evaluate`: score a model's samples against the MNIST test split, print JSON.

    gan-lightning evaluate --ckpt_path runs/.../last.ckpt --n_samples 10000 --data_dir data
    gan-lightning evaluate --pretrained mnist-cgan                        # shipped model, offline
    gan-lightning evaluate --real --n_samples 10000 --data_dir data     # real training digits: the floor
    gan-lightning evaluate --real test_half --n_samples 5000 --data_dir data
    gan-lightning evaluate --ckpt_path runs/.../last.ckpt --cas --data_dir data   # + Classification Accuracy Score

The test split is found the way `MNISTDataModule` finds it (IDX files under `--data_dir`, else
the sample shipped in the package, with a note on stderr). Every test digit is the real side;
a conditional model is asked for digits in the test split's proportions. `--real` scores the
first `--n_samples` real *training* digits instead of a model: the best any generator can hope
for on this metric (its FID floor), with their true labels as the "asked for" digits;
`--real test_half` scores one half of the test split against the other.

Besides the metrics of `GANMetrics`, precision/recall and density/coverage (`metrics.prd`) are
always reported. `--cas` adds the Classification Accuracy Score of a conditional model
(`metrics.cas`): a fresh classifier trained for `--cas_epochs` on the scored samples with the
labels they were asked for, its accuracy on the test split as `cas`, and the same training on as
many real training digits as `cas_real` (the ceiling); two trainings, about two minutes per 10,000
samples on one CPU thread. A self-conditioned model also reports how its clusters line up with the
digits: `sample_cluster_purity` (the share of samples that show their cluster's most common digit,
as the classifier reads them) and `sample_cluster_nmi`. `--truncation PSI` scores samples drawn as
`generate --truncation PSI` draws them (noise pulled toward its mean): the price in variety of more
typical digits.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

import torch

from gan_lightning.checks import check_interval, check_seed
from gan_lightning.commands.generate import OneLineParser, add_source_arguments, load_source
from gan_lightning.data import load_split, mnist_or_sample, resize, to_unit_range
from gan_lightning.metrics.cas import CAS_EPOCHS, classification_accuracy_score
from gan_lightning.metrics.classifier import to_classifier_input
from gan_lightning.metrics.inception import check_inception_weights
from gan_lightning.sampling.chunked import NoiseRows, progress

if TYPE_CHECKING:  # the model classes load Lightning: not needed to parse, or for --pretrained
    from gan_lightning.modules import GAN


def _batches(n: int, size: int):
    for start in range(0, n, size):
        yield start, min(size, n - start)


REAL_SOURCES = ("train", "test_half")


def evaluate(
    ckpt_path: str | None = None,
    n_samples: int = 10_000,
    data_dir: str = "data",
    seed: int = 0,
    batch_size: int = 500,
    inception_weights: str | None = None,
    real: str | None = None,
    pretrained: str | None = None,
    model: GAN | None = None,
    cas: bool = False,
    cas_epochs: int = CAS_EPOCHS,
    truncation: float = 1.0,
) -> dict:
    """All metrics of `n_samples` samples of a model against the test split.

    The model: a checkpoint (`ckpt_path`), a pretrained name / folder / Hub repo id (`pretrained`, see
    `gan_lightning.sharing.pretrained`) or a loaded module (`model`); exactly one of them, or `real`.

    `real="train"` scores the first `n_samples` real training digits instead of a model (the
    metric's floor for a generator trained on them); `real="test_half"` scores the odd-indexed test
    digits against the even-indexed ones (the floor for digits nobody trained on: the classifier
    has seen the training digits, which makes their features a little too typical).

    `cas=True` adds ``cas`` and ``cas_real`` (see the module docstring), trained for `cas_epochs`.
    `truncation` < 1 scores the model's samples drawn with the truncation trick
    (`gan_lightning.noise.truncate`), the way `generate --truncation` draws them.

    Raises:
        ValueError: a bad count, both or neither of a checkpoint and `real`, `cas` for an
            unconditional model, or `truncation` outside (0, 1] or with `real` (one line naming the argument).
        FileNotFoundError: no checkpoint at `ckpt_path`.
    """
    for name, value in (("n_samples", n_samples), ("batch_size", batch_size), ("cas_epochs", cas_epochs)):
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
    if real is not None and real not in REAL_SOURCES:
        raise ValueError(f"real must be one of {REAL_SOURCES}, got {real!r}")
    check_interval("truncation", truncation, 0.0, 1.0, lo_open=True)
    check_seed("seed", seed)
    if real is not None and truncation != 1:
        raise ValueError(f"truncation: --real scores real digits, which are drawn from no noise; got {truncation}")
    given = [
        name
        for name, value in (("ckpt_path", ckpt_path), ("pretrained", pretrained), ("model", model))
        if value is not None
    ]
    if len(given) + (real is not None) != 1:
        raise ValueError(
            "ckpt_path: give one of a checkpoint (--ckpt_path), a pretrained model (--pretrained), "
            f"or --real to score real digits; got {', '.join(given + (['real'] if real else [])) or 'none'}"
        )
    if inception_weights is not None:
        check_inception_weights(inception_weights)  # fail before any work
    t0 = time.perf_counter()
    if real is None:  # a model that does not load fails before the data is read
        if ckpt_path is not None and not Path(ckpt_path).is_file():
            raise FileNotFoundError(f"ckpt_path: no checkpoint at {ckpt_path}")
        if model is None:
            model = load_source(ckpt_path, pretrained)
    source = mnist_or_sample(data_dir, note=lambda message: print(message, file=sys.stderr))
    test_x, test_y = load_split(source, "test")

    if real is None:
        model = model.cpu().eval()
        size, conditional = model.hparams.image_size, model.conditional
        if cas and not conditional:
            raise ValueError(
                f"cas: the Classification Accuracy Score needs a conditional model (labels to train on); "
                f"{ckpt_path or pretrained} holds a {type(model).__name__}"
            )
    else:
        size, conditional = 28, True  # real digits: their true labels are the "asked-for" digits
        if real == "train":
            pool_x, pool_y = load_split(source, "train")
        else:
            (test_x, pool_x), (test_y, pool_y) = (test_x[0::2], test_x[1::2]), (test_y[0::2], test_y[1::2])
        if n_samples > len(pool_y):
            raise ValueError(f"n_samples: --real {real} has {len(pool_y)} digits, got {n_samples}")
    from gan_lightning.metrics.gan_metrics import GANMetrics  # torchmetrics: loaded to score, not for --help

    metrics = GANMetrics(conditional, inception_weights=inception_weights, seed=seed, prd=True)

    test_x = resize(test_x, size)
    for start, n in _batches(len(test_y), batch_size):
        metrics.update_real(to_unit_range(test_x[start : start + n]), test_y[start : start + n])

    gen = torch.Generator().manual_seed(seed)
    # Asked-for digits in the test split's proportions: exactly its labels when n_samples == its size.
    order = torch.randperm(len(test_y), generator=gen)
    asked = test_y[order[torch.arange(n_samples) % len(test_y)]]
    kept: list[tuple[torch.Tensor, torch.Tensor]] = []  # the scored samples, for CAS
    clustered = real is None and getattr(model, "clustered", False)
    read: list[tuple[torch.Tensor, torch.Tensor]] = []  # a self-conditioned model's (cluster, digit read) pairs
    # The noise of one draw of n_samples rows, handed out a batch at a time: the batch size bounds the
    # memory and leaves the samples (and the scores) as they are.
    noise = NoiseRows(model.hparams, n_samples, gen, truncation) if real is None else None
    with progress(n_samples, "evaluate") as bar:
        for start, n in _batches(n_samples, batch_size):
            if real is not None:
                images, labels = to_unit_range(pool_x[start : start + n]), pool_y[start : start + n]
            else:
                labels = asked[start : start + n] if conditional else None
                z = noise.take(n)
                images = model.decode(z, labels)  # (n, 1, size, size)
                if clustered:  # labels only measure: the digit the classifier reads in each cluster's samples
                    read.append((model.clusters_of(z), metrics.classify(images).argmax(1).cpu()))
            metrics.update_fake(images, labels)
            if cas:
                kept.append((to_classifier_input(images).half(), labels))  # 28 px, half the memory
            bar.update(n)

    result = metrics.compute()
    if clustered:
        ids, digits = (torch.cat(parts) for parts in zip(*read, strict=True))
        from gan_lightning.clustering import nmi, purity  # scipy: only for a clustered model

        result.update({"sample_cluster_purity": purity(ids, digits), "sample_cluster_nmi": nmi(ids, digits)})
    if cas:
        result.update(_cas(kept, source, test_x, test_y, cas_epochs, seed))
    result.update(
        {
            "what": f"real digits ({real})" if real else str(ckpt_path or pretrained or "model"),
            "model": "real" if real else type(model).__name__,
            "image_size": size,
            "data_source": str(source),
            "seed": seed,
            "truncation": truncation,
            "seconds": round(time.perf_counter() - t0, 1),
        }
    )
    return result


def _cas(kept: list, source: Path, test_x: torch.Tensor, test_y: torch.Tensor, epochs: int, seed: int) -> dict:
    """CAS of the kept samples and its ceiling: the same training on as many real training digits."""
    fake_x = torch.cat([x for x, _ in kept]).float()  # (N, 1, 28, 28)
    fake_y = torch.cat([y for _, y in kept])
    real_x, real_y = load_split(source, "train")
    real_x, real_y = to_unit_range(real_x[: len(fake_y)]), real_y[: len(fake_y)]
    test = to_unit_range(test_x)  # the real side of the other metrics (at the model's size; resized for the classifier)
    return {
        "cas": classification_accuracy_score(fake_x, fake_y, test, test_y, epochs, seed),
        "cas_real": classification_accuracy_score(real_x, real_y, test, test_y, epochs, seed),
        "cas_train_size": len(fake_y),
        "cas_real_train_size": len(real_y),
        "cas_epochs": epochs,
    }


def main(argv: list[str] | None = None) -> dict:
    p = OneLineParser(
        prog="gan-lightning evaluate", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_source_arguments(p, required=False)
    p.add_argument(
        "--real",
        nargs="?",
        const="train",
        default=None,
        choices=REAL_SOURCES,
        help="score real digits instead of a checkpoint: the training digits (default) or half the test split",
    )
    p.add_argument("--n_samples", type=int, default=10_000)
    p.add_argument("--data_dir", default="data", help="folder searched for the MNIST IDX files (as data.data_dir)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--batch_size", type=int, default=500)
    p.add_argument("--inception_weights", default=None, help="torch-fidelity FID Inception weights: adds fid_inception")
    p.add_argument(
        "--cas",
        action="store_true",
        help="add the Classification Accuracy Score (conditional models) and its real-data ceiling",
    )
    p.add_argument("--cas_epochs", type=int, default=CAS_EPOCHS, help="epochs of each CAS classifier")
    p.add_argument(
        "--truncation", type=float, default=1.0, help="in (0, 1]: score samples drawn as `generate --truncation` draws"
    )
    args = p.parse_args(argv)
    if args.cas_epochs != CAS_EPOCHS and not args.cas:
        p.error(f"--cas_epochs sets the training of --cas, which is off; add --cas, got --cas_epochs {args.cas_epochs}")
    try:
        result = evaluate(
            args.ckpt_path,
            args.n_samples,
            args.data_dir,
            args.seed,
            args.batch_size,
            args.inception_weights,
            args.real,
            args.pretrained,
            cas=args.cas,
            cas_epochs=args.cas_epochs,
            truncation=args.truncation,
        )
    except (ValueError, FileNotFoundError, ModuleNotFoundError) as err:
        p.error(str(err))  # one line on stderr, exit status 2
    print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
