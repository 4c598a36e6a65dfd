"""`gan-lightning` console script: LightningCLI (fit/validate/test/predict) for GAN models.

gan-lightning fit --config configs/cgan_dcgan28.yaml
gan-lightning fit --config configs/gan_mlp.yaml --trainer.max_epochs 5 --print_config
"""

from __future__ import annotations

import importlib
import sys

from lightning.pytorch.cli import LightningCLI

from gan_lightning.data import MNISTDataModule
from gan_lightning.loggers import SaveConfigToWandb
from gan_lightning.modules import GAN
from gan_lightning.runs import resolve_last_checkpoint


def _root(default_root_dir: str | None) -> str:
    return default_root_dir or "."  # Lightning's default_root_dir None means the working directory


class GANCLI(LightningCLI):
    """LightningCLI with the data module's facts linked into the model, so users set them once."""

    def add_arguments_to_parser(self, parser) -> None:
        parser.link_arguments("data.image_size", "model.init_args.image_size")
        parser.link_arguments("data.num_classes", "model.init_args.num_classes", apply_on="instantiate")
        # Loggers write their versioned run folders under trainer.default_root_dir.
        parser.link_arguments("trainer.default_root_dir", "trainer.logger.init_args.save_dir", compute_fn=_root)

    def before_fit(self) -> None:
        # `--ckpt_path last`: the newest last.ckpt of earlier runs (Lightning looks in the new, empty run folder).
        resolve_last_checkpoint(self.config_init[self.subcommand], self.trainer.default_root_dir)


def run_cli(args: list[str] | None = None, run: bool = True) -> GANCLI:
    return GANCLI(
        GAN,
        MNISTDataModule,
        subclass_mode_model=True,
        args=args,
        run=run,
        auto_configure_optimizers=False,  # the GAN modules build their two optimizers themselves
        save_config_callback=SaveConfigToWandb,  # config.yaml in the run folder, and in the W&B run's config
    )


# Commands beside LightningCLI's fit/validate/test/predict: name -> "module:function(argv)".
EXTRA_COMMANDS: dict[str, str] = {
    "generate": "gan_lightning.generate:main",
    "evaluate": "gan_lightning.evaluate:main",
}


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else list(argv)
    if args and args[0] in EXTRA_COMMANDS:
        module, func = EXTRA_COMMANDS[args[0]].split(":")
        getattr(importlib.import_module(module), func)(args[1:])
        return
    # LightningCLI reads sys.argv itself when args is None (and warns when given both).
    run_cli(argv)


if __name__ == "__main__":
    main()
