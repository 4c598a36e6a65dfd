"""InfoGAN's code and PacGAN's packing without training: their checks, the code's law, the packed shapes."""

import pytest
import torch

from gan_lightning import GAN, ConditionalGAN, SelfConditionedGAN
from gan_lightning.modules.infocode import InfoCode
from gan_lightning.nets import ProjectionHead
from gan_lightning.nets.layers import pack_images

TINY = dict(ngf=8, ndf=8, latent_dim=16, metrics=False)


@pytest.mark.parametrize(
    ("model_class", "kwargs", "message"),
    [
        (GAN, dict(info_codes=1), "info_codes must be at least 2"),
        (GAN, dict(info_codes=0), "info_codes must be a positive integer"),
        (GAN, dict(info_weight=0.5), "info_weight tunes info_codes, which is off"),
        (GAN, dict(info_codes=4, info_weight=0), "info_weight must be"),
        (GAN, dict(pack=0), "pack must be a positive integer"),
        (GAN, dict(pack=2, info_codes=4), "pack: the info_codes head reads one sample's features"),
        (ConditionalGAN, dict(info_codes=4), "info_codes gives an unconditional GAN a code to find"),
        (SelfConditionedGAN, dict(info_codes=4), "info_codes gives an unconditional GAN a code to find"),
        (ConditionalGAN, dict(pack=2), "pack: a packed discriminator reads its labels in the projection head"),
        (
            ConditionalGAN,
            dict(pack=2, conditioning="projection", class_weight=0.5),
            "pack: class_weight classifies single images",
        ),
        (
            SelfConditionedGAN,
            dict(pack=2, cluster_features="discriminator", recluster_every=5),
            "pack: cluster_features='discriminator' clusters D's features of single images",
        ),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_bad_settings_fail_in_one_line_naming_them(model_class, kwargs, message):
    with pytest.raises(ValueError, match=message) as err:
        model_class(**{**TINY, **kwargs})
    assert "\n" not in str(err.value)


def test_the_code_is_uniform_and_read_off_the_last_two_coordinates_alone():
    code = InfoCode(codes=5, feature_dim=4)
    z = torch.randn(50_000, 16, generator=torch.Generator().manual_seed(0))
    ids = code.of(z)
    assert torch.allclose(torch.bincount(ids, minlength=5).float() / len(ids), torch.full((5,), 0.2), atol=0.01)
    other = z.clone()
    other[:, :-2] = torch.randn(50_000, 14)
    assert torch.equal(code.of(other), ids)  # the rest of the noise is free
    assert torch.equal(code.of(0.6 * z), ids)  # truncation keeps the code


def test_generator_reads_the_code_and_sampling_needs_only_noise():
    model = GAN(info_codes=4, **TINY).eval()
    assert model.generator.cond_dim == 4 and model.info_code in model.d_modules()
    z = model.sample_z(8, torch.Generator().manual_seed(1))
    own = model.info_code.of(z)
    assert torch.equal(model.decode(z), model.decode(z, own))  # the code the noise carries
    assert not torch.allclose(model.decode(z), model.decode(z, (own + 1) % 4))  # another code, other images


def test_the_code_head_is_trained_by_d_and_its_term_reaches_g():
    model = GAN(info_codes=4, spectral_norm=True, d_norm="none", **TINY)
    d_params = {id(p) for p in model.d_parameters()}
    assert all(id(p) in d_params for p in model.info_code.parameters())
    # Q is built after spectral normalization: its logits are not bounded.
    assert not any(hasattr(m, "parametrizations") for m in model.info_code.modules())
    z = model.sample_z(16)
    codes = model.fake_labels(z)
    fake = model.generate(z, codes)
    logits, term = model.score(fake, codes, real=False)
    assert logits.shape == (16,) and term.ndim == 0 and term.item() > 0
    term.backward()
    assert model.generator.net[0].weight.grad.abs().sum() > 0  # the code term trains G
    assert set(model.info_code.window_means()) == {"train/info_ce", "train/info_acc"}
    assert model.info_code.window_means() == {}  # a window is read once


def test_pack_images_stacks_neighbours_along_channels():
    x = torch.arange(6 * 1 * 2 * 2, dtype=torch.float32).view(6, 1, 2, 2)
    packed = pack_images(x, 3)
    assert packed.shape == (2, 3, 2, 2)
    assert torch.equal(packed[1, 2], x[5, 0])
    with pytest.raises(ValueError, match=r"pack: the batch \(6 images\) must be a multiple of pack, got pack=4"):
        pack_images(x, 4)


@pytest.mark.parametrize("arch", ["dcgan", "mlp"])
def test_a_packed_discriminator_scores_one_logit_per_pack(arch):
    model = GAN(arch=arch, pack=4, **TINY)
    assert model.discriminate(torch.randn(8, 1, 28, 28)).shape == (2,)


def test_a_packed_projection_sums_its_members_label_terms():
    head = ProjectionHead(5, 3)
    features, labels = torch.randn(2, 3), torch.tensor([0, 4, 1, 1])
    expected = torch.stack([(head.embed.weight[labels[2 * i : 2 * i + 2]].sum(0) * features[i]).sum() for i in (0, 1)])
    assert torch.allclose(head(features, labels, pack=2), expected)
    model = SelfConditionedGAN(clusters=5, pack=2, **TINY)
    assert model.discriminate(torch.randn(8, 1, 28, 28), torch.randint(0, 5, (8,))).shape == (4,)
