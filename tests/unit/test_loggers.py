"""The W&B logger: credentials, the offline fallback, run folders, and a real offline run on disk."""

import os
import sys
from pathlib import Path

import pytest

from gan_lightning.loggers import WandbLogger, has_wandb_credentials
from gan_lightning.reliability.runs import claim_version_dir, find_last_checkpoint, fresh_path

FALLBACK = "W&B: no credentials found"


def test_credentials_come_from_the_environment_or_netrc(no_credentials, monkeypatch):
    assert not has_wandb_credentials()
    netrc = no_credentials / ".netrc"
    netrc.write_text("machine example.org login user password secret\n")
    netrc.chmod(0o600)
    assert not has_wandb_credentials()  # a key for another host does not count
    netrc.write_text("machine api.wandb.ai login user password 0123456789abcdef\n")
    assert has_wandb_credentials()
    netrc.unlink()
    monkeypatch.setenv("WANDB_API_KEY", "0123456789abcdef")
    assert has_wandb_credentials()


def test_missing_wandb_package_is_a_one_line_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "wandb", None)  # makes `import wandb` fail
    with pytest.raises(ModuleNotFoundError, match=r"pip install wandb, or log elsewhere with --config logger/"):
        WandbLogger()


def test_each_logger_claims_its_own_version_folder(tmp_path):
    (tmp_path / "lightning_logs" / "version_3").mkdir(parents=True)
    first, second = WandbLogger(save_dir=str(tmp_path)), WandbLogger(save_dir=str(tmp_path))
    assert Path(first.save_dir) == tmp_path / "lightning_logs" / "version_4"
    assert Path(second.save_dir) == tmp_path / "lightning_logs" / "version_5"
    assert first.name == first.version == ""  # so Lightning puts checkpoints in <run folder>/checkpoints


def test_run_folder_helpers(tmp_path):
    assert claim_version_dir(tmp_path).name == "version_0"
    assert claim_version_dir(tmp_path).name == "version_1"
    assert find_last_checkpoint(tmp_path) is None
    for i, name in enumerate(["version_0", "version_1"]):
        ckpt = tmp_path / name / "checkpoints" / "last.ckpt"
        ckpt.parent.mkdir()
        ckpt.write_bytes(b"x")
        # newest by modification time, whatever the folder name says
        os.utime(ckpt, (1000 - i * 10, 1000 - i * 10))
    assert find_last_checkpoint(tmp_path) == tmp_path / "version_0" / "checkpoints" / "last.ckpt"
    (tmp_path / "a.png").write_bytes(b"")
    assert fresh_path(tmp_path / "a.png").name == "a-1.png"
    assert fresh_path(tmp_path / "b.png").name == "b.png"


def test_no_credentials_falls_back_to_offline_with_one_line(no_credentials, tmp_path, capfd):
    logger = WandbLogger(save_dir=str(tmp_path / "runs"))
    run = logger.experiment
    assert run.settings.mode == "offline"
    err = capfd.readouterr().err
    assert err.count(FALLBACK) == 1
    sync_dir = Path(run.dir).parent
    assert f"wandb sync {sync_dir}" in err
    assert sync_dir.parent == tmp_path / "runs" / "lightning_logs" / "version_0" / "wandb"


def test_an_explicit_mode_is_respected_without_the_fallback_line(no_credentials, tmp_path, monkeypatch, capfd):
    monkeypatch.setenv("WANDB_MODE", "offline")
    run = WandbLogger(save_dir=str(tmp_path)).experiment
    assert run.settings.mode == "offline"
    assert FALLBACK not in capfd.readouterr().err
