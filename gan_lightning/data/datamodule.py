"""MNISTDataModule: MNIST or Fashion-MNIST as one in-memory uint8 tensor, batches in [-1, 1].

Where the data comes from, first match wins:
1. the four IDX files (gzip or not) under `data_dir` (`files.locate`);
2. torchvision's download into `data_dir`, when `download` is true;
3. for MNIST, the real-MNIST sample shipped inside the package (6,000 training and 2,000 test
   digits), with a warning that says so (`files.mnist_or_sample`). Nothing else is needed to train offline.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Literal

import lightning as L
import torch
from lightning.pytorch.trainer.states import TrainerFn
from torch.utils.data import DataLoader

from gan_lightning.checks import (
    check_bool,
    check_choice,
    check_nonnegative_int,
    check_positive_int,
    check_seed,
    choices,
)
from gan_lightning.data.batches import DeviceBatches, GroupedBatches
from gan_lightning.data.datasets import TensorImages, balanced_subset, batch_collate
from gan_lightning.data.files import FULL_SIZE, load_split, locate, resolve_source
from gan_lightning.data.order import TrainingOrder
from gan_lightning.data.pixels import resize
from gan_lightning.data.sampler import EpochSampler
from gan_lightning.nets.dcgan import ImageSize
from gan_lightning.sampling.chunked import NoisePieces
from gan_lightning.sampling.images import sample_labels

log = logging.getLogger(__name__)

Dataset_ = Literal["mnist", "fashion_mnist"]
DeviceResident = Literal[True, False, "auto"]
StepsPerBatch = int | Literal["auto"]
DATASETS = choices(Dataset_)
IMAGE_SIZES = choices(ImageSize)


# Validation, test and predict batches: samples are drawn (and scored) per batch, and at batch 1 (the
# tutorial's configs) scoring 10,000 digits one at a time took 16 s instead of ~2 s. Configs of 64 or
# more keep their own batch size, so their validation numbers are unchanged; predict's noise does not
# depend on the batch size at all.
EVAL_MIN_BATCH = 64


class MNISTDataModule(L.LightningDataModule):
    """MNIST / Fashion-MNIST at 28 or 64 px; batches `(images (B,1,H,W) in [-1,1], labels (B,))`
    (and `indices (B,)` with ``indices``).

    Args:
        dataset: ``"mnist"`` or ``"fashion_mnist"``.
        data_dir: folder searched for IDX files and used for downloads.
        image_size: 28 (native) or 64 (resized once at setup, bilinear with antialiasing).
        batch_size: training batch size; validation, test and predict go in batches of at least
            `EVAL_MIN_BATCH` (64): a batch-1 config would otherwise take 10,000 tiny batches to score.
        download: try torchvision's download when no local files are found.
        num_workers: DataLoader workers; 0 is fastest for an in-memory tensor.
        val_samples: how many digits of the test split the validation loader serves
            (``None``: all of them).
        train_subset: train on this many digits only, the same number of each class
            (`balanced_subset`: the first ones of each class, the same for every seed); ``None``: all.
            For low-data experiments.
        device_resident: keep the uint8 training set on the training device and draw batches
            there (`gan_lightning.data.DeviceBatches`, DDP-sharded, reshuffled every epoch)
            instead of a DataLoader. ``"auto"``: on CUDA when it takes under a quarter of the free
            GPU memory; ``True`` also on CPU (no DataLoader, no workers).
        indices: training batches carry each image's index in the training set as a third element,
            `(images, labels, indices (B,))`: what `SelfConditionedGAN` looks its clusters up by.
        steps_per_batch: training steps per Lightning batch: each Lightning batch carries this many
            batches of `batch_size` (`GroupedBatches`) and the model makes one full D/G step on each,
            so Lightning's fixed cost per batch is paid once per group. The same batches, in the same
            order, as with 1: the weights come out the same. For small, fast steps (batch-1 MLPs,
            a GPU); counts keyed on steps keep their meaning (docs/speed.md). ``"auto"``: sized when
            a fit starts from the time of the model's step (`gan_lightning.modules.steps.pick_steps_per_batch`),
            so that Lightning's cost per batch is about 2% of a group's time (1 to 16).
        predict_digits, predict_n_per_digit, predict_n, predict_seed: what `gan-lightning predict`
            draws, as `gan-lightning generate`'s ``--digits``, ``--n_per_digit``, ``--n``, ``--seed``:
            a conditional model `predict_n_per_digit` images of each digit (default: all ten), an
            unconditional one `predict_n` images. The same seed gives the same images as `generate`.

    Raises:
        ValueError: a bad argument, in one line naming it, what is allowed and what was given.
    """

    num_classes = 10

    def __init__(
        self,
        dataset: Dataset_ = "mnist",
        data_dir: str = "data",
        image_size: ImageSize = 28,
        batch_size: int = 64,
        download: bool = True,
        num_workers: int = 0,
        val_samples: int | None = None,
        device_resident: DeviceResident = "auto",
        predict_digits: list[int] | None = None,
        predict_n_per_digit: int = 10,
        predict_n: int = 100,
        predict_seed: int = 0,
        train_subset: int | None = None,
        indices: bool = False,
        steps_per_batch: StepsPerBatch = 1,
    ) -> None:
        super().__init__()
        check_choice("dataset", dataset, Dataset_)
        check_choice("image_size", image_size, ImageSize)
        check_choice("device_resident", device_resident, DeviceResident)
        check_nonnegative_int("num_workers", num_workers)
        for name in ("batch_size", "predict_n_per_digit", "predict_n"):
            check_positive_int(name, locals()[name])
        if steps_per_batch != "auto":
            check_positive_int("steps_per_batch", steps_per_batch, also="'auto'")
        check_positive_int("val_samples", val_samples, optional=True)
        check_positive_int("train_subset", train_subset, optional=True)
        check_bool("indices", indices)
        check_seed("predict_seed", predict_seed)
        bad = [d for d in predict_digits or [] if not 0 <= d < self.num_classes]
        if bad:
            raise ValueError(f"predict_digits must be digits in 0..{self.num_classes - 1}, got {bad}")
        self.save_hyperparameters()
        self.device_resident = device_resident
        self.dataset, self.data_dir, self.image_size = dataset, Path(data_dir), image_size
        self.batch_size, self.download, self.num_workers = batch_size, download, num_workers
        self.val_samples, self.train_subset, self.indices = val_samples, train_subset, indices
        self.predict_digits, self.predict_n_per_digit = predict_digits, predict_n_per_digit
        self.predict_n, self.predict_seed = predict_n, predict_seed
        self.source: Path | None = None  # where the data was read from, set in setup()
        self.train_set: TensorImages | None = None
        self.val_set: TensorImages | None = None
        # Training order: a permutation per epoch from one seed, kept in checkpoints with the position in
        # the epoch so a resume replays the same batches (data/order.py).
        self.order = TrainingOrder(steps_per_batch)

    @property
    def eval_batch_size(self) -> int:
        """Validation, test and predict batches: scoring only, so at least `EVAL_MIN_BATCH`."""
        return max(self.batch_size, EVAL_MIN_BATCH)

    @property
    def steps_per_batch(self) -> int:
        """Training steps per Lightning batch (kept by `order`, whose checkpoint positions count in them;
        with ``"auto"``, 1 until `decide_steps_per_batch`)."""
        return self.order.steps_per_batch

    def decide_steps_per_batch(self, pick: Callable[[], int]) -> int:
        """Training steps per Lightning batch for this fit; with ``"auto"``, `pick()` sizes it once (the
        model calls this when a fit starts, before the training loader is built)."""
        return self.order.decide(pick)

    # -- Lightning hooks ----------------------------------------------------------------------
    def prepare_data(self) -> None:
        # Runs on one process per node: the only place that may download. `predict` reads no data.
        if not self._predicting():
            self.source = resolve_source(self.dataset, self.data_dir, self.download)

    def setup(self, stage: str | None = None) -> None:
        if self.train_set is not None or stage == "predict":
            return
        if self.source is None:  # other ranks, or setup() called without prepare_data()
            self.source = locate(self.dataset, self.data_dir) or resolve_source(
                self.dataset, self.data_dir, self.download
            )
        train_x, train_y = load_split(self.source, "train")
        test_x, test_y = load_split(self.source, "test")
        for split, n in (("train", len(train_y)), ("test", len(test_y))):
            if n != FULL_SIZE[split]:
                log.info(
                    "%s %s split: %d images from %s (the standard split has %d)",
                    self.dataset,
                    split,
                    n,
                    self.source,
                    FULL_SIZE[split],
                )
        if self.val_samples is not None:
            test_x, test_y = test_x[: self.val_samples], test_y[: self.val_samples]
        if self.train_subset is not None:
            keep = balanced_subset(train_y, self.train_subset, self.num_classes)
            train_x, train_y = train_x[keep], train_y[keep]
        self.train_set = TensorImages(resize(train_x, self.image_size), train_y, with_index=self.indices)
        self.val_set = TensorImages(resize(test_x, self.image_size), test_y)

    def train_dataloader(self) -> DataLoader | DeviceBatches | GroupedBatches:
        if self.train_set is None:
            return self._loader(None, shuffle=True, drop_last=True)  # raises the setup() error
        trainer = self.trainer  # None outside fit: one process
        rank, world = (trainer.global_rank, trainer.world_size) if trainer is not None else (0, 1)
        self._check_batch_size(world)
        seed = self.order.seed_for(trainer)  # one for every rank (rank 0's): the DDP shards never overlap
        resume = self.order.take_resume()  # (epoch, batches done) from a checkpoint, applied once
        device = self._resident_device()
        if device is not None:  # batches drawn on the device (same order as the sampler; see batches.py)
            batches = self._device_batches(device)
            if resume is not None:
                batches.resume_at(*resume)
        else:
            sampler = EpochSampler(len(self.train_set), seed, rank, world)
            if resume is not None:
                epoch, done = resume
                sampler.resume_at(epoch, done * self.batch_size)
            batches = self._loader(self.train_set, shuffle=True, drop_last=True, sampler=sampler)
        if self.steps_per_batch == 1:
            return batches
        grouped = GroupedBatches(batches, self.steps_per_batch)
        if resume is not None and trainer is not None and resume[0] == trainer.current_epoch:
            grouped.resume_at(resume[1])
        return grouped

    def _check_batch_size(self, world_size: int) -> None:
        """A batch larger than a process's share of the training set would train on fewer images than asked
        (one short batch, or none): refuse it, naming the limit."""
        per_process = -(-len(self.train_set) // world_size)  # ceil: DistributedSampler pads the last share
        if self.batch_size > per_process:
            share = f" ({per_process} per process with {world_size} processes)" if world_size > 1 else ""
            raise ValueError(
                f"data.batch_size must be at most the number of training images, {len(self.train_set)}{share}, "
                f"got {self.batch_size}"
            )

    # -- exact resume: the data order and the position in it ride in the checkpoint (`order`) ----------
    def state_dict(self) -> dict:
        return self.order.state_dict(getattr(self, "trainer", None))

    def load_state_dict(self, state_dict: dict) -> None:
        self.order.load_state_dict(state_dict)

    # -- device-resident training batches (data.device_resident) -------------------------------
    def _resident_device(self) -> torch.device | None:
        """The device to keep the training set on, or None for the DataLoader path."""
        trainer = self.trainer  # LightningDataModule.trainer: None outside fit
        if self.device_resident is False or trainer is None or self.train_set is None:
            return None
        device = trainer.strategy.root_device
        if self.device_resident == "auto":
            if device.type != "cuda":
                return None
            free, _ = torch.cuda.mem_get_info(device)
            return device if self.train_set.images.numel() < free // 4 else None
        return device

    def _device_batches(self, device: torch.device) -> DeviceBatches:
        trainer, ds = self.trainer, self.train_set
        return DeviceBatches(
            ds.images.to(device),
            ds.labels.to(device),
            self.batch_size,
            shuffle=True,
            drop_last=True,  # _check_batch_size: every rank has at least one full batch
            seed=self.order.seed_for(trainer),
            rank=trainer.global_rank,
            world_size=trainer.world_size,
            epoch=lambda: trainer.current_epoch,
            with_index=self.indices,
        )

    def val_dataloader(self) -> DataLoader:
        return self._loader(self.val_set, shuffle=False, drop_last=False, batch_size=self.eval_batch_size)

    def test_dataloader(self) -> DataLoader:
        return self.val_dataloader()

    # -- predict: noise and digits, no images -----------------------------------------------------
    def _predicting(self) -> bool:
        trainer = self.trainer
        return trainer is not None and trainer.state.fn == TrainerFn.PREDICTING

    def predict_dataloader(self) -> DataLoader:
        """Batches of (index (B,), z (B, latent_dim), labels (B,)) for the trainer's model: what
        `gan-lightning generate` draws for the same digits and seed (labels -1: unconditional), drawn
        a batch at a time and dealt out to the processes (`NoisePieces`), so any count fits in memory."""
        trainer = self.trainer
        model = trainer.lightning_module if trainer is not None else None
        if model is None:
            raise RuntimeError(
                "MNISTDataModule.predict_dataloader draws noise for the trainer's model: use trainer.predict"
            )
        names = ("data.predict_digits", "data.predict_n_per_digit", "data.predict_n")
        labels = sample_labels(
            model, self.predict_digits, self.predict_n_per_digit, self.predict_n, self.predict_seed, names
        )
        rank, world = trainer.global_rank, trainer.world_size
        # The noise is the same whatever the pieces (chunked.py): the batch size only cuts them.
        pieces = NoisePieces(model.hparams, labels, self.predict_seed, self.eval_batch_size, rank, world)
        return DataLoader(pieces, batch_size=None)  # the pieces are the batches

    def _loader(
        self,
        ds: TensorImages | None,
        shuffle: bool,
        drop_last: bool,
        sampler: EpochSampler | None = None,
        batch_size: int | None = None,
    ) -> DataLoader:
        if ds is None:
            raise RuntimeError("MNISTDataModule.setup() must run before asking for a dataloader")
        batch_size = batch_size or self.batch_size
        return DataLoader(
            ds,
            batch_size=batch_size,
            shuffle=shuffle if sampler is None else None,
            sampler=sampler,
            # Its own generator: iterating a DataLoader otherwise draws a seed from the global RNG,
            # which would shift the training noise stream differently in a resumed run.
            generator=torch.Generator().manual_seed(self.order.seed or 0),
            drop_last=drop_last and len(ds) >= batch_size,
            num_workers=self.num_workers,
            collate_fn=batch_collate,
            persistent_workers=self.num_workers > 0,
        )
