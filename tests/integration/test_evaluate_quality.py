"""`evaluate` reports precision/recall/density/coverage always and the Classification Accuracy Score on request."""

import json

import pytest

from gan_lightning import GAN, ConditionalGAN, MNISTDataModule, SelfConditionedGAN
from gan_lightning.commands.cli import main
from tests.helpers import tiny_trainer

TINY = dict(ngf=8, ndf=8, latent_dim=16)


def _checkpoint(tmp_path, cls, **kwargs):
    model = cls(**TINY, **kwargs)
    trainer = tiny_trainer(tmp_path, limit_train_batches=1)
    indices = cls is SelfConditionedGAN  # it looks its clusters up by image index
    trainer.fit(model, MNISTDataModule(data_dir=str(tmp_path / "data"), download=False, batch_size=16, indices=indices))
    path = tmp_path / f"{cls.__name__}.ckpt"
    trainer.save_checkpoint(path)
    return path


def test_evaluate_adds_cas_and_its_ceiling(tmp_path, capsys):
    ckpt = _checkpoint(tmp_path, ConditionalGAN)
    main(["evaluate", "--ckpt_path", str(ckpt), "--n_samples", "200", "--data_dir", str(tmp_path), "--cas",
          "--cas_epochs", "1"])  # fmt: skip
    out = json.loads(capsys.readouterr().out)
    for key in ("precision", "recall", "density", "coverage", "cas", "cas_real"):
        assert isinstance(out[key], float), key
    assert out["cas_train_size"] == 200 and out["cas_real_train_size"] == 200 and out["cas_epochs"] == 1
    assert out["precision"] < 0.2 and out["cas"] < 0.3  # one batch of training: noise, which teaches nothing


def test_evaluate_measures_a_self_conditioned_models_clusters_against_the_digits(tmp_path, capsys):
    ckpt = _checkpoint(tmp_path, SelfConditionedGAN, clusters=5)
    main(["evaluate", "--ckpt_path", str(ckpt), "--n_samples", "200", "--data_dir", str(tmp_path)])
    out = json.loads(capsys.readouterr().out)
    # One batch of training draws much the same blur for every cluster: the classifier reads a few digits.
    assert 0.1 <= out["sample_cluster_purity"] <= 1 and 0 <= out["sample_cluster_nmi"] <= 1
    assert out["model"] == "SelfConditionedGAN" and "cas" not in out


def test_evaluate_without_cas_has_the_manifold_metrics_only(tmp_path, capsys):
    main(["evaluate", "--real", "test_half", "--n_samples", "300", "--data_dir", str(tmp_path)])
    out = json.loads(capsys.readouterr().out)
    assert "cas" not in out
    assert out["precision"] > 0.6 and out["recall"] > 0.6 and out["coverage"] > 0.6  # real vs real digits


@pytest.mark.parametrize(
    "args, message",
    [
        (["--cas_epochs", "2"], "--cas_epochs sets the training of --cas, which is off; add --cas, got --cas_epochs 2"),
        (["--cas", "--cas_epochs", "0"], "cas_epochs must be a positive integer, got 0"),
        (["--truncation", "0.8"], "truncation: --real scores real digits, which are drawn from no noise; got 0.8"),
        (["--truncation", "-1"], "truncation must be a number in (0, 1], got -1.0"),
    ],
    ids=["cas_off", "bad_epochs", "truncation_real", "truncation_negative"],
)
def test_cas_flag_errors(args, message, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["evaluate", "--real", "--n_samples", "100", "--data_dir", str(tmp_path), *args])
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err.strip().splitlines()[-1]


def test_cas_needs_a_conditional_model(tmp_path, capsys):
    ckpt = _checkpoint(tmp_path, GAN)
    with pytest.raises(SystemExit) as exit_info:
        main(["evaluate", "--ckpt_path", str(ckpt), "--n_samples", "100", "--data_dir", str(tmp_path), "--cas"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert "cas: the Classification Accuracy Score needs a conditional model" in err and "holds a GAN" in err


def test_evaluate_scores_truncated_samples(tmp_path, capsys):
    ckpt = _checkpoint(tmp_path, GAN)
    outs = {}
    for psi in ("1", "0.5"):
        main(
            [
                "evaluate",
                "--ckpt_path",
                str(ckpt),
                "--n_samples",
                "100",
                "--data_dir",
                str(tmp_path),
                "--truncation",
                psi,
            ]
        )
        outs[psi] = json.loads(capsys.readouterr().out)
    assert outs["1"]["truncation"] == 1.0 and outs["0.5"]["truncation"] == 0.5
    assert outs["1"]["fid"] != outs["0.5"]["fid"]  # the same seed, other noise: other samples
