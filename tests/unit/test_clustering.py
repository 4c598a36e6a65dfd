"""k-means, id matching, PCA and the purity measures: known answers on small made-up data."""

import math

import pytest
import torch

from gan_lightning.clustering import cluster_means, kmeans, match_ids, nmi, pca, purity


def blobs(k: int = 4, per: int = 50, dim: int = 5, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """`k` tight, far-apart blobs: (k * per, dim) points and their blob ids."""
    g = torch.Generator().manual_seed(seed)
    centres = torch.randn(k, dim, generator=g) * 20
    ids = torch.arange(k).repeat_interleave(per)
    return centres[ids] + 0.1 * torch.randn(len(ids), dim, generator=g), ids


def test_kmeans_finds_separated_blobs():
    x, truth = blobs()
    _, ids = kmeans(x, 4, torch.Generator().manual_seed(1))
    assert purity(ids, truth) == 1.0 and nmi(ids, truth) == pytest.approx(1.0)


def test_kmeans_is_deterministic_given_its_generator():
    x, _ = blobs(k=6, per=30)
    a = kmeans(x, 5, torch.Generator().manual_seed(3))
    b = kmeans(x, 5, torch.Generator().manual_seed(3))
    assert torch.equal(a[1], b[1]) and torch.equal(a[0], b[0])


def test_kmeans_from_given_centroids_keeps_their_order():
    x, truth = blobs()
    _, ids = kmeans(x, 4, torch.Generator().manual_seed(0), init=cluster_means(x, truth, 4))
    assert torch.equal(ids, truth)


def test_kmeans_refills_an_empty_cluster():
    x, _ = blobs(k=2, per=20)
    far = torch.full((1, x.shape[1]), 1e4)  # no point is nearest to it: emptied in the first round
    init = torch.cat([x[:1], x[-1:], far])
    _, ids = kmeans(x, 3, torch.Generator().manual_seed(0), init=init)
    assert len(ids.unique()) == 3


@pytest.mark.parametrize("k", [0, 201, 2.5, True])
def test_kmeans_refuses_a_bad_k(k):
    x, _ = blobs()
    with pytest.raises(ValueError, match=r"^k must be an integer in 1\.\.200"):
        kmeans(x, k, torch.Generator())


def test_match_ids_undoes_a_renaming():
    old = torch.tensor([0, 0, 1, 1, 2, 2, 2])
    renamed = torch.tensor([2, 0, 1])[old]  # the same clusters under other names
    renamed[0] = 1  # and one point moved
    perm = match_ids(old, renamed, 3)
    assert torch.equal(perm[torch.tensor([2, 0, 1])], torch.arange(3))
    assert (perm[renamed] == old).sum() == len(old) - 1


def test_purity_and_nmi_known_values():
    labels = torch.tensor([0, 0, 1, 1])
    assert purity(torch.tensor([0, 0, 1, 1]), labels) == 1.0
    assert purity(torch.tensor([0, 1, 0, 1]), labels) == 0.5
    assert nmi(torch.tensor([0, 1, 0, 1]), labels) == pytest.approx(0.0, abs=1e-12)
    # one cluster per point: pure, but NMI = H(Y) / sqrt(H(C) H(Y)) = sqrt(log 2 / log 4)
    assert purity(torch.arange(4), labels) == 1.0
    assert nmi(torch.arange(4), labels) == pytest.approx(math.sqrt(math.log(2) / math.log(4)))


def test_pca_keeps_the_main_axis_with_a_fixed_sign():
    g = torch.Generator().manual_seed(0)
    t = torch.randn(500, generator=g)
    x = torch.stack([3 * t, t, 0.01 * torch.randn(500, generator=g)], 1)  # variance along (3, 1, 0)
    y = pca(x, 1)
    assert y.shape == (500, 1)
    assert torch.corrcoef(torch.stack([y[:, 0], t]))[0, 1] > 0.999  # positive: the largest loading is +
    assert torch.allclose(pca(-x, 1), -y, atol=1e-4)  # the sign follows the data, not the solver
    with pytest.raises(ValueError, match="pca dim must be in 1..3, got 4"):
        pca(x, 4)
