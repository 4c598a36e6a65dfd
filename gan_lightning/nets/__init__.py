"""Plain `nn.Module`s: generators, discriminators and label conditioning. No Lightning here."""

from gan_lightning.nets.conditioning import LabelEncoder, broadcast_channels
from gan_lightning.nets.dcgan import DCGANDiscriminator, DCGANGenerator
from gan_lightning.nets.mlp import MLPDiscriminator, MLPGenerator

__all__ = [
    "DCGANDiscriminator",
    "DCGANGenerator",
    "LabelEncoder",
    "MLPDiscriminator",
    "MLPGenerator",
    "broadcast_channels",
]
