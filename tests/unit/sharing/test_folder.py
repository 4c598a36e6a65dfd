"""`FolderGenerator`: a model folder sampled without Lightning draws exactly the full model's images."""

from __future__ import annotations

import shutil

import pytest
import torch

from gan_lightning.commands.generate import generate_images, load_sampler
from gan_lightning.modules import GAN
from gan_lightning.sharing.folder import FolderGenerator
from gan_lightning.sharing.pretrained import ASSETS

# (name, generate_images keyword arguments): every kind of draw each shipped model takes
DRAWS = [
    ("mnist-cgan", {}),
    ("mnist-cgan", {"digits": [3, 7], "n_per_digit": 16, "seed": 5, "truncation": 0.8}),
    ("mnist-gan", {"n": 50, "seed": 1}),
    ("mnist-gan", {"n": 24, "seed": 2, "cluster": 7, "truncation": 0.7}),
]


@pytest.fixture(scope="module")
def full_models():
    return {name: GAN.from_pretrained(name) for name in ("mnist-cgan", "mnist-gan")}


@pytest.mark.parametrize(("name", "kwargs"), DRAWS, ids=[f"{n}-{i}" for i, (n, _) in enumerate(DRAWS)])
def test_a_shipped_model_draws_the_same_images_without_lightning(full_models, name, kwargs):
    fast = FolderGenerator.load(name)
    assert fast is not None and fast.clustered == full_models[name].clustered
    expected, expected_labels = generate_images(full_models[name], **kwargs)
    images, labels = generate_images(fast, **kwargs)
    assert torch.equal(labels, expected_labels)
    assert torch.equal(images, expected)  # bit for bit: the same modules, weights, noise and order of operations


def test_generate_takes_the_folder_generator_for_names_and_folders(tmp_path):
    shutil.copytree(ASSETS / "mnist-cgan", tmp_path / "copy")
    assert isinstance(load_sampler(pretrained="mnist-cgan"), FolderGenerator)
    assert isinstance(load_sampler(pretrained=str(tmp_path / "copy")), FolderGenerator)


def test_what_the_folder_generator_does_not_handle_goes_to_the_full_loader(tmp_path):
    assert FolderGenerator.load("someone/some-gan") is None  # a Hub repo id: the Hub's loader fetches it
    for name, edit in (
        ("cut", lambda text: text[:40]),  # not JSON: the full loader names the file
        ("size", lambda text: text.replace('"image_size": 28', '"image_size": 32', 1)),  # weights do not fit
        ("kind", lambda text: text.replace('"ConditionalGAN"', '"MyGAN"', 1)),  # a class of no model here
    ):
        folder = tmp_path / name
        shutil.copytree(ASSETS / "mnist-cgan", folder)
        (folder / "config.json").write_text(edit((folder / "config.json").read_text()))
        assert FolderGenerator.load(str(folder)) is None, name
