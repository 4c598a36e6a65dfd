"""The wheel works outside the clone: built, installed into a fresh virtual environment, run from a folder
that is not the repository, it draws with a shipped pretrained model and trains by config name."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def _run(cmd: list, cwd: Path, **env: str) -> str:
    done = subprocess.run(
        [str(c) for c in cmd], cwd=cwd, capture_output=True, text=True, env={**os.environ, **env}, timeout=300
    )
    assert done.returncode == 0, f"{cmd}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout


def _has_setuptools(major: int) -> bool:
    try:
        import setuptools
    except ImportError:
        return False
    return int(setuptools.__version__.split(".")[0]) >= major


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> tuple[Path, Path]:
    """(the fresh environment's bin folder, an empty working folder outside the repository)."""
    tmp = tmp_path_factory.mktemp("wheel")
    # No build isolation where this environment has the setuptools pyproject.toml asks for: no download.
    isolation = ["--no-build-isolation"] if _has_setuptools(69) else []
    _run([sys.executable, "-m", "pip", "wheel", ROOT, "--no-deps", *isolation, "-q", "-w", tmp / "dist"], tmp)
    (wheel,) = (tmp / "dist").glob("gan_lightning-*.whl")
    # The dependencies (torch, Lightning, ...) come from this environment; the package only from the wheel.
    _run([sys.executable, "-m", "venv", "--system-site-packages", tmp / "venv"], tmp)
    bin_dir = tmp / "venv" / "bin"
    _run([bin_dir / "python", "-m", "pip", "install", "--no-deps", "--no-index", "-q", wheel], tmp)
    work = tmp / "elsewhere"
    work.mkdir()
    return bin_dir, work


def test_the_wheel_is_what_runs_and_carries_every_config(installed):
    bin_dir, work = installed
    code = "import gan_lightning.commands.configs as c; print(c.__file__); print(' '.join(c.shipped_names()))"
    where, names = _run([bin_dir / "python", "-c", code], work).splitlines()
    assert Path(where).is_relative_to(bin_dir.parent) and not Path(where).is_relative_to(ROOT)
    in_clone = {p.relative_to(ROOT / "configs").with_suffix("").as_posix() for p in (ROOT / "configs").rglob("*.yaml")}
    assert set(names.split()) == {n for n in in_clone if n != "defaults" and not n.startswith("sweeps/")}
    assert (Path(where).parent.parent / "configs" / "sweeps" / "cgan_dcgan28.yaml").is_file()  # for `wandb sweep`


def test_generate_pretrained_and_fit_by_config_name_outside_the_clone(installed):
    bin_dir, work = installed
    _run([bin_dir / "gan-lightning", "generate", "--pretrained", "mnist-cgan", "--out", "grid.png"], work)
    assert (work / "grid.png").stat().st_size > 0
    _run(
        [bin_dir / "gan-lightning", "fit", "--config", "gan_mlp", "--config", "logger/csv",
         "--trainer.max_epochs=1", "--trainer.limit_train_batches=2", "--trainer.limit_val_batches=2",
         "--trainer.enable_progress_bar=false", "--data.data_dir=data", "--data.download=false"],
        work, WANDB_MODE="disabled",
    )  # fmt: skip
    assert len(list(work.rglob("last.ckpt"))) == 1 and list(work.rglob("metrics.csv"))
