"""Speed switches and the automatic DDP arguments, on one CPU process.

Here: the tests that train (`fit`); the others are in tests/unit/modules/test_speed.py.
"""

from __future__ import annotations

import torch

from gan_lightning import ConditionalGAN
from tests.helpers import tiny_trainer


def test_channels_last_weights_and_fused_adam_on_cpu(tmp_path, tiny_dm):
    model = ConditionalGAN(ngf=8, ndf=8, metrics=False, channels_last=True)
    tiny_trainer(tmp_path, limit_train_batches=1).fit(model, tiny_dm)
    convs = [m for m in model.modules() if isinstance(m, (torch.nn.Conv2d, torch.nn.ConvTranspose2d))]
    assert convs and all(c.weight.is_contiguous(memory_format=torch.channels_last) for c in convs)
    assert all(opt.optimizer.defaults.get("fused") for opt in model.optimizers())  # the default, CPU too
    assert int(model.g_steps) == 1

