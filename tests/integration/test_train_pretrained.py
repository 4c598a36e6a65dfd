"""scripts/train_pretrained.py: what it refuses before any work (packing itself runs three evaluations,
about a CPU minute and a half, so it is exercised by making the shipped models, not here)."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = [sys.executable, str(ROOT / "scripts" / "train_pretrained.py"), "mnist-cgan", "--data_dir", "data"]


@pytest.mark.parametrize(
    "extra, match",
    [
        (["--ckpt_path", "{ckpt}"], "--ckpt_path and --trained_by go together"),
        (["--ckpt_path", "{ckpt}", "--trained_by", "x", "--model.init_args.lr_g=1"], "training settings do not apply"),
    ],
)
def test_packing_a_given_checkpoint_refuses_what_cannot_apply(tmp_path, extra, match):
    ckpt = tmp_path / "last.ckpt"
    ckpt.write_bytes(b"")
    extra = [a.format(ckpt=ckpt, missing=tmp_path / "nope.ckpt") for a in extra]
    done = subprocess.run([*SCRIPT, *extra, "--out", str(tmp_path / "out")], capture_output=True, text=True)
    assert done.returncode == 2 and match in done.stderr.strip().splitlines()[-1], done.stderr
