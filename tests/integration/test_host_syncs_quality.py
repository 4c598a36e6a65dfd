"""The quality techniques keep the training step free of host syncs between log steps.

Adaptive augmentation, lazy R1, LeCam and top-k all switched on in the default 28 px CGAN (with
conditional BatchNorm), counted like tests/integration/test_host_syncs.py counts the plain step.
"""

from pathlib import Path

from gan_lightning.commands.cli import run_cli
from tests.integration import test_host_syncs as plain

ROOT = Path(__file__).resolve().parents[2]
TECHNIQUES = [
    "--model.init_args.conditioning=cbn", "--model.init_args.augment=translation,cutout,color",
    "--model.init_args.augment_p=0.0", "--model.init_args.ada_target=0.6", "--model.init_args.ada_interval=2",
    "--model.init_args.r1_gamma=1.0", "--model.init_args.r1_every=3", "--model.init_args.lecam_weight=0.3",
    "--model.init_args.topk_decay=0.5", "--model.init_args.class_weight=0.5",
]  # fmt: skip


def test_no_host_sync_with_every_technique_on(tmp_path):
    batches, every = 16, 5  # fewer batches than the plain test: the counting mode slows every op
    args = [
        "--config", str(ROOT / "configs" / "cgan_dcgan28.yaml"), "--config", str(ROOT / "configs/logger/csv.yaml"),
        f"--trainer.default_root_dir={tmp_path}", "--trainer.max_epochs=1", f"--trainer.limit_train_batches={batches}",
        "--trainer.limit_val_batches=0", f"--trainer.log_every_n_steps={every}", f"--data.data_dir={tmp_path}",
        "--data.download=false", "--model.init_args.ngf=8", "--model.init_args.ndf=8", *TECHNIQUES,
    ]  # fmt: skip
    cli = run_cli(args, run=False)
    reads = plain.ScalarReads()
    cli.trainer.callbacks.append(plain._BatchMarker(reads))
    with reads:
        cli.trainer.fit(cli.model, cli.datamodule)

    assert (
        cli.model.techniques.augment.adaptive
        and cli.model.techniques.lecam is not None
        and cli.model.techniques.d_updates == batches
    )
    log_batches = {i for i in range(batches) if (i + 1) % every == 0}
    steady = range(plain.WARMUP, batches - 1)
    between = {i: reads.counts[i] for i in steady if i not in log_batches and reads.counts.get(i)}
    assert between == {}, f"host syncs in batches between log steps (batch: count): {between}"
