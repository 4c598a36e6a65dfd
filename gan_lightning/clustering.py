"""Clustering for self-conditioning: k-means, stable cluster ids, and how pure the clusters are.

Plain PyTorch (and SciPy's assignment solver), no Lightning: `SelfConditionedGAN` calls these on
features of the training images (PCA of the pixels, or its discriminator's features), and the
metrics score the result against the true digits. Every function is deterministic given its
`torch.Generator`, so a resumed run re-clusters exactly as the uninterrupted one would.

The labels of a dataset never enter here except in `purity` and `nmi`, which only *measure*.
"""

from __future__ import annotations

import math

import torch
from scipy.optimize import linear_sum_assignment


def pca(x: torch.Tensor, dim: int) -> torch.Tensor:
    """`x` (N, D) projected on its first `dim` principal axes: (N, dim).

    An eigendecomposition of the (D, D) covariance, in float64: deterministic (no random sketch), and
    cheap for D = 784. Each axis's sign is fixed (largest loading positive) so the result does not
    depend on the solver's sign convention.
    """
    if not 0 < dim <= x.shape[1]:
        raise ValueError(f"pca dim must be in 1..{x.shape[1]}, got {dim}")
    x64 = x.double()
    centred = x64 - x64.mean(0)
    cov = centred.T @ centred / max(len(x) - 1, 1)  # (D, D)
    _, vecs = torch.linalg.eigh(cov)  # ascending eigenvalues
    axes = vecs[:, -dim:].flip(1)  # (D, dim), largest variance first
    signs = torch.sign(axes.gather(0, axes.abs().argmax(0, keepdim=True)))  # (1, dim)
    return (centred @ (axes * signs)).to(x.dtype)


def _sq_distances(x: torch.Tensor, centroids: torch.Tensor) -> torch.Tensor:
    """Squared Euclidean distances (N, k), computed in blocks of rows to bound the memory."""
    c_norm = (centroids * centroids).sum(1)  # (k,)
    out = []
    for block in x.split(8192):
        d = (block * block).sum(1, keepdim=True) - 2 * block @ centroids.T + c_norm  # (b, k)
        out.append(d.clamp_min_(0))
    return torch.cat(out)


def _kmeans_pp(x: torch.Tensor, k: int, generator: torch.Generator) -> torch.Tensor:
    """k-means++ seeding (Arthur & Vassilvitskii 2007): each next centre drawn with probability
    proportional to its squared distance from the nearest centre so far."""
    first = torch.randint(len(x), (1,), generator=generator, device=x.device)
    centres = [x[first]]
    nearest = _sq_distances(x, centres[0]).squeeze(1)  # (N,)
    for _ in range(1, k):
        weights = nearest if nearest.sum() > 0 else torch.ones_like(nearest)
        pick = torch.multinomial(weights, 1, generator=generator)
        centres.append(x[pick])
        nearest = torch.minimum(nearest, _sq_distances(x, centres[-1]).squeeze(1))
    return torch.cat(centres)


def kmeans(
    x: torch.Tensor,
    k: int,
    generator: torch.Generator,
    init: torch.Tensor | None = None,
    iters: int = 30,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Lloyd's k-means on `x` (N, F): returns (centroids (k, F), ids (N,) int64).

    Args:
        k: clusters, at most N.
        generator: the only source of randomness (k-means++ seeding, refilling emptied clusters).
        init: starting centroids (k, F), e.g. the means of the previous clusters in new features;
            ``None``: k-means++.
        iters: at most this many assignment/update rounds (stops early when no id changes).

    A cluster that loses all its points restarts at a random point (as the self-conditioned GAN's
    clusterer does), so every id stays in use.
    """
    if isinstance(k, bool) or not isinstance(k, int) or not 0 < k <= len(x):
        raise ValueError(f"k must be an integer in 1..{len(x)} (the number of points), got {k!r}")
    x = x.float()
    if init is not None and tuple(init.shape) != (k, x.shape[1]):
        raise ValueError(f"init must have shape {(k, x.shape[1])}, got {tuple(init.shape)}")
    centroids = _kmeans_pp(x, k, generator) if init is None else init.float().clone()
    ids = None
    for _ in range(iters):
        new_ids = _sq_distances(x, centroids).argmin(1)  # (N,)
        if ids is not None and torch.equal(new_ids, ids):
            break
        ids = new_ids
        counts = torch.bincount(ids, minlength=k)  # (k,)
        sums = torch.zeros_like(centroids).index_add_(0, ids, x)  # (k, F)
        centroids = sums / counts.clamp_min(1)[:, None]
        for empty in (counts == 0).nonzero().flatten().tolist():
            centroids[empty] = x[torch.randint(len(x), (1,), generator=generator, device=x.device)]
    ids = _sq_distances(x, centroids).argmin(1)
    return centroids, ids


def cluster_means(x: torch.Tensor, ids: torch.Tensor, k: int) -> torch.Tensor:
    """The mean of `x` (N, F) over each cluster (k, F); an empty cluster gets the overall mean."""
    x = x.float()
    counts = torch.bincount(ids, minlength=k)
    means = torch.zeros(k, x.shape[1], device=x.device).index_add_(0, ids, x) / counts.clamp_min(1)[:, None]
    means[counts == 0] = x.mean(0)
    return means


def contingency(a: torch.Tensor, b: torch.Tensor, ka: int, kb: int) -> torch.Tensor:
    """Counts (ka, kb): how many points have id i in `a` and id j in `b`."""
    return torch.bincount(a.long() * kb + b.long(), minlength=ka * kb).reshape(ka, kb)


def match_ids(old: torch.Tensor, new: torch.Tensor, k: int) -> torch.Tensor:
    """A relabelling of `new` that agrees with `old` on as many points as possible (Hungarian method):
    returns `perm` (k,) such that ``perm[new]`` keeps ids stable across a re-clustering.

    Matching assignments rather than centroids works across feature spaces (pixels, then the
    discriminator's features), where centroids cannot be compared.
    """
    overlap = contingency(new, old, k, k).cpu().numpy()  # (new id, old id)
    rows, cols = linear_sum_assignment(overlap, maximize=True)
    perm = torch.empty(k, dtype=torch.long)
    perm[torch.as_tensor(rows)] = torch.as_tensor(cols)
    return perm.to(new.device)


def purity(ids: torch.Tensor, labels: torch.Tensor) -> float:
    """Share of points whose label is the most common label of their cluster (1: every cluster is one
    digit; about the largest class share when the ids say nothing)."""
    table = contingency(ids, labels, int(ids.max()) + 1, int(labels.max()) + 1)
    return float(table.max(1).values.sum()) / len(ids)


def nmi(ids: torch.Tensor, labels: torch.Tensor) -> float:
    """Normalized mutual information between cluster ids and labels, I(C; Y) / sqrt(H(C) H(Y)), in [0, 1]
    (1: the clusters are the classes, up to renaming; 0: independent)."""
    joint = contingency(ids, labels, int(ids.max()) + 1, int(labels.max()) + 1).double() / len(ids)
    pc, py = joint.sum(1), joint.sum(0)
    nz = joint > 0
    mi = (joint[nz] * (joint[nz] / (pc[:, None] * py[None, :])[nz]).log()).sum()
    h = [-(p[p > 0] * p[p > 0].log()).sum() for p in (pc, py)]
    denom = math.sqrt(float(h[0] * h[1]))
    return float(mi) / denom if denom > 0 else 0.0
