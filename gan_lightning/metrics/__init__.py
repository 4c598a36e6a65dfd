"""Offline sample-quality metrics for MNIST GANs: a small digit classifier and what is measured with it."""

from gan_lightning.metrics.classifier import MNISTClassifier, MNISTFeatures, load_classifier

__all__ = ["MNISTClassifier", "MNISTFeatures", "load_classifier"]
