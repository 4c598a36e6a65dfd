"""Precision/recall and density/coverage of samples against real data, from k-nearest-neighbour balls.

Both pairs split "how good" from "how varied", which FID mixes into one number:

- precision (Kynkaanniemi et al. 2019): share of samples inside the real manifold, the union of
  balls around every real feature reaching its k-th nearest real neighbour; recall: share of real
  features inside the samples' manifold built the same way. k = 3 as in the paper.
- density (Naeem et al. 2020): how many real balls contain each sample, averaged and divided by k
  (about 1 for samples distributed like the real data, above 1 where they crowd the dense regions);
  coverage: share of real balls holding at least one sample (robust to outliers among the real
  features, unlike recall). k = 5 as in the paper.

Pure functions of feature matrices (N, d) and (M, d); the project passes the MNIST classifier's
128-d features. Distances are computed in float64 in row blocks (memory O(block * N)), so 10,000
against 10,000 takes seconds on a CPU.
"""

from __future__ import annotations

import torch

PR_K = 3  # Kynkaanniemi et al.
DC_K = 5  # Naeem et al.
BLOCK = 1024
# A point on a ball's surface is inside it; the two sides of that comparison are computed in
# different blocks and can differ in the last bits.
TIE_TOLERANCE = 1e-9


def _check(name: str, x: torch.Tensor, k: int) -> None:
    if x.dim() != 2:
        raise ValueError(f"{name} must be a (N, d) feature matrix, got shape {tuple(x.shape)}")
    if len(x) <= k:
        raise ValueError(f"{name} needs more than k={k} rows for k-nearest-neighbour radii, got {len(x)}")


def _sq_dists(a: torch.Tensor, b: torch.Tensor, b_sq: torch.Tensor) -> torch.Tensor:
    """Squared Euclidean distances (n, m) between rows of a (n, d) and b (m, d), float64."""
    return (a.square().sum(1)[:, None] + b_sq[None, :] - 2 * a @ b.t()).clamp_min_(0)


def knn_sq_radii(x: torch.Tensor, ks: tuple[int, ...], block: int = BLOCK) -> dict[int, torch.Tensor]:
    """For each k in `ks`: the squared distance (N,) of every row of x (N, d) to its k-th nearest other row."""
    x = x.double()
    x_sq = x.square().sum(1)
    kmax = max(ks)
    out = {k: torch.empty(len(x), dtype=torch.float64, device=x.device) for k in ks}
    for start in range(0, len(x), block):
        d = _sq_dists(x[start : start + block], x, x_sq)  # (b, N)
        nearest = d.topk(kmax + 1, dim=1, largest=False).values  # (b, kmax+1); column 0: the row itself
        for k in ks:
            out[k][start : start + block] = nearest[:, k]
    return out


def _cross(fake: torch.Tensor, real: torch.Tensor, real_radii: dict, fake_radii: dict, block: int = BLOCK):
    """One pass over the fake-real distances. For each k of `real_radii`: how many real balls hold each
    fake row (M,) and which real balls hold any (N,); for each k of `fake_radii`: which real rows
    lie in some fake ball (N,)."""
    fake, real = fake.double(), real.double()
    r_sq = real.square().sum(1)
    real_limits = {k: r * (1 + TIE_TOLERANCE) for k, r in real_radii.items()}
    fake_limits = {k: r * (1 + TIE_TOLERANCE) for k, r in fake_radii.items()}
    counts = {k: torch.zeros(len(fake), dtype=torch.long, device=fake.device) for k in real_radii}
    covered = {k: torch.zeros(len(real), dtype=torch.bool, device=fake.device) for k in real_radii}
    recalled = {k: torch.zeros(len(real), dtype=torch.bool, device=fake.device) for k in fake_radii}
    for start in range(0, len(fake), block):
        d = _sq_dists(fake[start : start + block], real, r_sq)  # (b, N)
        for k, limit in real_limits.items():
            inside = d <= limit[None, :]  # (b, N): fake row in the ball of real column
            counts[k][start : start + block] = inside.sum(1)
            covered[k] |= inside.any(0)
        for k, limit in fake_limits.items():
            recalled[k] |= (d <= limit[start : start + block, None]).any(0)  # real column in the fake row's ball
    return counts, covered, recalled


def precision_recall(real: torch.Tensor, fake: torch.Tensor, k: int = PR_K) -> dict[str, float]:
    """Improved precision and recall (Kynkaanniemi et al. 2019) of features fake (M, d) against real (N, d).

    Raises:
        ValueError: a matrix that is not 2-d, has k or fewer rows, or a width different from the other's.
    """
    return prd_metrics(real, fake, pr_k=k, dc_k=None)


def density_coverage(real: torch.Tensor, fake: torch.Tensor, k: int = DC_K) -> dict[str, float]:
    """Density and coverage (Naeem et al. 2020) of features fake (M, d) against real (N, d).

    Raises:
        ValueError: as `precision_recall`.
    """
    return prd_metrics(real, fake, pr_k=None, dc_k=k)


def prd_metrics(
    real: torch.Tensor, fake: torch.Tensor, pr_k: int | None = PR_K, dc_k: int | None = DC_K
) -> dict[str, float]:
    """precision, recall (k=`pr_k`), density, coverage (k=`dc_k`) in one pass over the distances;
    a pair whose k is None is left out.

    Raises:
        ValueError: as `precision_recall`.
    """
    ks = tuple(k for k in (pr_k, dc_k) if k is not None)
    for k in ks:
        if isinstance(k, bool) or not isinstance(k, int) or k <= 0:
            raise ValueError(f"k must be a positive integer, got {k!r}")
        _check("real", real, k)
    if pr_k is not None:
        _check("fake", fake, pr_k)
    if fake.dim() != 2 or fake.shape[1] != real.shape[1]:
        raise ValueError(f"fake must be a (M, {real.shape[1]}) feature matrix like real, got {tuple(fake.shape)}")
    out: dict[str, float] = {}
    real_radii = knn_sq_radii(real, ks)
    fake_radii = knn_sq_radii(fake, (pr_k,)) if pr_k is not None else {}
    counts, covered, recalled = _cross(fake, real, real_radii, fake_radii)
    if pr_k is not None:
        out["precision"] = (counts[pr_k] > 0).double().mean().item()
        out["recall"] = recalled[pr_k].double().mean().item()
    if dc_k is not None:
        out["density"] = counts[dc_k].sum().item() / (dc_k * len(fake))
        out["coverage"] = covered[dc_k].double().mean().item()
    return out
