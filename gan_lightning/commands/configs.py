"""Stacked ``--config`` files: one system config (it names ``model.class_path``), then any presets.

Two system configs would merge into a run with settings from both; `check_one_system` refuses that
before LightningCLI parses anything, naming both files. Presets (configs/logger, configs/trainer,
configs/recipes) name no model and stack freely.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from gan_lightning.reliability.inputs import read_yaml_mapping


def config_files(args: list[str]) -> list[str]:
    """The files given as ``--config FILE`` / ``--config=FILE``, in order."""
    found = []
    for i, arg in enumerate(args):
        if arg == "--config" and i + 1 < len(args):
            found.append(args[i + 1])
        elif arg.startswith("--config="):
            found.append(arg.split("=", 1)[1])
    return found


def check_config_files(args: list[str]) -> None:
    """Each ``--config`` file reads as a mapping of settings: an empty, cut, non-YAML or non-mapping file is
    refused naming it (`BadFileError`), not reported by the parser as ``Unexpected config:`` or one of its
    YAML errors without the file. Paths that are not files (missing, or inline YAML) are the parser's."""
    for path in config_files(args):
        if Path(path).is_file():
            read_yaml_mapping(path, "--config")


def check_one_system(args: list[str]) -> None:
    """Two system configs (each naming ``model.class_path``) would merge into a run with settings from both:
    refuse that, naming them. Presets (logger, trainer, recipes) name no model and stack freely.
    Files that do not read are left to the parser, which names them."""
    systems = []
    for path in config_files(args):
        try:
            content = yaml.safe_load(Path(path).read_text())
        except (OSError, yaml.YAMLError, UnicodeDecodeError):
            continue
        model = content.get("model") if isinstance(content, dict) else None
        if isinstance(model, dict) and "class_path" in model:
            systems.append(path)
    if len(systems) > 1:
        raise ValueError(
            f"--config: {' and '.join(systems)} are both system configs (each names model.class_path) and would "
            "mix; give one system config, then presets that change it (configs/logger, configs/trainer, "
            "configs/recipes) or --model.init_args.* overrides"
        )
