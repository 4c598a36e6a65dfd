"""The W&B sweep config: one trial's command line, built the way `wandb agent` builds it (wandb's own
macro helpers), trains through the real CLI and logs the metric the sweep optimises."""

from pathlib import Path

import pytest
import yaml
from wandb.sdk.launch.sweeps.utils import create_sweep_command, create_sweep_command_args

from gan_lightning.commands.cli import run_cli
from gan_lightning.commands.configs import resolve_config_names

ROOT = Path(__file__).resolve().parents[2]
SWEEPS = sorted((ROOT / "configs" / "sweeps").glob("*.yaml"))


def _trial_values(parameters: dict) -> dict:
    """One value per parameter, as the sweep server could pick it: the fixed value, the first of the
    listed values, or the lower end of a range."""
    chosen = {}
    for name, spec in parameters.items():
        if "value" in spec:
            chosen[name] = spec["value"]
        elif "values" in spec:
            chosen[name] = spec["values"][0]
        else:
            chosen[name] = spec["min"]
    return chosen


def _agent_command(sweep: dict, values: dict) -> list[str]:
    """What `wandb agent` runs for a trial with these values (wandb/wandb_agent.py, non-Windows)."""
    variables = create_sweep_command_args({"args": {k: {"value": v} for k, v in values.items()}})
    variables.update(env=["/usr/bin/env"], interpreter=["python"], program=[sweep["program"]])
    command = []
    for chunk in create_sweep_command(list(sweep["command"])):
        chunk = str(chunk)
        command += variables.get(chunk[2:-1]) or [] if chunk.startswith("${") and chunk.endswith("}") else [chunk]
    return command


def test_there_is_a_sweep():
    assert [p.name for p in SWEEPS] == ["cgan_dcgan28.yaml"]


@pytest.mark.parametrize("path", SWEEPS, ids=lambda p: p.stem)
def test_one_trial_trains_and_logs_the_swept_metric(path, tmp_path, monkeypatch):
    sweep = yaml.safe_load(path.read_text())
    assert sweep["method"] in ("grid", "random", "bayes") and sweep["metric"]["goal"] in ("minimize", "maximize")
    values = _trial_values(sweep["parameters"])
    command = _agent_command(sweep, values)
    assert command[:3] == ["/usr/bin/env", "gan-lightning", "fit"]  # the console script
    assert "--model.init_args.lr_g=5e-05" in command  # wandb's `--name=value` form, which jsonargparse reads
    monkeypatch.chdir(tmp_path)  # the agent may run anywhere: the config is named, not a path
    tiny = [
        "--trainer.max_epochs=1",
        "--trainer.limit_train_batches=2",
        "--trainer.limit_val_batches=2",
        "--trainer.check_val_every_n_epoch=1",
        "--trainer.enable_progress_bar=false",
        f"--trainer.default_root_dir={tmp_path / 'runs'}",
        f"--data.data_dir={tmp_path / 'data'}",
        "--data.download=false",
        "--model.init_args.ngf=8",  # after the trial's values: a smaller net, the same code path
        "--model.init_args.ndf=8",
    ]
    cli = run_cli(resolve_config_names([*command[2:], *tiny]))  # what `gan-lightning` does before LightningCLI
    for name, value in values.items():  # every swept value reached the run's config
        node = cli.config["fit"]
        for part in name.split("."):
            node = node[part]
        assert node == value or name == "model.init_args.ngf", name
    assert sweep["metric"]["name"] in cli.trainer.callback_metrics
