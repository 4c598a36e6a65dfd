"""Hugging Face Hub format for GAN / ConditionalGAN, through `huggingface_hub.ModelHubMixin`.

    model.save_pretrained("my-cgan")                 # a folder: the generator, its config, a card, a sample grid
    ConditionalGAN.from_pretrained("my-cgan")       # or a shipped name ("mnist-cgan"), or "owner/name" on the Hub
    model.push_to_hub("owner/my-cgan")               # needs `hf auth login` (or HF_TOKEN) and the network

The folder holds what a user of the model needs, nothing of the training run:

- `model.safetensors`: the generator that draws the samples (the EMA copy when the model keeps
  one, with the label encoder of a conditional model), float16 weights, float32 BatchNorm statistics;
- `config.json`: every hyperparameter (so `from_pretrained` rebuilds the same model) and, under
  ``gan_lightning``, the class, the weights' origin, and what is known of its training and metrics;
- `README.md`: the model card (`gan_lightning.sharing.card`), `sample.png`: 10 x 10 samples, seed 0.

A loaded model has the saved generator in both its live and its averaged copy, and a freshly
initialised discriminator: it samples, evaluates and exports like the trained one.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from huggingface_hub import ModelHubMixin, hf_hub_download
from safetensors.torch import save_file

from gan_lightning.kinds import model_class
from gan_lightning.reliability.checkpoints import STRUCTURE_KEYS, CheckpointError
from gan_lightning.reliability.inputs import BadFileError, read_json_object, read_safetensors, reason_of
from gan_lightning.sampling.images import generate_images, write_output
from gan_lightning.sharing import pretrained
from gan_lightning.sharing.card import model_card
from gan_lightning.sharing.pretrained import META_KEY, SAMPLE_NAME

FORMAT_VERSION = 1


def _jsonable(hparams: dict) -> dict:
    """Hyperparameters as JSON values: tuples as lists, private keys (the CLI's `_class_path`) dropped,
    and no machine-local file paths (`inception_weights`: a file on the training machine)."""
    out = {}
    for key, value in hparams.items():
        if key.startswith("_"):
            continue
        value = list(value) if isinstance(value, tuple) else value
        if key == "inception_weights":
            value = None
        json.dumps(value)  # TypeError naming the value: a hyperparameter the format cannot hold
        out[key] = value
    return out


class HubMixin(
    ModelHubMixin,
    library_name="gan_lightning",
    license="apache-2.0",
    tags=["gan", "mnist", "pytorch-lightning"],
):
    """`save_pretrained` / `from_pretrained` / `push_to_hub` for the GAN modules (see the module docstring)."""

    # -- what is saved ----------------------------------------------------------------------
    def sampling_modules(self) -> torch.nn.ModuleDict:
        """The `g_modules()`-shaped modules samples come from: the averaged copy when there is one."""
        return self.generator_ema.module if self.generator_ema is not None else self.g_modules()

    def sampling_state(self) -> dict[str, torch.Tensor]:
        """Tensors outside `sampling_modules()` that sampling needs (a self-conditioned model's cluster
        shares), saved beside the weights under these names."""
        return {}

    def load_sampling_state(self, state: dict[str, torch.Tensor]) -> None:
        """Take back what `sampling_state` saved."""

    @property
    def hub_info(self) -> dict[str, Any]:
        """What is known beyond the weights: ``training`` (budget, data, steps) and ``metrics``
        (a list of evaluations), saved into config.json and the card. Set by `from_pretrained`,
        `gan-lightning export` and `scripts/train_pretrained.py`; empty for a fresh model."""
        if getattr(self, "_hub_info", None) is None:
            self._hub_info = {}
        return self._hub_info

    def hub_config(self) -> dict[str, Any]:
        meta = {
            "model_class": type(self).__name__,
            "format_version": FORMAT_VERSION,
            "weights": "ema generator" if self.generator_ema is not None else "generator",
            "dtype": "float16",
        }
        meta.update({key: self.hub_info[key] for key in ("training", "metrics") if self.hub_info.get(key)})
        return {**_jsonable(dict(self.hparams)), META_KEY: meta}

    def _save_pretrained(self, save_directory: Path) -> None:
        modules = self.sampling_modules()
        buffers = {name for name, _ in modules.named_buffers()}
        state = {}
        for name, tensor in modules.state_dict().items():
            tensor = tensor.detach().cpu()
            if tensor.is_floating_point():  # weights halve; BatchNorm statistics keep their range
                tensor = tensor.float() if name in buffers else tensor.half()
            state[name] = tensor.contiguous()
        state.update({name: tensor.detach().cpu().contiguous() for name, tensor in self.sampling_state().items()})
        save_file(state, str(save_directory / pretrained.WEIGHTS_NAME), metadata={"format": "pt"})
        (save_directory / "config.json").write_text(json.dumps(self.hub_config(), indent=2) + "\n")
        # The grid is drawn from the weights as saved (float16), so it shows what a user will get.
        copy = type(self)._from_folder(save_directory, self.hub_config())
        images, labels = generate_images(copy, seed=0)  # 10 of each digit, or 100 images
        write_output(images, labels, save_directory / SAMPLE_NAME, nrow=10, overwrite=True)

    def generate_model_card(self, *args, **kwargs):
        model_ref = kwargs.pop("model_ref", None) or self.hub_info.get("name") or "path/to/this/folder"
        info = {**self.hub_info, **kwargs}
        weights = "an exponential moving average of the trained generator" if self.generator_ema is not None else ""
        return model_card(dict(self.hparams), info, model_ref, type(self).__name__, weights or "the trained generator")

    def push_to_hub(self, repo_id: str, *, model_card_kwargs: dict | None = None, **kwargs) -> str:
        """`ModelHubMixin.push_to_hub`, with the card's commands naming the repository."""
        card_kwargs = {"model_ref": repo_id, **(model_card_kwargs or {})}
        return super().push_to_hub(repo_id, model_card_kwargs=card_kwargs, **kwargs)

    # -- loading ------------------------------------------------------------------------------
    @classmethod
    def from_pretrained(cls, pretrained_model_name_or_path: str | Path, **kwargs):
        """A model from a shipped name (`gan_lightning.sharing.pretrained`), a folder or a Hub repo id, on
        the CPU in eval mode. `GAN.from_pretrained` loads either kind; `ConditionalGAN.from_pretrained`
        only a conditional one. Keyword arguments: `huggingface_hub`'s (`revision`, `cache_dir`,
        `local_files_only`, `token`) and non-structural hyperparameters (e.g. ``metric_samples``).

        Raises:
            ValueError: an unknown name, a folder that is not a model, a model of the other kind,
                a structural hyperparameter override, or a failed Hub download (one line each).
        """
        source = pretrained.resolve(pretrained_model_name_or_path)
        if Path(source).is_dir():  # huggingface_hub's json.load would say "Expecting value" and name no file
            read_json_object(Path(source) / "config.json", "pretrained")
        try:
            model = super().from_pretrained(source, **kwargs)
        except (pretrained.PretrainedError, CheckpointError, BadFileError):
            raise
        except Exception as err:  # the Hub: network, unknown repo, validation of the id
            if Path(source).is_dir():
                raise
            reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
            raise pretrained.PretrainedError(
                f"pretrained: {source!r} is not a local folder, and loading it from the Hugging Face Hub failed "
                f"({type(err).__name__}: {reason})"
            ) from None
        if str(pretrained_model_name_or_path) in pretrained.PRETRAINED:
            model.hub_info["name"] = str(pretrained_model_name_or_path)
        return model

    @classmethod
    def _from_pretrained(
        cls,
        *,
        model_id: str,
        revision: str | None,
        cache_dir: str | Path | None,
        force_download: bool,
        local_files_only: bool,
        token: str | bool | None,
        config: dict | None = None,
        **model_kwargs,
    ):
        if not config or not isinstance(config.get(META_KEY), dict):
            raise pretrained.PretrainedError(
                f"pretrained: {model_id!r} has no gan_lightning config.json (a `{META_KEY}` section)"
            )
        folder = Path(model_id)
        if not folder.is_dir():  # a Hub repo: fetch the weights next to the config, through the cache
            weights = hf_hub_download(
                model_id,
                pretrained.WEIGHTS_NAME,
                revision=revision,
                cache_dir=cache_dir,
                force_download=force_download,
                local_files_only=local_files_only,
                token=token,
            )
            folder = Path(weights).parent
        # huggingface_hub passes the config's values back as keyword arguments: keep real overrides only.
        overrides = {k: v for k, v in model_kwargs.items() if k not in config or config[k] != v}
        return cls._from_folder(folder, config, overrides, source=model_id)

    @classmethod
    def _from_folder(cls, folder: Path, config: dict, overrides: dict | None = None, source: str = ""):
        meta = config[META_KEY]
        saved = model_class(str(meta.get("model_class")))
        shown = Path(source or folder)
        where = f"pretrained {shown.name if shown.parent == pretrained.ASSETS else str(shown)!r}"
        if saved.__name__ != meta.get("model_class") or not issubclass(saved, cls):
            raise CheckpointError(
                f"{where} holds a {meta.get('model_class')} but {cls.__name__}.from_pretrained was asked; "
                f"load it with {meta.get('model_class')}.from_pretrained"
            )
        hparams = {k: v for k, v in config.items() if k != META_KEY}
        overrides = dict(overrides or {})
        for key in STRUCTURE_KEYS:  # settings the saved weights fix
            if key in overrides and key in hparams and overrides[key] != hparams[key]:
                raise CheckpointError(
                    f"{key}: {where} was saved with {key}={hparams[key]!r}, which its weights need; "
                    f"got {overrides[key]!r}"
                )
        try:
            model = saved(**{**hparams, **overrides})
        except (ValueError, TypeError) as err:
            if overrides:  # the caller's own keyword arguments may be what the model refuses: their error
                raise
            reason = reason_of(err)
            raise BadFileError(
                f"pretrained: {str(folder / 'config.json')!r} holds a value out of range ({reason})"
            ) from None
        state = read_safetensors(folder / pretrained.WEIGHTS_NAME, "pretrained")
        extra = {name: state.pop(name) for name in model.sampling_state() if name in state}
        model.load_sampling_state(extra)
        targets = [model.g_modules()] + ([model.generator_ema.module] if model.generator_ema is not None else [])
        for target in targets:
            reference = target.state_dict()
            try:
                target.load_state_dict({k: v.to(reference[k].dtype) if k in reference else v for k, v in state.items()})
            except RuntimeError as err:
                reason = reason_of(err)
                weights = str(folder / pretrained.WEIGHTS_NAME)
                raise CheckpointError(
                    f"{where}: the weights in {weights!r} do not fit its config.json ({reason})"
                ) from None
        model._hub_info = {key: meta[key] for key in ("training", "metrics") if key in meta}
        model._hub_info["source"] = source or str(folder)
        return model.eval()
