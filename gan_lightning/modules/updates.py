"""Updates: the backward pass and optimizer step of each D and G update, Lightning's way or a shorter one.

`manual_backward` and `LightningOptimizer.step` go through the strategy and the precision plugin, which
call three hooks (`on_before_backward`, `on_after_backward`, `on_before_optimizer_step`) on every callback
and on the module, each inside a profiler context, whether anything overrides them or not: a dozen
callbacks make that a large part of a batch-1 MLP step on a CPU, twice a step. On one device in full
precision with no profiler those layers do nothing else, so the `direct` path calls the same hooks, in
Lightning's order but only where they are overridden, around `loss.backward()` and the optimizer's own
`step()`, and counts the step as Lightning's manual loop does (`trainer.global_step`). The weights come
out bit for bit the same (tests/unit/modules/test_updates.py). Anything else (DDP, mixed or half
precision, a profiler, a module with its own `backward`) takes Lightning's path.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from lightning.pytorch import Callback, LightningModule
from lightning.pytorch.plugins.precision import Precision
from lightning.pytorch.profilers import PassThroughProfiler
from lightning.pytorch.strategies import SingleDeviceStrategy

HOOKS = ("on_before_backward", "on_after_backward", "on_before_optimizer_step")


def _overrides(obj: Any, base: type, name: str) -> bool:
    return getattr(type(obj), name, None) is not getattr(base, name)


class Updates:
    """The module's part that applies a loss: `apply(module, opt, loss)`; `prepare` picks the path per fit."""

    def __init__(self) -> None:
        self.direct = False
        # hook name -> [(owner, bound hook)]: callbacks first, then the module, as Lightning calls them
        self._hooks: dict[str, list[tuple[Any, Callable[..., Any]]]] = {}

    def prepare(self, trainer: Any, module: LightningModule) -> None:
        """Choose the path for this fit (called at `on_train_start`, when callbacks and strategy are final)."""
        self.direct = (
            type(trainer.strategy) is SingleDeviceStrategy
            and type(trainer.precision_plugin) is Precision
            and isinstance(trainer.profiler, PassThroughProfiler)
            and not _overrides(module, LightningModule, "backward")
        )
        self._hooks = {
            name: [(cb, getattr(cb, name)) for cb in trainer.callbacks if _overrides(cb, Callback, name)]
            + ([(None, getattr(module, name))] if _overrides(module, LightningModule, name) else [])
            for name in HOOKS
        }

    def apply(self, module: LightningModule, opt: Any, loss: torch.Tensor) -> None:
        """zero_grad, backward, optimizer step: `opt` is the `LightningOptimizer` from `module.optimizers()`."""
        opt.zero_grad(set_to_none=True)
        if not self.direct:
            module.manual_backward(loss)
            opt.step()
            return
        trainer = module.trainer
        self._call(module, trainer, "on_before_backward", loss)
        loss.backward()
        self._call(module, trainer, "on_after_backward")
        opt._on_before_step()  # the manual loop's step count (trainer.global_step), as LightningOptimizer.step
        self._call(module, trainer, "on_before_optimizer_step", opt.optimizer)
        opt.optimizer.step()
        opt._on_after_step()

    def _call(self, module: LightningModule, trainer: Any, name: str, *args: Any) -> None:
        hooks = self._hooks[name]
        if not hooks:
            return
        previous, module._current_fx_name = module._current_fx_name, name  # what self.log checks, as Lightning
        try:
            for owner, hook in hooks:
                if owner is None:
                    hook(*args)
                else:
                    hook(trainer, module, *args)
        finally:
            module._current_fx_name = previous
