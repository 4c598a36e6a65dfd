"""Stacked --config files: one system config, any number of presets; two system configs are refused."""

from pathlib import Path

import pytest

from gan_lightning.commands.configs import check_one_system, config_files

ROOT = Path(__file__).resolve().parents[3]
CONFIGS = ROOT / "configs"
SYSTEMS = sorted(CONFIGS.glob("*.yaml"))
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
