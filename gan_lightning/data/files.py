"""Where MNIST and Fashion-MNIST are on disk, reading a split, and the one fallback to the shipped sample.

A folder holds a dataset when it has its four IDX files (gzip or not): torchvision's
`<data_dir>/<Name>/raw/` layout, `data_dir` itself, or for Fashion-MNIST Debian's
`/usr/share/datasets/fashion-mnist`. Without MNIST files, every reader of MNIST (the data module,
`evaluate`, the classifier's trainer) falls back to the real-MNIST sample shipped inside the package
through `mnist_or_sample`, and says so in the same words.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from gan_lightning.checks import check_writable
from gan_lightning.data.idx import read_idx
from gan_lightning.reliability.inputs import BadFileError

log = logging.getLogger(__name__)

SAMPLE_DIR = Path(__file__).parents[1] / "assets" / "mnist_sample"  # 6,000 training and 2,000 test digits
FULL_SIZE = {"train": 60_000, "test": 10_000}
IMAGE_SHAPE, NUM_CLASSES = (28, 28), 10  # what both datasets' IDX files hold
_TORCHVISION_NAME = {"mnist": "MNIST", "fashion_mnist": "FashionMNIST"}
_SYSTEM_DIRS = {"fashion_mnist": [Path("/usr/share/datasets/fashion-mnist")], "mnist": []}
_FILES = {  # split -> (images, labels) file stems
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}


def _find(folder: Path, stem: str) -> Path | None:
    for name in (stem + ".gz", stem):
        if (folder / name).is_file():
            return folder / name
    return None


def candidate_dirs(dataset: str, data_dir: str | Path) -> list[Path]:
    """The folders searched for `dataset`'s IDX files, first match wins."""
    name, data_dir = _TORCHVISION_NAME[dataset], Path(data_dir)
    return [data_dir / name / "raw", data_dir, *_SYSTEM_DIRS[dataset]]


def locate(dataset: str, data_dir: str | Path) -> Path | None:
    """The first folder that holds all four IDX files of `dataset`, or None."""
    for folder in candidate_dirs(dataset, data_dir):
        if all(_find(folder, stem) for pair in _FILES.values() for stem in pair):
            return folder
    return None


def incomplete(dataset: str, data_dir: str | Path) -> tuple[Path, list[str]] | None:
    """The first searched folder holding some of `dataset`'s four IDX files but not all, with the
    missing ones' names; None when every folder holds all of them or none."""
    for folder in candidate_dirs(dataset, data_dir):
        stems = [stem for pair in _FILES.values() for stem in pair]
        missing = [stem for stem in stems if _find(folder, stem) is None]
        if 0 < len(missing) < len(stems):
            return folder, missing
    return None


def check_complete(dataset: str, data_dir: str | Path, argument: str = "data_dir") -> None:
    """Refuse a folder that holds part of the dataset: the user's files are never silently replaced by
    the shipped sample, and the missing files are named.

    Raises:
        FileNotFoundError: naming the folder and the missing files.
    """
    found = incomplete(dataset, data_dir)
    if found is not None:
        folder, missing = found
        raise FileNotFoundError(
            f"{argument}: {str(folder)!r} holds some of the {dataset} IDX files but not "
            f"{', '.join(m + '[.gz]' for m in missing)}; add them (or point {argument} at a folder with all four)"
        )


def mnist_or_sample(data_dir: str | Path, why: str = "", note: Callable[[str], None] | None = None) -> Path:
    """The folder of MNIST's IDX files under `data_dir`, else the sample shipped in the package, saying so.

    Args:
        data_dir: searched as in `locate`.
        why: added after "MNIST not found under <data_dir>" (e.g. " and the download failed").
        note: receives the one-line message when the sample is used; default: a `UserWarning`.
    """
    found = locate("mnist", data_dir)
    if found is not None:
        return found
    check_complete("mnist", data_dir)  # the sample stands in only for a folder with no MNIST file at all
    message = (
        f"MNIST not found under {data_dir}{why}: using the real-MNIST sample shipped with gan_lightning "
        f"({SAMPLE_DIR}: 6,000 training and 2,000 test digits, 10% of MNIST); for full MNIST, put its four IDX "
        f"files in {Path(data_dir) / 'MNIST' / 'raw'} (training with data.download: true fetches them there)"
    )
    if note is None:
        warnings.warn(message, stacklevel=3)
    else:
        note(message)
    return SAMPLE_DIR


def load_split(folder: str | Path, split: str) -> tuple[torch.Tensor, torch.Tensor]:
    """Images (N, 28, 28) uint8 and labels (N,) int64 of one split from a folder of IDX files."""
    folder = Path(folder)
    image_stem, label_stem = _FILES[split]
    image_file, label_file = _find(folder, image_stem), _find(folder, label_stem)
    if image_file is None or label_file is None:
        raise FileNotFoundError(f"No {split} IDX files ({image_stem}[.gz], {label_stem}[.gz]) in {folder}")
    images, labels = read_idx(image_file, 3), read_idx(label_file, 1)
    check_values(image_file, images, label_file, labels)
    if len(images) != len(labels):
        raise ValueError(
            f"{image_file.name} holds {len(images)} images but {label_file.name} holds "
            f"{len(labels)} labels (folder {folder}); the two files must come from the same split"
        )
    return torch.from_numpy(images.copy()), torch.from_numpy(labels.astype("int64"))


def check_values(image_file: Path, images: np.ndarray, label_file: Path, labels: np.ndarray) -> None:
    """The IDX files hold what the data is: 28 x 28 images and digit labels 0..9 (both datasets have ten
    classes). A label of 200 would otherwise reach the one-hot encoding mid-training as an index error."""
    if images.shape[1:] != IMAGE_SHAPE:
        raise BadFileError(
            f"IDX file {image_file} holds images of {images.shape[1]} x {images.shape[2]} pixels; "
            f"MNIST and Fashion-MNIST images are {IMAGE_SHAPE[0]} x {IMAGE_SHAPE[1]}"
        )
    if labels.size and labels.max() >= NUM_CLASSES:
        where = int(np.argmax(labels >= NUM_CLASSES))
        raise BadFileError(
            f"IDX file {label_file} holds label {int(labels[where])} (at index {where}); labels must be "
            f"the digits 0..{NUM_CLASSES - 1}"
        )


def resolve_source(dataset: str, data_dir: Path, download: bool) -> Path:
    """The folder the data module reads `dataset` from: its IDX files under `data_dir`, else a
    torchvision download into it (`download`), else for MNIST the shipped sample (with a warning).

    Raises:
        ValueError: `data_dir` is a file, or (downloading) not writable.
        FileNotFoundError: Fashion-MNIST found nowhere, or a folder holds some of the files but not all
            (and the download did not complete them).
    """
    # A data_dir that is (or lies under) a file can hold no IDX files: say so instead of falling back to the sample.
    existing = next(p for p in (data_dir, *data_dir.absolute().parents) if p.exists())
    if not existing.is_dir():
        given = "a file" if existing == data_dir else f"a path under the file {str(existing)!r}"
        raise ValueError(
            "data.data_dir must be a folder (searched for the IDX files, or downloaded into), "
            f"got {str(data_dir)!r}, {given}"
        )
    found = locate(dataset, data_dir)
    if found is not None:
        return found
    if download:
        # Asked to download into a folder that cannot hold it: say so instead of silently
        # falling back to the sample.
        check_writable(data_dir, "data.data_dir (data.download is true)")
        found = try_download(dataset, data_dir)
        if found is not None:
            return found
    check_complete(dataset, data_dir, "data.data_dir")
    if dataset == "mnist":
        return mnist_or_sample(data_dir, " and the download failed" if download else "")
    hint = " or `apt-get install dataset-fashion-mnist`" if dataset == "fashion_mnist" else ""
    searched = ", ".join(map(str, candidate_dirs(dataset, data_dir)))
    raise FileNotFoundError(
        f"dataset {dataset!r}: no IDX files in {searched}"
        f"{' and the download failed' if download else ' (download is off)'}; "
        f"set data.download: true with network access{hint}"
    )


def try_download(dataset: str, data_dir: Path) -> Path | None:
    """torchvision's download of both splits into `data_dir`; None (with a warning) if it fails."""
    from torchvision import datasets

    cls = {"mnist": datasets.MNIST, "fashion_mnist": datasets.FashionMNIST}[dataset]
    try:
        for train in (True, False):
            cls(str(data_dir), train=train, download=True)
    except Exception as err:  # no network, a mirror down, an unwritable folder: fall back
        log.warning("Download of %s into %s failed: %s", dataset, data_dir, err)
        return None
    return locate(dataset, data_dir)
