"""The quality techniques: each a switch, each doing what it says."""

import pytest
import torch

from gan_lightning import GAN, ConditionalGAN
from gan_lightning.losses import LOSSES, gradient_penalty
from gan_lightning.modules.ema import ExponentialMovingAverage
from gan_lightning.nets import DCGANDiscriminator, MinibatchStd, ProjectionHead, spectral_normalize

TINY = dict(ngf=8, ndf=8, latent_dim=16)
real = torch.tensor([2.0, -1.0])
fake = torch.tensor([0.5, -3.0])


def test_hinge_matches_hand_computation():
    # relu(1 - 2) = 0, relu(1 + 1) = 2; relu(1 + 0.5) = 1.5, relu(1 - 3) = 0
    assert LOSSES["hinge"].d_loss(real, fake).item() == pytest.approx((0 + 2) / 2 + (1.5 + 0) / 2)
    assert LOSSES["hinge"].g_loss(fake).item() == pytest.approx(-(0.5 - 3.0) / 2)


def test_wasserstein_matches_hand_computation():
    assert LOSSES["wasserstein"].d_loss(real, fake).item() == pytest.approx((0.5 - 3.0) / 2 - (2.0 - 1.0) / 2)
    assert LOSSES["wasserstein"].g_loss(fake).item() == pytest.approx(1.25)


def test_gradient_penalty_of_a_linear_critic():
    # D(x) = <w, x> has gradient w everywhere: the penalty is (||w|| - 1)^2 whatever the points.
    w = torch.tensor([3.0, 4.0, 0.0, 0.0]).view(1, 1, 2, 2)  # ||w|| = 5
    critic = lambda x: (x * w).flatten(1).sum(1)  # noqa: E731
    x_real, x_fake = torch.randn(6, 1, 2, 2), torch.randn(6, 1, 2, 2)
    assert gradient_penalty(critic, x_real, x_fake).item() == pytest.approx(16.0)


def test_gradient_penalty_reaches_the_critic_weights():
    d = DCGANDiscriminator(ndf=8, norm="layernorm")
    penalty = gradient_penalty(d, torch.randn(4, 1, 28, 28), torch.randn(4, 1, 28, 28))
    penalty.backward()
    assert d.head.weight.grad is not None and d.head.weight.grad.abs().sum() > 0


def test_spectral_norm_bounds_every_weight():
    d = spectral_normalize(DCGANDiscriminator(ndf=8, norm="none"))
    for _ in range(20):  # power iterations run in training forwards
        d(torch.randn(4, 1, 28, 28))
    for name, module in d.named_modules():
        if hasattr(module, "parametrizations"):
            sigma = torch.linalg.matrix_norm(module.weight.detach().flatten(1), ord=2)
            assert sigma.item() == pytest.approx(1.0, abs=0.05), name


def test_minibatch_std_sees_the_batch_spread():
    layer = MinibatchStd(group_size=4)
    same = layer(torch.ones(8, 3, 2, 2))
    varied = layer(torch.randn(8, 3, 2, 2))
    assert same.shape == (8, 4, 2, 2)
    assert same[:, 3].abs().max() < 1e-3 and varied[:, 3].min() > 0.3
    assert torch.equal(same[:, :3], torch.ones(8, 3, 2, 2))  # the input passes through


def test_minibatch_std_rejects_tiny_groups():
    with pytest.raises(ValueError, match="group_size must be >= 2, got 1"):
        MinibatchStd(group_size=1)


def test_projection_head_is_an_inner_product():
    head = ProjectionHead(num_classes=3, feature_dim=2)
    with torch.no_grad():
        head.embed.weight.copy_(torch.tensor([[1.0, 0.0], [0.0, 2.0], [1.0, 1.0]]))
    feats = torch.tensor([[3.0, 4.0], [3.0, 4.0]])
    assert head(feats, torch.tensor([1, 2])).tolist() == [8.0, 7.0]


def test_projection_discriminator_uses_the_label():
    model = ConditionalGAN(conditioning="projection", **TINY)
    x = torch.randn(4, 1, 28, 28)
    assert model.discriminator.body[0].in_channels == 1  # no label channels on the input side
    a = model.discriminate(x, torch.tensor([0, 0, 0, 0]))
    b = model.discriminate(x, torch.tensor([5, 5, 5, 5]))
    assert not torch.allclose(a, b)
    d_params = {id(p) for p in model.d_parameters()}
    assert all(id(p) in d_params for p in model.d_proj.parameters())


def test_ema_warms_up_then_averages():
    net = torch.nn.Linear(1, 1, bias=False)
    ema = ExponentialMovingAverage(net, decay=0.9)
    assert not any(p.requires_grad for p in ema.parameters())
    with torch.no_grad():
        net.weight.fill_(1.0)
    ema.update(net)  # the first update copies
    assert ema.module.weight.item() == 1.0
    with torch.no_grad():
        net.weight.fill_(0.0)
    ema.update(net)  # n = 1: decay min(0.9, 2 / 11)
    assert ema.module.weight.item() == pytest.approx(2 / 11)


@pytest.mark.parametrize("decay", [0.0, 1.0, 1.5, True])
def test_ema_decay_must_be_in_the_open_unit_interval(decay):
    with pytest.raises(ValueError, match=r"ema_decay must be a number in \(0, 1\)"):
        GAN(ema_decay=decay, **TINY)


def test_gradient_penalty_refuses_batchnorm():
    with pytest.raises(ValueError, match="gp_weight: .*set d_norm to 'layernorm' or 'none', got d_norm='batchnorm'"):
        GAN(gp_weight=10.0, **TINY)


def test_gradient_penalty_refuses_an_mlp_discriminator_with_batchnorm():
    # BatchNorm1d mixes the batch into each sample's gradient, as BatchNorm2d does: refused like R1.
    with pytest.raises(ValueError, match=r"^gp_weight: .*BatchNorm.* set d_norm to 'layernorm' or 'none', got d_norm="):
        GAN(arch="mlp", d_norm="batchnorm", gp_weight=10.0, loss="wasserstein", **TINY)
    GAN(arch="mlp", d_norm="layernorm", gp_weight=10.0, loss="wasserstein", **TINY)  # the fix it names


def test_gp_weight_must_not_be_negative():
    with pytest.raises(ValueError, match="gp_weight must be a number >= 0, got -1.0"):
        GAN(gp_weight=-1.0, **TINY)


def test_lr_decay_choices():
    with pytest.raises(ValueError, match=r"lr_decay must be one of \('none', 'linear', 'cosine'\), got 'step'"):
        GAN(lr_decay="step", **TINY)
