"""build_nets: the generator and discriminator a model's settings describe (no Lightning here).

`GAN` builds its nets through this function, and so can a plain PyTorch loop
(`benchmarks/bare_loop.py`): both train exactly the same modules.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from torch import nn

from gan_lightning.nets.dcgan import DCGANDiscriminator, DCGANGenerator
from gan_lightning.nets.mlp import MLPDiscriminator, MLPGenerator


def build_nets(
    hp: Mapping[str, Any], g_cond_dim: int = 0, d_cond_dim: int = 0, g_cond_mode: str = "concat"
) -> tuple[nn.Module, nn.Module]:
    """(generator, discriminator) for the settings `hp` (the names of `GAN`'s arguments); the
    conditioning widths are what the label encoders add to each net's input (0: unconditional);
    `g_cond_mode` ``"cbn"`` puts G's label vector into its BatchNorms instead (DCGAN only).

    Raises:
        ValueError: ``"cbn"`` with an MLP (the nets raise for their own bad arguments)."""
    common = dict(image_size=hp["image_size"], channels=hp["channels"])
    # With packing D takes `pack` images at once, stacked along the channels (`nets.layers.pack_images`).
    d_common = dict(common, channels=hp["channels"] * hp.get("pack", 1))
    if hp["arch"] == "dcgan":
        g = DCGANGenerator(
            latent_dim=hp["latent_dim"], ngf=hp["ngf"], cond_dim=g_cond_dim, cond_mode=g_cond_mode, **common
        )
        d = DCGANDiscriminator(
            ndf=hp["ndf"],
            norm=hp["d_norm"] or "batchnorm",
            cond_dim=d_cond_dim,
            minibatch_std=hp["minibatch_std"],
            **d_common,
        )
        return g, d
    if g_cond_mode != "concat":  # ConditionalGAN's conditioning 'cbn'
        raise ValueError(
            f"arch must be 'dcgan' for conditioning {g_cond_mode!r} (conditional BatchNorm; the MLP generator "
            f"reads labels at its input), got arch={hp['arch']!r}"
        )
    body = dict(
        activation=hp["activation"],
        negative_slope=hp["negative_slope"],
        norm_eps=hp["norm_eps"],
        norm_after_activation=hp["norm_after_activation"],
        plain_first_layer=hp["plain_first_layer"],
    )
    g = MLPGenerator(
        latent_dim=hp["latent_dim"],
        hidden=hp["g_hidden"],
        cond_dim=g_cond_dim,
        output=hp["g_output"],
        norm=hp["g_norm"] or "none",
        **common,
        **body,
    )
    d = MLPDiscriminator(
        hidden=hp["d_hidden"],
        cond_dim=d_cond_dim,
        norm=hp["d_norm"] or "none",
        dropout=hp["d_dropout"],
        minibatch_std=hp["minibatch_std"],
        **d_common,
        **body,
    )
    return g, d
