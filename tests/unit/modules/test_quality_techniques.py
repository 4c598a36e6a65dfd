"""R1, LeCam, top-k, augmentation in the training step, and conditional BatchNorm: each a switch that works."""

import pytest
import torch
import torch.nn.functional as F

from gan_lightning import GAN, ConditionalGAN
from gan_lightning.losses import LeCamAnchors, lecam_penalty, r1_penalty, topk_count
from gan_lightning.nets import DCGANGenerator
from gan_lightning.nets.conditioning import ConditionalBatchNorm2d, ProjectionHead

TINY = dict(ngf=8, ndf=8, latent_dim=16)
SN_D = dict(d_norm="none", spectral_norm=True, loss="hinge")


def test_r1_of_a_linear_critic_is_its_squared_weight_norm():
    w = torch.tensor([3.0, 4.0, 0.0, 0.0]).view(1, 1, 2, 2)
    x = torch.randn(6, 1, 2, 2, requires_grad=True)
    assert r1_penalty((x * w).flatten(1).sum(1), x).item() == pytest.approx(25.0)


def test_r1_is_zero_where_the_critic_is_flat_and_trains_the_critic():
    x = torch.randn(4, 3, requires_grad=True)
    layer = torch.nn.Linear(3, 1)
    penalty = r1_penalty(layer(x).squeeze(1) * 0 + layer.bias, x)
    assert penalty.item() == 0.0
    r1_penalty(layer(x).squeeze(1), x).backward()
    assert layer.weight.grad.abs().sum() > 0  # create_graph: the penalty's gradient reaches the weights


def test_lecam_penalty_by_hand():
    real, fake = torch.tensor([1.0, 3.0]), torch.tensor([-1.0, 0.0])
    # (1 - -0.5)^2, (3 - -0.5)^2 -> mean 7.25; (-1 - 2)^2, (0 - 2)^2 -> mean 6.5
    assert lecam_penalty(real, fake, torch.tensor(2.0), torch.tensor(-0.5)).item() == pytest.approx(13.75)


def test_lecam_anchors_are_moving_averages_of_the_mean_logits():
    anchors = LeCamAnchors(decay=0.9)
    anchors.update(torch.tensor([1.0, 3.0]), torch.tensor([-4.0, 0.0]))
    assert anchors.real.item() == pytest.approx(0.2) and anchors.fake.item() == pytest.approx(-0.2)
    anchors.update(torch.tensor([2.0]), torch.tensor([-2.0]))
    assert anchors.real.item() == pytest.approx(0.9 * 0.2 + 0.1 * 2.0)


@pytest.mark.parametrize(
    "epoch, decay, floor, k", [(0, 0.99, 0.5, 64), (1, 0.5, 0.25, 32), (2, 0.5, 0.1, 16), (10, 0.5, 0.25, 16)]
)
def test_topk_count_decays_per_epoch_to_its_floor(epoch, decay, floor, k):
    assert topk_count(64, epoch, decay, floor) == k


def test_generator_learns_from_the_fakes_d_scores_highest():
    model = GAN(topk_decay=0.5, topk_min=0.25, **TINY)
    scores = torch.tensor([0.1, 5.0, -2.0, 3.0])
    assert model.techniques.top_k(scores, epoch=0) is scores  # epoch 0: all of them
    assert model.techniques.top_k(scores, epoch=1).tolist() == [5.0, 3.0]  # epoch 1: the better half
    assert model.techniques.top_k(scores, epoch=5).tolist() == [5.0]  # the floor: a quarter
    assert GAN(**TINY).techniques.top_k(scores, epoch=5) is scores  # off: untouched


def test_d_sees_augmented_images_only_when_asked():
    x = torch.zeros(4, 1, 28, 28)
    assert GAN(**TINY).techniques.d_inputs(x) is x
    torch.manual_seed(0)
    assert (GAN(augment="cutout", **TINY).techniques.d_inputs(x) == -1).any()


def test_r1_is_lazy_and_weighted_by_its_interval():
    model = GAN(r1_gamma=2.0, r1_every=4, **TINY, **SN_D)
    due = []
    for _ in range(8):
        due.append(model.techniques.r1_due())
        model.techniques.d_updates += 1
    assert due == [True, False, False, False, True, False, False, False]
    w = torch.tensor([3.0, 4.0, 0.0, 0.0]).view(1, 1, 2, 2)
    x = torch.randn(2, 1, 2, 2, requires_grad=True)
    scores = (x * w).flatten(1).sum(1)
    total = model.techniques.add_d_regularizers(torch.tensor(0.0), scores, scores, x, r1_now=True)
    assert total.item() == pytest.approx(2.0 / 2 * 4 * 25.0)


def test_the_techniques_part_keeps_its_state_out_of_the_weights_and_in_the_checkpoint():
    on = GAN(augment="translation", ada_target=0.6, lecam_weight=0.3, **TINY, **SN_D)
    assert set(on.state_dict()) == set(GAN(**TINY, **SN_D).state_dict())  # checkpoints load either way
    on.techniques.after_d_step(torch.ones(8), -torch.ones(8))  # the anchors move
    state = on.techniques.checkpoint_state()
    assert set(state) == {"augment", "lecam"} and GAN(**TINY).techniques.checkpoint_state() == {}
    again = GAN(augment="translation", ada_target=0.6, lecam_weight=0.3, **TINY, **SN_D)
    again.techniques.load_checkpoint_state(state)
    assert again.techniques.lecam.real.item() == on.techniques.lecam.real.item() != 0


def test_conditional_batchnorm_scales_and_shifts_per_label():
    cbn = ConditionalBatchNorm2d(3, cond_dim=2).eval()
    with torch.no_grad():
        cbn.scale.weight.copy_(torch.tensor([[1.0, 0.0]] * 3))  # label 0: scale 2, label 1: scale 1
        cbn.shift.weight.copy_(torch.tensor([[0.0, 5.0]] * 3))  # label 1: shift 5
    x = torch.randn(2, 3, 4, 4)
    out = cbn(x, torch.eye(2))
    normed = cbn.norm(x)
    assert torch.allclose(out[0], 2 * normed[0]) and torch.allclose(out[1], normed[1] + 5)


def test_cbn_generator_reads_the_label_in_its_norms_not_its_input():
    g = DCGANGenerator(latent_dim=16, ngf=8, cond_dim=10, cond_mode="cbn")
    assert g.net[0].in_channels == 16
    assert sum(isinstance(m, ConditionalBatchNorm2d) for m in g.modules()) == 2
    z = torch.randn(4, 16)
    eye = torch.eye(10)
    with torch.no_grad():
        for m in g.modules():
            if isinstance(m, ConditionalBatchNorm2d):
                m.shift.weight.normal_()  # make the labels matter clearly
    assert not torch.allclose(g(z, eye[[0, 0, 0, 0]]), g(z, eye[[7, 7, 7, 7]]))
    with pytest.raises(ValueError, match="cond_mode 'cbn' needs a label vector: cond_dim must be positive, got 0"):
        DCGANGenerator(cond_mode="cbn")


def test_cbn_conditioning_pairs_with_the_projection_discriminator():
    model = ConditionalGAN(conditioning="cbn", **TINY)
    assert model.d_proj is not None and model.discriminator.body[0].in_channels == 1
    assert any(isinstance(m, ConditionalBatchNorm2d) for m in model.generator.modules())
    g_params = {id(p) for p in model.g_parameters()}
    cbn_params = [p for m in model.generator.modules() if isinstance(m, ConditionalBatchNorm2d) for p in m.parameters()]
    assert cbn_params and all(id(p) in g_params for p in cbn_params)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(augment="flip"), r"augment must name transforms from .* got 'flip'"),
        (dict(augment="cutout", augment_p=1.5), r"augment_p must be a number in \[0, 1\], got 1.5"),
        (dict(augment_p=0.5), "augment_p tunes augment, which is off; set augment too, or leave augment_p at 1.0"),
        (dict(ada_target=0.6), "ada_target adapts the probability of the augment transforms; set augment too"),
        (dict(augment="cutout", ada_target=1.0), r"ada_target must be a number in \(0, 1\), got 1.0"),
        (dict(augment="cutout", ada_target=0.6, ada_interval=0), "ada_interval must be a positive integer, got 0"),
        (dict(augment="cutout", ada_target=0.6, ada_kimg=-1), "ada_kimg must be a finite positive number, got -1"),
        (dict(ada_kimg=50), "ada_kimg tunes ada_target, which is off"),
        (dict(r1_gamma=-1.0), "r1_gamma must be a number >= 0, got -1.0"),
        (dict(r1_gamma=1.0), "r1_gamma: the R1 penalty needs per-sample gradients"),
        (dict(r1_gamma=1.0, r1_every=0, d_norm="none"), "r1_every must be a positive integer, got 0"),
        (dict(r1_every=4), "r1_every tunes r1_gamma, which is off; set r1_gamma too, or leave r1_every at 16, got 4"),
        (dict(lecam_weight=-0.1), "lecam_weight must be a number >= 0, got -0.1"),
        (dict(lecam_weight=0.1, lecam_decay=1.0), r"lecam_decay must be a number in \(0, 1\), got 1.0"),
        (dict(lecam_decay=0.9), "lecam_decay tunes lecam_weight, which is off"),
        (dict(topk_decay=0.0), r"topk_decay must be a number in \(0, 1\], got 0.0"),
        (dict(topk_decay=0.99, topk_min=0.0), r"topk_min must be a number in \(0, 1\], got 0.0"),
        (dict(topk_min=0.3), "topk_min tunes topk_decay, which is off"),
        (dict(metrics_prd=True, metrics=False), "metrics_prd adds .* set metrics: true too, got metrics=False"),
        (dict(metrics_prd="yes"), "metrics_prd must be true or false, got 'yes'"),
    ],
    ids=lambda v: str(v)[:40] if isinstance(v, dict) else "",
)
def test_bad_technique_arguments_are_one_line_errors(kwargs, message):
    with pytest.raises(ValueError, match=message) as info:
        GAN(**TINY, **kwargs)
    assert "\n" not in str(info.value)


def test_cbn_needs_the_dcgan():
    with pytest.raises(ValueError, match="arch must be 'dcgan' for conditioning 'cbn' .*, got arch='mlp'"):
        ConditionalGAN(conditioning="cbn", arch="mlp")


# -- the auxiliary class loss (class_weight) on the projection head ------------------------------
def test_projection_class_logits_hold_the_projection_term_in_the_label_row():
    head = ProjectionHead(num_classes=10, feature_dim=6)
    features, labels = torch.randn(5, 6), torch.tensor([0, 3, 3, 9, 1])
    logits = head.class_logits(features)  # (5, 10)
    assert logits.shape == (5, 10)
    assert torch.allclose(logits.gather(1, labels[:, None]).squeeze(1), head(features, labels), atol=1e-6)


@pytest.mark.parametrize("conditioning", ["projection", "cbn"])
def test_class_weight_adds_the_weighted_cross_entropy_of_the_same_pass(conditioning):
    model = ConditionalGAN(conditioning=conditioning, class_weight=0.5, **TINY, **SN_D).eval()  # eval: fixed SN
    x, labels = torch.randn(6, 1, 28, 28), torch.randint(0, 10, (6,))
    scores, class_loss = model.score(x, labels, real=True)
    assert torch.allclose(scores, model.discriminate(x, labels), atol=1e-5)
    logits = model.d_proj.class_logits(model.discriminator.features(x))
    assert class_loss.item() == pytest.approx(0.5 * F.cross_entropy(logits, labels).item(), rel=1e-5)
    class_loss.backward()
    assert model.d_proj.embed.parametrizations.weight.original.grad.abs().sum() > 0  # it trains the head


def test_class_weight_0_adds_nothing():
    model = ConditionalGAN(conditioning="projection", **TINY, **SN_D)
    assert model.score(torch.randn(2, 1, 28, 28), torch.tensor([1, 2]), real=False)[1] is None


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(conditioning="projection", class_weight=-1.0), "class_weight must be a number >= 0, got -1.0"),
        (
            dict(conditioning="onehot", class_weight=0.5),
            "class_weight trains the projection head's class logits; set conditioning to 'projection' or "
            "'cbn', got conditioning='onehot'",
        ),
    ],
)
def test_bad_class_weight_is_a_one_line_error(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ConditionalGAN(**kwargs, **TINY, **SN_D)
