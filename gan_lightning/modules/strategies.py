"""DDP for GANs: Lightning's public strategy name ``ddp_find_unused_parameters_true``, and a check.

Why `find_unused_parameters`: Lightning wraps the whole LightningModule (G and D together) in one
`DistributedDataParallel`. A GAN training step makes two backward passes: the D loss reaches no G
parameter (the fakes are detached) and the G loss reaches no D parameter (`toggled_optimizer`
turns their `requires_grad` off). Without `find_unused_parameters=True` the reducer waits for
gradients that never come and the second backward fails ("Expected to have finished reduction in
the prior iteration"). With it, each backward first walks its autograd graph to mark the other
net's parameters as unused: a few dozen nodes for these nets, and one small extra all-reduce of
the unused-parameter bitmap. `benchmarks/ddp_overhead.py` measures that cost against the
alternative (G and D wrapped as two separate DDP modules, no search): see benchmarks/README.md.

So a GAN trains under DDP with ``trainer.strategy: ddp_find_unused_parameters_true`` (the name
Lightning registers for exactly this; the multi-GPU presets use it). A plain ``ddp`` (or a
`DDPStrategy` with ``find_unused_parameters=False`` or ``static_graph=True``) stops before the first
batch with a one-line error naming that strategy: the module does not change the user's strategy.

BatchNorm: each rank normalises its own real batch and its own fake batch (D sees them in two
forwards, the DCGAN recipe), like single-device training at the per-device batch size. For
statistics over the global batch set `trainer.sync_batchnorm: true` (CUDA only in PyTorch).
"""

from __future__ import annotations

from typing import Any

from torch.nn.parallel import DistributedDataParallel

GAN_DDP_STRATEGY = "ddp_find_unused_parameters_true"


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
            f"trainer.strategy must be '{GAN_DDP_STRATEGY}' for a GAN (each step makes two backward passes over "
            "different parameters), got a DDP strategy with static_graph=True"
        )
    if not wrapped.find_unused_parameters:
        raise ValueError(
            f"trainer.strategy must be '{GAN_DDP_STRATEGY}' for a GAN (its G and D backward passes each leave "
            "the other net's parameters unused), got a DDP strategy with find_unused_parameters=False, as 'ddp' is"
        )
