"""The benchmark scripts run (a few batches; their numbers are not checked here)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_throughput_script_writes_its_table(tmp_path):
    out = tmp_path / "throughput.md"
    cmd = [sys.executable, str(ROOT / "benchmarks" / "throughput.py"), "--configs", "gan_mlp", "--steps", "3"]
    cmd += ["--warmup", "1", "--repeats", "1", "--threads", "1", "--data_dir", str(tmp_path), "--out", str(out)]
    subprocess.run(cmd, check=True, capture_output=True, timeout=300, cwd=tmp_path)
    (row,) = [line for line in out.read_text().splitlines() if line.startswith("| gan_mlp |")]
    cells = [c.strip().rstrip("x").replace(",", "") for c in row.strip("|").split("|")[1:]]
    assert len(cells) == 11  # batch, timed batches, four rates, img/s, three ratios and the overhead
    overhead = float(cells.pop(9))  # ms per batch, fit (user) minus bare: may be either sign
    assert abs(overhead) < 1e4 and all(float(c) > 0 for c in cells)
