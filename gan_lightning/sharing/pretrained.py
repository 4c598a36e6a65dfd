"""Pretrained generators shipped inside the package, by name, and where a `--pretrained` value points.

`--pretrained` (and `GAN.from_pretrained`) take one of:

- a name below (`mnist-cgan`, `mnist-gan`): a Hub-format folder under `assets/pretrained/`, offline;
- a local folder written by `save_pretrained` / `gan-lightning export --format hf`;
- a Hugging Face Hub repository id, ``owner/name`` (downloaded and cached by `huggingface_hub`).

Each shipped folder holds `config.json`, `model.safetensors` (fp16), `README.md` (the model card
with its training budget and measured metrics) and `sample.png`; `scripts/train_pretrained.py`
writes them.
"""

from __future__ import annotations

import re
from pathlib import Path

ASSETS = Path(__file__).parents[1] / "assets" / "pretrained"

# name -> (config it was trained with, one line on what it is)
PRETRAINED: dict[str, tuple[str, str]] = {
    "mnist-cgan": ("configs/cgan_dcgan28.yaml", "conditional DCGAN, 28 px: asks for a digit, draws that digit"),
    "mnist-gan": (
        "configs/gan_dcgan28_selfcond.yaml",
        "unconditional DCGAN, 28 px, self-conditioned on 400 clusters it found (no labels): draws any digit",
    ),
}
WEIGHTS_NAME = "model.safetensors"
SAMPLE_NAME = "sample.png"  # the grid a model folder shows
META_KEY = "gan_lightning"  # config.json's section that is not a hyperparameter
_REPO_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")


class PretrainedError(ValueError):
    """A `pretrained` value that names nothing loadable: one line, naming what is allowed."""


def known() -> str:
    return ", ".join(f"{name} ({what})" for name, (_, what) in PRETRAINED.items())


def resolve(source: str | Path, argument: str = "pretrained") -> str:
    """A local folder (as a string) for a shipped name or an existing folder, else a Hub repo id.

    Raises:
        PretrainedError: `source` is none of a shipped name, a model folder, or an ``owner/name`` repo id.
    """
    text = str(source)
    if text in PRETRAINED:
        folder = ASSETS / text
        if not (folder / WEIGHTS_NAME).is_file():  # a broken install, not the user's input
            raise PretrainedError(f"{argument}: the shipped model {text!r} is missing its weights in {folder}")
        return str(folder)
    path = Path(text).expanduser()
    if path.is_dir():
        missing = [name for name in ("config.json", WEIGHTS_NAME) if not (path / name).is_file()]
        if missing:
            raise PretrainedError(
                f"{argument}: folder {text!r} is not a gan_lightning model folder (no {' and no '.join(missing)}); "
                "write one with `gan-lightning export --format hf` or `model.save_pretrained(folder)`"
            )
        return str(path)
    if path.exists():
        raise PretrainedError(f"{argument}: {text!r} is a file; give a model folder, a shipped name or a repo id")
    if _REPO_ID.match(text):
        return text
    raise PretrainedError(
        f"{argument}: {text!r} is not a shipped model ({known()}), a model folder, or a Hub repo id (owner/name)"
    )
