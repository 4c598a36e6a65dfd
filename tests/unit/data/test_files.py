"""The one fallback to the shipped sample: MNIST files when there are some, else the sample, said once."""

import pytest

from gan_lightning.data import SAMPLE_DIR, mnist_or_sample


def test_without_files_the_sample_is_used_and_the_note_says_where_to_put_mnist(tmp_path):
    notes = []
    assert mnist_or_sample(tmp_path, note=notes.append) == SAMPLE_DIR
    (note,) = notes
    assert note.startswith(f"MNIST not found under {tmp_path}:") and str(tmp_path / "MNIST" / "raw") in note


def test_without_a_note_it_warns():
    with pytest.warns(UserWarning, match="real-MNIST sample shipped with gan_lightning"):
        assert mnist_or_sample(SAMPLE_DIR / "missing", " and the download failed") == SAMPLE_DIR


def test_mnist_files_are_used_silently():
    assert mnist_or_sample(SAMPLE_DIR, note=pytest.fail) == SAMPLE_DIR  # the sample's folder holds the four files
