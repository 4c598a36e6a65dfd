"""DDP for GANs without flags: what a GAN module needs from Lightning's DDPStrategy, applied for it.

Why `find_unused_parameters`: Lightning wraps the whole LightningModule (G and D together) in one
`DistributedDataParallel`. A GAN training step makes two backward passes: the D loss reaches no G
parameter (the fakes are detached) and the G loss reaches no D parameter (`toggled_optimizer`
turns their `requires_grad` off). Without `find_unused_parameters=True` the reducer waits for
gradients that never come and the second backward fails ("Expected to have finished reduction in
the prior iteration"). With it, each backward first walks its autograd graph to mark the other
net's parameters as unused: a few dozen nodes for these nets, and one small extra all-reduce of
the unused-parameter bitmap. `benchmarks/ddp_overhead.py` measures that cost against the
alternative (G and D wrapped as two separate DDP modules, no search): see benchmarks/README.md.

BatchNorm: each rank normalises its own real batch and its own fake batch (D sees them in two
forwards, the DCGAN recipe), like single-device training at the per-device batch size. For
statistics over the global batch set `trainer.sync_batchnorm: true` (CUDA only in PyTorch).
"""

from __future__ import annotations

import lightning as L
from lightning.pytorch.strategies import DDPStrategy
from lightning.pytorch.utilities import rank_zero_warn


def prepare_ddp_for_gan(trainer: L.Trainer) -> None:
    """Turn on `find_unused_parameters` for a DDP strategy, before it wraps the module.

    Called from `GAN.setup`, which Lightning runs before `strategy.setup` builds the
    `DistributedDataParallel` wrapper, so `--trainer.strategy ddp` (or the presets) just work.
    """
    strategy = trainer.strategy
    if not isinstance(strategy, DDPStrategy):
        return
    kwargs = strategy._ddp_kwargs  # the keyword arguments DistributedDataParallel(...) will receive
    if kwargs.get("find_unused_parameters") is False:
        rank_zero_warn(
            "trainer.strategy: a GAN makes separate G and D backward passes, which DDP only allows with "
            "find_unused_parameters=True; using True instead of the False that was given"
        )
    if kwargs.get("static_graph"):
        raise ValueError(
            "trainer.strategy: static_graph=True cannot serve a GAN (each step makes two backward passes "
            "over different parameters); got static_graph=True, use the default False"
        )
    kwargs["find_unused_parameters"] = True
