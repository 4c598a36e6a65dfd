"""Plain `nn.Module`s: generators, discriminators and label conditioning. No Lightning here."""

from gan_lightning.nets.conditioning import LabelEncoder, ProjectionHead, broadcast_channels
from gan_lightning.nets.dcgan import DCGANDiscriminator, DCGANGenerator
from gan_lightning.nets.factory import build_nets
from gan_lightning.nets.layers import MinibatchStd, spectral_normalize
from gan_lightning.nets.mlp import MLPDiscriminator, MLPGenerator

__all__ = [
    "DCGANDiscriminator",
    "DCGANGenerator",
    "LabelEncoder",
    "MinibatchStd",
    "ProjectionHead",
    "MLPDiscriminator",
    "MLPGenerator",
    "broadcast_channels",
    "build_nets",
    "spectral_normalize",
]
