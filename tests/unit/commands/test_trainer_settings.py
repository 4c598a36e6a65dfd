"""What Lightning refuses while it builds the Trainer is a TrainerSettingError naming the setting."""

from __future__ import annotations

import lightning as L
import pytest
import torch

from gan_lightning.commands.trainer_settings import TrainerSettingError, named_trainer_settings

NO_GPU = pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU")


@pytest.mark.parametrize(
    "settings, named",
    [
        pytest.param({"accelerator": "gpu"}, "accelerator", marks=NO_GPU),  # named by the refusing function
        ({"accelerator": "foo"}, "accelerator"),  # named in Lightning's message
        ({"devices": 0}, "devices"),  # the message names devices first, then the accelerator
        ({"devices": "abc"}, "devices"),
        ({"precision": "fp8"}, "precision"),
        ({"strategy": "foo"}, "strategy"),
        ({"max_time": "abc"}, "max_time"),  # "Timer(duration='abc')": named by the function's argument
        ({"num_nodes": 0}, "num_nodes"),
    ],
)
def test_a_setting_lightning_refuses_is_named_with_the_reason(settings, named):
    with pytest.raises(TrainerSettingError, match=rf"^trainer\.{named}: ") as info, named_trainer_settings(settings):
        L.Trainer(logger=False, enable_progress_bar=False, enable_model_summary=False, **settings)
    assert "\n" not in str(info.value)
    assert isinstance(info.value, ValueError)  # the CLI's bad-input path: one line, exit code 2


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU")
def test_no_gpu_says_what_this_machine_has():
    with pytest.raises(TrainerSettingError) as info, named_trainer_settings({"accelerator": "gpu"}):
        L.Trainer(accelerator="gpu", logger=False)
    assert str(info.value).endswith("; got 'gpu'; available on this machine: auto, cpu")


def test_an_error_of_this_package_passes_unchanged():
    # Our own checks already name their argument; they are not reworded as a trainer setting.
    from gan_lightning.checks import check_positive_int

    with pytest.raises(ValueError, match=r"^n must be a positive integer, got 0$"), named_trainer_settings({}):
        check_positive_int("n", 0)
