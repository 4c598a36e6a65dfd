"""The W&B logger: credentials, the offline fallback, run folders, and a real offline run on disk."""

import os
import sys
from pathlib import Path

import pytest

from gan_lightning.loggers import WandbLogger, env_mode, has_wandb_credentials
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


@pytest.mark.parametrize("value", ["", "ofline", "Offline"])
def test_a_bad_wandb_mode_is_one_line_naming_it_before_any_run(value, tmp_path, monkeypatch):
    monkeypatch.setenv("WANDB_MODE", value)
    refused = rf"^WANDB_MODE must be one of online, offline, disabled, shared .*got '{value}'$"
    with pytest.raises(ValueError, match=refused):
        WandbLogger(save_dir=str(tmp_path))
    monkeypatch.setenv("WANDB_MODE", "disabled")
    with pytest.raises(ValueError, match=r"^mode must be one of online, .*got 'of'$"):
        WandbLogger(save_dir=str(tmp_path), mode="of")
    assert not (tmp_path / "lightning_logs").exists()  # refused before a run folder was claimed


@pytest.mark.parametrize("value", ["online", "offline", "disabled", "dryrun"])
def test_every_mode_wandb_knows_passes_the_check(value, monkeypatch):
    monkeypatch.setenv("WANDB_MODE", value)
    assert env_mode() == value


def test_fit_refuses_an_empty_wandb_mode_in_one_line(tmp_path, monkeypatch, capsys):
    from gan_lightning.commands.cli import main

    monkeypatch.setenv("WANDB_MODE", "")  # `WANDB_MODE= gan-lightning fit ...`
    root = tmp_path / "runs"
    with pytest.raises(SystemExit) as exit_info:
        main(["fit", "--config", "gan_mlp", f"--trainer.default_root_dir={root}", f"--data.data_dir={tmp_path}"])
    assert exit_info.value.code == 2
    lines = [line for line in capsys.readouterr().err.splitlines() if line.startswith("gan-lightning")]
    assert lines == ["gan-lightning: error: WANDB_MODE must be one of online, offline, disabled, shared (or the older "
                     "dryrun, run), got ''"]  # fmt: skip
    assert not list(root.rglob("*.ckpt"))
