"""Runs through the real CLI: the default W&B logger on a machine without credentials, the logger
presets, `--ckpt_path last`, and `generate` on the checkpoint a run left."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from gan_lightning.commands.cli import main
from tests.wandb_offline import config, history

ROOT = Path(__file__).resolve().parents[2]
CGAN = ROOT / "configs" / "cgan_dcgan28.yaml"


def _fit_args(root: Path, *extra: str, config_file: Path = CGAN) -> list[str]:
    return [
        "fit",
        "--config",
        str(config_file),
        *extra,
        "--trainer.max_epochs=1",
        "--trainer.limit_train_batches=2",
        "--trainer.log_every_n_steps=1",
        "--trainer.enable_progress_bar=false",
        f"--trainer.default_root_dir={root}",
        f"--data.data_dir={root / 'data'}",
        "--data.download=false",
        "--data.batch_size=16",
        "--model.init_args.ngf=8",  # small nets: these tests are about files, not digits
        "--model.init_args.ndf=8",
    ]


def _clean_env(home: Path) -> dict[str, str]:
    """The environment of a fresh machine: no W&B key, mode or login, an empty home folder."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("WANDB_") and k != "NETRC"}
    env["HOME"] = str(home)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
    return env


@pytest.fixture(scope="module")
def wandb_run(tmp_path_factory) -> Path:
    """One `fit` with the default (W&B) logger in a subprocess without credentials; its run folder."""
    tmp = tmp_path_factory.mktemp("no_credentials")
    (tmp / "home").mkdir()
    out = subprocess.run(
        [sys.executable, "-m", "gan_lightning", *_fit_args(tmp / "runs")],
        env=_clean_env(tmp / "home"),
        stdin=subprocess.DEVNULL,  # a prompt would read EOF (or hang, which the timeout turns into a failure)
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp,
    )
    output = out.stdout + out.stderr
    assert out.returncode == 0, output[-3000:]
    fallback = [line for line in output.splitlines() if line.startswith("W&B: no credentials found")]
    assert len(fallback) == 1, output[-3000:]
    run_dir = tmp / "runs" / "lightning_logs" / "version_0"
    (offline,) = (run_dir / "wandb").glob("offline-run-*")
    assert f"wandb sync {offline}" in fallback[0]
    return run_dir


def test_default_wandb_run_without_credentials_is_offline_with_images(wandb_run):
    (offline,) = (wandb_run / "wandb").glob("offline-run-*")
    (run_file,) = offline.glob("run-*.wandb")
    rows = history(run_file)
    assert len([r for r in rows if "train/d_loss_step" in r]) == 2
    assert len([r for r in rows if "train/g_loss_step" in r]) == 2
    images = [name for r in rows for name in r.get("samples/grid/filenames", [])]
    assert len(images) == 2 and all((offline / "files" / name).is_file() for name in images)
    assert any("samples/training/videos" in r for r in rows)  # the GIF
    cfg = config(run_file)
    assert cfg["cli"]["model"]["class_path"] == "gan_lightning.ConditionalGAN"  # the whole CLI config
    assert cfg["latent_dim"] == 100  # and the model's hyperparameters
    # everything of the run sits in its folder
    assert (wandb_run / "config.yaml").is_file()
    assert (wandb_run / "checkpoints" / "last.ckpt").is_file()
    assert len(list((wandb_run / "images").glob("grid_*.png"))) == 2
    assert (wandb_run / "images" / "training.gif").is_file() and (wandb_run / "loss_curves.png").is_file()


def test_tensorboard_preset_logs_images_and_leaves_pngs(tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import IMAGES, EventAccumulator

    main(_fit_args(tmp_path, "--config", str(ROOT / "configs" / "logger" / "tensorboard.yaml")))
    run_dir = tmp_path / "lightning_logs" / "version_0"
    events = EventAccumulator(str(run_dir), size_guidance={IMAGES: 0})
    events.Reload()
    assert {"samples/grid", "samples/interpolation"} <= set(events.Tags()["images"])
    assert len(list((run_dir / "images").glob("grid_*.png"))) == 2
    assert not (run_dir / "wandb").exists()


def test_csv_preset_and_ckpt_path_last_resume_the_newest_run(tmp_path):
    csv = ["--config", str(ROOT / "configs" / "logger" / "csv.yaml")]
    main(_fit_args(tmp_path, *csv))
    first = tmp_path / "lightning_logs" / "version_0"
    assert (first / "metrics.csv").is_file()
    # `last` finds version_0's checkpoint although the new run writes to version_1
    main([*_fit_args(tmp_path, *csv), "--ckpt_path", "last", "--trainer.max_epochs=2"])
    second = tmp_path / "lightning_logs" / "version_1"
    resumed = torch.load(second / "checkpoints" / "last.ckpt", weights_only=True)
    before = torch.load(first / "checkpoints" / "last.ckpt", weights_only=True)
    assert (before["epoch"], before["global_step"]) == (0, 4)
    assert (resumed["epoch"], resumed["global_step"]) == (1, 8)  # continued, not restarted
    key = "ImageGridLogger[grid]"
    assert torch.equal(resumed["callbacks"][key]["z"], before["callbacks"][key]["z"])


def test_no_logger_preset_writes_pngs_into_the_root(tmp_path, capsys):
    main(_fit_args(tmp_path, "--config", str(ROOT / "configs" / "logger" / "none.yaml")))
    grids = sorted((tmp_path / "images").glob("grid_*.png"))
    assert [p.name for p in grids] == ["grid_step=0000000.png", "grid_step=0000004.png"]
    assert Image.open(grids[-1]).size == (302, 302)
    assert (tmp_path / "checkpoints" / "last.ckpt").is_file() and (tmp_path / "loss_curves.png").is_file()
    # a second run into the same folder is refused (one line, exit 2) rather than overwriting the first one's files
    with pytest.raises(SystemExit) as info:
        main(_fit_args(tmp_path, "--config", str(ROOT / "configs" / "logger" / "none.yaml")))
    assert info.value.code == 2
    assert "already holds a run (config.yaml); nothing is overwritten" in capsys.readouterr().err
    # resuming it in place is the same run: it continues, and the first config stays as it was
    first_config = (tmp_path / "config.yaml").read_text()
    none = ("--config", str(ROOT / "configs" / "logger" / "none.yaml"))
    main([*_fit_args(tmp_path, *none), "--ckpt_path", "last", "--trainer.max_epochs=2"])
    resumed = torch.load(tmp_path / "checkpoints" / "last.ckpt", weights_only=True)
    assert (resumed["epoch"], resumed["global_step"]) == (1, 8)  # continued, not restarted
    assert (tmp_path / "config.yaml").read_text() == first_config
    assert "max_epochs: 2" in (tmp_path / "config-1.yaml").read_text()
    # predict (like validate and test) reads the run in place: its samples and its config go beside it
    main(["predict", *_fit_args(tmp_path, *none)[1:], "--ckpt_path", "last", "--data.predict_n_per_digit=1"])
    assert (tmp_path / "config.yaml").read_text() == first_config and (tmp_path / "config-2.yaml").is_file()
    assert (tmp_path / "predictions" / "samples.npz").is_file()


# -- generate on the checkpoint of the W&B run ---------------------------------------------------
def test_generate_png_and_npz_from_the_run(wandb_run, tmp_path, capsys):
    ckpt = str(wandb_run / "checkpoints" / "last.ckpt")
    png = tmp_path / "grid.png"
    main(["generate", "--ckpt_path", ckpt, "--digits", "3", "7", "--n_per_digit", "16", "--out", str(png)])
    assert "wrote 32 images (digits [3, 7], seed 0)" in capsys.readouterr().out
    assert Image.open(png).size == (16 * 30 + 2, 2 * 30 + 2)  # a row per digit, 16 columns

    npz = tmp_path / "all.npz"
    main(["generate", "--ckpt_path", ckpt, "--n_per_digit", "3", "--out", str(npz)])
    data = np.load(npz)
    assert data["images"].shape == (30, 1, 28, 28) and data["images"].dtype == np.float32
    assert data["images"].min() >= -1 and data["images"].max() <= 1
    assert data["labels"].tolist() == [d for d in range(10) for _ in range(3)]  # all ten digits by default


def test_generate_same_seed_same_images(wandb_run, tmp_path):
    ckpt = str(wandb_run / "checkpoints" / "last.ckpt")
    arrays = {}
    for name, seed in [("a", 0), ("b", 0), ("c", 1)]:
        out = str(tmp_path / f"{name}.npz")
        main(["generate", "--ckpt_path", ckpt, "--digits", "5", "--seed", str(seed), "--out", out])
        arrays[name] = np.load(tmp_path / f"{name}.npz")["images"]
    assert np.array_equal(arrays["a"], arrays["b"])
    assert not np.allclose(arrays["a"], arrays["c"])
