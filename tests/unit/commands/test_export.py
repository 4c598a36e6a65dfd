"""`gan-lightning export`: ONNX files that onnxruntime runs to PyTorch's images, Hub folders that load
back and carry the checkpoint's run and measured metrics, and one-line errors for bad input."""

import json
import re
from pathlib import Path

import numpy as np
import onnxruntime
import pytest
import torch

from gan_lightning import GAN, ConditionalGAN, SelfConditionedGAN
from gan_lightning.commands.cli import main
from gan_lightning.commands.generate import load_model
from tests.helpers import save_checkpoint


@pytest.fixture(scope="module")
def ckpts(tmp_path_factory) -> dict[str, Path]:
    tmp = tmp_path_factory.mktemp("export")
    torch.manual_seed(0)
    models = {
        "cgan_dcgan": ConditionalGAN(
            arch="dcgan", ngf=8, ndf=8, conditioning="projection", d_norm="none", spectral_norm=True, ema_decay=0.9
        ),
        "gan_mlp": GAN(arch="mlp", g_hidden=[32, 64], d_hidden=[32], g_norm="batchnorm", latent_dim=16),
        "cgan_mlp_embedding": ConditionalGAN(
            arch="mlp", conditioning="embedding", embed_dim=6, g_hidden=[32], d_hidden=[32], g_output="sigmoid"
        ),
        "selfcond": SelfConditionedGAN(ngf=8, ndf=8, clusters=4, ema_decay=0.9),
    }
    models["selfcond"].cluster_cdf = torch.tensor([0.1, 0.5, 0.6, 1.0])  # uneven shares: the graph must keep them
    return {name: save_checkpoint(tmp, model, f"{name}.ckpt") for name, model in models.items()}


@pytest.mark.parametrize("name", ["cgan_dcgan", "gan_mlp", "cgan_mlp_embedding", "selfcond"])
def test_onnx_matches_pytorch_at_any_batch_size(ckpts, tmp_path, capsys, name):
    out = tmp_path / "g.onnx"
    main(["export", "--ckpt_path", str(ckpts[name]), "--format", "onnx", "--out", str(out)])
    assert re.search(r"onnxruntime max \|diff\| \d", capsys.readouterr().out)
    model = load_model(ckpts[name])
    session = onnxruntime.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    names = [i.name for i in session.get_inputs()]
    assert names == (["z", "labels"] if model.conditional else ["z"])
    assert [o.name for o in session.get_outputs()] == ["images"]
    for n in (1, 7, 64):
        z = torch.randn(n, model.hparams.latent_dim, generator=torch.Generator().manual_seed(n))
        labels = torch.randint(0, 10, (n,), generator=torch.Generator().manual_seed(n))
        feed = {"z": z.numpy(), **({"labels": labels.numpy()} if model.conditional else {})}
        (images,) = session.run(None, feed)
        expected = model.decode(z, labels if model.conditional else None).numpy()
        assert images.shape == expected.shape == (n, 1, 28, 28)
        assert np.abs(images - expected).max() < 1e-4
        assert images.min() >= -1 and images.max() <= 1


def test_hf_folder_from_a_checkpoint_loads_back_with_its_run_and_metrics(ckpts, tmp_path, capsys):
    out = tmp_path / "hf"
    ckpt = ckpts["cgan_dcgan"]
    args = ["export", "--ckpt_path", str(ckpt), "--format", "hf", "--out", str(out), "--n_samples", "200"]
    main([*args, "--data_dir", str(tmp_path), "--name", "someone/tiny-cgan"])
    assert "metrics of 200 samples" in capsys.readouterr().out
    loaded = ConditionalGAN.from_pretrained(out)
    original = load_model(ckpt)
    z, labels = original.sample_z(8, torch.Generator().manual_seed(0)), torch.arange(8)
    assert (loaded.decode(z, labels) - original.decode(z, labels)).abs().max() < 2e-2  # fp16 weights
    config = json.loads((out / "config.json").read_text())
    training = config["gan_lightning"]["training"]
    assert training["checkpoint"] == "cgan_dcgan.ckpt" and training["optimizer steps (D + G)"] == 0
    (measured,) = config["gan_lightning"]["metrics"]
    assert measured["n_samples"] == 200 and measured["test_data"] == "shipped sample test split (2,000 digits)"
    assert measured["command"] == "gan-lightning evaluate --pretrained someone/tiny-cgan --n_samples 200 --seed 0"
    # The card's numbers are what `evaluate` gives for the folder's own weights.
    main(["evaluate", "--pretrained", str(out), "--n_samples", "200", "--data_dir", str(tmp_path)])
    again = json.loads(capsys.readouterr().out)
    assert again["fid"] == measured["values"]["fid"] and again["class_acc"] == measured["values"]["class_acc"]
    card = (out / "README.md").read_text()
    assert "| checkpoint | cgan_dcgan.ckpt |" in card and "| this model | shipped sample test split" in card


def test_hf_export_of_a_pretrained_folder_and_overwrite(ckpts, tmp_path, capsys):
    first = tmp_path / "first"
    main(["export", "--ckpt_path", str(ckpts["gan_mlp"]), "--format", "hf", "--out", str(first), "--n_samples", "0"])
    assert "Not measured" in (first / "README.md").read_text()
    # The folder is a Space too (served for real in tests/integration/test_demo.py).
    assert (first / "app.py").is_file() and (first / "requirements.txt").read_text().startswith("gan_lightning[demo]")
    assert "\nsdk: gradio\napp_file: app.py\n" in (first / "README.md").read_text()
    second = tmp_path / "second"
    second.mkdir()
    (second / "notes.txt").write_text("mine")
    main(["export", "--pretrained", str(first), "--format", "hf", "--out", str(second), "--n_samples", "0"])
    assert (second / "notes.txt").read_text() == "mine"  # files export does not write are left alone
    with pytest.raises(SystemExit) as exit_info:
        main(["export", "--pretrained", str(first), "--format", "hf", "--out", str(second), "--n_samples", "0"])
    assert exit_info.value.code == 2
    taken = "config.json, model.safetensors, README.md, sample.png, app.py, requirements.txt"
    assert f"already holds {taken}; pass --overwrite" in capsys.readouterr().err
    before = (second / "model.safetensors").read_bytes()
    main(
        [
            "export",
            "--pretrained",
            str(first),
            "--format",
            "hf",
            "--out",
            str(second),
            "--n_samples",
            "0",
            "--overwrite",
        ]
    )
    assert (second / "model.safetensors").read_bytes() == before  # fp16 -> fp32 -> fp16 changes nothing
    assert type(GAN.from_pretrained(second)) is GAN


@pytest.mark.parametrize(
    "extra, match",
    [
        (["--format", "onnx", "--out", "{tmp}/g.pt"], r"--format onnx writes one file ending in \.onnx"),
        (["--format", "onnx", "--out", "{tmp}/exists.onnx"], "already exists; pass --overwrite"),
        (["--format", "onnx", "--out", "{tmp}/g.onnx", "--n_samples", "10"], "--n_samples: only for --format hf"),
        (["--format", "hf", "--out", "{tmp}/exists.onnx"], "--format hf writes a folder, and .* is a file"),
        (["--format", "hf", "--out", "{tmp}/hf", "--n_samples", "-1"], r"n_samples must be >= 0 \(0: no metrics\)"),
        (["--format", "zip", "--out", "{tmp}/x"], "argument --format: invalid choice: 'zip'"),
    ],
    ids=["onnx-suffix", "onnx-exists", "onnx-hf-option", "hf-file", "negative-samples", "bad-format"],
)
def test_bad_input_is_one_line_with_exit_code_2(ckpts, tmp_path, capsys, extra, match):
    (tmp_path / "exists.onnx").write_bytes(b"")
    extra = [arg.format(tmp=tmp_path) for arg in extra]
    with pytest.raises(SystemExit) as exit_info:
        main(["export", "--ckpt_path", str(ckpts["gan_mlp"]), *extra])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("gan-lightning export: error: "), err
    assert re.search(match, err), err
    assert (tmp_path / "exists.onnx").read_bytes() == b""
