"""ConditionalGAN: the GAN with labels plumbed into both nets; only the conditioning differs."""

from __future__ import annotations

from typing import Literal

import torch
from torch import nn

from gan_lightning.checks import check_choice, choices
from gan_lightning.modules.gan import GAN
from gan_lightning.nets import LabelEncoder, ProjectionHead

Conditioning = Literal["onehot", "embedding", "projection", "cbn"]
CONDITIONINGS = choices(Conditioning)


class ConditionalGAN(GAN):
    """GAN conditioned on the digit label.

    Args:
        conditioning: ``"onehot"``: the one-hot label is concatenated to the noise and
            broadcast as `num_classes` extra image channels into a conv discriminator (the
            64 px DCGAN CGAN); ``"embedding"``: a learned label embedding is concatenated in
            both nets (the MLP CGAN); ``"projection"``: the generator takes the one-hot label, the
            discriminator adds <embed(y), features(x)> to its logit (Miyato & Koyama 2018), the
            usual choice with hinge loss and spectral normalization; ``"cbn"``: the discriminator of
            ``"projection"``, and a generator that reads the one-hot label in every BatchNorm
            (conditional BatchNorm, de Vries et al. 2017; the generator of Miyato & Koyama 2018)
            instead of at its input. DCGAN only.
        embed_dim: embedding width (default `num_classes`).
        **kwargs: everything `GAN` takes.

    Raises:
        ValueError: a bad argument (one line naming it, what is allowed and what was given), as `GAN`.
    """

    conditional = True

    def __init__(
        self,
        *args,
        conditioning: Conditioning = "onehot",
        embed_dim: int | None = None,
        **kwargs,
    ) -> None:
        check_choice("conditioning", conditioning, Conditioning)
        self._conditioning = (conditioning, embed_dim)
        super().__init__(*args, **kwargs)
        self.save_hyperparameters()

    def build_conditioning(self) -> None:
        kind, embed_dim = self._conditioning
        n = self.hparams.num_classes
        self.g_cond_mode = "cbn" if kind == "cbn" else "concat"  # cbn: G reads the label in its BatchNorms
        # Separate encoders: G and D learn their own embeddings (one-hot has no parameters).
        if kind in ("projection", "cbn"):  # G: one-hot label; D: no input conditioning, a projection head instead
            self.g_label = LabelEncoder(n, "onehot", embed_dim)
            self.d_label = None
        else:
            self.g_label = LabelEncoder(n, kind, embed_dim)
            self.d_label = LabelEncoder(n, kind, embed_dim)
        self.g_cond_dim = self.g_label.dim
        self.d_cond_dim = 0 if self.d_label is None else self.d_label.dim

    def build_nets(self) -> tuple[nn.Module, nn.Module]:
        g, d = super().build_nets()
        # The projection's embedding has one entry per feature of D's last layer.
        self.d_proj = ProjectionHead(self.hparams.num_classes, d.feature_dim) if self.d_label is None else None
        return g, d

    # The label encoders train with the net that reads them, and the EMA averages G's with it.
    def g_modules(self) -> nn.ModuleDict:
        return nn.ModuleDict({"net": self.generator, "label": self.g_label})

    def d_modules(self) -> list[nn.Module]:
        return [self.discriminator, self.d_label if self.d_label is not None else self.d_proj]

    def sample_labels(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        return torch.randint(0, self.hparams.num_classes, (n,), generator=generator, device=self.device)

    def generate(
        self, z: torch.Tensor, labels: torch.Tensor | None = None, g: nn.ModuleDict | None = None
    ) -> torch.Tensor:
        net, label = (self.generator, self.g_label) if g is None else (g["net"], g["label"])  # training: no ModuleDict
        return net(z, label(labels))

    def discriminate(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        if self.d_proj is None:
            return self.discriminator(x, self.d_label(labels))
        features = self.discriminator.features(x)  # (B, F)
        return self.discriminator.head(features).squeeze(1) + self.d_proj(features, labels)  # (B,)

    def check_labels(self, labels: torch.Tensor) -> torch.Tensor:
        labels = torch.as_tensor(labels, dtype=torch.long, device=self.device)
        bad = labels[(labels < 0) | (labels >= self.hparams.num_classes)]
        if bad.numel():
            raise ValueError(f"labels must be digits in 0..{self.hparams.num_classes - 1}, got {bad.tolist()}")
        return labels

    @torch.no_grad()
    def sample(
        self,
        n: int,
        labels: torch.Tensor | None = None,
        generator: torch.Generator | None = None,
        truncation: float = 1.0,
    ) -> torch.Tensor:
        """`n` images of the given labels (n,) (default: 0, 1, ..., 9, 0, 1, ...); eval mode; `truncation`
        as in `GAN.sample`."""
        if labels is None:
            labels = torch.arange(n, device=self.device) % self.hparams.num_classes
        labels = self.check_labels(labels)
        if len(labels) != n:
            raise ValueError(f"labels: need one label per sample ({n}), got {len(labels)}")
        return self.decode(self.sample_z(n, generator, truncation), labels)
