"""benchmarks/time_to_quality.py: when a run reaches the target, and when its weights are kept."""

import sys
from pathlib import Path
from types import SimpleNamespace

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "benchmarks"))

from time_to_quality import TARGET, WallClockSnapshots, minutes_to_target  # noqa: E402

GOOD, BAD = TARGET["fid"] - 0.1, TARGET["fid"] + 0.1


def _rows(*fids, acc=0.99):
    return [{"minutes": 0.5 * (i + 1), "fid": f, "class_acc": acc} for i, f in enumerate(fids)]


def test_the_target_counts_from_the_mark_after_which_it_always_holds():
    assert minutes_to_target(_rows(BAD, GOOD, GOOD), conditional=False) == 1.0
    assert minutes_to_target(_rows(GOOD, BAD, GOOD), conditional=False) == 1.5  # a relapse restarts the count
    assert minutes_to_target(_rows(GOOD, GOOD, BAD), conditional=False) is None
    assert minutes_to_target(_rows(GOOD, GOOD, acc=0.97), conditional=True) is None  # class accuracy too
    assert minutes_to_target(_rows(GOOD, GOOD, acc=0.97), conditional=False) == 0.5


def test_weights_are_kept_once_per_mark_passed(tmp_path, monkeypatch):
    clock = iter([10.0, 31.0, 32.0, 95.0, 96.0])
    monkeypatch.setattr("time_to_quality.time.time", lambda: next(clock))
    module = SimpleNamespace(state_dict=lambda: {"w": torch.ones(2)}, generator_steps=7)
    loop = SimpleNamespace(epoch_loop=SimpleNamespace(_batches_that_stepped=3))
    trainer = SimpleNamespace(is_global_zero=True, fit_loop=loop)
    snapshots = WallClockSnapshots(str(tmp_path), t0=0.0, every_s=30)
    for _ in range(4):  # ages 10 (none), 31 (mark 30), 32 (none), 95 (marks 60 and 90: one state)
        snapshots.on_train_batch_end(trainer, module)
    snapshots.on_train_end(trainer, module)  # age 96: the final state
    kept = sorted(p.name for p in tmp_path.glob("mark_*.pt"))
    assert kept == ["mark_00031.00.pt", "mark_00095.00.pt", "mark_00096.00.pt"]
    saved = torch.load(tmp_path / kept[0], weights_only=True)
    assert saved["g_steps"] == 7 and saved["batches"] == 4 and torch.equal(saved["state_dict"]["w"], torch.ones(2))
    assert (tmp_path / "timing.json").is_file()
