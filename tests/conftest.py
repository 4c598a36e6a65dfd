import os
import sys
import warnings

import pytest
import torch

# Tests run offline: never let a logger or dataset reach for the network. W&B logs nothing unless a
# test asks for its offline mode (tests/unit/test_loggers.py, tests/integration/test_tracking.py).
os.environ.setdefault("WANDB_MODE", "disabled")
os.environ.setdefault("WANDB_SILENT", "true")
torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))


@pytest.fixture(autouse=True, scope="session")
def _lightning_logs_to_pytest():
    """Lightning, when imported, sends its log to pytest's handlers if the root logger has any, and
    otherwise adds a handler bound to the stderr of that moment. Since the CLI loads Lightning late,
    the first import could happen in a test that captures stderr, leaving a handler on a closed
    stream for every test after it; imported here, with pytest's handlers in place, its log reaches
    caplog in every test, whatever ran first."""
    import lightning.pytorch  # noqa: F401

    yield


@pytest.fixture(autouse=True)
def _quiet_sample_warning():
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="MNIST not found under")
        yield


@pytest.fixture(autouse=True)
def _finish_wandb_run():
    """A W&B run left open by one test would be reused by the next test's WandbLogger."""
    yield
    wandb = sys.modules.get("wandb")
    if wandb is not None and getattr(wandb, "run", None) is not None:
        wandb.finish()


@pytest.fixture
def tiny_dm(tmp_path):
    """The shipped sample through the real data module, never downloading."""
    from gan_lightning import MNISTDataModule

    return MNISTDataModule(data_dir=str(tmp_path / "data"), download=False, batch_size=16)


@pytest.fixture
def no_credentials(tmp_path, monkeypatch):
    """An empty home folder and no W&B variables: what a fresh machine looks like (W&B's staging
    folder for offline artifacts then lies inside the test's folder too)."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    for var in ("WANDB_API_KEY", "WANDB_MODE", "WANDB_IDENTITY_TOKEN_FILE", "NETRC", "WANDB_BASE_URL"):
        monkeypatch.delenv(var, raising=False)
    return home
