"""SelfConditionedGAN: an unconditional GAN that conditions on clusters it finds in the data itself.

Why: without labels a continuous generator must lay samples *between* the digit clusters (shapes
halfway from a 4 to a 9). Told which cluster to draw, it does not. Liu et al. (CVPR 2020,
"Diverse Image Generation via Self-Conditioned GANs") get the clusters from k-means on the
discriminator's features; here the first clustering is k-means on the principal components of the
pixels (no net needed, and close to the true digits already), and with
``cluster_features="discriminator"`` the clusters are redrawn on a schedule from D's features of the
training images, started from the old clusters' means and matched to the old ids (Hungarian method),
so a cluster keeps its id, its row of G's label input and of D's projection head.

No label of the data and no classifier trained with labels enters training or sampling: the labels
are read only to *measure* the clusters (``val/cluster_purity``, ``val/cluster_nmi``).

Outwardly this is an unconditional GAN: it draws from noise alone. The cluster of a noise vector is
read off the noise itself, from the angle of its first two coordinates cut into arcs as wide as the
clusters' shares of the training set. For normal noise that angle is uniform and independent of
every other coordinate and of the noise's scale (truncation keeps it), so clusters come out in the
data's proportions, training and sampling see the same (noise, cluster) pairs, and every
z -> image path (grids, metrics, `generate`, ONNX export) needs nothing but the noise.
"""

from __future__ import annotations

from typing import Any, Literal

import torch
from lightning.pytorch.utilities import rank_zero_info

from gan_lightning.checks import attached_trainer, check_choice, check_positive_int
from gan_lightning.clustering import cluster_means, kmeans, match_ids, nmi, pca, purity
from gan_lightning.data.pixels import to_unit_range
from gan_lightning.modules.cgan import ConditionalGAN, Conditioning
from gan_lightning.noise import arc_of, into_arcs

ClusterFeatures = Literal["pixels", "discriminator"]
STATE_KEY = "self_conditioning"  # the clusters' checkpoint entry


class SelfConditionedGAN(ConditionalGAN):
    """A GAN conditioned on k-means clusters of its training images instead of labels.

    Args:
        clusters: number of clusters k (more than the ten digits: over-clustering splits the
            styles of a digit rather than merging two digits, the paper's advice).
        cluster_features: ``"pixels"``: one clustering at the start, on the first `pca_dim`
            principal components of the pixels; ``"discriminator"``: that start, then every
            `recluster_every` generator steps again on D's features of the training images.
        pca_dim: principal components of the pixels the first clustering uses.
        recluster_every: generator steps between re-clusterings (``cluster_features="discriminator"``).
        cluster_seed: seed of the k-means draws (seeding, refilled clusters), apart from the training
            noise, so the clusters are the same whatever the run's seed.
        conditioning: how the nets read the cluster id, as `ConditionalGAN` (default: projection).
        **kwargs: everything `ConditionalGAN` takes; ``noise`` must be ``"normal"`` (the cluster is
            read off the noise's angle, which is uniform only for normal noise).

    Training needs batches with each image's index (``data.indices: true``): the clusters are a table
    per training image, kept on the device, so the step looks them up without a host sync.
    """

    conditional = False  # outwardly unconditional: it takes no digits
    clustered = True
    label_rule = "cluster must be"

    def __init__(
        self,
        *args,
        clusters: int = 30,
        cluster_features: ClusterFeatures = "pixels",
        pca_dim: int = 50,
        recluster_every: int | None = None,
        cluster_seed: int = 0,
        conditioning: Conditioning = "projection",
        **kwargs,
    ) -> None:
        check_positive_int("clusters", clusters)
        if clusters < 2:
            raise ValueError(f"clusters must be at least 2, got {clusters}")
        check_choice("cluster_features", cluster_features, ClusterFeatures)
        check_positive_int("pca_dim", pca_dim)
        check_positive_int("recluster_every", recluster_every, optional=True)
        if (cluster_features == "discriminator") != (recluster_every is not None):
            raise ValueError(
                "recluster_every sets how often cluster_features='discriminator' re-clusters and is only for it; "
                f"got cluster_features={cluster_features!r} with recluster_every={recluster_every!r}"
            )
        if kwargs.get("pack", 1) > 1 and cluster_features == "discriminator":
            raise ValueError(
                "pack: cluster_features='discriminator' clusters D's features of single images and a packed D "
                f"sees several at once; use cluster_features='pixels', got pack={kwargs['pack']}"
            )
        if isinstance(cluster_seed, bool) or not isinstance(cluster_seed, int):
            raise ValueError(f"cluster_seed must be an integer, got {cluster_seed!r}")
        if kwargs.get("noise", "normal") != "normal":
            raise ValueError(
                "noise must be 'normal' for a SelfConditionedGAN (a sample's cluster is its noise's angle, "
                f"uniform only for normal noise), got {kwargs['noise']!r}"
            )
        if kwargs.get("latent_dim", 2) < 2:
            raise ValueError(f"latent_dim must be at least 2 for a SelfConditionedGAN, got {kwargs['latent_dim']!r}")
        object.__setattr__(self, "_clusters", clusters)  # before nn.Module.__init__: build_conditioning reads it
        super().__init__(*args, conditioning=conditioning, **kwargs)
        self.save_hyperparameters()
        # Cumulative cluster shares (k,): the arcs of `noise_angle` that pick each cluster. Saved with the
        # weights, so a model folder samples in the right proportions without the training data.
        self.register_buffer("cluster_cdf", torch.arange(1, clusters + 1, dtype=torch.float32) / clusters)
        # The cluster of every training image (N,), on the device; filled at fit start or from a checkpoint.
        self.register_buffer("cluster_table", torch.zeros(0, dtype=torch.long), persistent=False)
        self.reclusterings = 0

    @property
    def label_count(self) -> int:
        return self._clusters

    # -- what the nets read: the clusters ------------------------------------------------------
    def read_batch(self, batch: tuple[torch.Tensor, ...]) -> tuple[torch.Tensor, torch.Tensor]:
        return batch[0], self.cluster_table[batch[2]]  # a gather on the device: no host sync

    def clusters_of(self, z: torch.Tensor) -> torch.Tensor:
        """The cluster (n,) each noise vector (n, latent_dim) draws: inverse CDF at its angle."""
        return arc_of(z, self.cluster_cdf)

    def fake_labels(self, z: torch.Tensor) -> torch.Tensor:
        return self.clusters_of(z)

    def sample_labels(self, n: int, generator: torch.Generator | None = None) -> None:
        return None  # the clusters come from the noise (`clusters_of`)

    def noise_in_clusters(
        self, ids: torch.Tensor, generator: torch.Generator | None = None, truncation: float = 1.0
    ) -> torch.Tensor:
        """Noise (n, latent_dim) whose cluster is `ids` (n,): normal noise with the angle of its first
        two coordinates redrawn inside each cluster's arc (the radius and the rest keep their law)."""
        ids = self.check_labels(ids)
        return into_arcs(self.sample_z(len(ids), generator, truncation), ids, self.cluster_cdf, generator)

    def generate(self, z: torch.Tensor, labels: torch.Tensor | None = None, g=None) -> torch.Tensor:
        return super().generate(z, self.clusters_of(z) if labels is None else labels, g)

    @torch.no_grad()
    def sample(
        self,
        n: int,
        labels: torch.Tensor | None = None,
        generator: torch.Generator | None = None,
        truncation: float = 1.0,
    ) -> torch.Tensor:
        """`n` images, from every cluster in the data's proportions, or from the given clusters `labels` (n,)."""
        if labels is None:
            return self.decode(self.sample_z(n, generator, truncation))
        if len(labels) != n:
            raise ValueError(f"labels: need one cluster per sample ({n}), got {len(labels)}")
        return self.decode(self.noise_in_clusters(labels, generator, truncation))

    # -- clustering ----------------------------------------------------------------------------
    def _train_images(self) -> torch.Tensor:
        datamodule = getattr(attached_trainer(self), "datamodule", None)
        train_set = getattr(datamodule, "train_set", None)
        if train_set is None or not getattr(datamodule, "indices", False):
            raise ValueError(
                "SelfConditionedGAN clusters the training images and looks them up by index: fit it with "
                "MNISTDataModule(indices=True) (data.indices: true), got "
                + ("no data module" if datamodule is None else f"indices={getattr(datamodule, 'indices', None)!r}")
            )
        return train_set.images  # (N, H, W) uint8

    def _set_clusters(self, ids: torch.Tensor) -> None:
        ids = ids.to(self.device)
        trainer = attached_trainer(self)
        if trainer is not None and trainer.world_size > 1:  # one clustering for every rank: rank zero's
            ids = trainer.strategy.broadcast(ids)
        counts = torch.bincount(ids, minlength=self._clusters).float()
        self.cluster_table = ids
        self.cluster_cdf = (counts.cumsum(0) / counts.sum()).to(self.cluster_cdf)

    def cluster_pixels(self) -> None:
        """The first clustering: k-means on the principal components of the training pixels."""
        images = self._train_images()
        x = pca(to_unit_range(images).flatten(1).float(), min(self.hparams.pca_dim, images[0].numel()))
        _, ids = kmeans(x, self._clusters, torch.Generator().manual_seed(self.hparams.cluster_seed))
        self._set_clusters(ids)

    @torch.no_grad()
    def d_features(self, images: torch.Tensor, batch_size: int = 1000) -> torch.Tensor:
        """D's features (N, F) of uint8 images (N, H, W), in eval mode (spectral norm's power
        iteration does not step, so training is untouched)."""
        modes = [(m, m.training) for m in self.discriminator.modules()]
        self.discriminator.eval()
        try:
            out = [
                self.discriminator.features(to_unit_range(block.to(self.device)).to(self.dtype)).float().cpu()
                for block in images.split(batch_size)
            ]
        finally:
            for m, training in modes:
                m.training = training
        return torch.cat(out)

    def recluster(self) -> None:
        """k-means on D's features, started from the old clusters' means there; ids matched to the old ones."""
        features = self.d_features(self._train_images())
        old = self.cluster_table.cpu()
        generator = torch.Generator().manual_seed(self.hparams.cluster_seed + 1 + self.reclusterings)
        _, new = kmeans(features, self._clusters, generator, init=cluster_means(features, old, self._clusters))
        new = match_ids(old, new, self._clusters)[new]
        self.reclusterings += 1
        self._set_clusters(new)
        kept = float((new == old).float().mean())
        step = self.generator_steps
        rank_zero_info(f"re-clustered on D's features at generator step {step}: {kept:.1%} kept their id")

    def end_batch(self, batch_idx: int, d_scalars: torch.Tensor | None, g_loss: torch.Tensor | None) -> None:
        super().end_batch(batch_idx, d_scalars, g_loss)
        every = self.hparams.recluster_every
        if every and g_loss is not None and self.generator_steps % every == 0:
            self.recluster()

    # -- fit hooks: cluster before the first step; the clusters ride in the checkpoint ----------
    def on_fit_start(self) -> None:
        super().on_fit_start()  # after a resume's checkpoint has loaded (the table with it)
        images = self._train_images()
        if len(self.cluster_table) == 0:  # a new run, or a checkpoint without clusters (weights only)
            self.cluster_pixels()
        if len(self.cluster_table) != len(images):
            raise ValueError(
                f"the checkpoint's clusters cover {len(self.cluster_table)} training images but the data module "
                f"serves {len(images)}; resume on the data the run started with"
            )

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        super().on_save_checkpoint(checkpoint)
        checkpoint[STATE_KEY] = {"table": self.cluster_table.cpu(), "reclusterings": self.reclusterings}

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        super().on_load_checkpoint(checkpoint)
        state = checkpoint.get(STATE_KEY)
        if state is not None:
            self.cluster_table = state["table"].to(self.device)
            self.reclusterings = int(state["reclusterings"])

    # -- model folders: the cluster shares ride beside the generator's weights --------------------
    def sampling_state(self) -> dict[str, torch.Tensor]:
        return {"cluster_cdf": self.cluster_cdf.float()}

    def load_sampling_state(self, state: dict[str, torch.Tensor]) -> None:
        if "cluster_cdf" in state:
            self.cluster_cdf = state["cluster_cdf"].to(self.cluster_cdf)

    # -- measuring the clusters against the true digits (labels only measure) ------------------------
    def cluster_scores(self) -> dict[str, float]:
        """Purity and NMI of the training images' clusters against their true labels ({} before clustering)."""
        datamodule = getattr(attached_trainer(self), "datamodule", None)
        train_set = getattr(datamodule, "train_set", None)
        if len(self.cluster_table) == 0 or train_set is None or len(train_set.labels) != len(self.cluster_table):
            return {}
        ids, labels = self.cluster_table.cpu(), train_set.labels.long()
        return {"cluster_purity": purity(ids, labels), "cluster_nmi": nmi(ids, labels)}

    def on_validation_epoch_end(self) -> None:
        super().on_validation_epoch_end()
        self.log_dict({f"val/{k}": v for k, v in self.cluster_scores().items()})
