"""gan_lightning: GANs and conditional GANs on MNIST with PyTorch Lightning."""

from gan_lightning.data import MNISTDataModule
from gan_lightning.modules import GAN, ConditionalGAN

__version__ = "0.1.0"
__all__ = ["GAN", "ConditionalGAN", "MNISTDataModule", "__version__"]
