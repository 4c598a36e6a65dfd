"""ConditionalGAN: the GAN with labels plumbed into both nets; only the conditioning differs."""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

from gan_lightning.checks import check_choice, check_nonnegative, choices
from gan_lightning.modules.gan import GAN
from gan_lightning.nets import LabelEncoder, ProjectionHead

Conditioning = Literal["onehot", "embedding", "projection", "cbn"]
CONDITIONINGS = choices(Conditioning)


def check_label_techniques(conditioning: str, class_weight: float, pack: int, info_codes: int | None) -> None:
    """The techniques of `GAN` that need more than a label per image to mean something here.

    Raises:
        ValueError: naming the setting, what it needs and what was given.
    """
    if info_codes is not None:
        raise ValueError(
            "info_codes gives an unconditional GAN a code to find; this model reads labels (or clusters) "
            f"already: use gan_lightning.GAN, got info_codes={info_codes}"
        )
    if pack > 1 and conditioning not in ("projection", "cbn"):
        raise ValueError(
            "pack: a packed discriminator reads its labels in the projection head (one sum per pack); "
            f"set conditioning to 'projection' or 'cbn', got conditioning={conditioning!r}"
        )
    if pack > 1 and class_weight > 0:
        raise ValueError(
            "pack: class_weight classifies single images and a packed D sees several at once; "
            f"use one of them, got pack={pack} with class_weight={class_weight}"
        )


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
        class_weight: weight of an auxiliary classification loss on the projection head's class
            logits (`ProjectionHead.class_logits`; AC-GAN, Odena et al. 2017): D learns to tell the
            digit of *real* images (cross-entropy with their labels), G learns to make fakes that D
            reads as the requested digit. Pushes label-correctness; 0: none. Needs
            ``"projection"`` or ``"cbn"`` conditioning (the head is where the class logits are).
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
        class_weight: float = 0.0,
        **kwargs,
    ) -> None:
        check_choice("conditioning", conditioning, Conditioning)
        check_nonnegative("class_weight", class_weight)
        if class_weight > 0 and conditioning not in ("projection", "cbn"):
            raise ValueError(
                "class_weight trains the projection head's class logits; set conditioning to 'projection' "
                f"or 'cbn', got conditioning={conditioning!r}"
            )
        check_label_techniques(conditioning, class_weight, kwargs.get("pack", 1), kwargs.get("info_codes"))
        self._conditioning = (conditioning, embed_dim)
        super().__init__(*args, **kwargs)
        self.save_hyperparameters()
        self._class_weight = float(class_weight)
        # The class terms since the last log step, on the device (no sync): sums of D's cross-entropy,
        # G's cross-entropy and D's accuracy on real digits, and the host counts of D and G terms.
        # Not a buffer: a "16-true" model would cast it to half and the sums would lose precision.
        self._class_sums = torch.zeros(3)
        self._class_counts = [0, 0]

    @property
    def label_count(self) -> int:
        """How many labels the nets read: the data's classes (the clusters, in `SelfConditionedGAN`)."""
        return self.hparams.num_classes

    def build_conditioning(self) -> None:
        kind, embed_dim = self._conditioning
        n = self.label_count
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
        self.d_proj = ProjectionHead(self.label_count, d.feature_dim) if self.d_label is None else None
        return g, d

    # The label encoders train with the net that reads them, and the EMA averages G's with it.
    def g_modules(self) -> nn.ModuleDict:
        return nn.ModuleDict({"net": self.generator, "label": self.g_label})

    def d_modules(self) -> list[nn.Module]:
        return [self.discriminator, self.d_label if self.d_label is not None else self.d_proj]

    def sample_labels(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        return torch.randint(0, self.label_count, (n,), generator=generator, device=self.device)

    def generate(
        self, z: torch.Tensor, labels: torch.Tensor | None = None, g: nn.ModuleDict | None = None
    ) -> torch.Tensor:
        net, label = (self.generator, self.g_label) if g is None else (g["net"], g["label"])  # training: no ModuleDict
        return net(z, label(labels))

    def discriminate(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        if self.d_proj is None:
            return self.discriminator(x, self.d_label(labels))
        features = self.discriminator.features(self.techniques.packed(x))  # (B, F); (B/pack, F) packed
        return self.discriminator.head(features).squeeze(1) + self.d_proj(features, labels, self.techniques.pack)

    def score(
        self, x: torch.Tensor, labels: torch.Tensor | None, real: bool
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """D's logits (B,) and, with ``class_weight``, the weighted class term: on real images D's
        cross-entropy, on fakes (the G step) G's. One pass through D either way."""
        if self._class_weight == 0:
            return self.discriminate(x, labels), None
        features = self.discriminator.features(x)  # (B, F)
        logits = self.d_proj.class_logits(features)  # (B, num_classes)
        projection = logits.gather(1, labels[:, None]).squeeze(1)  # (B,) the projection term of `discriminate`
        class_loss = F.cross_entropy(logits.float(), labels)  # float: AMP-safe
        self._note_class_term(class_loss, logits, labels, real)
        return self.discriminator.head(features).squeeze(1) + projection, self._class_weight * class_loss

    def _note_class_term(self, loss: torch.Tensor, logits: torch.Tensor, labels: torch.Tensor, real: bool) -> None:
        if self._class_sums.device != loss.device:
            self._class_sums = self._class_sums.to(loss.device)
        loss, zero = loss.detach(), loss.new_zeros(())
        if real:  # one add per step: (D's loss, -, D's accuracy on the real batch)
            accuracy = (logits.detach().argmax(1) == labels).float().mean()
            self._class_sums += torch.stack([loss, zero, accuracy])
        else:
            self._class_sums += torch.stack([zero, loss, zero])
        self._class_counts[0 if real else 1] += 1

    def log_technique_scalars(self) -> None:
        super().log_technique_scalars()
        d_count, g_count = self._class_counts
        if d_count:  # window means, as the losses: D's class loss and accuracy on real digits, G's class loss
            sums = self._class_sums
            self.log("train/d_class", sums[0] / d_count, on_step=True, on_epoch=False)
            self.log("train/d_class_acc", sums[2] / d_count, on_step=True, on_epoch=False)
            if g_count:
                self.log("train/g_class", sums[1] / g_count, on_step=True, on_epoch=False)
            self._class_sums = torch.zeros_like(sums)
            self._class_counts = [0, 0]

    label_rule = "labels must be digits"  # how `check_labels` names what the labels are

    def check_labels(self, labels: torch.Tensor) -> torch.Tensor:
        labels = torch.as_tensor(labels, dtype=torch.long, device=self.device)
        bad = labels[(labels < 0) | (labels >= self.label_count)]
        if bad.numel():
            raise ValueError(f"{self.label_rule} in 0..{self.label_count - 1}, got {bad.tolist()}")
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
