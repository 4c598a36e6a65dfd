"""InfoGAN's categorical code (Chen et al. 2016) for the unconditional GAN: a switch, off by default.

Why: a continuous generator without labels lays samples between the digit clusters. InfoGAN hands G
a uniform k-way code beside the noise and asks a small head Q on D's trunk to recover the code from
the fakes (a variational lower bound on the mutual information I(code; G(z, code)), here the
cross-entropy of Q's logits). G can only make its code readable by drawing the k codes apart, which
tends to make them the data's discrete modes, the digits, found without a label.

The code is read off the noise, as self-conditioning's cluster is: the angle of the noise's *last*
two coordinates, cut into k equal arcs (`noise_angle`: uniform and independent of the rest for normal
noise). So the model still draws from noise alone (grids, metrics, `generate`, ONNX export, model
folders), and G gets the code as a one-hot vector at its input, the way the conditional model gets a
digit.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from gan_lightning.noise import noise_angle


class InfoCode(nn.Module):
    """The code of a noise batch, G's one-hot input for it, and Q: the head that reads it back.

    Args:
        codes: k, the number of values of the code.
        feature_dim: width of D's features (`discriminator.features`), what Q reads.
        weight: lambda, the weight of Q's cross-entropy in both losses (InfoGAN: 1 for discrete codes).
        hidden: Q's hidden width (InfoGAN: one fully connected layer on D's shared trunk).
    """

    def __init__(self, codes: int, feature_dim: int, weight: float = 1.0, hidden: int = 128) -> None:
        super().__init__()
        self.codes, self.weight = codes, float(weight)
        self.head = nn.Sequential(nn.Linear(feature_dim, hidden), nn.LeakyReLU(0.2), nn.Linear(hidden, codes))
        # Q's cross-entropy and accuracy since the last log step, on the device (no sync); host count.
        self._sums, self._count = torch.zeros(2), 0

    def of(self, z: torch.Tensor) -> torch.Tensor:
        """The code (n,) of each noise vector (n, latent_dim): which of k equal arcs its last angle is in."""
        u = noise_angle(z, first=z.shape[1] - 2)
        return (u * self.codes).long().clamp_(max=self.codes - 1)  # clamp: u may round up to 1.0 in float

    def g_input(self, codes: torch.Tensor) -> torch.Tensor:
        """What G reads beside the noise: the one-hot code (n, k)."""
        # A comparison, not F.one_hot: that one reads the codes' range on the host (a sync per batch).
        return (codes[:, None] == torch.arange(self.codes, device=codes.device)).float()

    def loss(self, features: torch.Tensor, codes: torch.Tensor) -> torch.Tensor:
        """lambda * cross-entropy of Q's reading of fakes' D features (B, F) against their codes (B,)."""
        logits = self.head(features).float()  # (B, k); float: AMP-safe
        ce = F.cross_entropy(logits, codes)
        if self._sums.device != ce.device:
            self._sums = self._sums.to(ce.device)
        accuracy = (logits.detach().argmax(1) == codes).float().mean()
        self._sums += torch.stack([ce.detach(), accuracy])
        self._count += 1
        return self.weight * ce

    def window_means(self) -> dict[str, torch.Tensor]:
        """Q's mean cross-entropy and accuracy since the last call (device tensors), then reset; {} if none."""
        if not self._count:
            return {}
        sums, self._sums, count = self._sums, torch.zeros_like(self._sums), self._count
        self._count = 0
        return {"train/info_ce": sums[0] / count, "train/info_acc": sums[1] / count}
