"""The generators shipped in the package: small, loadable by name offline, usable from every command,
and their cards' numbers are what `gan-lightning evaluate --pretrained NAME` prints."""

import json
import re

import numpy as np
import pytest
import torch
from PIL import Image
from safetensors.torch import load_file

from gan_lightning import GAN, ConditionalGAN, SelfConditionedGAN
from gan_lightning.commands.cli import main
from gan_lightning.sharing.pretrained import ASSETS, PRETRAINED

NAMES = sorted(PRETRAINED)


@pytest.mark.parametrize("name", NAMES)
def test_shipped_folder_is_small_fp16_with_a_full_card(name):
    folder = ASSETS / name
    weights = folder / "model.safetensors"
    # A few MB at most: mnist-gan's generator reads a 400-way one-hot cluster at its input (6.2 MB in fp16).
    assert weights.stat().st_size < 7 * 2**20
    statistics = ("running", "cluster_cdf")  # BatchNorm's, and the cluster shares: float32, not weights
    dtypes = {t.dtype for k, t in load_file(str(weights)).items() if not any(s in k for s in statistics)}
    assert dtypes <= {torch.float16, torch.int64}
    card = (folder / "README.md").read_text()
    for needed in ("| budget | max_", "| data | MNIST: 10,000 real training digits", "| seed | seed_everything"):
        assert needed in card, needed
    assert f"gan-lightning evaluate --pretrained {name} --n_samples 10000" in card
    assert f"gan-lightning generate --pretrained {name}" in card
    config = json.loads((folder / "config.json").read_text())
    assert config["gan_lightning"]["weights"] == "ema generator"
    assert config["gan_lightning"]["training"]["config"].startswith(f"`{PRETRAINED[name][0]}`")


def test_from_pretrained_by_name():
    cgan = ConditionalGAN.from_pretrained("mnist-cgan")
    assert type(cgan) is ConditionalGAN and cgan.hub_info["name"] == "mnist-cgan"
    assert type(GAN.from_pretrained("mnist-gan")) is SelfConditionedGAN  # GAN loads any kind
    assert SelfConditionedGAN.from_pretrained("mnist-gan").label_count == 400
    assert type(GAN.from_pretrained("mnist-cgan")) is ConditionalGAN


def test_generate_the_requested_digits(tmp_path, capsys):
    out = tmp_path / "digits.png"
    main(["generate", "--pretrained", "mnist-cgan", "--digits", "3", "7", "--out", str(out)])
    assert "wrote 20 images (digits [3, 7], seed 0)" in capsys.readouterr().out
    assert Image.open(out).size == (10 * 30 + 2, 2 * 30 + 2)  # two rows of ten 28 px digits
    npz = tmp_path / "gan.npz"
    main(["generate", "--pretrained", "mnist-gan", "--n", "16", "--out", str(npz)])
    images = np.load(npz)["images"]
    assert images.shape == (16, 1, 28, 28) and images.min() >= -1 and images.max() <= 1 and images.std() > 0.1


@pytest.mark.parametrize(
    "command, match",
    [
        (["generate", "--pretrained", "mnist-gan", "--digits", "3"], "this model is an unconditional GAN"),
        (["generate", "--pretrained", "mnist-cgn"], r"'mnist-cgn' is not a shipped model \(mnist-cgan"),
        (["evaluate", "--pretrained", "mnist-cgn"], r"'mnist-cgn' is not a shipped model \(mnist-cgan"),
        (["export", "--pretrained", "mnist-cgn", "--format", "onnx"], r"'mnist-cgn' is not a shipped model"),
    ],
    ids=["digits-for-gan", "generate-unknown", "evaluate-unknown", "export-unknown"],
)
def test_unknown_or_unfit_use_is_one_line(command, match, tmp_path, capsys):
    out = ["--out", str(tmp_path / ("g.onnx" if "export" in command else "x.png"))] if command[0] != "evaluate" else []
    with pytest.raises(SystemExit) as exit_info:
        main([*command, *out])
    assert exit_info.value.code == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert re.search(match, line), line


@pytest.mark.parametrize("name", NAMES)
def test_card_metrics_are_what_evaluate_prints(name, tmp_path, capsys):
    # The card's shipped-sample row: what anyone gets offline right after installing (no data/ here).
    config = json.loads((ASSETS / name / "config.json").read_text())
    (row,) = [m for m in config["gan_lightning"]["metrics"] if m["test_data"].startswith("shipped sample")]
    main(["evaluate", "--pretrained", name, "--n_samples", str(row["n_samples"]), "--data_dir", str(tmp_path)])
    measured = json.loads(capsys.readouterr().out)
    for key, value in row["values"].items():
        # to the digits a card shows: the thread count changes float sums (KID) in the 6th digit
        assert measured[key] == pytest.approx(value, rel=1e-4, abs=1e-9), key
