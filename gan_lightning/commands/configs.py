"""Stacked ``--config`` files: one system config (it names ``model.class_path``), then any presets.

A ``--config`` is a file or the name of one the package ships (`SHIPPED`, `gan_lightning/configs`):
``cgan_dcgan28``, ``logger/csv``, ``recipes/ada``; `resolve_config_names` turns names into paths before
anything else reads the command line, so a pip-installed package trains by name from any folder, and a
clone's ``configs/`` (the same folder) still works by path.

Two system configs would merge into a run with settings from both; `check_one_system` refuses that
before LightningCLI parses anything, naming both files. Presets (logger/, trainer/, recipes/) name no
model and stack freely.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

import yaml

from gan_lightning.reliability.inputs import read_yaml_mapping

SHIPPED = Path(str(resources.files("gan_lightning") / "configs"))
_NAME = re.compile(r"[A-Za-z0-9_]+(/[A-Za-z0-9_]+)?")  # cgan_dcgan28, logger/csv: a name, not a path or YAML


def shipped_names() -> list[str]:
    """The configs the package ships, by the name ``--config`` takes: not defaults.yaml (stacked first
    anyway) nor the W&B sweep files in sweeps/ (`wandb sweep` reads those)."""
    found = (p.relative_to(SHIPPED).with_suffix("").as_posix() for p in SHIPPED.rglob("*.yaml"))
    return sorted(name for name in found if name != "defaults" and not name.startswith("sweeps/"))


def resolve_config_names(args: list[str]) -> list[str]:
    """`args` with every ``--config NAME`` that is not a file replaced by the shipped file's path.

    Raises:
        ValueError: a name the package does not ship and no file has, listing the shipped names.
    """
    out = list(args)
    for i, arg in enumerate(out):
        if arg == "--config" and i + 1 < len(out):
            out[i + 1] = _resolved(out[i + 1])
        elif arg.startswith("--config="):
            out[i] = "--config=" + _resolved(arg.split("=", 1)[1])
    return out


def _resolved(value: str) -> str:
    if Path(value).exists() or not _NAME.fullmatch(value):
        return value  # a file, or inline YAML / a missing path: the parser's to read or report
    names = shipped_names()
    if value in names:
        return str(SHIPPED / f"{value}.yaml")
    raise ValueError(
        f"--config: {value!r} is neither a file nor a config the package ships; shipped: {', '.join(names)}"
    )


def config_files(args: list[str]) -> list[str]:
    """The files given as ``--config FILE`` / ``--config=FILE``, in order."""
    found = []
    for i, arg in enumerate(args):
        if arg == "--config" and i + 1 < len(args):
            found.append(args[i + 1])
        elif arg.startswith("--config="):
            found.append(arg.split("=", 1)[1])
    return found


def names_a_logger(args: list[str]) -> bool:
    """Whether `args` choose the logger themselves (``--trainer.logger X``, ``--trainer.logger.class_path
    X``, or a ``--config`` file whose ``trainer.logger`` is a class, a list or false) rather than adjust the
    default W&B logger (``--trainer.logger.init_args.project p``). Files that do not read count as not."""
    for arg in args:
        key = arg.split("=", 1)[0]
        if key in ("--trainer.logger", "--trainer.logger.class_path"):
            return True
    for _, content in _readable_configs(args):
        trainer = content.get("trainer")
        if isinstance(trainer, dict) and "logger" in trainer:
            logger = trainer["logger"]
            if not isinstance(logger, dict) or "class_path" in logger:
                return True
    return False


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
    for path, content in _readable_configs(args):
        model = content.get("model")
        if isinstance(model, dict) and "class_path" in model:
            systems.append(path)
    if len(systems) > 1:
        raise ValueError(
            f"--config: {' and '.join(systems)} are both system configs (each names model.class_path) and would "
            "mix; give one system config, then presets that change it (logger/..., trainer/..., "
            "recipes/...) or --model.init_args.* overrides"
        )


def _readable_configs(args: list[str]) -> Iterator[tuple[str, dict]]:
    """(path, settings) of each ``--config`` file that reads as a mapping; the others are the parser's to report."""
    for path in config_files(args):
        try:
            content = yaml.safe_load(Path(path).read_text())
        except (OSError, yaml.YAMLError, UnicodeDecodeError):
            continue
        if isinstance(content, dict):
            yield path, content
