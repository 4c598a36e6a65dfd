import pytest
import torch

from gan_lightning.nets import DCGANDiscriminator, DCGANGenerator, LabelEncoder, MLPDiscriminator, MLPGenerator

COND = {"none": None, "onehot": "onehot", "embedding": "embedding"}


@pytest.mark.parametrize("cond", list(COND), ids=lambda c: f"cond={c}")
@pytest.mark.parametrize("size", [28, 64], ids=lambda s: f"{s}px")
@pytest.mark.parametrize("arch", ["mlp", "dcgan"])
def test_shapes_and_ranges(arch, size, cond):
    torch.manual_seed(0)
    enc = LabelEncoder(10, COND[cond], embed_dim=16 if cond == "embedding" else None) if COND[cond] else None
    k = enc.dim if enc else 0
    if arch == "mlp":
        g = MLPGenerator(latent_dim=8, hidden=[32], image_size=size, cond_dim=k)
        d = MLPDiscriminator(hidden=[32], image_size=size, cond_dim=k)
    else:
        g = DCGANGenerator(latent_dim=8, ngf=4, image_size=size, cond_dim=k)
        d = DCGANDiscriminator(ndf=4, image_size=size, cond_dim=k)
    labels = torch.arange(6) % 10
    c = enc(labels) if enc else None
    x = g(torch.randn(6, 8), c)
    assert x.shape == (6, 1, size, size)
    assert x.min() >= -1 and x.max() <= 1
    logits = d(x, c)
    assert logits.shape == (6,)
    assert torch.isfinite(logits).all()


def test_sigmoid_output_is_mapped_to_minus_one_one():
    g = MLPGenerator(latent_dim=4, hidden=[8], output="sigmoid")
    with torch.no_grad():
        g.head.bias.fill_(-100.0)  # sigmoid -> 0 -> -1
    assert torch.allclose(g(torch.randn(2, 4)), torch.full((2, 1, 28, 28), -1.0))


def test_onehot_broadcast_into_discriminator_channels():
    d = DCGANDiscriminator(ndf=4, image_size=64, cond_dim=10)
    assert d.body[0].in_channels == 11  # 1 image channel + 10 label maps, the 64 px tutorial CGAN


def test_dcgan_init_is_normal_002():
    g = DCGANGenerator(ngf=64, image_size=64)
    w = g.net[3].weight
    assert abs(w.std().item() - 0.02) < 0.002 and abs(w.mean().item()) < 0.002


def test_mlp_cgan_block_layout():
    g = MLPGenerator(
        latent_dim=100, hidden=[128, 256], cond_dim=10, norm="batchnorm", norm_eps=0.8, plain_first_layer=True
    )
    kinds = [type(m).__name__ for m in g.body]
    assert kinds == ["Linear", "LeakyReLU", "Linear", "BatchNorm1d", "LeakyReLU"]
    assert g.body[3].eps == 0.8


def test_layernorm_after_activation():
    d = MLPDiscriminator(
        hidden=[200], norm="layernorm", activation="leaky_relu", negative_slope=0.02, norm_after_activation=True
    )
    assert [type(m).__name__ for m in d.body] == ["Linear", "LeakyReLU", "LayerNorm"]


@pytest.mark.parametrize(
    ("build", "match"),
    [
        (lambda: DCGANGenerator(image_size=32), r"image_size must be one of \(28, 64\), got 32"),
        (
            lambda: DCGANDiscriminator(norm="instance"),
            r"norm must be one of \('batchnorm', 'none', 'layernorm'\), got 'instance'",
        ),
        (lambda: MLPGenerator(hidden=[]), r"hidden must be a non-empty list of positive widths, got \[\]"),
        (lambda: MLPDiscriminator(activation="gelu"), r"activation must be one of .*, got 'gelu'"),
        (lambda: MLPDiscriminator(norm="group"), r"norm must be one of .*, got 'group'"),
        (lambda: MLPDiscriminator(dropout=1.0), r"dropout must be in \[0, 1\), got 1.0"),
        (lambda: MLPGenerator(output="relu"), r"output must be one of \('tanh', 'sigmoid'\), got 'relu'"),
        (
            lambda: LabelEncoder(10, "projection"),
            r"conditioning must be one of \('onehot', 'embedding'\), got 'projection'",
        ),
    ],
    ids=["dcgan_size", "d_norm", "hidden", "activation", "mlp_norm", "dropout", "output", "conditioning"],
)
def test_bad_net_arguments(build, match):
    with pytest.raises(ValueError, match=match):
        build()


FIRST_LAYER_CASES = [(28, 10, "concat"), (28, 400, "concat"), (64, 10, "concat"), (28, 0, "concat"), (28, 10, "cbn")]


@pytest.mark.parametrize(("size", "cond_dim", "cond_mode"), FIRST_LAYER_CASES)
def test_dcgan_generator_first_layer_as_a_product_is_its_transposed_convolution(size, cond_dim, cond_mode):
    # forward computes the first layer as a matrix product; running the layers one by one, the first as
    # the ConvTranspose2d module it is, must give the same images and the same weight gradients.
    torch.manual_seed(0)
    g = DCGANGenerator(latent_dim=16, ngf=8, image_size=size, cond_dim=cond_dim, cond_mode=cond_mode)
    z = torch.randn(5, 16)
    cond = torch.eye(cond_dim)[torch.randint(0, cond_dim, (5,))] if cond_dim else None

    def by_layers():
        h = z if cond_mode == "cbn" or cond is None else torch.cat([z, cond], dim=1)
        h = h[:, :, None, None]
        for layer in g.net:
            h = layer(h, cond) if layer.__class__.__name__ == "ConditionalBatchNorm2d" else layer(h)
        return h

    outputs, grads = [], []
    for run in (lambda: g(z, cond), by_layers):
        g.zero_grad()
        out = run()
        (out * torch.linspace(-1, 1, out.numel()).view_as(out)).sum().backward()
        outputs.append(out.detach())
        grads.append(g.net[0].weight.grad.clone())
    assert outputs[0].shape == (5, 1, size, size)
    torch.testing.assert_close(outputs[0], outputs[1], rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(grads[0], grads[1], rtol=1e-5, atol=1e-5)
    assert grads[0].abs().sum() > 0
