"""The benchmark scripts run (a few batches; their numbers are not checked here)."""

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_throughput_script_writes_its_table(tmp_path):
    out = tmp_path / "throughput.md"
    cmd = [sys.executable, str(ROOT / "benchmarks" / "throughput.py"), "--configs", "gan_mlp", "--steps", "3"]
    cmd += ["--warmup", "1", "--repeats", "1", "--threads", "1", "--data_dir", str(tmp_path), "--out", str(out)]
    subprocess.run([*cmd, "--group", "2", "auto"], check=True, capture_output=True, timeout=300, cwd=tmp_path)
    report = out.read_text()
    (row,) = [line for line in report.splitlines() if line.startswith("| gan_mlp |")]
    cells = [c.strip().rstrip("x").replace(",", "") for c in row.strip("|").split("|")[1:]]
    # batch, timed batches (3, cut to whole groups of 2), four rates, img/s, three ratios and the overhead;
    # then the user's fit with two batches per Lightning batch and with `auto`: a ratio and an overhead each
    assert len(cells) == 15 and cells[1] == "2"
    assert "fit (user) K=2 / bare" in report and "fit (user) K=auto / bare" in report
    overheads = [float(cells.pop(i)) for i in (14, 12, 9)]  # ms per batch against bare: may be either sign
    assert all(abs(o) < 1e4 for o in overheads) and all(float(c) > 0 for c in cells)
    bad = subprocess.run([*cmd, "--group", "0"], capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert bad.returncode == 2 and "argument --group: a positive integer or auto, got '0'" in bad.stderr


def test_gpu_benchmark_runs_on_cpu_in_its_smoke_setting(tmp_path):
    out = tmp_path / "gpu.md"
    cmd = [sys.executable, str(ROOT / "benchmarks" / "gpu.py"), "--device", "cpu", "--tiny", "--out", str(out)]
    cmd += ["--data_dir", str(tmp_path), "--fashion_dir", str(tmp_path / "no-fashion")]
    subprocess.run(cmd, check=True, capture_output=True, timeout=600, cwd=tmp_path)
    report = out.read_text()
    rows = [line for line in report.splitlines() if line.startswith(("| 32-true |", "| bf16-mixed |"))]
    assert len(rows) == 6 and all(float(r.split("|")[7].strip().rstrip("x")) > 0 for r in rows)
    groups = sorted(r.split("|")[3].strip() for r in rows)  # one, two and `auto` steps per Lightning batch
    assert groups[:4] == ["1", "1", "2", "2"] and all(re.fullmatch(r"auto \((1[0-6]|[1-9])\)", g) for g in groups[4:])
    assert "MNIST, 192 images (3 batches of 64)" in report  # the full-size epoch's code path, cut short
    assert "- bf16-mixed: 12 G steps" in report and "finite: yes" in report
    assert (tmp_path / "gpu_grid_bf16-mixed.png").is_file()


def test_updates_script_times_both_paths(tmp_path):
    cmd = [sys.executable, str(ROOT / "benchmarks" / "updates.py"), "--config", "gan_mlp", "--data_dir", str(tmp_path)]
    cmd += ["--repeats", "1", "--steps", "4", "--warmup", "1", "--threads", "1"]
    done = subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=300, cwd=tmp_path)
    rates = re.findall(r"fit \((user|plain)\): direct ([\d,.]+), Lightning's path ([\d,.]+)", done.stdout)
    assert [mode for mode, *_ in rates] == ["user", "plain"]
    assert all(0 < float(r.replace(",", "")) < 1e5 for _, *pair in rates for r in pair)  # batches per second
