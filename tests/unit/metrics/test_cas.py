"""Classification Accuracy Score: a classifier trained on the right labels learns the digits, on shuffled ones not."""

import pytest
import torch

from gan_lightning.data import SAMPLE_DIR, load_split, to_unit_range
from gan_lightning.metrics.cas import classification_accuracy_score


@pytest.fixture(scope="module")
def digits():
    (x, y), (tx, ty) = load_split(SAMPLE_DIR, "train"), load_split(SAMPLE_DIR, "test")
    return to_unit_range(x[:400]), y[:400], to_unit_range(tx[:400]), ty[:400]


def _cas(x, y, tx, ty, **kwargs):
    return classification_accuracy_score(x, y, tx, ty, epochs=2, batch_size=32, log=lambda msg: None, **kwargs)


def test_right_labels_teach_wrong_labels_do_not(digits):
    x, y, tx, ty = digits
    before = torch.get_rng_state()
    right = _cas(x, y, tx, ty)
    assert torch.equal(torch.get_rng_state(), before)  # the caller's random stream is left alone
    shuffled = _cas(x, y[torch.randperm(len(y), generator=torch.Generator().manual_seed(0))], tx, ty)
    assert right > 0.5 and shuffled < 0.3, (right, shuffled)


def test_64px_samples_are_resized_for_the_classifier(digits):
    x, y, tx, ty = digits
    big = torch.nn.functional.interpolate(x[:40], size=(64, 64), mode="bilinear")
    score = lambda: classification_accuracy_score(big, y[:40], tx[:40], ty[:40], epochs=1, log=lambda m: None)  # noqa: E731
    first = score()
    assert 0.0 <= first <= 1.0 and score() == first  # same seed, same score


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(epochs=0), "epochs must be a positive integer, got 0"),
        (dict(n_labels=5), "train_images and train_labels differ in length: 10 vs 5"),
        (dict(n=1), "train_images: need at least 2 images to train a classifier, got 1"),
    ],
)
def test_bad_input(kwargs, message):
    n = kwargs.pop("n", 10)
    labels = torch.zeros(kwargs.pop("n_labels", n), dtype=torch.long)
    with pytest.raises(ValueError, match=message):
        classification_accuracy_score(
            torch.zeros(n, 1, 28, 28), labels, torch.zeros(4, 1, 28, 28), torch.zeros(4), **kwargs
        )
