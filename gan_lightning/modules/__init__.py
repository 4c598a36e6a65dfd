"""The LightningModules: `GAN`, `ConditionalGAN` (labels in, labels out) and `SelfConditionedGAN` (an
unconditional GAN conditioned on clusters it finds itself), and what serves them."""

from gan_lightning.modules.cgan import ConditionalGAN
from gan_lightning.modules.gan import GAN
from gan_lightning.modules.selfcond import SelfConditionedGAN

__all__ = ["GAN", "ConditionalGAN", "SelfConditionedGAN", "model_class"]


def model_class(class_path: str) -> type[GAN]:
    """GAN, ConditionalGAN or SelfConditionedGAN from a class path or class name as configs, checkpoints and
    model folders store it (``gan_lightning.ConditionalGAN``, ``gan_lightning.modules.cgan.ConditionalGAN``,
    ``ConditionalGAN``). A user's subclass counts by the end of its name."""
    name = str(class_path)
    if name.endswith("SelfConditionedGAN"):
        return SelfConditionedGAN
    return ConditionalGAN if name.endswith("ConditionalGAN") else GAN
