"""Small shared pieces for tests."""

import os
import re
import socket
from pathlib import Path

import lightning as L
import torch
import torch.multiprocessing as mp
from lightning.pytorch.callbacks import Callback

ROOT_CONFIGS = Path(__file__).resolve().parents[1] / "configs"  # the package's gan_lightning/configs, in the clone
# The system configs (each names a model); defaults.yaml beside them is stacked under every command.
SYSTEM_CONFIGS = sorted(p for p in ROOT_CONFIGS.glob("*.yaml") if p.name != "defaults.yaml")


def tiny_trainer(tmp_path, **kwargs) -> L.Trainer:
    defaults = dict(
        default_root_dir=str(tmp_path),
        max_epochs=1,
        limit_train_batches=2,
        limit_val_batches=0,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        accelerator="cpu",
        devices=1,
    )
    defaults.update(kwargs)
    return L.Trainer(**defaults)


def save_checkpoint(folder, model: L.LightningModule, name: str):
    """A Lightning checkpoint of `model` as it is (no training), at folder/name."""
    trainer = L.Trainer(logger=False, enable_checkpointing=False, enable_progress_bar=False, max_epochs=0)
    trainer.strategy.connect(model)
    path = folder / name
    trainer.save_checkpoint(path)
    return path


def printed_config(*configs) -> dict:
    """What `gan-lightning fit --config A --config B ... --print_config` prints: the composed config
    (the shipped defaults, then each file), as a dict."""
    import contextlib
    import io

    import pytest
    import yaml

    from gan_lightning.commands.cli import main

    out = io.StringIO()
    args = ["fit", *(a for c in configs for a in ("--config", str(c))), "--print_config"]
    with contextlib.redirect_stdout(out), pytest.raises(SystemExit) as exit_info:
        main(args)
    assert exit_info.value.code in (0, None)
    return yaml.safe_load(out.getvalue())


def record_losses(model, generator: bool = True) -> list[float]:
    """Wrap `model.loss_fn` so that every D loss (and G loss, with `generator`) is appended, as a float, to
    the returned list: what the exact-resume tests compare bit for bit."""
    from gan_lightning.losses import GANLoss

    losses: list[float] = []
    inner = model.loss_fn

    def recorded(fn):
        def call(*args):
            loss = fn(*args)
            losses.append(loss.item())
            return loss

        return call

    model.loss_fn = GANLoss(recorded(inner.d_loss), recorded(inner.g_loss) if generator else inner.g_loss)
    return losses


class SaveAt(Callback):
    """Writes a full checkpoint at the end of one training batch (as a step-based ModelCheckpoint does)."""

    def __init__(self, epoch: int, batch: int, path) -> None:
        self.at, self.path = (epoch, batch), path

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        if (trainer.current_epoch, batch_idx) == self.at:
            trainer.save_checkpoint(self.path)


# Words just before (or after) a path that say it is not there: such a path is named as missing.
ABSENT_BEFORE = re.compile(
    r"(no checkpoint file at|cannot write to|cannot write|cannot create the folder|could not write checkpoint) '?$"
)
ABSENT_AFTER = re.compile(r"^'?, a path under the file")
RESUME = "--ckpt_path last"


def named_paths(message: str, roots: list[Path]) -> list[str]:
    """Every path under one of `roots` that `message` names, except those it says are not there."""
    found = []
    for root in roots:
        for match in re.finditer(re.escape(str(root)) + r"[^\s'\"`;,()]*", message):
            path = match.group().rstrip(".:")
            if ABSENT_BEFORE.search(message[: match.start()]) or ABSENT_AFTER.match(message[match.end() :]):
                continue
            found.append(path)
    return found


def untrue(message: str, roots: list[Path], run_root: Path | None = None) -> list[str]:
    """What `message` says that is not so: the paths it names that do not exist, and a resume with
    `--ckpt_path last` offered where that finds nothing (no checkpoint in a `checkpoints/` folder under
    `run_root`)."""
    wrong = [f"names {p!r}, which does not exist" for p in named_paths(message, roots) if not Path(p).exists()]
    resumable = run_root is not None and any(p.parent.name == "checkpoints" for p in run_root.rglob("*.ckpt"))
    if RESUME in message and not resumable:
        wrong.append(f"offers {RESUME} with no checkpoint to resume under {str(run_root)!r}")
    return wrong


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_ranks(worker, *args, world: int = 2, env: dict | None = None) -> None:
    """`worker(rank, *args)` on `world` CPU processes, launched the way torchrun does (RANK / LOCAL_RANK /
    WORLD_SIZE in the environment, so Lightning joins them instead of launching its own)."""
    mp.spawn(_rank, args=(world, free_port(), env or {}, worker, args), nprocs=world, join=True)


def _rank(rank: int, world: int, port: int, env: dict, worker, args: tuple) -> None:
    os.environ.update(
        MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), WORLD_SIZE=str(world), RANK=str(rank),
        LOCAL_RANK=str(rank), NODE_RANK="0", **env,
    )  # fmt: skip
    torch.set_num_threads(1)
    try:
        worker(rank, *args)
    finally:
        # A spawned process ends without running atexit handlers, so Lightning's own teardown of the process
        # group never runs; left to interpreter shutdown, gloo's worker threads abort the process (SIGABRT,
        # "terminate called without an active exception") once in a while, after the work is done.
        if torch.distributed.is_initialized():
            torch.distributed.destroy_process_group()
