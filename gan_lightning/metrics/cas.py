"""Classification Accuracy Score (Ravuri & Vinyals 2019): can a classifier learn the digits from samples alone?

A fresh classifier (the architecture of the shipped metrics classifier, trained the same way) is
trained on a conditional model's samples, labelled with the digits they were asked for, and
scored on the real test split. Samples that look right but miss part of each digit's variety, or
draw the wrong digit for a label, teach a worse classifier; the same training on as many real
training digits gives the ceiling to read it against. Unlike `class_acc` (does the *shipped*
classifier agree with the labels?) it measures whether the samples carry what a classifier needs.
"""

from __future__ import annotations

import sys

import torch

from gan_lightning.metrics.classifier import to_classifier_input
from gan_lightning.metrics.train_classifier import accuracy, train

CAS_EPOCHS = 3  # a few epochs: about a minute per 10,000 digits on one CPU thread (47-68 s measured)
CAS_LR = 3e-3  # the shipped classifier's rate, with its one-cycle schedule
CAS_BATCH = 128


def classification_accuracy_score(
    train_images: torch.Tensor,
    train_labels: torch.Tensor,
    test_images: torch.Tensor,
    test_labels: torch.Tensor,
    epochs: int = CAS_EPOCHS,
    seed: int = 0,
    batch_size: int = CAS_BATCH,
    lr: float = CAS_LR,
    log=None,
) -> float:
    """Test accuracy of a classifier trained from scratch on (train_images, train_labels).

    Images are (N, 1, H, W) in [-1, 1] at 28 or 64 px (64 px is resized like every metric does),
    labels (N,) digits. Runs on the CPU with its own random stream (the caller's is left as it was).

    Raises:
        ValueError: mismatched lengths, fewer than 2 training images, or epochs not a positive integer.
    """
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs <= 0:
        raise ValueError(f"epochs must be a positive integer, got {epochs!r}")
    for name, x, y in (("train", train_images, train_labels), ("test", test_images, test_labels)):
        if len(x) != len(y):
            raise ValueError(f"{name}_images and {name}_labels differ in length: {len(x)} vs {len(y)}")
    if len(train_labels) < 2:
        raise ValueError(f"train_images: need at least 2 images to train a classifier, got {len(train_labels)}")
    x = to_classifier_input(train_images.detach().cpu())  # (N, 1, 28, 28)
    y = train_labels.detach().cpu().long()
    log = log or (lambda msg: print(f"cas: {msg}", file=sys.stderr))
    with torch.random.fork_rng(devices=[]):
        net = train(x, y, epochs, batch_size, lr, seed, log=log)
    return accuracy(net, to_classifier_input(test_images.detach().cpu()), test_labels.detach().cpu().long())
