"""Stacked --config files: files or shipped names; one system config, any number of presets; two system
configs are refused."""

import pytest

from gan_lightning.commands.configs import (
    SHIPPED,
    check_one_system,
    config_files,
    names_a_logger,
    resolve_config_names,
    shipped_names,
)
from tests.helpers import ROOT_CONFIGS as CONFIGS
from tests.helpers import SYSTEM_CONFIGS as SYSTEMS

PRESETS = sorted(p for folder in ("logger", "trainer", "recipes") for p in (CONFIGS / folder).glob("*.yaml"))


def test_config_files_in_both_spellings():
    assert config_files(["fit", "--config", "a.yaml", "--config=b.yaml", "--trainer.max_epochs=1"]) == [
        "a.yaml",
        "b.yaml",
    ]


@pytest.mark.parametrize("preset", PRESETS, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_every_preset_stacks_on_a_system_config(preset):
    check_one_system(["fit", "--config", str(CONFIGS / "cgan_dcgan28.yaml"), "--config", str(preset)])


def test_every_pair_of_system_configs_is_refused_naming_both():
    for first in SYSTEMS:
        for second in SYSTEMS:
            if first != second:
                with pytest.raises(ValueError, match=r"are both system configs") as err:
                    check_one_system(["fit", "--config", str(first), "--config", str(second)])
                assert str(first) in str(err.value) and str(second) in str(err.value)


def test_unreadable_files_are_left_to_the_parser(tmp_path):
    (tmp_path / "bad.yaml").write_text("model: [unclosed\n")
    check_one_system(["fit", "--config", str(CONFIGS / "gan_mlp.yaml"), "--config", str(tmp_path / "bad.yaml")])
    check_one_system(["fit", "--config", str(tmp_path / "missing.yaml")])


def test_the_clone_s_configs_folder_is_the_shipped_one():
    assert CONFIGS.resolve() == SHIPPED.resolve()  # one set of files: paths in a clone, names anywhere
    names = shipped_names()
    assert {p.stem for p in SYSTEMS} | {f"{p.parent.name}/{p.stem}" for p in PRESETS} <= set(names)
    assert "defaults" not in names and not [n for n in names if n.startswith("sweeps/")]  # not Lightning configs


def test_names_become_the_shipped_files_and_everything_else_stays(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # not the clone: a pip-installed user's folder
    (tmp_path / "mine.yaml").write_text("trainer: {max_epochs: 1}\n")
    args = ["fit", "--config", "cgan_dcgan28", "--config=logger/csv", "--config", "mine.yaml",
            "--config={trainer: {max_epochs: 2}}", "--trainer.max_epochs=3"]  # fmt: skip
    resolved = resolve_config_names(args)
    assert (
        resolved[2] == str(SHIPPED / "cgan_dcgan28.yaml")
        and resolved[3] == f"--config={SHIPPED / 'logger' / 'csv.yaml'}"
    )
    assert resolved[4:] == args[4:]  # a file, inline YAML and other flags untouched
    (tmp_path / "cgan_dcgan28").write_text("model: {}\n")
    assert resolve_config_names(["--config", "cgan_dcgan28"]) == ["--config", "cgan_dcgan28"]  # a file wins


def test_an_unknown_name_is_one_line_listing_the_shipped_ones():
    with pytest.raises(ValueError, match=r"^--config: 'recipes/adaa' is neither a file nor a config the package "
                       r"ships; shipped: cgan_dcgan28, .*recipes/ada, "):  # fmt: skip
        resolve_config_names(["fit", "--config", "recipes/adaa"])


def test_which_arguments_choose_the_logger_and_which_adjust_the_default(tmp_path):
    # Choosing one leaves the default W&B logger (and so wandb's import) out; adjusting it keeps it.
    for name in ("csv", "tensorboard", "none", "wandb"):
        assert names_a_logger(["fit", "--config", str(CONFIGS / "logger" / f"{name}.yaml")])
    assert names_a_logger(["fit", "--trainer.logger=false"])
    assert names_a_logger(["fit", "--trainer.logger", "lightning.pytorch.loggers.CSVLogger"])
    assert names_a_logger(["fit", "--trainer.logger.class_path=lightning.pytorch.loggers.CSVLogger"])
    (tmp_path / "project.yaml").write_text("trainer:\n  logger:\n    init_args:\n      project: mine\n")
    for args in (
        ["fit", "--config", str(CONFIGS / "cgan_dcgan28.yaml")],
        ["fit", "--trainer.logger.init_args.project=mine"],
        ["fit", "--config", str(tmp_path / "project.yaml")],
        ["fit", "--config", str(tmp_path / "missing.yaml")],
    ):
        assert not names_a_logger(args), args
