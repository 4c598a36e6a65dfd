"""LightningCLI for the GAN models: `gan-lightning fit/validate/test/predict` (`run_cli`), with the
project's one-line errors for bad settings (`one_line`, `OneLineErrorParser`).

Only these commands import Lightning: `gan_lightning.commands.cli` loads this module for them, so that
`generate`, `evaluate`, `export` and `--help` start without it (docs/speed.md, start-up).
"""

from __future__ import annotations

import argparse
import difflib
import glob
import re
import sys
from importlib import resources
from typing import NoReturn

import yaml
from lightning.pytorch.callbacks import BasePredictionWriter
from lightning.pytorch.callbacks import ProgressBar as LightningProgressBar
from lightning.pytorch.cli import LightningArgumentParser, LightningCLI
from lightning.pytorch.plugins.io import TorchCheckpointIO

from gan_lightning.callbacks.predictions import SampleWriter
from gan_lightning.callbacks.progress import ProgressBar
from gan_lightning.checks import check_writable, choices, one_of
from gan_lightning.commands import PROG
from gan_lightning.commands.configs import names_a_logger
from gan_lightning.commands.trainer_settings import named_trainer_settings
from gan_lightning.data import MNISTDataModule
from gan_lightning.data.datamodule import DeviceResident
from gan_lightning.loggers import SaveConfigToWandb
from gan_lightning.modules import GAN, model_class
from gan_lightning.reliability.checkpoint_io import AtomicCheckpointIO
from gan_lightning.reliability.checkpoints import check_hparams, check_model_kind, read_checkpoint
from gan_lightning.reliability.runs import find_last_checkpoint, resolve_last_checkpoint
from gan_lightning.reliability.shutdown import GracefulShutdown

# Settings whose Literal mixes bools and strings, by name: their allowed values for `one_line`'s errors.
BOOL_CHOICES = {"device_resident": choices(DeviceResident)}
_CKPT_KEYWORDS = ("last", "hpc", "best", "registry")  # ckpt_path values Lightning resolves itself


def _root(default_root_dir: str | None) -> str:
    return default_root_dir or "."  # Lightning's default_root_dir None means the working directory


def one_line(message: str) -> str:
    """jsonargparse's nested validation report, reduced to its innermost reason, in the project's words."""
    unknown = re.search(r"class_path '([^']+)':\s*\n\s*Option '([^']+)' is not accepted(.*)", message)
    group = re.search(r'Parser key "([^"]+)"', message)
    if unknown and group:  # a key of a YAML's or the command line's init_args that the class does not take
        cls, key, hint = unknown.groups()
        where = f"{group.group(1)}.init_args"
        hint = re.sub(r"did you mean (\S+)\?", rf"did you mean {where}.\1?", hint)
        return f"{where}.{key}: not a setting of {cls}{hint}"
    found = re.findall(r'Parser key "([^"]+)":\s*\n\s*(.+)', message)
    if found:
        key, reason = found[-1]
        if len(found) > 1 and "class_path" in message:  # a subclass's own key: name it in full
            key = f"{found[0][0]}.init_args.{key}"
        return f"{key}{_reason(reason.strip(), key, message)}"
    lines = [line.strip() for line in message.strip().splitlines() if line.strip()]
    if "Does not validate against any of the" in message:  # a class raised while being built: its reason
        lines = [line.removeprefix("- ") for line in lines if line.startswith("- ") or not line.endswith(":")]
        lines = [line for line in lines[1:] if "NoneType" not in line and not line.startswith("Subtypes:")]
    if len(lines) > 1 and lines[0].endswith(":"):  # "Problem with given class_path 'X':" then the reason
        return lines[1]
    return lines[0] if lines else message


def _reason(reason: str, key: str, message: str = "") -> str:
    """jsonargparse's type errors as the project's own checks word them (`key` + this)."""
    subtypes = _line_after("Subtypes:", message)
    literals = re.findall(r"typing\.Literal\[(.*?)\]", subtypes)
    if reason.startswith("Does not validate against any of the Union subtypes") and literals:
        given = _as_given(_line_after("Given value:", message))
        if "<class 'int'>" in subtypes:  # a number or a word (data.steps_per_batch: 8 or 'auto')
            return f" must be an integer or {' or '.join(literals)}, got {given!r}"
        # A union of Literals (trainer.precision): all their values, as one Literal's error names them.
        return f" must be one of ({', '.join(literals)}), got {given!r}"
    if m := re.fullmatch(r"Expected a <class 'bool'>\. Got value: (.*)", reason):
        # jsonargparse reports a Literal mixing bools and strings as a failed bool: name its values.
        allowed = BOOL_CHOICES.get(key.rsplit(".", 1)[-1], (True, False))
        return f" must be one of {one_of(allowed)}, got {_as_given(m.group(1))!r}"
    if m := re.fullmatch(r"Expected a typing\.Literal\[(.*)\]\. Got value: (.*)", reason):
        return f" must be one of ({m.group(1)}), got {_as_given(m.group(2))!r}"  # as `checks.check_choice` says
    if m := re.fullmatch(r"Expected a <class '(float|int)'>\. Got value: (.*)", reason):
        kind, value = m.groups()
        if kind == "float" and value.strip().lower().lstrip("+-") in ("nan", "inf", "infinity", ".nan", ".inf"):
            return f" must be a finite number, got {value}"
        return f" must be {'a number' if kind == 'float' else 'an integer'}, got {value!r}"
    return f": {reason}"


def _line_after(label: str, message: str) -> str:
    """The rest of the line of `message` that starts with `label` (jsonargparse's report), or ''."""
    found = re.search(rf"^\s*{re.escape(label)}\s*(.*)$", message, re.MULTILINE)
    return found.group(1).strip() if found else ""


def _as_given(text: str) -> object:
    """A command-line value as the Python value it reads as (``32`` -> 32, ``resnet`` -> 'resnet'), so that
    its repr matches the one a Python caller sees in the same error."""
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError:
        return text
    return value if isinstance(value, (int, float, str)) else text


def _closest(key: str, choices: list[str]) -> str:
    """The suffix "; did you mean x?" for the valid key nearest to a mistyped one, or an empty string."""
    match = difflib.get_close_matches(key, choices, n=1, cutoff=0.6)
    return f"; did you mean {match[0]}?" if match else ""


def _dests(parser: argparse.ArgumentParser) -> list[str]:
    """The keys a parser accepts, with those of its subcommands' parsers."""
    keys = [a.dest for a in parser._actions if a.dest and not a.dest.startswith("_") and a.dest != "help"]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            keys += [key for sub in action.choices.values() for key in _dests(sub)]
    return keys


class OneLineErrorParser(LightningArgumentParser):
    """A bad argument ends with one line on stderr (and exit code 2), not a 60-line usage block; a
    mistyped key gets the nearest valid one suggested."""

    def error(self, message: str, ex: Exception | None = None) -> NoReturn:
        message = self._suggest(message)
        if not self.exit_on_error:  # a nested parser (e.g. a model class's): the outer one reports
            super().error(message, ex)
        sys.stderr.write(f"{PROG}: error: {one_line(message)} (see {PROG} <command> --help)\n")
        sys.exit(2)

    def _suggest(self, message: str) -> str:
        if m := re.fullmatch(r"Option '([^']+)' is not accepted", message.strip()):  # inside a subclass's parser
            return message + _closest(m.group(1), _dests(self))
        if m := re.fullmatch(r"Subcommand '\w+' does not accept option '([^']+)'", message.strip()):  # a YAML key
            return f"{m.group(1)}: no such setting{_closest(m.group(1), _dests(self))}"
        if m := re.fullmatch(r"unrecognized arguments: --([^\s=]+).*", message.strip()):  # a command-line key
            return f"{m.group(1)}: no such setting{_closest(m.group(1), _dests(self))}"
        return message


class GANCLI(LightningCLI):
    """LightningCLI with the data module's facts linked into the model, so users set them once."""

    def add_arguments_to_parser(self, parser) -> None:
        parser.link_arguments("data.image_size", "model.init_args.image_size")
        parser.link_arguments("data.num_classes", "model.init_args.num_classes", apply_on="instantiate")
        # Loggers write their versioned run folders under trainer.default_root_dir.
        parser.link_arguments("trainer.default_root_dir", "trainer.logger.init_args.save_dir", compute_fn=_root)

    def _parse_ckpt_path(self) -> None:
        # Lightning would load `--ckpt_path`'s hyperparameters over the config, silently training another
        # model than the config says. Here the config stays the truth: the checkpoint must be readable and
        # agree with it on every structural setting, or the run stops naming the first that differs.
        # (An override of a private LightningCLI step: Lightning has no public switch for this, and undoing
        # its merge afterwards would still let it parse, and exit on, hyperparameters the parser refuses.)
        config = self.config.get(self.config.get("subcommand") or "", {})
        path = config.get("ckpt_path") if hasattr(config, "get") else None
        if not path or path in _CKPT_KEYWORDS:
            return
        checkpoint = read_checkpoint(path)
        model = config.get("model")
        if model is not None and model.get("class_path"):
            check_model_kind(model_class(model["class_path"]), checkpoint, where=f"ckpt_path {str(path)!r}")
            check_hparams(checkpoint.get("hyper_parameters") or {}, dict(model.get("init_args") or {}), resume=True)

    def instantiate_trainer(self, **kwargs):
        # Read before the Trainer is built: it appends its default callbacks to this same list.
        config = self.config_init[self.subcommand] if self.subcommand else self.config_init
        configured = list(config.get("trainer", {}).get("callbacks") or [])
        # A value Lightning refuses while building the Trainer (`accelerator: gpu` on a CPU-only machine,
        # `devices: 0`, an unknown strategy): one line naming the trainer.* setting, not a traceback.
        with named_trainer_settings({**(config.get("trainer") or {}), **kwargs}):
            trainer = super().instantiate_trainer(**kwargs)
        trainer.callbacks.insert(0, GracefulShutdown())  # Ctrl-C / SIGTERM stop between batches, resumable
        # Lightning's default bar redraws every batch; ours redraws at log steps and reads no tensor
        # (callbacks/progress.py). A bar the config names itself is kept as it is.
        default_bar = trainer.progress_bar_callback
        if default_bar is not None and not any(isinstance(cb, LightningProgressBar) for cb in configured):
            trainer.callbacks[trainer.callbacks.index(default_bar)] = ProgressBar()
        if type(trainer.strategy.checkpoint_io) is TorchCheckpointIO:  # not a user's own CheckpointIO plugin
            trainer.strategy.checkpoint_io = AtomicCheckpointIO()  # a crash mid-write never truncates a checkpoint
        return trainer

    def before_fit(self) -> None:
        check_writable(self.trainer.default_root_dir, "trainer.default_root_dir")
        # `--ckpt_path last`: the newest last.ckpt of earlier runs (Lightning looks in the new, empty run folder).
        # Resolved to the newest checkpoint that reads (`_parse_ckpt_path` read an explicit path already).
        resolve_last_checkpoint(self.config_init[self.subcommand], self.trainer.default_root_dir)

    def _last_checkpoint_to_score(self) -> None:
        # validate/test/predict `--ckpt_path last`: the newest last.ckpt of earlier runs, or a one-line error
        # (Lightning would warn and go on with the untrained weights the config builds).
        config = self.config_init[self.subcommand]
        if config.get("ckpt_path") == "last":
            root = self.trainer.default_root_dir
            found = find_last_checkpoint(root)
            if found is None:
                raise ValueError(
                    f"ckpt_path: 'last' found no last.ckpt under {str(root)!r} (trainer.default_root_dir); "
                    "train first, or give the checkpoint's path"
                )
            config["ckpt_path"] = str(found)

    def before_validate(self) -> None:
        self._last_checkpoint_to_score()

    def before_test(self) -> None:
        self._last_checkpoint_to_score()

    def before_predict(self) -> None:
        self._last_checkpoint_to_score()
        # `predict` writes its samples the way `generate` does unless the config brings its own writer.
        if not any(isinstance(cb, BasePredictionWriter) for cb in self.trainer.callbacks):
            self.trainer.callbacks.append(SampleWriter())
        config = self.config_init[self.subcommand]
        if config.get("return_predictions") is None:  # the writer has them: keeping them too holds every image
            config["return_predictions"] = False


def default_config_files(run: bool = True, args: list[str] | None = None) -> dict:
    """parser_kwargs that stack the shipped trainer/callback defaults, then the W&B logger, under every config.

    The logger's file is left out when `args` choose another logger (`names_a_logger`): jsonargparse
    resolves a class's arguments while it reads a default, and for the W&B logger that imports wandb.
    With subcommands (fit, validate, ...) each subcommand's parser reads the files; `run=False` builds
    a single parser, which reads them itself. The paths are the installed package's (package data),
    escaped because jsonargparse reads them as glob patterns.
    """
    names = ["defaults"] + ([] if names_a_logger(sys.argv[1:] if args is None else args) else ["logger/wandb"])
    found = [glob.escape(str(resources.files("gan_lightning") / "configs" / f"{name}.yaml")) for name in names]
    if not run:
        return {"default_config_files": found}
    return {cmd: {"default_config_files": found} for cmd in ("fit", "validate", "test", "predict")}


def run_cli(args: list[str] | None = None, run: bool = True) -> GANCLI:
    return GANCLI(
        GAN,
        MNISTDataModule,
        subclass_mode_model=True,
        args=args,
        run=run,
        auto_configure_optimizers=False,  # the GAN modules build their two optimizers themselves
        save_config_callback=SaveConfigToWandb,  # config.yaml in the run folder, and in the W&B run's config
        parser_class=OneLineErrorParser,
        parser_kwargs=default_config_files(run, args),  # configs/defaults.yaml, logger/wandb.yaml, then --config
    )
