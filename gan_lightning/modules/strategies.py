"""DDP for GANs: plain ``ddp`` works, and a check.

Why `find_unused_parameters`: Lightning wraps the whole LightningModule (G and D together) in one
`DistributedDataParallel`. A GAN training step makes two backward passes: the D loss reaches no G
parameter (the fakes are detached) and the G loss reaches no D parameter (`toggled_optimizer`
turns their `requires_grad` off). Without `find_unused_parameters=True` the reducer waits for
gradients that never come and the second backward fails ("Expected to have finished reduction in
the prior iteration"). With it, each backward first walks its autograd graph to mark the other
net's parameters as unused: a few dozen nodes for these nets, and one small extra all-reduce of
the unused-parameter bitmap. `benchmarks/ddp_overhead.py` measures that cost against the
alternative (G and D wrapped as two separate DDP modules, no search): see benchmarks/README.md.

So ``trainer.strategy: ddp``, the name every Lightning user types, trains a GAN: importing
gan_lightning registers `GANDDPStrategy` under Lightning's DDP names that leave the setting unset
(``ddp``, ``ddp_spawn``, ``ddp_fork``, ``ddp_notebook``); for a gan_lightning model it turns
`find_unused_parameters` on and says so in one line, any other module gets Lightning's plain DDP.
``ddp_find_unused_parameters_true`` (Lightning's own name for the setting, the one the multi-GPU
presets use) trains the same way without the note. A DDP strategy that asks for
``find_unused_parameters=False`` or ``static_graph=True`` explicitly stops before the first batch
with a one-line error naming the strategy to use.

The strategies that start their processes through multiprocessing (``ddp_spawn``, ``ddp_fork``,
``ddp_notebook``, and their ``..._find_unused_parameters_true`` names) get `GANProcessLauncher`,
Lightning's launcher with two additions. ``spawn`` sends the model to each process by pickling it, and
torch cannot pickle parametrized layers (the spectral norm of the DCGAN discriminators): such a model is
refused in one line before any process starts, naming the strategies that work. And each process ends
its process group itself: a process started by multiprocessing runs no atexit handler, so Lightning's
own teardown never runs there, and left to interpreter shutdown gloo's threads can abort the process
(SIGABRT) after training has finished.

BatchNorm: each rank normalises its own real batch and its own fake batch (D sees them in two
forwards, the DCGAN recipe), like single-device training at the per-device batch size. For
statistics over the global batch set `trainer.sync_batchnorm: true` (CUDA only in PyTorch).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import lightning as L
import torch
from lightning.pytorch.strategies import DDPStrategy, StrategyRegistry

# Lightning's launcher for multiprocessing-started processes (private: no public class to extend).
from lightning.pytorch.strategies.launchers.multiprocessing import _MultiProcessingLauncher
from lightning.pytorch.utilities import rank_zero_info
from torch.nn.parallel import DistributedDataParallel
from torch.nn.utils import parametrize

GAN_DDP_STRATEGY = "ddp_find_unused_parameters_true"
# Lightning's DDP names that leave find_unused_parameters to its default (False).
PLAIN_DDP_NAMES = ("ddp", "ddp_spawn", "ddp_fork", "ddp_notebook")
# Lightning's names that set it already but start their processes through multiprocessing: registered too,
# for `GANProcessLauncher` only (find_unused_parameters is theirs, so no note).
LAUNCHED_DDP_NAMES = tuple(f"ddp_{m}_find_unused_parameters_true" for m in ("spawn", "fork", "notebook"))
DDP_NOTE = (
    "trainer.strategy {name!r}: a GAN's G and D backward passes each leave the other net's parameters unused, "
    f"so DDP runs with find_unused_parameters=True (as '{GAN_DDP_STRATEGY}' does)"
)


class GANDDPStrategy(DDPStrategy):
    """Lightning's `DDPStrategy` under the names in `PLAIN_DDP_NAMES`: `find_unused_parameters` on
    for a gan_lightning model (with a one-line note), Lightning's plain DDP for any other module; and
    under `LAUNCHED_DDP_NAMES`, where the setting is Lightning's, for `GANProcessLauncher`."""

    def __init__(self, *args: Any, registered_name: str = "ddp", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.registered_name = registered_name  # the name the user gave, for the note

    def setup(self, trainer: L.Trainer) -> None:
        # The module is wrapped in DistributedDataParallel inside DDPStrategy.setup, from the keyword
        # arguments the strategy keeps: set the one a GAN needs before that, unless the user set it.
        if "find_unused_parameters" not in self._ddp_kwargs and _is_ours(trainer.lightning_module):
            self._ddp_kwargs["find_unused_parameters"] = True
            rank_zero_info(DDP_NOTE.format(name=self.registered_name))
        super().setup(trainer)

    def _configure_launcher(self) -> None:
        super()._configure_launcher()
        if isinstance(self._launcher, _MultiProcessingLauncher):
            self._launcher = GANProcessLauncher(self, start_method=self._start_method)


# Start methods that pickle what they send to the new process (fork copies memory instead).
PICKLING_START_METHODS = ("spawn", "forkserver")


class GANProcessLauncher(_MultiProcessingLauncher):
    """Lightning's multiprocessing launcher: refuses a model `spawn` cannot send, and ends each
    process's process group before the process exits (see the module docstring)."""

    def launch(self, function: Callable, *args: Any, trainer: L.Trainer | None = None, **kwargs: Any) -> Any:
        if trainer is not None and self._start_method in PICKLING_START_METHODS:
            check_sendable(trainer.lightning_module, self._strategy.registered_name)  # a GANDDPStrategy
        return super().launch(function, *args, trainer=trainer, **kwargs)

    def _wrapping_function(self, *args: Any, **kwargs: Any) -> None:
        try:
            super()._wrapping_function(*args, **kwargs)
        finally:
            if torch.distributed.is_available() and torch.distributed.is_initialized():
                torch.distributed.destroy_process_group()


def check_sendable(module: Any, strategy: str) -> None:
    """Raises ValueError (one line) if `module` has parametrized layers, which torch cannot pickle."""
    if isinstance(module, torch.nn.Module) and any(parametrize.is_parametrized(m) for m in module.modules()):
        raise ValueError(
            "trainer.strategy must not pickle this model (torch cannot pickle its parametrized layers, the spectral "
            "norm), as 'spawn' does to send it to each process: use 'ddp' (each process started as a script) or "
            f"'ddp_fork', got {strategy!r}"
        )


def _is_ours(module: Any) -> bool:
    # A class attribute, not isinstance(module, GAN): gan.py imports this module, which stays below it.
    return bool(getattr(module, "unused_parameters_per_backward", False))


def register_ddp_names() -> None:
    """Point `PLAIN_DDP_NAMES` and `LAUNCHED_DDP_NAMES` at `GANDDPStrategy`, with Lightning's own settings
    for each name."""
    for name in PLAIN_DDP_NAMES + LAUNCHED_DDP_NAMES:
        entry = StrategyRegistry[name]
        params = {**entry["init_params"], "registered_name": name}
        added = (
            "find_unused_parameters=True for a gan_lightning GAN"
            if name in PLAIN_DDP_NAMES
            else "ends its processes' process groups"
        )
        StrategyRegistry.register(
            name, GANDDPStrategy, description=f"{entry['description']}; {added}", override=True, **params
        )


register_ddp_names()


def check_ddp(wrapped: Any) -> None:
    """Refuse a `DistributedDataParallel` wrapper (`trainer.strategy.model`) a GAN cannot train in.

    Called from `GAN.on_fit_start`, after the strategy wrapped the module and before any batch.

    Raises:
        ValueError: `find_unused_parameters` is off or `static_graph` is on; the message names the strategy to use.
    """
    if not isinstance(wrapped, DistributedDataParallel):
        return
    if wrapped.static_graph:
        raise ValueError(
            f"trainer.strategy must be 'ddp' or '{GAN_DDP_STRATEGY}' for a GAN (each step makes two backward "
            "passes over different parameters), got a DDP strategy with static_graph=True"
        )
    if not wrapped.find_unused_parameters:
        raise ValueError(
            f"trainer.strategy must be 'ddp' or '{GAN_DDP_STRATEGY}' for a GAN (its G and D backward passes each "
            "leave the other net's parameters unused), got a DDP strategy with find_unused_parameters=False"
        )
