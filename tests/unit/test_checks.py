"""The one validation idiom (gan_lightning/checks.py): one wording for Python and command-line users."""

from __future__ import annotations

import inspect
import math
import typing
from pathlib import Path
from typing import Literal

import pytest

from gan_lightning import GAN, ConditionalGAN, MNISTDataModule
from gan_lightning.checks import check_choice, check_interval, check_positive, check_positive_int, choices
from gan_lightning.commands.cli import main
from gan_lightning.modules.settings import GANSettings
from gan_lightning.nets import MLPDiscriminator, MLPGenerator

ROOT = Path(__file__).resolve().parents[2]
Color = Literal["red", "green"]


def test_choices_come_from_the_literal():
    assert choices(Color) == ("red", "green")
    assert choices(Literal[28, 64] | None) == (28, 64)
    check_choice("color", "red", Color)
    with pytest.raises(ValueError, match=r"^color must be one of \('red', 'green'\), got 'blue'$"):
        check_choice("color", "blue", Color)


def test_choice_of_ints_refuses_bools_and_floats():
    for bad in (True, 28.0, "28"):
        with pytest.raises(ValueError, match=rf"^size must be one of \(28, 64\), got {bad!r}$"):
            check_choice("size", bad, Literal[28, 64])


@pytest.mark.parametrize("bad", [0, -3, True, 2.0, "4", None])
def test_positive_int_refuses_bools_floats_and_non_positive(bad):
    with pytest.raises(ValueError, match=rf"^n must be a positive integer, got {bad!r}$"):
        check_positive_int("n", bad)
    check_positive_int("n", None, optional=True)


@pytest.mark.parametrize("bad", [0.0, -1e-4, math.nan, math.inf, True, "1e-3"])
def test_positive_number_is_finite(bad):
    with pytest.raises(ValueError, match=rf"^lr must be a finite positive number, got {bad!r}$"):
        check_positive("lr", bad)


def test_interval_names_its_open_and_closed_ends():
    with pytest.raises(ValueError, match=r"^p must be a number in \(0, 1\], got 0$"):
        check_interval("p", 0, 0.0, 1.0, lo_open=True)


@pytest.mark.parametrize("kwargs", [{"batch_size": True}, {"predict_n": True}, {"val_samples": False}])
def test_data_module_refuses_a_bool_where_the_model_does(kwargs):
    ((name, value),) = kwargs.items()
    with pytest.raises(ValueError, match=rf"{name} must be a positive integer.*, got {value}"):
        MNISTDataModule(**kwargs)
    with pytest.raises(ValueError, match=r"n_critic must be a positive integer, got True"):
        GAN(n_critic=True)


@pytest.mark.parametrize(
    ("cli_arg", "python_call", "key"),
    [
        ("--model.init_args.arch=resnet", lambda: GAN(arch="resnet"), "model.init_args.arch"),
        ("--data.image_size=32", lambda: MNISTDataModule(image_size=32), "data.image_size"),
        ("--data.device_resident=maybe", lambda: MNISTDataModule(device_resident="maybe"), "data.device_resident"),
    ],
    ids=["arch", "image_size", "device_resident"],
)
def test_cli_and_python_word_a_literal_mistake_the_same(cli_arg, python_call, key, capsys):
    with pytest.raises(ValueError) as python:
        python_call()
    with pytest.raises(SystemExit) as exit_info:
        main(["fit", "--config", str(ROOT / "configs" / "gan_mlp.yaml"), cli_arg])
    assert exit_info.value.code == 2
    line = capsys.readouterr().err.strip()
    assert f"error: {key.rsplit('.', 1)[0]}.{python.value}" in line  # e.g. "model.init_args." + the Python message


def _param_types(cls: type) -> dict[str, tuple[object, object]]:
    hints = typing.get_type_hints(cls.__init__)
    return {
        name: (hints[name], p.default)
        for name, p in inspect.signature(cls.__init__).parameters.items()
        if p.default is not inspect.Parameter.empty and name in hints
    }


@pytest.mark.parametrize("cls", [GANSettings, ConditionalGAN, MNISTDataModule, MLPGenerator, MLPDiscriminator])
def test_sequence_defaults_are_immutable_and_match_their_annotation(cls):
    # A list default is shared by every call (and jsonargparse prints the annotation's type); a tuple default
    # under a `list[...]` annotation is a signature that lies. Sequences are `tuple[...]` with tuple defaults.
    params = _param_types(cls)
    assert params, f"{cls.__name__}: no annotated arguments with defaults found"
    for name, (hint, default) in params.items():
        assert not isinstance(default, (list, dict, set)), f"{cls.__name__}.{name}: mutable default {default!r}"
        origins = {typing.get_origin(h) or h for h in (typing.get_args(hint) or (hint,))} | {typing.get_origin(hint)}
        if isinstance(default, tuple):
            assert tuple in origins and list not in origins, f"{cls.__name__}.{name}: {hint} = {default!r}"


def test_attached_trainer_is_none_outside_a_trainer_and_the_trainer_inside():
    import lightning as L

    from gan_lightning.checks import attached_trainer

    module = L.LightningModule()
    assert attached_trainer(module) is None
    trainer = L.Trainer(logger=False, enable_checkpointing=False, enable_progress_bar=False)
    module.trainer = trainer
    assert attached_trainer(module) is trainer


def test_check_data_matches_names_the_setting_and_both_values():
    from types import SimpleNamespace

    from gan_lightning.checks import check_data_matches

    hparams = {"image_size": 28, "num_classes": 10}
    check_data_matches(hparams, SimpleNamespace(image_size=28, num_classes=10))
    check_data_matches(hparams, None)  # no data module (a bare dataloader): nothing to compare
    with pytest.raises(ValueError, match=r"^image_size: the model was built for 28 but the data module serves 64;"):
        check_data_matches(hparams, SimpleNamespace(image_size=64, num_classes=10))


@pytest.mark.parametrize("seed", [2**64, -(2**63) - 1, 1.5, True, "7"])
def test_seeds_must_fit_a_generator(seed):
    from gan_lightning.checks import check_seed

    with pytest.raises(ValueError, match=r"seed must be an integer in -2\*\*63..2\*\*64-1 \(64 bits\), got"):
        check_seed("seed", seed)
    check_seed("seed", 2**64 - 1)  # the bounds themselves are taken
    check_seed("seed", -(2**63))


def test_every_command_refuses_an_oversized_seed_naming_it(tmp_path):
    from gan_lightning import GAN, MNISTDataModule
    from gan_lightning.commands.evaluate import evaluate
    from gan_lightning.commands.generate import generate_images

    huge = 10**30
    with pytest.raises(ValueError, match="^seed must be an integer"):
        generate_images(GAN(arch="mlp", g_hidden=[8], d_hidden=[8], latent_dim=4), n=2, seed=huge)
    with pytest.raises(ValueError, match="^seed must be an integer"):
        evaluate(real="train", n_samples=10, seed=huge, data_dir=str(tmp_path))
    with pytest.raises(ValueError, match="^predict_seed must be an integer"):
        MNISTDataModule(predict_seed=huge)
