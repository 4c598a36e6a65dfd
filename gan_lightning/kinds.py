"""The kinds of model a saved file can hold, by name: below every reader of saved models.

Checkpoints and model folders store a class path or name (``gan_lightning.ConditionalGAN``,
``gan_lightning.modules.cgan.ConditionalGAN``, ``ConditionalGAN``). Reading which kind that is needs
no module; getting the class needs the modules to be imported, and they register themselves here
(`gan_lightning.modules`), so the readers below them (`reliability.checkpoints`, `sharing.hub`) never
import the modules back.
"""

from __future__ import annotations

MODEL_NAMES = ("GAN", "ConditionalGAN", "SelfConditionedGAN")
_CLASSES: dict[str, type] = {}


def model_name(class_path: str) -> str:
    """'GAN', 'ConditionalGAN' or 'SelfConditionedGAN' for a stored class path or name. A user's
    subclass counts by the end of its name (``MyConditionalGAN`` is a ConditionalGAN)."""
    name = str(class_path)
    if name.endswith("SelfConditionedGAN"):
        return "SelfConditionedGAN"
    return "ConditionalGAN" if name.endswith("ConditionalGAN") else "GAN"


def register_model(cls: type) -> type:
    """Make `cls` the class of its kind (its name is one of `MODEL_NAMES`); returns it."""
    if cls.__name__ not in MODEL_NAMES:
        raise ValueError(f"register_model: the class name must be one of {MODEL_NAMES}, got {cls.__name__!r}")
    _CLASSES[cls.__name__] = cls
    return cls


def model_class(class_path: str) -> type:
    """The registered class of the kind `class_path` names (see `model_name`).

    Raises:
        LookupError: the modules were never imported, so no class is registered.
    """
    name = model_name(class_path)
    if name not in _CLASSES:
        raise LookupError(f"no model class registered for {name!r}: import gan_lightning.modules first")
    return _CLASSES[name]
