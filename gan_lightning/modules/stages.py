"""`gan-lightning test` and `gan-lightning predict` for the GAN modules (Lightning's test and predict stages).

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
    """Test and predict hooks; mixed into `GAN` before `LightningModule` so these override its defaults."""

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """Images (n, C, H, W) in [-1, 1] from noise (n, latent_dim) [and labels (n,)]: the sampling path."""
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
