"""`gan-lightning fit`, `test` and `predict` on every system config, through the real CLI."""

import re
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

from gan_lightning.commands.cli import main, run_cli
from gan_lightning.commands.generate import generate_images, load_model
from gan_lightning.modules import model_class
from tests.helpers import SYSTEM_CONFIGS

ROOT = Path(__file__).resolve().parents[2]
CONFIGS = SYSTEM_CONFIGS
TEST_METRICS = {"test/fid", "test/kid", "test/is", "test/modes", "test/kl_uniform"}  # diversity: needs 2 per digit


def _common(config: Path, tmp_path: Path) -> list[str]:
    batch = min(yaml.safe_load(config.read_text())["data"]["batch_size"], 32)  # batch-1 configs keep their 1
    return [
        "--config",
        str(config),
        "--trainer.enable_progress_bar=false",
        f"--trainer.default_root_dir={tmp_path / 'runs'}",
        f"--data.data_dir={tmp_path / 'data'}",
        "--data.download=false",
        f"--data.batch_size={batch}",
    ]


def _fit(config: Path, tmp_path: Path) -> Path:
    # "limit_train_batches=1" would read as 1.0, the whole epoch
    fit = ["--trainer.max_epochs=1", "--trainer.limit_train_batches=2", "--trainer.limit_val_batches=0"]
    main(["fit", *_common(config, tmp_path), *fit])
    (last,) = (tmp_path / "runs").rglob("last.ckpt")
    return last


@pytest.mark.parametrize("config", CONFIGS, ids=lambda p: p.stem)
def test_every_config_fits_tests_and_predicts(config, tmp_path, capsys):
    # fit: two batches (at most 32 digits each), a checkpoint of the config's model class, the run's config.yaml
    last = _fit(config, tmp_path)
    shipped = yaml.safe_load(config.read_text())
    cls = model_class(shipped["model"]["class_path"])
    model = cls.load_from_checkpoint(last, map_location="cpu")
    assert type(model) is cls
    size = shipped["data"]["image_size"]
    assert model.sample(3, generator=torch.Generator().manual_seed(0)).shape == (3, 1, size, size)
    assert len(list((tmp_path / "runs").rglob("config.yaml"))) == 1  # SaveConfigCallback wrote the run's config

    cli = run_cli(["test", *_common(config, tmp_path), "--trainer.limit_test_batches=2", "--ckpt_path=last"])
    metrics = cli.trainer.callback_metrics
    conditional = "ConditionalGAN" in config.read_text()
    assert TEST_METRICS | ({"test/class_acc"} if conditional else set()) <= metrics.keys()
    assert all(np.isfinite(float(metrics[k])) for k in TEST_METRICS)

    run_cli(
        [
            "predict",
            *_common(config, tmp_path),
            "--data.predict_n_per_digit=2",
            "--data.predict_n=6",
            "--ckpt_path=last",
        ]
    )
    (png,) = (tmp_path / "runs").rglob("predictions/samples.png")
    (npz,) = (tmp_path / "runs").rglob("predictions/samples.npz")
    assert f"to {png}, {npz}" in capsys.readouterr().out
    saved = np.load(npz)
    assert saved["images"].shape == ((20 if conditional else 6), 1, size, size)
    # The same images `generate` draws from the same checkpoint and seed.
    counts = {"n_per_digit": 2} if conditional else {"n": 6}
    images, labels = generate_images(load_model(last), seed=0, **counts)
    assert np.array_equal(saved["labels"], labels.numpy())
    assert np.abs(saved["images"] - images.numpy()).max() < 1e-5


def test_test_scores_the_checkpoint_not_fresh_weights(tmp_path):
    config = ROOT / "configs" / "gan_mlp.yaml"
    last = _fit(config, tmp_path)
    args = [*_common(config, tmp_path), "--trainer.limit_test_batches=2"]
    scored = run_cli(["test", *args, f"--ckpt_path={last}"]).trainer.callback_metrics["test/fid"]
    fresh = run_cli(["test", *args, "--seed_everything=1"]).trainer.callback_metrics["test/fid"]
    assert float(scored) != float(fresh)
    again = run_cli(["test", *args, "--ckpt_path=last"]).trainer.callback_metrics["test/fid"]
    assert float(again) == float(scored)  # `last`: the newest last.ckpt of earlier runs


def test_predict_writes_where_asked_and_keeps_existing_files(tmp_path, capsys):
    config = ROOT / "configs" / "cgan_mlp.yaml"
    _fit(config, tmp_path)
    out = tmp_path / "threes.png"
    writer = ["--trainer.callbacks+=gan_lightning.callbacks.SampleWriter", f"--trainer.callbacks.out={out}"]
    run_cli(["predict", *_common(config, tmp_path), "--data.predict_digits=[3]", "--ckpt_path=last", *writer])
    assert re.search(r"wrote 10 images \(digits \[3\]\) to .*threes\.png", capsys.readouterr().out)
    assert out.is_file() and not list((tmp_path / "runs").rglob("predictions"))
    cli = run_cli(["predict", *_common(config, tmp_path), "--ckpt_path=last"])
    assert cli.trainer.predict_loop.return_predictions is False  # the writer has them: none kept in memory
    run_cli(["predict", *_common(config, tmp_path), "--ckpt_path=last"])
    names = sorted(p.name for p in (tmp_path / "runs").rglob("predictions/*"))
    assert names == ["samples.npz", "samples.npz", "samples.png", "samples.png"]  # a folder per run


@pytest.mark.parametrize(
    "config, args, message",
    [
        ("gan_mlp", ["--data.predict_digits=[3]"], "data.predict_digits: this model is an unconditional GAN"),
        ("cgan_mlp", ["--data.predict_digits=[12]"], r"predict_digits must be digits in 0..9, got \[12\]"),
        ("cgan_mlp", ["--data.predict_n_per_digit=0"], "predict_n_per_digit must be a positive integer, got 0"),
        ("gan_mlp", ["--ckpt_path=last"], "ckpt_path: 'last' found no last.ckpt under"),
    ],
    ids=["digits-for-gan", "digit-12", "zero-per-digit", "no-last"],
)
def test_predict_bad_input_is_one_line(config, args, message, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["predict", *_common(ROOT / "configs" / f"{config}.yaml", tmp_path), *args])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    # Lightning's own set-up lines (seed, accelerators) may come first, as they do on the terminal.
    assert re.search(message, err[-1]) and [line for line in err if "error" in line.lower()] == err[-1:], err
    assert not any("Traceback" in line for line in err)


def test_cpu_noise_is_sample_z_for_both_noises():
    from gan_lightning import GAN
    from gan_lightning.commands.generate import cpu_noise

    for noise in ("normal", "uniform"):
        model = GAN(arch="mlp", noise=noise, latent_dim=7)
        a = cpu_noise(model, 5, torch.Generator().manual_seed(1))
        b = model.sample_z(5, torch.Generator().manual_seed(1))
        assert torch.equal(a, b)
