"""GAN, ConditionalGAN or SelfConditionedGAN from what configs, checkpoints and model folders store."""

import subprocess
import sys

import pytest

from gan_lightning import GAN, ConditionalGAN, SelfConditionedGAN
from gan_lightning.kinds import model_name, register_model
from gan_lightning.modules import model_class


@pytest.mark.parametrize(
    ("stored", "cls"),
    [
        ("gan_lightning.ConditionalGAN", ConditionalGAN),
        ("gan_lightning.modules.cgan.ConditionalGAN", ConditionalGAN),
        ("ConditionalGAN", ConditionalGAN),
        ("gan_lightning.SelfConditionedGAN", SelfConditionedGAN),
        ("gan_lightning.GAN", GAN),
        ("GAN", GAN),
        ("my_project.MyGAN", GAN),
        ("my_project.MyConditionalGAN", ConditionalGAN),
    ],
)
def test_class_from_path_or_name(stored, cls):
    assert model_class(stored) is cls
    assert model_name(stored) == cls.__name__


def test_the_registry_takes_only_the_three_kinds():
    with pytest.raises(ValueError, match=r"register_model: the class name must be one of .*, got 'WGAN'"):
        register_model(type("WGAN", (), {}))


def test_naming_a_kind_needs_no_module_and_a_class_needs_the_modules_imported():
    code = (
        "import sys; from gan_lightning.kinds import model_class, model_name; "
        "assert model_name('gan_lightning.SelfConditionedGAN') == 'SelfConditionedGAN'; "
        "assert 'gan_lightning.modules' not in sys.modules\n"
        "try:\n    model_class('GAN')\nexcept LookupError as err:\n    print(err)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "no model class registered for 'GAN': import gan_lightning.modules first" in done.stdout
