"""The model card (README.md) of a Hub-format model folder: what it is, how to use it, how it was
trained, what it scored and with which command. Rendered by `huggingface_hub.ModelCard` from the
template below; the tables are built here from the model's config and its `hub_info`."""

from __future__ import annotations

from typing import Any

from huggingface_hub import ModelCard, ModelCardData

TEMPLATE = """---
{{ card_data }}
---

# {{ title }}

{{ summary }}

![Samples, seed 0]({{ sample_image }})

## Use it

```bash
# with gan_lightning installed (it brings the `gan-lightning` command)
gan-lightning generate --pretrained {{ model_ref }} {{ generate_args }} --out samples.png
gan-lightning evaluate --pretrained {{ model_ref }}
gan-lightning export --pretrained {{ model_ref }} --format onnx --out generator.onnx
```

```python
import torch
from gan_lightning import {{ class_name }}

model = {{ class_name }}.from_pretrained("{{ model_ref }}")
{{ python_sample }}
```

`from_pretrained` takes a shipped name, this folder, or a Hugging Face Hub repo id (`owner/name`).
The weights are the generator that draws the samples ({{ weights }}), stored as float16 and loaded as
float32; the discriminator is not included: fine-tuning from here starts it afresh.

## Training

{{ training_table }}

## Model

{{ model_table }}

Every hyperparameter is in `config.json`.

## Metrics

{{ metrics_section }}

FID, KID, inception score and diversity are measured in the feature space of the MNIST classifier
shipped with gan_lightning, not Inception-v3: they compare models trained here, not numbers in papers.
`class acc` is the share of samples the classifier reads as the digit that was asked for, `modes` the
digits holding at least 5% of the samples, `KL uniform` how far the digit mix is from ten equal shares.

## Limitations

MNIST digits at {{ image_size }} px, grey-scale, nothing else. Samples of a GAN can be malformed;
the classifier's reading is a check, not a guarantee.
"""

# Hyperparameters worth a line in the card (all of them are in config.json).
_MODEL_KEYS = (
    "arch",
    "clusters",
    "cluster_features",
    "recluster_every",
    "conditioning",
    "class_weight",
    "image_size",
    "latent_dim",
    "noise",
    "ngf",
    "ndf",
    "g_hidden",
    "d_hidden",
    "loss",
    "spectral_norm",
    "optimizer",
    "lr_g",
    "lr_d",
    "betas",
    "ema_decay",
)
_METRIC_COLUMNS = (
    ("fid", "FID"),
    ("kid", "KID"),
    ("class_acc", "class acc"),
    ("modes", "modes"),
    ("kl_uniform", "KL uniform"),
    ("is", "IS"),
    ("diversity", "diversity"),
    ("sample_cluster_purity", "cluster purity"),
)


def _model_keys(hparams: dict) -> list[str]:
    """The card's model settings, without the other architecture's widths."""
    other = ("g_hidden", "d_hidden") if hparams.get("arch") == "dcgan" else ("ngf", "ndf")
    return [key for key in _MODEL_KEYS if key in hparams and key not in other]


def _table(rows: list[tuple[str, Any]], head: tuple[str, str] = ("", "")) -> str:
    lines = [f"| {head[0]} | {head[1]} |", "| --- | --- |"]
    lines += [f"| {key} | {value} |" for key, value in rows]
    return "\n".join(lines)


def _format(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4f}" if abs(value) < 10 else f"{value:.2f}"
    return str(value)


def metrics_section(metrics: list[dict] | None) -> str:
    """One table row per evaluation (`what`, `test_data`, `n_samples`, `values`), then the commands."""
    if not metrics:
        return (
            "Not measured for this folder. Measure it with "
            "`gan-lightning evaluate --pretrained <this folder> --n_samples 10000 --data_dir <MNIST folder>`."
        )
    names = [name for name, _ in _METRIC_COLUMNS]
    head = ["what", "test digits", "samples", *(title for _, title in _METRIC_COLUMNS)]
    lines = ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
    for entry in metrics:
        values = entry.get("values", {})
        cells = [entry.get("what", "this model"), entry.get("test_data", "?"), str(entry.get("n_samples", "?"))]
        cells += [_format(values[name]) if name in values else "-" for name in names]
        lines.append("| " + " | ".join(cells) + " |")
    commands = [entry["command"] for entry in metrics if entry.get("command")]
    if commands:
        lines += ["", "Measured with:", "", "```bash", *commands, "```"]
    return "\n".join(lines)


def model_card(hparams: dict, info: dict, model_ref: str, class_name: str, weights: str) -> ModelCard:
    """The card of a model with these hyperparameters; `info`: its `training` and `metrics` (may be empty)."""
    conditional = class_name == "ConditionalGAN"
    training = info.get("training") or {}
    kind = "class-conditional" if conditional else "unconditional"
    arch = "DCGAN" if hparams.get("arch") == "dcgan" else "MLP GAN"
    size = hparams.get("image_size", 28)
    summary = (
        f"{'An' if kind[0] in 'aeiou' else 'A'} {kind} {arch} generator of {size} px MNIST digits, "
        "trained with gan_lightning "
        "(GANs and conditional GANs on MNIST with PyTorch Lightning)."
    )
    if conditional:
        summary += " Ask for a digit (0-9), get that digit."
    if class_name == "SelfConditionedGAN":
        summary += (
            f" It is self-conditioned: trained on {hparams.get('clusters')} clusters that k-means found in its "
            f"training images ({hparams.get('cluster_features')}), without labels; it draws from noise alone, "
            "and `--cluster K` draws from one cluster. `cluster purity` is the share of samples that show "
            "their cluster's most common digit, as the classifier reads them."
        )
    data = ModelCardData(
        library_name="gan_lightning",
        license="apache-2.0",
        datasets=["mnist"],
        tags=["gan", "mnist", "pytorch-lightning", "image-generation", "conditional-gan" if conditional else "dcgan"],
        pipeline_tag=None if conditional else "unconditional-image-generation",
    )
    python_sample = (
        "images = model.sample(16, labels=torch.full((16,), 7))  # (16, 1, H, W) in [-1, 1], sevens"
        if conditional
        else "images = model.sample(16, generator=torch.Generator().manual_seed(0))  # (16, 1, H, W) in [-1, 1]"
    )
    return ModelCard.from_template(
        card_data=data,
        template_str=TEMPLATE,
        title=info.get("title") or f"gan_lightning {kind} MNIST generator ({model_ref})",
        summary=summary,
        sample_image="sample.png",
        model_ref=model_ref,
        class_name=class_name,
        generate_args="--digits 3 7" if conditional else "--n 64",  # a self-conditioned model: --cluster K too
        python_sample=python_sample,
        weights=weights,
        training_table=_table(list(training.items()), ("run", "")) if training else "Not recorded.",
        model_table=_table([(k, f"`{hparams[k]}`") for k in _model_keys(hparams)], ("setting", "value")),
        metrics_section=metrics_section(info.get("metrics")),
        image_size=size,
    )
