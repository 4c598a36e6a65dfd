"""Commands that need no training start without Lightning and the loggers (docs/speed.md, start-up)."""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch

from gan_lightning.commands.configs import SHIPPED
from gan_lightning.grids import GRID_PAD, pixel_grid

HEAVY = (
    "lightning",
    "pytorch_lightning",
    "wandb",
    "tensorboard",
    "matplotlib",
    "torchvision",
    "torchmetrics",
    "gradio",  # the demo's page: loaded by `demo` itself, never for its --help
)
# One interpreter runs the commands in turn and looks after each one: a module, once imported, stays in
# sys.modules, so the first command that pulls in a heavy one is the one named.
RUN = """
import sys
from gan_lightning.commands.cli import main
for args in {commands!r}:
    try:
        main(args)
    except SystemExit as exit:
        assert not exit.code, (args, exit.code)
    loaded = [name for name in {heavy!r} if name in sys.modules]
    assert not loaded, (args, loaded)
    print("done:", args[:2], flush=True)
"""
COMMANDS = [
    ["generate", "--pretrained", "mnist-cgan", "--digits", "3", "7", "--out", "{tmp}/x.png"],
    ["generate", "--pretrained", "mnist-gan", "--n", "8", "--cluster", "3", "--out", "{tmp}/x.npz"],
    ["generate", "--help"],
    ["evaluate", "--help"],
    ["export", "--help"],
    ["demo", "--help"],
    ["--help"],
]


def test_these_commands_import_no_lightning(tmp_path):
    commands = [[arg.format(tmp=tmp_path) for arg in args] for args in COMMANDS]
    done = subprocess.run(
        [sys.executable, "-c", RUN.format(commands=commands, heavy=HEAVY)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.count("done: ") == len(COMMANDS), done.stdout[-2000:]
    assert done.stdout.count("usage: gan-lightning") == 5, done.stdout[-2000:]  # every --help answered
    assert (tmp_path / "x.png").is_file() and (tmp_path / "x.npz").is_file()


@pytest.mark.parametrize(("n", "nrow", "channels"), [(20, 10, 1), (7, 3, 1), (5, 10, 1), (1, 4, 1), (12, 5, 3)])
def test_the_pixel_grid_is_torchvisions_make_grid(n, nrow, channels):
    from torchvision.utils import make_grid

    pixels = torch.randint(0, 256, (n, channels, 28, 28), dtype=torch.uint8)
    assert torch.equal(pixel_grid(pixels, nrow), make_grid(pixels, nrow=nrow, padding=2, pad_value=GRID_PAD))


def test_fit_with_another_logger_never_imports_wandb(tmp_path):
    # The default W&B logger's file is not stacked when the command names another logger: jsonargparse
    # would import wandb while resolving that class's arguments (docs/speed.md, start-up).
    args = ["--config", str(SHIPPED / "gan_mlp.yaml"), "--config", str(SHIPPED / "logger" / "csv.yaml")]
    code = f"""
import sys
from gan_lightning.commands.lightning_cli import run_cli
cli = run_cli({args + [f"--trainer.default_root_dir={tmp_path}"]!r}, run=False)
assert type(cli.trainer.logger).__name__ == "CSVLogger", cli.trainer.logger
assert "wandb" not in sys.modules
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
