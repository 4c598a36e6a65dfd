"""The torchmetrics states GANMetrics accumulates: per-class feature moments, classifier
predictions, gathered features, and the Frechet distance of two Gaussians.

Every state has a ``dist_reduce_fx`` (sums, or gathered features), so under DDP each rank feeds its
shard and `compute` reduces across ranks.
"""

from __future__ import annotations

import torch
from torch import nn
from torchmetrics import Metric

from gan_lightning.metrics.classifier import FEATURE_DIM, NUM_CLASSES


def frechet_distance(mu1: torch.Tensor, cov1: torch.Tensor, mu2: torch.Tensor, cov2: torch.Tensor) -> torch.Tensor:
    """||mu1 - mu2||^2 + tr(cov1 + cov2 - 2 (cov1 cov2)^(1/2)).

    tr (cov1 cov2)^(1/2) = tr (A cov2 A)^(1/2) with A = cov1^(1/2): two symmetric eigendecompositions,
    an order of magnitude faster on a CPU than the general eigenvalues of cov1 @ cov2."""
    w, v = torch.linalg.eigh(cov1)
    a = (v * w.clamp_min(0).sqrt()) @ v.t()  # cov1^(1/2)
    root_trace = torch.linalg.eigvalsh(a @ cov2 @ a).clamp_min(0).sqrt().sum()
    return (mu1 - mu2).square().sum() + cov1.trace() + cov2.trace() - 2 * root_trace


class GivenFeatures(nn.Module):
    """The `feature=` network torchmetrics gets when the classifier has already run: (N, d) -> (N, d).

    FID, KID, the class statistics and the predictions all need the classifier's outputs for the
    same images; running it once and handing the features on costs a third of running it inside
    each metric. `MNISTFeatures` is the stand-alone equivalent (the tests check both agree)."""

    def __init__(self, num_features: int) -> None:
        super().__init__()
        self.num_features = num_features

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return features


class ClassFeatureStats(Metric):
    """Per-class count, feature sum and feature outer-product sum: means and covariances per digit."""

    full_state_update = False

    def __init__(self, num_classes: int = NUM_CLASSES, dim: int = FEATURE_DIM, **kwargs) -> None:
        super().__init__(**kwargs)
        c = num_classes
        self.add_state("count", torch.zeros(c, dtype=torch.float64), dist_reduce_fx="sum")
        self.add_state("total", torch.zeros(c, dim, dtype=torch.float64), dist_reduce_fx="sum")
        self.add_state("outer", torch.zeros(c, dim, dim, dtype=torch.float64), dist_reduce_fx="sum")

    def update(self, features: torch.Tensor, classes: torch.Tensor) -> None:
        f = features.double()  # (N, d)
        classes = classes.long()
        for c in classes.unique().tolist():
            f_c = f[classes == c]  # (n_c, d)
            self.count[c] += len(f_c)
            self.total[c] += f_c.sum(0)
            self.outer[c] += f_c.t() @ f_c  # (d, d)

    def compute(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        return self.count.clone(), self.total.clone(), self.outer.clone()


class PredictionStats(Metric):
    """What the classifier says about the samples: predicted-digit histogram, hits, and IS sums."""

    full_state_update = False

    def __init__(self, num_classes: int = NUM_CLASSES, **kwargs) -> None:
        super().__init__(**kwargs)
        c = num_classes
        self.add_state("histogram", torch.zeros(c, dtype=torch.float64), dist_reduce_fx="sum")
        self.add_state("hits", torch.zeros((), dtype=torch.float64), dist_reduce_fx="sum")
        self.add_state("targeted", torch.zeros((), dtype=torch.float64), dist_reduce_fx="sum")
        self.add_state("prob_sum", torch.zeros(c, dtype=torch.float64), dist_reduce_fx="sum")
        self.add_state("neg_entropy_sum", torch.zeros((), dtype=torch.float64), dist_reduce_fx="sum")

    def update(self, logits: torch.Tensor, targets: torch.Tensor | None = None) -> None:
        logp = logits.double().log_softmax(1)  # (N, C)
        p = logp.exp()
        pred = logp.argmax(1)
        self.histogram += torch.bincount(pred, minlength=self.histogram.numel()).double()
        self.prob_sum += p.sum(0)
        self.neg_entropy_sum += (p * logp).sum()
        if targets is not None:
            self.hits += (pred == targets).sum()
            self.targeted += len(targets)

    def compute(self) -> dict[str, torch.Tensor]:
        return {k: getattr(self, k).clone() for k in ("histogram", "hits", "targeted", "prob_sum", "neg_entropy_sum")}


class FeatureSet(Metric):
    """Every feature row fed (gathered over DDP ranks by `compute`): what the k-NN metrics need."""

    full_state_update = False

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.add_state("features", [], dist_reduce_fx="cat")

    def update(self, features: torch.Tensor) -> None:
        self.features.append(features.float())

    def compute(self) -> torch.Tensor:
        f = self.features
        return torch.cat(f) if isinstance(f, list) else f  # a list on one process, one tensor after a gather


def mean_cov(count: torch.Tensor, total: torch.Tensor, outer: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    mean = total / count  # (d,)
    cov = (outer - count * torch.outer(mean, mean)) / (count - 1)  # (d, d), unbiased
    return mean, cov
