"""The LightningModules: `GAN`, `ConditionalGAN` (labels in, labels out) and `SelfConditionedGAN` (an
unconditional GAN conditioned on clusters it finds itself), and what serves them."""

from gan_lightning.kinds import model_class, register_model
from gan_lightning.modules.cgan import ConditionalGAN
from gan_lightning.modules.gan import GAN
from gan_lightning.modules.selfcond import SelfConditionedGAN

__all__ = ["GAN", "ConditionalGAN", "SelfConditionedGAN", "model_class"]

# The readers of saved models (checkpoints, model folders) sit below the modules and find the class of a
# stored name through this registry (`gan_lightning.kinds.model_class`: GAN, ConditionalGAN or
# SelfConditionedGAN from ``gan_lightning.ConditionalGAN``, ``...modules.cgan.ConditionalGAN`` or
# ``ConditionalGAN``; a user's subclass counts by the end of its name).
for _cls in (GAN, ConditionalGAN, SelfConditionedGAN):
    register_model(_cls)
