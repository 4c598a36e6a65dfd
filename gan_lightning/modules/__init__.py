"""The LightningModules: `GAN` and `ConditionalGAN` (labels in, labels out), and what serves them."""

from gan_lightning.modules.cgan import ConditionalGAN
from gan_lightning.modules.gan import GAN

__all__ = ["GAN", "ConditionalGAN", "model_class"]


def model_class(class_path: str) -> type[GAN]:
    """GAN or ConditionalGAN from a class path or class name as configs, checkpoints and model folders store
    it (``gan_lightning.ConditionalGAN``, ``gan_lightning.modules.cgan.ConditionalGAN``, ``ConditionalGAN``).
    A user's subclass counts as conditional when its name ends in ``ConditionalGAN``."""
    return ConditionalGAN if str(class_path).endswith("ConditionalGAN") else GAN
