"""Callbacks that show and keep what a run makes: sample grids, a training GIF, latent walks, loss curves,
W&B sample tables, and the samples of `predict`; and the budget that decides when validation runs."""

from gan_lightning.callbacks.animation import TrainingAnimation
from gan_lightning.callbacks.best import BestCheckpoint
from gan_lightning.callbacks.budget import ValidationBudget
from gan_lightning.callbacks.curves import LossCurves
from gan_lightning.callbacks.images import ImageGridLogger, ScheduledImages
from gan_lightning.callbacks.interpolation import LatentInterpolation
from gan_lightning.callbacks.predictions import SampleWriter
from gan_lightning.callbacks.progress import ProgressBar
from gan_lightning.callbacks.tables import SampleTable

__all__ = [
    "BestCheckpoint",
    "ImageGridLogger",
    "LatentInterpolation",
    "LossCurves",
    "ProgressBar",
    "SampleTable",
    "SampleWriter",
    "ScheduledImages",
    "TrainingAnimation",
    "ValidationBudget",
]
