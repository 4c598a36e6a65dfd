"""`gan-lightning` console script: LightningCLI (fit/validate/test/predict) for GAN models,
and the `generate`, `evaluate`, `export` and `demo` commands.

gan-lightning fit --config cgan_dcgan28
gan-lightning fit --config gan_mlp --trainer.max_epochs 5 --print_config
gan-lightning test --config cgan_dcgan28 --ckpt_path last        # metrics on the test split
gan-lightning predict --config cgan_dcgan28 --ckpt_path last     # samples -> run folder
"""

from __future__ import annotations

import argparse
import importlib
import os
import signal
import sys
from typing import TYPE_CHECKING, NoReturn

from gan_lightning.commands import PROG

if TYPE_CHECKING:
    from gan_lightning.commands.lightning_cli import GANCLI

# Bad input raised by our own checks (they name the argument, what is allowed and what was given):
# printed as one line with exit code 2. GAN_LIGHTNING_TRACEBACK=1 shows the traceback instead.
USER_ERRORS = (ValueError, FileNotFoundError, ModuleNotFoundError)
# LightningCLI's commands, with the first line of what its help says of each.
LIGHTNING_COMMANDS = {
    "fit": "Runs the full optimization routine.",
    "validate": "Perform one evaluation epoch over the validation set.",
    "test": "Perform one evaluation epoch over the test set.",
    "predict": "Run inference on your data: samples written to the run folder, as generate draws them.",
}


def run_cli(args: list[str] | None = None, run: bool = True) -> GANCLI:
    """LightningCLI's fit/validate/test/predict for the GAN models (`lightning_cli.run_cli`)."""
    # Lightning (seconds of imports) loads here, for these commands only: see the module docstring.
    from gan_lightning.commands.lightning_cli import run_cli as run_lightning_cli

    return run_lightning_cli(args, run)


# Commands beside LightningCLI's fit/validate/test/predict: name -> "module:function(argv)".
EXTRA_COMMANDS: dict[str, str] = {
    "generate": "gan_lightning.commands.generate:main",
    "evaluate": "gan_lightning.commands.evaluate:main",
    "export": "gan_lightning.commands.export:main",
    "demo": "gan_lightning.commands.demo:main",
}
# The extra commands' one line for `gan-lightning --help` (each one's own --help says more).
EXTRA_HELP = {
    "generate": "Draw images from a checkpoint or pretrained model into a PNG grid or an NPZ file.",
    "evaluate": "Score a model's samples against the MNIST test split, print JSON.",
    "export": "Write a trained generator as a Hugging Face Hub folder (--format hf) or an ONNX file.",
    "demo": "Serve a playground page for a generator: digits, seeds, truncation, a latent walk (needs [demo]).",
}


def usage() -> str:
    """`gan-lightning --help`: the commands and the options before them, without loading Lightning."""
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n\n")[0].strip(), add_help=False)
    parser.add_argument("-h", "--help", action="store_true", help="Show this help message and exit.")
    parser.add_argument("-c", "--config", help="Path to a configuration file in json or yaml format.")
    parser.add_argument(
        "--print_config",
        metavar="[=flags]",
        help="Print the configuration after applying all other arguments and exit. The optional flags customizes "
        "the output and are one or more keywords separated by comma. The supported flags are: skip_default, "
        "skip_unset.",
    )
    commands = parser.add_subparsers(
        title="subcommands",
        description=f"For more details of each subcommand, add it as an argument followed by "
        f"--help ({PROG} fit --help lists every setting of a training run).",
        metavar="{" + ",".join([*LIGHTNING_COMMANDS, *EXTRA_COMMANDS]) + "}",
    )
    for name, text in {**LIGHTNING_COMMANDS, **EXTRA_HELP}.items():
        commands.add_parser(name, help=text)
    return parser.format_help()


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else list(argv)
    if args and args[0] in EXTRA_COMMANDS:
        module, func = EXTRA_COMMANDS[args[0]].split(":")
        getattr(importlib.import_module(module), func)(args[1:])
        return
    if args in (["-h"], ["--help"]):  # the commands' list; `gan-lightning fit --help` builds LightningCLI's
        sys.stdout.write(usage())
        return
    # fit/validate/test/predict, and the errors their runs end with: Lightning (and torch) load here, not at
    # the top, so that the commands above start without them.
    from lightning.pytorch.utilities.exceptions import SIGTERMException

    from gan_lightning.commands.configs import check_config_files, check_one_system, resolve_config_names
    from gan_lightning.reliability.checkpoints import CheckpointWriteError
    from gan_lightning.reliability.guard import DivergenceError
    from gan_lightning.reliability.runs import find_last_checkpoint
    from gan_lightning.reliability.shutdown import TrainingInterrupted

    # LightningCLI reads sys.argv itself when args is None (and warns when given both).
    try:
        args = resolve_config_names(args)  # --config cgan_dcgan28: the shipped file
        if argv is None:
            sys.argv[1:] = args
        else:
            argv = args
        check_config_files(args)  # an empty, cut or non-YAML --config file: named, before the parser reads it
        check_one_system(args)
        run_cli(argv)
    except (TrainingInterrupted, SIGTERMException) as err:
        signum = getattr(err, "signum", signal.SIGTERM)
        found = find_last_checkpoint(getattr(err, "root", "."))
        # Offer the resume only when there is a checkpoint to resume from.
        then = (
            f"checkpoint: {found}; resume with the same command plus --ckpt_path last"
            if found
            else "no checkpoint was written (no ModelCheckpoint callback), so there is nothing to resume; "
            "run the command again"
        )
        sys.stderr.write(
            f"{PROG}: stopped by {signal.Signals(signum).name} at epoch {getattr(err, 'epoch', '?')}, step "
            f"{getattr(err, 'step', '?')}; {then}\n"
        )
        sys.exit(128 + signum)
    except (DivergenceError, CheckpointWriteError) as err:  # not bad input: the run itself failed
        _fail(err, code=1)
    except USER_ERRORS as err:
        _fail(err, code=2)


def _fail(err: BaseException, code: int) -> NoReturn:
    if os.environ.get("GAN_LIGHTNING_TRACEBACK"):
        raise err
    from gan_lightning.commands.lightning_cli import one_line  # loaded already: only LightningCLI's commands get here

    sys.stderr.write(f"{PROG}: error: {one_line(str(err))}\n")
    sys.exit(code)


if __name__ == "__main__":
    main()
