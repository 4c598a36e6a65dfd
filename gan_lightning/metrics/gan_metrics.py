"""GANMetrics: every sample-quality number of a GAN from one pass of the MNIST classifier.

Real images (the test split) and generated samples go through the classifier once each; its
128-d features and 10 logits feed:

- ``fid``, ``kid``: torchmetrics' FrechetInceptionDistance / KernelInceptionDistance in the
  classifier's feature space (the features reach them through ``feature=``; see `GivenFeatures`).
  KID's kernel bandwidth is set from the real digits' feature scale (see `compute`).
- ``class_acc`` (conditional): share of samples the classifier reads as the digit they were asked for.
- ``modes``: digits holding at least 5% of the samples (by the classifier); ``kl_uniform``:
  KL(predicted digit histogram || uniform), 0 for perfectly balanced samples.
- ``is``: MNIST inception score exp(E_x KL(p(y|x) || p(y))), 1 (useless) to 10 (ten sure, balanced digits).
- ``diversity``: within-digit spread of the samples relative to real digits, averaged over digits:
  sqrt(tr Cov_fake,c / tr Cov_real,c), i.e. the ratio of root-mean-square pairwise feature
  distances (E||f - f'||^2 = 2 tr Cov). 1 means real-like variety, 0 one image per digit.
  ``diversity_min`` is the worst digit. ``class_fid``: FID between samples and real digits of the
  same class, averaged over digits. Samples are grouped by the digit they were asked for
  (conditional) or by the classifier's reading (unconditional).
- ``precision``, ``recall``, ``density``, ``coverage`` (``prd=True``): k-nearest-neighbour
  manifold metrics on the same features (`gan_lightning.metrics.prd`); they keep every feature.

All states are torchmetrics states with ``dist_reduce_fx`` (sums, or gathered features for KID),
so under DDP every rank feeds its shard and `compute` reduces across ranks. Real states survive
`reset_fake` so the test split's features are computed once per run.
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import torch
from torch import nn
from torchmetrics.image.fid import FrechetInceptionDistance
from torchmetrics.image.kid import KernelInceptionDistance

from gan_lightning.metrics.accumulators import (
    ClassFeatureStats,
    FeatureSet,
    GivenFeatures,
    PredictionStats,
    frechet_distance,
    mean_cov,
)
from gan_lightning.metrics.classifier import FEATURE_DIM, NUM_CLASSES, load_classifier, to_classifier_input
from gan_lightning.metrics.inception import inception_fid
from gan_lightning.metrics.prd import prd_metrics

MODE_SHARE = 0.05  # a digit counts as covered when it holds at least this share of samples
KID_SUBSET = 1000  # torchmetrics' default subset size, capped by the number of samples


class GANMetrics(nn.Module):
    """Sample-quality metrics of a (conditional) GAN against real digits, DDP-ready.

    Feed the real side once (`update_real`), samples as often as needed (`update_fake`), read
    `compute()`, and call `reset_fake()` before scoring new samples against the same real digits.

    Args:
        conditional: samples come with the digit they were asked for (adds ``class_acc``).
        classifier_path: weights of the MNIST classifier (default: the shipped ones).
        inception_weights: optional path to torch-fidelity's FID Inception weights; adds
            ``fid_inception`` (Inception-v3 pool features, the FID of the literature).
        kid_subsets: how many random subsets KID averages over.
        seed: seed of KID's subset draws, so the same features give the same KID.
        prd: add precision/recall (k=3) and density/coverage (k=5); keeps every feature in memory.
    """

    def __init__(
        self,
        conditional: bool,
        classifier_path: str | Path | None = None,
        inception_weights: str | Path | None = None,
        kid_subsets: int = 100,
        seed: int = 0,
        prd: bool = False,
    ) -> None:
        super().__init__()
        if not isinstance(kid_subsets, int) or isinstance(kid_subsets, bool) or kid_subsets <= 0:
            raise ValueError(f"kid_subsets must be a positive integer, got {kid_subsets!r}")
        self.conditional, self.seed = conditional, seed
        self.classifier = load_classifier(classifier_path)
        d, c = FEATURE_DIM, NUM_CLASSES
        self.fid = FrechetInceptionDistance(feature=GivenFeatures(d), reset_real_features=False)
        with warnings.catch_warnings():  # KID warns at every construction that it keeps features in memory
            warnings.simplefilter("ignore", UserWarning)
            self.kid = KernelInceptionDistance(
                feature=GivenFeatures(d), subsets=kid_subsets, subset_size=KID_SUBSET, reset_real_features=False
            )
        self.real_stats, self.fake_stats = ClassFeatureStats(c, d), ClassFeatureStats(c, d)
        self.predictions = PredictionStats(c)
        self.inception = inception_fid(inception_weights) if inception_weights is not None else None
        self.real_features = FeatureSet() if prd else None
        self.fake_features = FeatureSet() if prd else None

    def train(self, mode: bool = True) -> GANMetrics:
        super().train(mode)
        self.classifier.eval()  # BatchNorm statistics of the classifier must never move
        return self

    @property
    def real_count(self) -> int:
        """Real digits fed on this process."""
        return int(self.real_stats.count.sum().item())

    @torch.no_grad()
    def _classify(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = to_classifier_input(images).to(next(self.classifier.parameters()).device)
        with torch.autocast(x.device.type, enabled=False):  # fp32 whatever the trainer's precision
            return self.classifier.features_and_logits(x)  # (N, 128), (N, 10)

    def classify(self, images: torch.Tensor) -> torch.Tensor:
        """The classifier's logits (N, 10) of images (N, 1, H, W) in [-1, 1]."""
        return self._classify(images)[1]

    @torch.no_grad()
    def update_real(self, images: torch.Tensor, labels: torch.Tensor) -> None:
        """Real digits (N, 1, H, W) in [-1, 1] with their labels (N,)."""
        feats, _ = self._classify(images)
        self.fid.update(feats, real=True)
        self.kid.update(feats, real=True)
        self.real_stats.update(feats, labels.to(feats.device))
        if self.real_features is not None:
            self.real_features.update(feats)
        if self.inception is not None:
            self.inception.update(_to_inception_input(images), real=True)

    @torch.no_grad()
    def update_fake(self, images: torch.Tensor, labels: torch.Tensor | None = None) -> None:
        """Samples (N, 1, H, W) in [-1, 1]; `labels` (N,): the digits they were asked for (conditional)."""
        if self.conditional and labels is None:
            raise ValueError("labels: a conditional model's samples need the digits they were asked for")
        feats, logits = self._classify(images)
        targets = labels.to(feats.device).long() if labels is not None else None
        self.fid.update(feats, real=False)
        self.kid.update(feats, real=False)
        self.fake_stats.update(feats, targets if targets is not None else logits.argmax(1))
        self.predictions.update(logits, targets)
        if self.fake_features is not None:
            self.fake_features.update(feats)
        if self.inception is not None:
            self.inception.update(_to_inception_input(images), real=False)

    def reset_fake(self) -> None:
        """Forget the samples, keep the real digits' statistics."""
        for m in (self.fid, self.kid, self.fake_stats, self.predictions, self.inception, self.fake_features):
            if m is not None:
                m.reset()  # FID/KID keep their real features (reset_real_features=False)

    def reset(self) -> None:
        """Forget everything, real digits included."""
        self.reset_fake()
        self.real_stats.reset()
        if self.real_features is not None:
            self.real_features.reset()
        for m in (self.fid, self.kid, self.inception):
            if m is not None:  # a reset that, this once, drops the real features too
                m.reset_real_features = True
                m.reset()
                m.reset_real_features = False

    @torch.no_grad()
    def compute(self) -> dict[str, float]:
        """All metrics as floats, reduced over DDP ranks. Every rank must call it (collective)."""
        real_n, real_sum, real_outer = self.real_stats.compute()
        fake_n, fake_sum, fake_outer = self.fake_stats.compute()
        pred = self.predictions.compute()
        n_real, n_fake = int(real_n.sum().item()), int(fake_n.sum().item())
        if n_real < 2 or n_fake < 2:
            raise ValueError(f"GANMetrics needs at least 2 real digits and 2 samples, got {n_real} and {n_fake}")
        out = {"fid": self.fid.compute().item()}
        self.kid.subset_size = min(KID_SUBSET, n_real, n_fake)
        # KID's cubic kernel (gamma x.y + 1)^3 takes gamma = 1/d for features of unit mean square; the
        # classifier's ReLU features are ~3x larger, which would inflate KID ~100x. Scale gamma by the
        # real digits' mean square instead: KID then does not depend on the feature scale.
        mean_square = real_outer.sum(0).trace() / (n_real * real_sum.shape[-1])
        self.kid.gamma = float(1.0 / (real_sum.shape[-1] * mean_square))
        with torch.random.fork_rng(devices=[]):  # KID draws subsets: fixed seed, training RNG untouched
            torch.manual_seed(self.seed)
            out["kid"] = self.kid.compute()[0].item()
        if self.inception is not None:
            out["fid_inception"] = self.inception.compute().item()

        share = pred["histogram"] / pred["histogram"].sum()  # (C,)
        nz = share[share > 0]
        out["modes"] = int((share >= MODE_SHARE).sum().item())
        out["kl_uniform"] = (nz * (nz * len(share)).log()).sum().item()
        mean_p = pred["prob_sum"] / n_fake
        out["is"] = math.exp(
            pred["neg_entropy_sum"].item() / n_fake - (mean_p * mean_p.clamp_min(1e-30).log()).sum().item()
        )
        if self.conditional:
            out["class_acc"] = (pred["hits"] / pred["targeted"].clamp_min(1)).item()

        ratios, fids = [], []
        for c in range(len(real_n)):
            if real_n[c] < 2 or fake_n[c] < 2:
                continue  # a digit without samples is counted by `modes`, not here
            mu_r, cov_r = mean_cov(real_n[c], real_sum[c], real_outer[c])
            mu_f, cov_f = mean_cov(fake_n[c], fake_sum[c], fake_outer[c])
            ratios.append((cov_f.trace().clamp_min(0) / cov_r.trace()).sqrt().item())
            fids.append(frechet_distance(mu_r, cov_r, mu_f, cov_f).item())
        if ratios:
            out["diversity"] = sum(ratios) / len(ratios)
            out["diversity_min"] = min(ratios)
            out["class_fid"] = sum(fids) / len(fids)
        if self.real_features is not None:
            out.update(_prd_of(self.real_features.compute(), self.fake_features.compute()))
        out["n_real"], out["n_fake"] = n_real, n_fake
        return out


def _prd_of(real: torch.Tensor, fake: torch.Tensor) -> dict[str, float]:
    try:
        return prd_metrics(real, fake)
    except ValueError as err:  # too few samples for k-NN radii: say so, keep the other metrics
        warnings.warn(f"precision/recall/density/coverage skipped: {err}", stacklevel=3)
        return {}


def _to_inception_input(images: torch.Tensor) -> torch.Tensor:
    """(N, 1, H, W) in [-1, 1] -> (N, 3, H, W) in [0, 1]; torchmetrics scales to uint8 and resizes to 299."""
    return ((images.float() + 1) / 2).clamp(0, 1).expand(-1, 3, -1, -1)
