"""Precision/recall and density/coverage on synthetic features whose answers are known."""

import pytest
import torch

from gan_lightning.metrics.gan_metrics import GANMetrics
from gan_lightning.metrics.prd import _cross, density_coverage, knn_sq_radii, prd_metrics, precision_recall


def _blobs(n: int, centres: list[float], seed: int, dim: int = 2) -> torch.Tensor:
    """n points around each centre (c, 0, ..., 0), spread 0.1: clusters 10 apart never touch. In 2-d a
    few hundred points fill their k-NN balls well: the same distribution scores close to 1."""
    g = torch.Generator().manual_seed(seed)
    parts = [torch.randn(n, dim, generator=g) * 0.1 + torch.tensor([c] + [0.0] * (dim - 1)) for c in centres]
    return torch.cat(parts)


def test_identical_sets_score_one():
    x = torch.randn(300, 16, generator=torch.Generator().manual_seed(0))
    out = prd_metrics(x, x.clone())
    assert out["precision"] == 1.0 and out["recall"] == 1.0 and out["coverage"] == 1.0
    # Each sample lies in its own ball and in the balls of the 5 points it is a nearest neighbour
    # of ... summed over all samples that is every ball's k neighbours plus itself: (k + 1) / k.
    assert out["density"] == pytest.approx(6 / 5)


def test_disjoint_sets_score_zero():
    real = _blobs(100, [0.0], seed=0)
    out = prd_metrics(real, real + 100)
    assert out == {"precision": 0.0, "recall": 0.0, "density": 0.0, "coverage": 0.0}


def test_the_same_distribution_scores_near_one():
    out = prd_metrics(_blobs(300, [0.0], seed=0), _blobs(300, [0.0], seed=5))
    assert all(0.9 < out[k] < 1.1 for k in ("precision", "recall", "density", "coverage")), out


def test_samples_of_half_the_modes_are_precise_but_recall_half():
    real = _blobs(200, [0.0, 10.0], seed=0)
    fake = _blobs(200, [0.0], seed=1)  # the same distribution, one of the two modes only
    out = prd_metrics(real, fake)
    assert out["precision"] > 0.9 and 0.45 < out["recall"] <= 0.5
    assert 0.45 < out["coverage"] <= 0.5
    assert 0.9 < out["density"] < 1.1  # where the samples are, they are as dense as the real data


def test_collapsed_samples_are_precise_but_neither_recall_nor_cover():
    real = _blobs(300, [0.0], seed=0)
    fake = 1e-3 * torch.randn(300, 2, generator=torch.Generator().manual_seed(2))  # all at the mode's centre
    out = prd_metrics(real, fake)
    assert out["precision"] == 1.0 and out["recall"] == 0.0 and out["coverage"] < 0.05


def test_noisy_samples_lose_precision_not_recall():
    real = _blobs(300, [0.0], seed=0)
    fake = torch.cat([_blobs(150, [0.0], seed=3), _blobs(150, [50.0], seed=4)])  # half are junk far away
    out = precision_recall(real, fake)
    assert 0.45 < out["precision"] <= 0.5 and out["recall"] > 0.9
    assert density_coverage(real, fake)["coverage"] > 0.8  # the good half still covers the real data


def test_knn_radius_excludes_the_point_itself():
    x = torch.tensor([[0.0], [1.0], [3.0], [7.0]])
    radii = knn_sq_radii(x, (1, 2))
    assert radii[1].tolist() == [1.0, 1.0, 4.0, 16.0]
    assert radii[2].tolist() == [9.0, 4.0, 9.0, 36.0]


def test_blocks_do_not_change_the_answer():
    real, fake = _blobs(150, [0.0, 1.0], seed=0), _blobs(150, [0.5], seed=1)
    radii, small = knn_sq_radii(real, (3, 5)), knn_sq_radii(real, (3, 5), block=7)
    assert all(torch.equal(radii[k], small[k]) for k in (3, 5))
    fake_radii = knn_sq_radii(fake, (3,))
    whole, blocked = _cross(fake, real, radii, fake_radii), _cross(fake, real, radii, fake_radii, block=7)
    for a, b in zip(whole, blocked, strict=True):
        assert all(torch.equal(a[k], b[k]) for k in a)


@pytest.mark.parametrize(
    "real, fake, kwargs, message",
    [
        (torch.zeros(10), torch.zeros(10, 2), {}, r"real must be a \(N, d\) feature matrix, got shape \(10,\)"),
        (
            torch.zeros(3, 2),
            torch.zeros(10, 2),
            {},
            "real needs more than k=3 rows for k-nearest-neighbour radii, got 3",
        ),
        (
            torch.zeros(10, 2),
            torch.zeros(10, 3),
            {},
            r"fake must be a \(M, 2\) feature matrix like real, got \(10, 3\)",
        ),
        (torch.zeros(10, 2), torch.zeros(10, 2), {"pr_k": 0}, "k must be a positive integer, got 0"),
    ],
    ids=["1d", "too_few", "widths", "bad_k"],
)
def test_bad_input(real, fake, kwargs, message):
    with pytest.raises(ValueError, match=message):
        prd_metrics(real, fake, **kwargs)


def test_gan_metrics_reports_them_when_asked():
    from gan_lightning.data import SAMPLE_DIR, load_split, to_unit_range

    x, y = load_split(SAMPLE_DIR, "test")
    x = to_unit_range(x[:400])
    y = y[:400]
    m = GANMetrics(True, kid_subsets=5, prd=True)
    m.update_real(x[:200], y[:200])
    m.update_fake(x[200:], y[200:])
    out = m.compute()
    assert 0.7 < out["precision"] <= 1 and 0.7 < out["recall"] <= 1 and out["coverage"] > 0.7
    m.reset_fake()
    noise = torch.rand(200, 1, 28, 28, generator=torch.Generator().manual_seed(0)) * 2 - 1  # nowhere near a digit
    m.update_fake(noise, y[200:])
    junk = m.compute()
    assert junk["precision"] == 0.0 and junk["recall"] == 0.0 and junk["coverage"] == 0.0
    plain = GANMetrics(True, kid_subsets=5)
    plain.update_real(x[:200], y[:200])
    plain.update_fake(x[200:], y[200:])
    assert "precision" not in plain.compute()  # off by default: no feature is kept
