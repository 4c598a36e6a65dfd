"""ConditionalGAN: the GAN with labels plumbed into both nets; only the conditioning differs."""

from __future__ import annotations

from typing import Literal

import torch

from gan_lightning.modules.gan import GAN
from gan_lightning.nets import LabelEncoder


class ConditionalGAN(GAN):
    """GAN conditioned on the digit label.

    Args:
        conditioning: ``"onehot"``: the one-hot label is concatenated to the noise and
            broadcast as `num_classes` extra image channels into a conv discriminator (the
            64 px DCGAN CGAN); ``"embedding"``: a learned label embedding is concatenated in
            both nets (the MLP CGAN).
        embed_dim: embedding width (default `num_classes`).
        **kwargs: everything `GAN` takes.
    """

    conditional = True

    def __init__(
        self, *args, conditioning: Literal["onehot", "embedding"] = "onehot", embed_dim: int | None = None, **kwargs
    ) -> None:
        self._conditioning = (conditioning, embed_dim)
        super().__init__(*args, **kwargs)
        self.save_hyperparameters()

    def build_conditioning(self) -> None:
        kind, embed_dim = self._conditioning
        n = self.hparams.num_classes
        # Separate encoders: G and D learn their own embeddings (one-hot has no parameters).
        self.g_label = LabelEncoder(n, kind, embed_dim)
        self.d_label = LabelEncoder(n, kind, embed_dim)
        self.g_cond_dim, self.d_cond_dim = self.g_label.dim, self.d_label.dim

    # The label embeddings train with the net that reads them.
    def g_parameters(self) -> list[torch.nn.Parameter]:
        return [*self.generator.parameters(), *self.g_label.parameters()]

    def d_parameters(self) -> list[torch.nn.Parameter]:
        return [*self.discriminator.parameters(), *self.d_label.parameters()]

    def sample_labels(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        return torch.randint(0, self.hparams.num_classes, (n,), generator=generator, device=self.device)

    def generate(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        return self.generator(z, self.g_label(labels))

    def discriminate(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        return self.discriminator(x, self.d_label(labels))

    def check_labels(self, labels: torch.Tensor) -> torch.Tensor:
        labels = torch.as_tensor(labels, dtype=torch.long, device=self.device)
        bad = labels[(labels < 0) | (labels >= self.hparams.num_classes)]
        if bad.numel():
            raise ValueError(f"labels must be digits in 0..{self.hparams.num_classes - 1}, got {bad.tolist()}")
        return labels

    @torch.no_grad()
    def sample(
        self, n: int, labels: torch.Tensor | None = None, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        """`n` images of the given labels (n,) (default: 0, 1, ..., 9, 0, 1, ...); eval mode."""
        if labels is None:
            labels = torch.arange(n, device=self.device) % self.hparams.num_classes
        labels = self.check_labels(labels)
        if len(labels) != n:
            raise ValueError(f"labels: need one label per sample ({n}), got {len(labels)}")
        return self.decode(self.sample_z(n, generator), labels)
