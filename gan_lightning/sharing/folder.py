"""A model folder's generator without Lightning: what `gan-lightning generate --pretrained` draws from.

`GAN.from_pretrained` builds the whole LightningModule (discriminator, metrics, training settings) and
imports Lightning, seconds before the first image. A folder's samples need only its generator:
`FolderGenerator.load` builds the sampling modules from config.json with `gan_lightning.nets`, loads
model.safetensors into them, and draws the same images as the full model for the same seed
(`tests/unit/sharing/test_folder.py` compares the two for the shipped models, bit for bit).

It offers what `gan_lightning.commands.generate` reads of a model (`hparams`, `conditional`, `clustered`,
`label_count`, `decode`, `noise_in_clusters`). A folder it does not handle returns None from `load`, and
the caller loads the full model, whose errors name what is wrong: a Hub repo id (the Hub's own loader
fetches it), InfoGAN's code, an unknown class, a config.json or weights that do not fit together.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import nn

from gan_lightning.nets import LabelEncoder, build_nets
from gan_lightning.noise import arc_of, draw_noise, into_arcs
from gan_lightning.reliability.inputs import read_json_object, read_safetensors
from gan_lightning.sharing import pretrained
from gan_lightning.sharing.pretrained import META_KEY

MODEL_CLASSES = ("GAN", "ConditionalGAN", "SelfConditionedGAN")


class Settings(dict):
    """config.json's hyperparameters, also readable as attributes (as a LightningModule's `hparams`)."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


class FolderGenerator(nn.Module):
    """The sampling modules of a model folder (the generator and, with labels or clusters, its label
    encoder), in eval mode on the CPU; `decode` draws as `GAN.decode` does."""

    dtype = torch.float32
    label_rule = "cluster must be"  # SelfConditionedGAN's wording for a cluster out of range

    def __init__(self, hparams: dict, model_class: str) -> None:
        super().__init__()
        self.hparams = Settings(hparams)
        self.conditional = model_class == "ConditionalGAN"
        self.clustered = model_class == "SelfConditionedGAN"
        hp = self.hparams
        modules = {}
        mode = "concat"
        if self.conditional or self.clustered:  # ConditionalGAN.build_conditioning, G's side
            kind, embed_dim = hp["conditioning"], hp["embed_dim"]
            mode = "cbn" if kind == "cbn" else "concat"
            onehot = kind in ("projection", "cbn")
            modules["label"] = LabelEncoder(self.label_count, "onehot" if onehot else kind, embed_dim)
        generator, _ = build_nets(hp, modules["label"].dim if modules else 0, 0, mode)
        self.g = nn.ModuleDict({"net": generator, **modules})  # the keys of the saved weights
        if self.clustered:  # the clusters' cumulative shares, as SelfConditionedGAN keeps them
            clusters = self.label_count
            self.register_buffer("cluster_cdf", torch.arange(1, clusters + 1, dtype=torch.float32) / clusters)

    @property
    def label_count(self) -> int:
        return self.hparams["clusters"] if self.clustered else self.hparams["num_classes"]

    @classmethod
    def load(cls, source: str | Path) -> FolderGenerator | None:
        """The generator of a shipped name or a local model folder, or None for anything else (see the module
        docstring). A name that is neither raises `PretrainedError` as `GAN.from_pretrained` does."""
        folder = Path(pretrained.resolve(source))
        if not folder.is_dir():  # a Hub repo id
            return None
        try:
            config = read_json_object(folder / "config.json", "pretrained")
            meta = config[META_KEY]
            hparams = {key: value for key, value in config.items() if key != META_KEY}
            if meta["model_class"] not in MODEL_CLASSES or hparams.get("info_codes"):
                return None
            model = cls(hparams, meta["model_class"])
            state = read_safetensors(folder / pretrained.WEIGHTS_NAME, "pretrained")
            if model.clustered:
                model.cluster_cdf = state.pop("cluster_cdf").to(model.cluster_cdf)
            reference = model.g.state_dict()
            model.g.load_state_dict({k: v.to(reference[k].dtype) for k, v in state.items()})
        except Exception:  # the full loader reports what does not fit, in its own words
            return None
        return model.eval()

    # -- what `generate` reads of a model ------------------------------------------------------------
    @torch.no_grad()
    def decode(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """Images (n, C, H, W) in [-1, 1] from noise (n, latent_dim) [and labels (n,)], as `GAN.decode`."""
        if self.clustered and labels is None:
            labels = self.clusters_of(z)
        if "label" in self.g:
            return self.g["net"](z, self.g["label"](labels))
        return self.g["net"](z)

    def sample_z(self, n: int, generator: torch.Generator | None = None, truncation: float = 1.0) -> torch.Tensor:
        return draw_noise(n, self.hparams, generator, "cpu", truncation)

    def clusters_of(self, z: torch.Tensor) -> torch.Tensor:
        """The cluster (n,) each noise vector draws, as `SelfConditionedGAN.clusters_of`."""
        return arc_of(z, self.cluster_cdf)

    def noise_in_clusters(
        self, ids: torch.Tensor, generator: torch.Generator | None = None, truncation: float = 1.0
    ) -> torch.Tensor:
        """Noise (n, latent_dim) whose cluster is `ids` (n,), as `SelfConditionedGAN.noise_in_clusters`."""
        ids = torch.as_tensor(ids, dtype=torch.long)
        bad = ids[(ids < 0) | (ids >= self.label_count)]
        if bad.numel():
            raise ValueError(f"{self.label_rule} in 0..{self.label_count - 1}, got {bad.tolist()}")
        return into_arcs(self.sample_z(len(ids), generator, truncation), ids, self.cluster_cdf, generator)
