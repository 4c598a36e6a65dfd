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


def test_three_minutes_recipe_sets_the_clock_and_adams_betas_only(tmp_path):
    def built(system: str, *recipe: str):
        args = ["--config", str(ROOT / "configs" / f"{system}.yaml"), *recipe, "--trainer.logger=false"]
        return run_cli([*args, "--data.download=false", f"--trainer.default_root_dir={tmp_path}"], run=False)

    recipe = ("--config", str(ROOT / "configs" / "recipes" / "three_minutes.yaml"))
    default, short = built("cgan_dcgan28"), built("cgan_dcgan28", *recipe)
    assert short.config["trainer"]["max_time"] == "00:00:03:00" and short.trainer.max_epochs == -1
    # The conditional default already trains with the recipe's betas: only the clock changes.
    assert default.config["trainer"]["max_time"] is None
    assert dict(short.model.hparams) == dict(default.model.hparams)
    g_opt, d_opt = short.model.configure_optimizers()
    assert g_opt.defaults["betas"] == d_opt.defaults["betas"] == (0.0, 0.99)
    # Stacked on a config with other betas, the recipe brings its own and leaves the rest.
    other, other_short = built("gan_dcgan28"), built("gan_dcgan28", *recipe)
    assert tuple(other.model.hparams.betas) == (0.5, 0.999) and tuple(other_short.model.hparams.betas) == (0.0, 0.99)
    assert {k: v for k, v in other_short.model.hparams.items() if k != "betas"} == {
        k: v for k, v in other.model.hparams.items() if k != "betas"
    }
