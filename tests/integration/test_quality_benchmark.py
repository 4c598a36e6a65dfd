"""benchmarks/quality.py runs end to end (a few seconds of training, a few hundred samples)."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_quality_benchmark_trains_scores_and_writes_a_table(tmp_path):
    out = tmp_path / "quality"
    cmd = [
        sys.executable, str(ROOT / "benchmarks" / "quality.py"),
        "--configs", "configs/gan_mlp.yaml",
        "--budget_min", "0.05",
        "--n_samples", "200",
        "--data_dir", str(tmp_path / "no_mnist_here"),  # the shipped sample, for training and scoring
        "--out", str(out),
        "--work_dir", str(tmp_path / "runs"),
        "--set", "data.batch_size=32",
    ]  # fmt: skip
    subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True, text=True, timeout=300)
    rows = json.loads(out.with_suffix(".json").read_text())
    assert [r["config"] for r in rows] == ["gan_mlp"]
    row = rows[0]
    assert row["g_steps"] > 0 and row["n_fake"] == 200 and row["fid"] > 0 and 1 <= row["is"] <= 10
    assert row["overrides"] == ["data.batch_size=32"]
    table = out.with_suffix(".md").read_text()
    assert "| gan_mlp | " in table and "| FID |" in table
