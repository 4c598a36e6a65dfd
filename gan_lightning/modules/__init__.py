from gan_lightning.modules.cgan import ConditionalGAN
from gan_lightning.modules.gan import GAN

__all__ = ["GAN", "ConditionalGAN"]
