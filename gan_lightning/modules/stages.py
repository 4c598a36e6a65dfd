"""The sampling path of the GAN modules (`decode`, `sample`, `forward`), and `gan-lightning test` and
`gan-lightning predict` (Lightning's test and predict stages), which draw through it.

- sampling: every image the project shows (grids, metrics, `generate`, `export`, predict) is drawn
  by `decode`: eval mode, no grad, the averaged generator when the model keeps one. The noise and
  the truncation trick for the sampling commands (noise pulled toward its mean, fewer odd digits for
  less variety, measured in docs/sharing.md; training never uses it) are in `gan_lightning.noise`.
- test: the model's samples scored against the data module's test split with the validation
  metrics (`SampleQuality`: FID, KID, IS, modes, class accuracy, diversity), logged as ``test/...``,
  whatever the model's ``metrics`` switch says (that one only saves validation time). A fresh
  scorer per run: the real side is the split this run serves.
- predict: batches of ``(index, z, labels)`` from `MNISTDataModule.predict_dataloader` (the noise
  and digits `gan-lightning generate` would draw for the same seed) through `forward`; the
  `SampleWriter` callback writes them as `generate` does.
"""

from __future__ import annotations

import torch

from gan_lightning.metrics.validation import SampleQuality


class EvaluationStages:
    """Sampling, test and predict; mixed into `GAN` before `LightningModule` so these override its defaults."""

    # -- sampling: eval mode, no grad, the EMA generator when kept ----------------------------------
    @torch.no_grad()
    def sample(
        self,
        n: int,
        labels: torch.Tensor | None = None,
        generator: torch.Generator | None = None,
        truncation: float = 1.0,
    ) -> torch.Tensor:
        """`n` images (n, C, H, W) in [-1, 1] in eval mode; pass a `torch.Generator` to reproduce them
        and `truncation` < 1 for more typical digits (see `gan_lightning.noise.truncate`)."""
        if labels is not None:
            raise ValueError("labels: an unconditional GAN takes no labels; use a ConditionalGAN checkpoint")
        return self.decode(self.sample_z(n, generator, truncation), None)

    @torch.no_grad()
    def decode(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """Images (n, C, H, W) from given noise (n, latent_dim) [and labels (n,)]: eval mode, no grad,
        the averaged generator when the model keeps one. Grids, metrics and export all draw through here."""
        g = self.generator_ema.module if self.generator_ema is not None else self.g_modules()
        modes = [(m, m.training) for m in g.modules()]  # g may be a fresh ModuleDict: record its members
        g.eval()
        try:
            return self.generate(z, labels, g)
        finally:
            for m, training in modes:
                m.training = training

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """The sampling path: images (n, C, H, W) in [-1, 1] from noise (n, latent_dim) [and labels (n,)],
        drawn like every sample the project shows (eval mode, no grad, the EMA generator if kept)."""
        return self.decode(z, labels)

    # -- test: the project's metrics on the test split ------------------------------------------
    def on_test_epoch_start(self) -> None:
        hp = self.hparams
        self._test_quality = SampleQuality(self.conditional, hp.metric_samples, hp.inception_weights, stage="test")
        self._test_quality.start(self)

    def test_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int) -> None:
        self._test_quality.step(self, batch)  # real digits (B, C, H, W), labels (B,)

    def on_test_epoch_end(self) -> None:
        values = self._test_quality.end(self)  # already reduced over ranks
        self.log_dict({f"test/{k}": float(v) for k, v in values.items()})

    # -- predict: samples for the SampleWriter ------------------------------------------------------
    def predict_step(self, batch: tuple[torch.Tensor, ...], batch_idx: int) -> dict[str, torch.Tensor]:
        index, z, labels = batch  # (B,), (B, latent_dim), (B,) (-1: unconditional)
        images = self(z.to(self.dtype), labels if self.conditional else None)  # (B, C, H, W) in [-1, 1]
        return {"index": index, "images": images.float(), "labels": labels}
