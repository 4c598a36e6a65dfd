"""SelfConditionedGAN without training: its checks, and how a noise vector picks its cluster."""

import pytest
import torch

from gan_lightning import GAN, SelfConditionedGAN
from gan_lightning.noise import noise_angle

TINY = dict(ngf=8, ndf=8, latent_dim=16, metrics=False)


def model_with_shares(shares: list[float]) -> SelfConditionedGAN:
    model = SelfConditionedGAN(clusters=len(shares), **TINY)
    model.cluster_cdf = torch.tensor(shares).cumsum(0)
    return model


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (dict(clusters=1), "clusters must be at least 2, got 1"),
        (dict(clusters=0), "clusters must be a positive integer"),
        (dict(cluster_features="labels"), "cluster_features must be one of"),
        (dict(cluster_features="discriminator"), "recluster_every sets how often"),
        (dict(recluster_every=100), "recluster_every sets how often"),
        (dict(noise="uniform"), "noise must be 'normal' for a SelfConditionedGAN"),
        (dict(latent_dim=1), "latent_dim must be at least 2"),
        (dict(pca_dim=0), "pca_dim must be a positive integer"),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_bad_settings_fail_in_one_line_naming_them(kwargs, message):
    with pytest.raises(ValueError, match=message) as err:
        SelfConditionedGAN(**{**TINY, **kwargs})
    assert "\n" not in str(err.value)


def test_outwardly_unconditional_inwardly_one_label_per_cluster():
    model = SelfConditionedGAN(clusters=12, **TINY)
    assert not model.conditional and model.clustered and model.label_count == 12
    assert model.d_proj.embed.num_embeddings == 12 and model.g_label.dim == 12
    assert model.hparams.num_classes == 10  # the data's digits: what the metrics measure against


def test_noise_picks_clusters_in_their_shares_whatever_its_scale():
    shares = [0.5, 0.1, 0.3, 0.1]
    model = model_with_shares(shares)
    z = model.sample_z(40_000, torch.Generator().manual_seed(0))
    ids = model.clusters_of(z)
    freq = torch.bincount(ids, minlength=4).float() / len(ids)
    assert torch.allclose(freq, torch.tensor(shares), atol=0.01)
    assert torch.equal(model.clusters_of(0.7 * z), ids)  # truncation scales the noise: same clusters


def test_noise_in_clusters_lands_in_the_asked_cluster_with_normal_radius():
    model = model_with_shares([0.05, 0.45, 0.2, 0.3])
    ids = torch.tensor([0, 1, 2, 3]).repeat(2000)
    z = model.noise_in_clusters(ids, torch.Generator().manual_seed(1))
    assert torch.equal(model.clusters_of(z), ids)
    # The radius of (z_0, z_1) keeps its law: E[r^2] = 2 for standard normal noise.
    assert (z[:, :2] ** 2).sum(1).mean().item() == pytest.approx(2.0, rel=0.05)
    assert z[:, 2:].std().item() == pytest.approx(1.0, rel=0.05)


def test_noise_in_clusters_refuses_unknown_or_empty_clusters():
    model = model_with_shares([0.5, 0.0, 0.5])
    with pytest.raises(ValueError, match=r"cluster must be in 0..2, got \[3\]"):
        model.noise_in_clusters(torch.tensor([0, 3]))
    with pytest.raises(ValueError, match=r"clusters \[1\] hold no training images"):
        model.noise_in_clusters(torch.tensor([1]))


def test_sampling_draws_each_noise_through_its_own_cluster():
    model = model_with_shares([0.25, 0.25, 0.25, 0.25])
    z = model.sample_z(8, torch.Generator().manual_seed(2))
    assert torch.equal(model.decode(z), model.decode(z, model.clusters_of(z)))
    images = model.sample(6, labels=torch.tensor([0, 0, 1, 1, 3, 3]), generator=torch.Generator().manual_seed(3))
    assert images.shape == (6, 1, 28, 28)
    with pytest.raises(ValueError, match=r"labels: need one cluster per sample \(5\), got 6"):
        model.sample(5, labels=torch.arange(6) % 4)


def test_angle_is_a_share_of_a_turn():
    z = torch.tensor([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0], [0.0, -1.0]])
    assert noise_angle(z).tolist() == pytest.approx([0.0, 0.25, 0.5, 0.75])


def test_a_plain_gan_takes_its_labels_from_the_batch():
    model = GAN(**TINY)
    images, labels = torch.zeros(2, 1, 28, 28), torch.tensor([3, 4])
    assert model.read_batch((images, labels))[1] is labels
    assert model.fake_labels(torch.zeros(2, 16)) is None
