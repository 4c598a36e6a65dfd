"""Sample-quality metrics inside `fit` (val/* keys, cached real side, best-FID checkpoint) and `evaluate`."""

import csv
import json
from pathlib import Path

import lightning as L
import pytest
import torch
from lightning.pytorch.callbacks import ModelCheckpoint

from gan_lightning import GAN, ConditionalGAN, MNISTDataModule
from gan_lightning.commands.cli import main
from tests.helpers import SYSTEM_CONFIGS, printed_config, tiny_trainer

ROOT = Path(__file__).resolve().parents[2]
TINY = dict(arch="dcgan", ngf=8, ndf=8, latent_dim=16)


def _dm(tmp_path, batch_size=32):
    return MNISTDataModule(data_dir=str(tmp_path / "data"), download=False, batch_size=batch_size)


class RealCount(L.Callback):
    """Records, after each validation epoch, how many real digits the metrics hold."""

    def __init__(self):
        self.counts = []

    def on_validation_epoch_end(self, trainer, pl_module):
        if not trainer.sanity_checking:
            self.counts.append(pl_module.quality.metrics.real_count)


@pytest.mark.parametrize("cls", [GAN, ConditionalGAN], ids=["gan", "cgan"])
def test_fit_logs_quality_metrics_and_keeps_best_fid(tmp_path, cls):
    model = cls(**TINY, metric_samples=96)
    ckpt = ModelCheckpoint(dirpath=tmp_path / "ckpt", monitor="val/fid", mode="min", save_top_k=1, save_last=True)
    counts = RealCount()
    trainer = tiny_trainer(
        tmp_path, max_epochs=2, limit_val_batches=4, enable_checkpointing=True, callbacks=[ckpt, counts]
    )
    trainer.fit(model, _dm(tmp_path))
    logged = trainer.callback_metrics
    keys = {"val/fid", "val/kid", "val/is", "val/modes", "val/kl_uniform", "val/diversity", "val/class_fid"}
    if cls is ConditionalGAN:
        keys.add("val/class_acc")
    assert keys <= set(logged), sorted(logged)
    assert all(torch.isfinite(logged[k]) for k in keys)
    assert logged["val/fid"] > 0 and 1 <= logged["val/is"] <= 10
    # 96 real digits per validation, cached at the first one and never fed again
    assert counts.counts == [96, 96]
    assert Path(ckpt.best_model_path).is_file() and ckpt.best_model_score is not None
    assert (tmp_path / "ckpt" / "last.ckpt").is_file()
    # the classifier stays out of the checkpoint
    state = torch.load(ckpt.best_model_path, map_location="cpu", weights_only=False)["state_dict"]
    assert not any("classifier" in k for k in state)


def test_metrics_leave_training_unchanged(tmp_path):
    """Validation samples with its own RNG: the same seed trains the same weights with metrics on or off."""
    weights = []
    for metrics in (True, False):
        L.seed_everything(0)
        model = GAN(**TINY, metrics=metrics, metric_samples=64)
        tiny_trainer(tmp_path / str(metrics), max_epochs=2, limit_val_batches=3).fit(model, _dm(tmp_path))
        weights.append(torch.cat([p.detach().flatten() for p in model.generator.parameters()]))
    assert torch.equal(weights[0], weights[1])


def test_metrics_off_means_no_validation_work(tmp_path):
    model = GAN(**TINY, metrics=False)
    trainer = tiny_trainer(tmp_path, limit_val_batches=2)
    trainer.fit(model, _dm(tmp_path))
    assert model.quality is None and not any(k.startswith("val/") for k in trainer.callback_metrics)


def test_model_metric_arguments_are_checked_at_the_door(tmp_path):
    with pytest.raises(ValueError, match="metric_samples must be a positive integer or None, got 0"):
        GAN(metric_samples=0)
    with pytest.raises(FileNotFoundError, match="inception_weights: no file at"):
        GAN(inception_weights=str(tmp_path / "missing.pth"))


def test_every_config_keeps_last_and_best_fid_checkpoints():
    for config in SYSTEM_CONFIGS:
        cfg = printed_config(config)  # the callbacks come from the shipped defaults stacked under it
        kinds = ("ModelCheckpoint", "BestCheckpoint")
        ckpts = [c["init_args"] for c in cfg["trainer"]["callbacks"] if c["class_path"].endswith(kinds)]
        best = [a for a in ckpts if a.get("monitor") == "val/fid"]
        last = [a for a in ckpts if a.get("save_last")]
        assert len(best) == 1 and (best[0]["mode"], best[0]["save_top_k"]) == ("min", 1), config.name
        assert len(last) == 1 and last[0].get("monitor") is None and last[0]["save_on_train_epoch_end"], config.name
        assert cfg["trainer"]["check_val_every_n_epoch"] >= 1, config.name


def test_config_run_keeps_a_fresh_last_and_the_best_fid_checkpoint(tmp_path):
    """3 epochs under the shipped ValidationBudget: the first and the last epoch validate, last.ckpt
    holds the final step, best-fid the validated epoch with the lowest val/fid."""
    main(
        [
            "fit",
            "--config",
            str(ROOT / "configs" / "gan_dcgan28.yaml"),
            "--config",
            str(ROOT / "configs" / "logger" / "csv.yaml"),
            "--trainer.max_epochs=3",
            "--trainer.limit_train_batches=2",  # "=1" would read as 1.0, the whole epoch
            "--trainer.limit_val_batches=2",
            "--trainer.enable_progress_bar=false",
            f"--trainer.default_root_dir={tmp_path / 'runs'}",
            f"--data.data_dir={tmp_path / 'data'}",
            "--data.download=false",
            "--data.batch_size=16",
            "--model.init_args.ngf=8",
            "--model.init_args.ndf=8",
        ]
    )
    (last,) = (tmp_path / "runs").rglob("last.ckpt")
    (best,) = (tmp_path / "runs").rglob("best-fid-*.ckpt")
    assert torch.load(last, map_location="cpu", weights_only=False)["global_step"] == 3 * 2 * 2  # D + G step per batch
    rows = list(csv.DictReader(next((tmp_path / "runs").rglob("metrics.csv")).open()))
    fid = {int(r["epoch"]): float(r["val/fid"]) for r in rows if r.get("val/fid")}
    assert 0 in fid and 2 in fid  # the budget's promises: the first epoch measures, the last is always scored
    assert f"epoch={min(fid, key=fid.get)}-" in best.name


@pytest.fixture(scope="module")
def cgan_ckpt(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("evaluate")
    model = ConditionalGAN(**TINY)
    trainer = tiny_trainer(tmp, limit_train_batches=1, enable_checkpointing=True)
    trainer.fit(model, _dm(tmp))
    path = tmp / "model.ckpt"
    trainer.save_checkpoint(path)
    return path


def test_evaluate_prints_all_metrics_as_json(cgan_ckpt, tmp_path, capsys):
    args = ["evaluate", "--ckpt_path", str(cgan_ckpt), "--n_samples", "300", "--data_dir", str(tmp_path), "--seed", "1"]
    main(args)
    out = json.loads(capsys.readouterr().out)
    for key in ("fid", "kid", "is", "modes", "kl_uniform", "class_acc", "diversity", "diversity_min", "class_fid"):
        assert isinstance(out[key], (int, float)), key
    assert out["n_fake"] == 300 and out["n_real"] == 2000  # the shipped sample's test split
    assert out["model"] == "ConditionalGAN" and out["seed"] == 1
    assert out["fid"] > 100 and out["class_acc"] < 0.5  # one batch of training: noise, not digits
    main(args)  # same seed, same samples, same numbers
    assert json.loads(capsys.readouterr().out)["fid"] == out["fid"]


@pytest.mark.parametrize("real", [["--real"], ["--real", "test_half"]], ids=["train", "test_half"])
def test_evaluate_real_digits_gives_the_floor(real, tmp_path, capsys):
    main(["evaluate", *real, "--n_samples", "1000", "--data_dir", str(tmp_path)])
    out = json.loads(capsys.readouterr().out)
    assert out["model"] == "real" and out["n_fake"] == 1000
    assert out["n_real"] == (1000 if "test_half" in real else 2000)
    assert out["class_acc"] > 0.97 and out["modes"] == 10 and 0.8 < out["diversity"] < 1.2
    assert out["fid"] < 40  # an untrained generator scores in the hundreds (see the test above)


@pytest.mark.parametrize(
    "args, message",
    [
        ([], "give one of a checkpoint (--ckpt_path), a pretrained model (--pretrained), or --real"),
        (["--real", "test_half", "--n_samples", "1001"], "n_samples: --real test_half has 1000 digits, got 1001"),
        (["--real", "--n_samples", "0"], "n_samples must be a positive integer, got 0"),
        (["--ckpt_path", "nowhere.ckpt"], "ckpt_path: no checkpoint at nowhere.ckpt"),
        (
            ["--real", "--n_samples", "100", "--inception_weights", "nowhere.pth"],
            "inception_weights: no file at nowhere.pth",
        ),
    ],
    ids=["no_source", "too_many_real", "bad_n", "missing_ckpt", "missing_inception"],
)
def test_evaluate_errors_are_one_line(args, message, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["evaluate", "--data_dir", str(tmp_path), *args])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert message in err
