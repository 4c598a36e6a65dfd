"""Weights & Biases logging that never blocks a run, in the same versioned run folders as TensorBoard.

`WandbLogger` is Lightning's W&B logger with four changes:

- no credentials (no `WANDB_API_KEY`, no `wandb login` entry in ~/.netrc) and no `WANDB_MODE`:
  it logs offline instead of prompting or failing, and prints one line saying so and how to upload
  later with `wandb sync`. A server that cannot be reached falls back the same way.
- each run gets its own `<save_dir>/lightning_logs/version_N/` folder (as TensorBoard does), and
  W&B's files, the checkpoints, the saved config and the image files all go inside it.
- `wandb` not installed: a one-line error naming the fix; a `WANDB_MODE` (or `mode`) that wandb does not
  know, an empty one included, is refused in one line when the logger is built, before any run.

`WANDB_MODE=disabled` (nothing logged) and `WANDB_MODE=offline` are respected as they are.
`SaveConfigToWandb` (used by the CLI) adds the full CLI config to the W&B run's config.
"""

from __future__ import annotations

import importlib
import netrc
import os
import sys
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from lightning.pytorch.cli import SaveConfigCallback
from lightning.pytorch.loggers import WandbLogger as _LightningWandbLogger
from lightning.pytorch.utilities import rank_zero_info, rank_zero_only

from gan_lightning.reliability.runs import claim_version_dir, find_resumable_checkpoint, fresh_path, next_version

DEFAULT_PROJECT = "gan-lightning"
_ENV_MODES = {"dryrun": "offline", "run": "online"}  # older spellings of WANDB_MODE
_MODES = ("online", "offline", "disabled", "shared")  # what wandb.init takes as `mode`


def check_mode(name: str, value: str | None) -> str | None:
    """`value` of W&B's mode (`name`: where it came from), refused in one line unless wandb knows it:
    wandb's own check fails later, in a many-line validation report."""
    if value is None or value in _MODES or value in _ENV_MODES:
        return value
    raise ValueError(f"{name} must be one of {', '.join(_MODES)} (or the older dryrun, run), got {value!r}")


def env_mode() -> str | None:
    """`WANDB_MODE` when set (checked: an empty value is refused too), else None."""
    return check_mode("WANDB_MODE", os.environ.get("WANDB_MODE"))


_MISSING_WANDB = (
    "W&B logger: the `wandb` package is not installed; pip install wandb, "
    "or log elsewhere with --config logger/tensorboard (or logger/csv, logger/none)"
)


def has_wandb_credentials() -> bool:
    """True when W&B could log in without asking: an API key in the environment or in the netrc file."""
    if os.environ.get("WANDB_API_KEY") or os.environ.get("WANDB_IDENTITY_TOKEN_FILE"):
        return True
    host = urlsplit(os.environ.get("WANDB_BASE_URL", "https://api.wandb.ai")).netloc
    default_name = "_netrc" if sys.platform == "win32" else ".netrc"
    path = Path(os.environ.get("NETRC") or Path.home() / default_name).expanduser()
    try:
        entry = netrc.netrc(str(path)).authenticators(host)
    except (OSError, netrc.NetrcParseError):
        return False
    return bool(entry and entry[2])


class WandbLogger(_LightningWandbLogger):
    """W&B logger for gan_lightning runs (see the module docstring for what differs from Lightning's).

    Args:
        save_dir: root of the runs (default: the working directory); the CLI links it to
            `trainer.default_root_dir`.
        project: W&B project.
        name: W&B display name of the run (default: W&B picks one).
        folder: folder under `save_dir` that holds the `version_N` run folders.
        log_model: upload checkpoints as W&B artifacts: ``False`` (default), ``True`` (at the end)
            or ``"all"`` (every checkpoint). Offline (asked for, or the fallback) they are recorded in
            the offline run and uploaded by its `wandb sync`; until then W&B keeps a copy of each
            logged checkpoint in its staging folder (``~/.local/share/wandb/artifacts/staging``).
        offline: log offline even when credentials exist (with `log_model` too, unlike Lightning's
            logger, which refuses the pair).
        **kwargs: passed to `wandb.init` (e.g. ``tags``, ``group``, ``id`` with ``resume``, ``mode``).

    Lightning places checkpoints in ``save_dir/name/version/checkpoints``; here `save_dir` is the
    run folder and `name` and `version` are empty, so they land in ``<run folder>/checkpoints``.
    The W&B run id is ``logger.experiment.id``.
    """

    def __init__(
        self,
        save_dir: str | None = None,
        project: str = DEFAULT_PROJECT,
        name: str | None = None,
        folder: str = "lightning_logs",
        log_model: Literal["all"] | bool = False,
        offline: bool = False,
        **kwargs: Any,
    ) -> None:
        try:
            importlib.import_module("wandb")
        except ImportError:
            raise ModuleNotFoundError(_MISSING_WANDB) from None
        # The CLI passes every `wandb.init` argument, unset ones as None: drop those so wandb's and
        # Lightning's own defaults (e.g. resume="allow") apply.
        kwargs = {key: value for key, value in kwargs.items() if value is not None}
        check_mode("mode", kwargs.get("mode"))
        env_mode()  # at the door: a bad WANDB_MODE fails before training, not when the run starts
        # Lightning's logger refuses offline=True with log_model (and sets WANDB_MODE for the whole
        # process); wandb itself records artifacts offline for `wandb sync`, so offline is handled here.
        super().__init__(name=name, save_dir=save_dir or ".", project=project, log_model=log_model, **kwargs)
        self._offline_asked = offline
        if self._wandb_init.get("anonymous") is None:
            self._wandb_init.pop("anonymous", None)  # wandb warns about the setting even when unset
        self._root = Path(save_dir or ".") / folder
        self._run_dir: Path | None = None

    # -- where the run lives ------------------------------------------------------------------
    @property
    def run_dir(self) -> Path:
        """`<save_dir>/<folder>/version_N`, created on first use (rank zero claims the number)."""
        if self._run_dir is None:
            if rank_zero_only.rank == 0:
                self._run_dir = claim_version_dir(self._root)
            else:  # a guess at the name only: Lightning broadcasts rank zero's paths (log_dir, checkpoints)
                self._run_dir = self._root / f"version_{max(next_version(self._root) - 1, 0)}"
        return self._run_dir

    @property
    def save_dir(self) -> str:
        return str(self.run_dir)

    @property
    def log_dir(self) -> str:
        return str(self.run_dir)

    @property
    def name(self) -> str:
        return ""

    @property
    def version(self) -> str:
        return ""

    # -- creating the W&B run ---------------------------------------------------------------
    @property
    def experiment(self):
        if self._experiment is None and rank_zero_only.rank == 0:
            self._wandb_init["dir"] = str(self.run_dir)
            fallback = None
            mode_from_env = env_mode()
            if self._offline_asked:
                self._wandb_init["mode"] = "offline"
            if mode_from_env and not self._wandb_init.get("mode"):
                # Pass it on explicitly: wandb reads the environment once per process, so a value set
                # later (a notebook, a test) would otherwise be ignored.
                self._wandb_init["mode"] = _ENV_MODES.get(mode_from_env, mode_from_env)
            explicit = bool(self._wandb_init.get("mode"))
            if not explicit and not has_wandb_credentials():
                fallback = "no credentials found (no WANDB_API_KEY, no `wandb login`)"
                self._go_offline()
            try:
                run = super().experiment
            except Exception as err:  # an online run that cannot start: keep training, log offline
                if explicit or fallback or not _is_wandb_error(err):
                    raise
                fallback = f"could not start an online run ({type(err).__name__}: {str(err).splitlines()[0]})"
                self._go_offline()
                run = super().experiment
            if fallback:
                sync_dir = Path(run.dir).parent  # .../wandb/offline-run-<time>-<id>
                print(
                    f"W&B: {fallback}; logging offline to {sync_dir}. Upload it later with: wandb sync {sync_dir}",
                    file=sys.stderr,
                    flush=True,
                )
            return run
        return super().experiment

    def _go_offline(self) -> None:
        import wandb

        self._wandb_init["mode"] = "offline"
        # wandb's own offline banner would repeat the line printed above.
        if self._wandb_init.get("settings") is None:
            self._wandb_init["settings"] = wandb.Settings(silent=True)


def _is_wandb_error(err: Exception) -> bool:
    return type(err).__module__.startswith("wandb")


class SaveConfigToWandb(SaveConfigCallback):
    """LightningCLI's config saver (writes `config.yaml` into the run folder) that also puts the whole
    config (trainer, model, data, callbacks) into the W&B run's config, beside the model's hyperparameters."""

    def setup(self, trainer, pl_module, stage: str) -> None:
        # Lightning refuses to overwrite an earlier run's config.yaml (good) with a long RuntimeError;
        # say it in one line, naming the setting to change. Happens without a logger (no version_N folders).
        path = Path(trainer.log_dir or ".") / self.config_filename
        if self.save_to_log_dir and not self.overwrite and path.is_file():
            if stage != "fit" or self.config.get("ckpt_path"):
                # A resume in place (no logger: no version_N folders) continues the same run, and validate,
                # test and predict read it: their config goes beside the first one (config-1.yaml, ...),
                # which stays as it was.
                self.config_filename = fresh_path(path).name
                doing = "resuming" if stage == "fit" else stage
                rank_zero_info(f"{doing} in {str(path.parent)!r}: this part's config is {self.config_filename}")
            elif trainer.is_global_zero:
                # Offer the resume only when there is a checkpoint to resume from (else it would start over).
                resume = (
                    ", or resume this run with --ckpt_path last"
                    if find_resumable_checkpoint(path.parent)[0] is not None
                    else "; it holds no checkpoint to resume from"
                )
                raise ValueError(
                    f"trainer.default_root_dir: {str(path.parent)!r} already holds a run ({self.config_filename}); "
                    "nothing is overwritten: give a new trainer.default_root_dir or use a logger (versioned run "
                    f"folders){resume}"
                )
        super().setup(trainer, pl_module, stage)

    def save_config(self, trainer, pl_module, stage: str) -> None:
        for logger in trainer.loggers:
            if isinstance(logger, _LightningWandbLogger):
                logger.log_hyperparams({"cli": self.config.as_dict()})
