"""The quality recipes stack onto the 28 px systems and build the model they describe."""

from pathlib import Path

import pytest

from gan_lightning.commands.cli import run_cli

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("recipe", ["diffaugment", "ada"])
@pytest.mark.parametrize("system", ["cgan_dcgan28", "gan_dcgan28"])
def test_recipe_builds(system, recipe, tmp_path):
    system_yaml, recipe_yaml = ROOT / "configs" / f"{system}.yaml", ROOT / "configs" / "recipes" / f"{recipe}.yaml"
    args = ["--config", str(system_yaml), "--config", str(recipe_yaml), "--trainer.logger=false"]
    cli = run_cli([*args, f"--trainer.default_root_dir={tmp_path}", "--data.download=false"], run=False)
    augment = cli.model.techniques.augment
    assert augment.policy == ("translation", "cutout")
    assert augment.adaptive == (recipe == "ada")
    assert cli.model.hparams.ema_decay == 0.999  # the system's own settings stay
