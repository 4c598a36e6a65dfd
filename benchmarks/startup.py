"""Start-up wall time of the commands that need no training, against a bare script doing the same work.

    python benchmarks/startup.py --repeats 5 [--before DIR]

Runs, interleaved, `repeats` times each: `gan-lightning --help`, `gan-lightning generate --pretrained
mnist-cgan --digits 3 7 --out PNG`, and `benchmarks/bare_generate.py` (torch + safetensors: the same
generator, weights, noise and grid), and prints their medians as a Markdown table. `--before DIR`: a
checkout of an older version (e.g. `git archive REV | tar -x -C DIR`) timed the same way, first on
PYTHONPATH. Results: benchmarks/results/startup_cpu.md.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CLI = "import sys; from gan_lightning.commands.cli import main; main(sys.argv[1:])"


def commands(out: Path, before: str | None) -> dict[str, tuple[list[str], dict]]:
    env = dict(os.environ)
    runs = {
        "gan-lightning --help": ([sys.executable, "-c", CLI, "--help"], env),
        "gan-lightning generate --pretrained mnist-cgan --digits 3 7": (
            [sys.executable, "-c", CLI, "generate", "--pretrained", "mnist-cgan", "--digits", "3", "7"]
            + ["--out", str(out / "x.png"), "--overwrite"],
            env,
        ),
        "benchmarks/bare_generate.py": (
            [sys.executable, str(ROOT / "benchmarks" / "bare_generate.py"), "--out", str(out / "bare.png")],
            env,
        ),
    }
    if before:
        old = {**env, "PYTHONPATH": before}
        for name, (argv, _) in list(runs.items())[:2]:
            runs[f"{name} (before)"] = (argv, old)
    return runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--before", help="an older checkout to time the same way")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        runs = commands(Path(tmp), args.before)
        times: dict[str, list[float]] = {name: [] for name in runs}
        for _ in range(args.repeats):  # interleaved: a busy moment of the machine hits every command alike
            for name, (argv, env) in runs.items():
                start = time.perf_counter()
                subprocess.run(argv, env=env, check=True, capture_output=True, cwd=tmp)
                times[name].append(time.perf_counter() - start)
    bare = statistics.median(times["benchmarks/bare_generate.py"])
    print("| command | median wall s | runs (s) | / bare script |")
    print("|---|---:|---|---:|")
    for name, values in times.items():
        median = statistics.median(values)
        runs_text = " ".join(f"{v:.2f}" for v in values)
        print(f"| `{name}` | {median:.2f} | {runs_text} | {median / bare:.2f} |")


if __name__ == "__main__":
    main()
