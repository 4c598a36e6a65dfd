"""The CLI's progress bar: redraws at log steps, shows the last logged means, reads no tensor."""

from pathlib import Path

import pytest
from lightning.pytorch.callbacks import TQDMProgressBar

from gan_lightning.callbacks import ProgressBar
from gan_lightning.commands.cli import run_cli

ROOT = Path(__file__).resolve().parents[3]


def _cli(tmp_path, *extra: str):
    config = str(ROOT / "configs" / "gan_mlp.yaml")
    return run_cli(["--config", config, "--trainer.logger=false", f"--trainer.default_root_dir={tmp_path}", *extra],
                   run=False)  # fmt: skip


def test_cli_replaces_lightnings_default_bar(tmp_path):
    cli = _cli(tmp_path, "--trainer.log_every_n_steps=7")
    bar = cli.trainer.progress_bar_callback
    bar.setup(cli.trainer, cli.model, "fit")
    assert type(bar) is ProgressBar and bar.refresh_rate == 7  # follows log_every_n_steps


def test_a_bar_the_config_names_is_kept(tmp_path):
    callbacks = '[{"class_path": "lightning.pytorch.callbacks.TQDMProgressBar", "init_args": {"refresh_rate": 3}}]'
    bar = _cli(tmp_path, f"--trainer.callbacks={callbacks}").trainer.progress_bar_callback
    assert type(bar) is TQDMProgressBar and bar.refresh_rate == 3


def test_no_bar_when_disabled(tmp_path):
    assert _cli(tmp_path, "--trainer.enable_progress_bar=false").trainer.progress_bar_callback is None


def test_bar_shows_the_modules_last_window(tmp_path):
    cli = _cli(tmp_path)
    cli.model.training_log.last_window = {"step": 40, "train/d_loss": 0.5, "train/g_loss": 1.25}
    shown = ProgressBar().get_metrics(cli.trainer, cli.model)
    assert shown["d_loss"] == 0.5 and shown["g_loss"] == 1.25 and "step" not in shown


@pytest.mark.parametrize("bad", [0, -1, True, 2.5])
def test_bad_refresh_rate_is_refused(bad):
    with pytest.raises(ValueError, match=rf"refresh_rate must be a positive integer or None, got {bad!r}"):
        ProgressBar(refresh_rate=bad)
