"""configs/trainer/*.yaml stack after every system config and give the intended trainer.

The GPU presets cannot run here: they are parsed with every config, and instantiated with
`accelerator: cpu` swapped in to check the strategy, devices and nodes they build."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from lightning.pytorch.strategies import DDPStrategy, SingleDeviceStrategy

from gan_lightning.commands.cli import run_cli
from tests.helpers import SYSTEM_CONFIGS, printed_config

ROOT = Path(__file__).resolve().parents[2]
SYSTEMS = SYSTEM_CONFIGS
PRESETS = {p.stem: p for p in sorted((ROOT / "configs" / "trainer").glob("*.yaml"))}


def test_the_five_presets_exist():
    assert set(PRESETS) == {"cpu", "cpu_bf16", "gpu", "multi_gpu", "multi_node"}


@pytest.mark.parametrize("preset", sorted(PRESETS), ids=str)
def test_preset_stacks_after_every_system(preset):
    wanted = yaml.safe_load(PRESETS[preset].read_text())
    for system in SYSTEMS:
        own = yaml.safe_load(system.read_text())
        cfg = printed_config(system, PRESETS[preset])
        for key, value in wanted["trainer"].items():
            assert cfg["trainer"][key] == value, (system.name, key)
        # The preset tunes the system's model; it never replaces it.
        assert cfg["model"]["class_path"] == own["model"]["class_path"], system.name
        assert cfg["model"]["init_args"]["arch"] == own["model"]["init_args"]["arch"], system.name
        for key, value in wanted.get("model", {}).get("init_args", {}).items():
            assert cfg["model"]["init_args"][key] == value, (system.name, key)


@pytest.mark.parametrize(
    "preset, strategy, devices, nodes",
    [
        ("cpu", SingleDeviceStrategy, 1, 1),
        ("cpu_bf16", SingleDeviceStrategy, 1, 1),
        ("multi_gpu", DDPStrategy, 2, 1),
        ("multi_node", DDPStrategy, 2, 2),
    ],
    ids=["cpu", "cpu_bf16", "multi_gpu", "multi_node"],
)
def test_preset_builds_the_intended_strategy(preset, strategy, devices, nodes, tmp_path):
    on_cpu = [] if preset.startswith("cpu") else ["--trainer.accelerator=cpu", "--trainer.devices=2"]
    cli = run_cli(
        [
            "--config", str(ROOT / "configs" / "cgan_dcgan28.yaml"), "--config", str(PRESETS[preset]), *on_cpu,
            "--trainer.logger=false", f"--trainer.default_root_dir={tmp_path}", "--data.download=false",
        ],
        run=False,
    )  # fmt: skip
    trainer = cli.trainer
    assert type(trainer.strategy) is strategy
    assert trainer.num_devices == devices and trainer.num_nodes == nodes
    assert trainer.precision == yaml.safe_load(PRESETS[preset].read_text())["trainer"]["precision"]
