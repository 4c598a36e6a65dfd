"""The CLI: entry points, the printed config, the shipped configs' form (every config fits, tests and predicts
through it in tests/integration/test_stages.py)."""

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

import gan_lightning
from gan_lightning.callbacks import ImageGridLogger
from gan_lightning.commands.cli import main, run_cli
from tests.helpers import SYSTEM_CONFIGS, printed_config

ROOT = Path(__file__).resolve().parents[2]
CONFIGS = SYSTEM_CONFIGS
DEFAULTS = ROOT / "gan_lightning" / "configs" / "defaults.yaml"


def _fit_args(config: Path, tmp_path: Path, batches: int = 2) -> list[str]:
    return [
        "fit",
        "--config",
        str(config),
        "--trainer.max_epochs=1",
        f"--trainer.limit_train_batches={batches}",
        "--trainer.limit_val_batches=0",
        "--trainer.enable_progress_bar=false",
        f"--trainer.default_root_dir={tmp_path / 'runs'}",
        f"--data.data_dir={tmp_path / 'data'}",
        "--data.download=false",
    ]


def test_every_system_has_a_config():
    names = {p.stem for p in CONFIGS}
    assert {
        "gan_mlp",
        "gan_mlp_tutorial_v1",
        "gan_mlp_tutorial_v2",
        "cgan_mlp",
        "cgan_dcgan64",
        "gan_dcgan28",
        "cgan_dcgan28",
    } <= names


def test_print_config_is_complete_and_rerunnable(tmp_path, capsys):
    cfg = ROOT / "configs" / "cgan_mlp.yaml"
    with pytest.raises(SystemExit):
        main(["fit", "--config", str(cfg), "--print_config"])
    printed = capsys.readouterr().out
    full = yaml.safe_load(printed)
    assert full["model"]["init_args"]["conditioning"] == "embedding"
    assert full["model"]["init_args"]["norm_eps"] == 0.8
    # The shipped defaults are in it (the W&B logger, every callback), and the config's own differences win.
    defaults = yaml.safe_load(DEFAULTS.read_text())
    wandb_preset = yaml.safe_load((DEFAULTS.parent / "logger" / "wandb.yaml").read_text())
    assert full["trainer"]["logger"]["class_path"] == wandb_preset["trainer"]["logger"]["class_path"]
    assert [c["class_path"] for c in full["trainer"]["callbacks"]] == [
        c["class_path"] for c in defaults["trainer"]["callbacks"]
    ]
    assert (full["trainer"]["max_epochs"], full["trainer"]["check_val_every_n_epoch"]) == (50, 5)
    saved = tmp_path / "full.yaml"
    saved.write_text(printed)
    with pytest.raises(SystemExit):  # complete: printing the printed file changes nothing
        main(["fit", "--config", str(saved), "--print_config"])
    assert yaml.safe_load(capsys.readouterr().out) == full
    main(_fit_args(saved, tmp_path, batches=2))
    assert list((tmp_path / "runs").rglob("last.ckpt"))


@pytest.mark.parametrize("config", CONFIGS, ids=lambda p: p.stem)
def test_system_config_is_short_says_what_it_reproduces_and_loads(config):
    lines = config.read_text().splitlines()
    assert lines[0].startswith("# ") and len(lines[0]) > 40, "opens with what it reproduces"
    content = [line for line in lines if line.strip() and not line.lstrip().startswith("#")]
    assert len(content) <= 30, f"{config.name}: {len(content)} lines besides comments; shared ones go to defaults"
    own = yaml.safe_load(config.read_text())
    full = printed_config(config)
    assert full["model"]["class_path"] == own["model"]["class_path"]
    assert full["data"]["image_size"] == own["data"]["image_size"]
    assert full["trainer"]["default_root_dir"] == own["trainer"]["default_root_dir"]
    assert len(full["trainer"]["callbacks"]) >= 2 and full["trainer"]["logger"]


def test_defaults_are_package_data_and_stack_without_any_config(tmp_path):
    assert DEFAULTS.is_file() and DEFAULTS.parent.parent == Path(gan_lightning.__file__).parent
    assert '"configs/**/*.yaml"' in (ROOT / "pyproject.toml").read_text()  # shipped in the wheel (test_wheel.py)
    cli = run_cli(
        ["--model=gan_lightning.GAN", "--trainer.logger=false", f"--trainer.default_root_dir={tmp_path}"], run=False
    )
    assert cli.trainer.max_epochs == yaml.safe_load(DEFAULTS.read_text())["trainer"]["max_epochs"]
    assert any(isinstance(cb, ImageGridLogger) for cb in cli.trainer.callbacks)


# Through the console script, fit's whole parser (Lightning, the model's and the data's arguments); through
# `python -m`, the same dispatch to a command that starts in a second rather than fit's five.
ENTRY_CASES = [
    (["-m", "gan_lightning"], "generate", "usage: gan-lightning generate", ["--n_per_digit"]),
    (["console"], "fit", "", ["--data.image_size", "--model", "--trainer.max_epochs"]),
]


@pytest.mark.parametrize(("entry", "command", "usage", "options"), ENTRY_CASES, ids=["python_-m", "console_script"])
def test_entry_points(entry, command, usage, options, tmp_path):
    exe = [str(Path(sys.executable).with_name("gan-lightning"))] if entry == ["console"] else [sys.executable, *entry]
    if entry == ["console"] and not Path(exe[0]).exists():
        pytest.fail(f"console script not installed next to {sys.executable}; install with pip install -e .")
    out = subprocess.run([*exe, command, "--help"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith(usage) and all(option in out.stdout for option in options)
