"""`gan-lightning generate`: GAN and CGAN checkpoints, reproducibility, and a one-line error for each bad input."""

import os
import re
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
import torch
from lightning.pytorch.demos.boring_classes import BoringModel
from PIL import Image

from gan_lightning import GAN, ConditionalGAN, SelfConditionedGAN
from gan_lightning.commands.cli import main
from gan_lightning.commands.generate import generate_images, load_model, sample_inputs
from tests.helpers import save_checkpoint

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def ckpts(tmp_path_factory) -> dict[str, Path]:
    tmp = tmp_path_factory.mktemp("ckpts")
    torch.manual_seed(0)
    paths = {
        "cgan": save_checkpoint(
            tmp, ConditionalGAN(arch="mlp", g_hidden=[32], d_hidden=[32], latent_dim=8), "cgan.ckpt"
        ),
        "gan": save_checkpoint(tmp, GAN(arch="mlp", g_hidden=[32], d_hidden=[32], latent_dim=8), "gan.ckpt"),
        "selfcond": save_checkpoint(
            tmp, SelfConditionedGAN(ngf=8, ndf=8, latent_dim=8, clusters=4, metrics=False), "selfcond.ckpt"
        ),
        "boring": save_checkpoint(tmp, BoringModel(), "boring.ckpt"),  # a Lightning checkpoint, not ours
    }
    torch.save({"state_dict": {}, "hyper_parameters": {"lr": 0.1}}, tmp / "foreign_dict.ckpt")
    torch.save(torch.zeros(3), tmp / "tensor.pt")
    torch.save({"model": Fraction(1, 3)}, tmp / "pickled.ckpt")  # a Python object: weights-only loading refuses it
    (tmp / "garbage.ckpt").write_bytes(b"definitely not a zip archive" * 10)
    (tmp / "truncated.ckpt").write_bytes(paths["cgan"].read_bytes()[:4000])
    paths.update({name: tmp / f"{name}.ckpt" for name in ("foreign_dict", "garbage", "truncated", "pickled")})
    paths["tensor"] = tmp / "tensor.pt"
    return paths


def _generate(*args: str) -> None:
    main(["generate", *args])


def test_gan_and_cgan_are_told_apart_from_the_checkpoint(ckpts):
    assert type(load_model(ckpts["cgan"])) is ConditionalGAN
    assert type(load_model(ckpts["gan"])) is GAN


def test_self_conditioned_draws_from_noise_alone_or_from_one_cluster(ckpts, tmp_path):
    model = load_model(ckpts["selfcond"])
    assert type(model) is SelfConditionedGAN
    everything, labels = generate_images(model, n=8, seed=3)
    assert labels.tolist() == [-1] * 8  # no digits: an unconditional model
    assert torch.equal(everything, generate_images(model, n=8, seed=3)[0])
    one, _ = generate_images(model, n=8, seed=3, cluster=2)
    z = sample_inputs(model, n=8, seed=3)[0]
    assert torch.equal(everything, model.decode(z, model.clusters_of(z)))  # each noise through its own cluster
    in_two = model.noise_in_clusters(torch.full((8,), 2), torch.Generator().manual_seed(3))
    assert torch.equal(one, model.decode(in_two)) and not torch.equal(one, everything)
    _generate("--ckpt_path", str(ckpts["selfcond"]), "--n", "4", "--cluster", "1", "--out", str(tmp_path / "c.npz"))
    assert np.load(tmp_path / "c.npz")["images"].shape == (4, 1, 28, 28)


@pytest.mark.parametrize(
    ("source", "cluster", "message"),
    [
        ("gan", 1, "cluster: only a SelfConditionedGAN has clusters, this model is an unconditional GAN"),
        ("selfcond", 4, r"cluster must be in 0..3 \(the model's clusters\), got 4"),
        ("selfcond", -1, r"cluster must be in 0..3 \(the model's clusters\), got -1"),
    ],
)
def test_bad_cluster_is_one_line(ckpts, source, cluster, message):
    with pytest.raises(ValueError, match=message):
        generate_images(load_model(ckpts[source]), n=4, cluster=cluster)


def test_unconditional_png_and_npz(ckpts, tmp_path):
    _generate("--ckpt_path", str(ckpts["gan"]), "--n", "12", "--out", str(tmp_path / "g.png"))
    assert Image.open(tmp_path / "g.png").size == (4 * 30 + 2, 3 * 30 + 2)  # ceil(sqrt(12)) = 4 per row
    _generate("--ckpt_path", str(ckpts["gan"]), "--n", "5", "--out", str(tmp_path / "g.npz"))
    data = np.load(tmp_path / "g.npz")
    assert data["images"].shape == (5, 1, 28, 28) and data["labels"].tolist() == [-1] * 5


def test_same_seed_same_images_and_labels_as_asked(ckpts):
    model = load_model(ckpts["cgan"])
    a, labels = generate_images(model, digits=[3, 7], n_per_digit=4, seed=0)
    b, _ = generate_images(model, digits=[3, 7], n_per_digit=4, seed=0)
    c, _ = generate_images(model, digits=[3, 7], n_per_digit=4, seed=1)
    assert torch.equal(a, b) and not torch.allclose(a, c)
    assert labels.tolist() == [3, 3, 3, 3, 7, 7, 7, 7]


def test_truncation_pulls_the_noise_toward_its_mean(ckpts):
    model = load_model(ckpts["cgan"])
    plain, _ = generate_images(model, digits=[3], n_per_digit=4, seed=0)
    one, _ = generate_images(model, digits=[3], n_per_digit=4, seed=0, truncation=1.0)
    half, _ = generate_images(model, digits=[3], n_per_digit=4, seed=0, truncation=0.5)
    assert torch.equal(plain, one) and not torch.allclose(plain, half)  # 1 is off; below 1 changes the draw
    z, _ = sample_inputs(model, [3], 4, seed=0)
    z_half, _ = sample_inputs(model, [3], 4, seed=0, truncation=0.5)
    assert torch.allclose(z_half, 0.5 * z)  # normal noise: its mean is 0
    drawn = model.sample(4, torch.full((4,), 3), torch.Generator().manual_seed(0), truncation=0.5)
    assert torch.allclose(drawn, half)  # the module's own sampling draws the same truncated noise
    uniform = GAN(arch="mlp", g_hidden=[8], d_hidden=[8], latent_dim=6, noise="uniform")
    u = uniform.sample_z(5, torch.Generator().manual_seed(0))
    u_half = uniform.sample_z(5, torch.Generator().manual_seed(0), truncation=0.5)
    assert torch.allclose(u_half, 0.5 + 0.5 * (u - 0.5))  # uniform noise on [0, 1): its mean is 0.5


def test_overwrite_replaces_only_when_asked(ckpts, tmp_path):
    out = tmp_path / "x.png"
    out.write_bytes(b"keep me")
    with pytest.raises(SystemExit):
        _generate("--ckpt_path", str(ckpts["cgan"]), "--out", str(out))
    assert out.read_bytes() == b"keep me"
    _generate("--ckpt_path", str(ckpts["cgan"]), "--out", str(out), "--overwrite")
    assert Image.open(out).size == (302, 302)


@pytest.mark.parametrize(
    "ckpt, extra, match",
    [
        ("cgan", ["--digits", "3", "12"], r"digits must be in 0\.\.9, got \[12\]"),
        ("cgan", ["--digits", "-1"], r"digits must be in 0\.\.9, got \[-1\]"),
        ("gan", ["--digits", "3"], r"digits: this model is an unconditional GAN"),
        ("cgan", ["--n_per_digit", "0"], "n_per_digit must be a positive integer, got 0"),
        ("gan", ["--n", "-4"], "n must be a positive integer, got -4"),
        ("gan", ["--n_per_digit", "16"], r"n_per_digit: .* an unconditional GAN.*got n_per_digit=16"),
        ("cgan", ["--n", "64"], r"n: this model is a conditional GAN.*got n=64"),
        ("missing", [], "ckpt_path: no checkpoint file at"),
        ("garbage", [], "is not a readable PyTorch checkpoint"),
        ("truncated", [], "is not a readable PyTorch checkpoint"),
        ("boring", [], "is not a gan_lightning GAN/ConditionalGAN checkpoint"),
        ("foreign_dict", [], "is not a gan_lightning GAN/ConditionalGAN checkpoint"),
        ("tensor", [], "is not a gan_lightning GAN/ConditionalGAN checkpoint"),
        ("pickled", [], r"is not a gan_lightning checkpoint \(it holds pickled Python objects"),
        ("cgan", ["--out", "{tmp}/grid.jpg"], r"out must end in one of \('\.png', '\.npz'\), got"),
        ("cgan", ["--out", "{tmp}/exists.png"], "already exists; pass --overwrite to replace it"),
        ("cgan", ["--out", "{tmp}/a_file/grid.png"], "out: cannot create the folder"),
        ("cgan", ["--digits", "three"], "argument --digits: invalid int value: 'three'"),
        ("cgan", ["--truncation", "0"], r"truncation must be a number in \(0, 1\], got 0\.0"),
        ("gan", ["--truncation", "1.5"], r"truncation must be a number in \(0, 1\], got 1\.5"),
    ],
    ids=[
        "digit-12",
        "digit-negative",
        "digits-for-gan",
        "zero-count",
        "negative-count",
        "n_per_digit-for-gan",
        "n-for-cgan",
        "missing-file",
        "corrupt-file",
        "truncated-file",
        "lightning-not-ours",
        "dict-not-ours",
        "tensor-not-ours",
        "pickle-not-ours",
        "bad-suffix",
        "existing-output",
        "unwritable-dir",
        "not-a-number",
        "truncation-zero",
        "truncation-above-1",
    ],
)
def test_bad_input_is_one_line_with_exit_code_2(ckpts, tmp_path, capsys, ckpt, extra, match):
    (tmp_path / "exists.png").write_bytes(b"")
    (tmp_path / "a_file").write_bytes(b"")  # a file where the output folder should be
    path = str(ckpts.get(ckpt, tmp_path / "missing.ckpt"))
    extra = [arg.format(tmp=tmp_path) for arg in extra]
    out = [] if "--out" in extra else ["--out", str(tmp_path / "new.png")]
    with pytest.raises(SystemExit) as exit_info:
        _generate("--ckpt_path", path, *out, *extra)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("gan-lightning generate: error: "), err
    assert re.search(match, err), err
    assert not (tmp_path / "new.png").exists()


def test_console_error_has_no_traceback(ckpts, tmp_path):
    out = subprocess.run(
        [sys.executable, "-m", "gan_lightning", "generate", "--ckpt_path", str(ckpts["cgan"]), "--digits", "12"]
        + ["--out", str(tmp_path / "x.png")],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert out.returncode == 2
    assert out.stderr == "gan-lightning generate: error: digits must be in 0..9, got [12]\n"
