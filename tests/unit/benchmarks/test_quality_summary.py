"""benchmarks/quality.py's multi-seed summary and run plumbing (no training here; the end-to-end run is
tests/integration/test_quality_benchmark.py)."""

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
spec = importlib.util.spec_from_file_location("quality_benchmark", ROOT / "benchmarks" / "quality.py")
quality = importlib.util.module_from_spec(spec)
spec.loader.exec_module(quality)


def _row(seed, fid, precision, density, variant="", cas=None):
    return dict(config="cgan", variant=variant, run_seed=seed, fid=fid, precision=precision, density=density, cas=cas)


def test_summary_gives_mean_sample_std_and_the_worst_seed():
    rows = [_row(0, 4.0, 0.8, 0.9), _row(1, 6.0, 0.6, 1.3), _row(2, 8.0, 0.7, 1.0), _row(0, 1.0, 0.9, 1.0, "aug")]
    base, aug = quality.summarize(rows)
    assert base["seeds"] == [0, 1, 2] and aug["seeds"] == [0]
    assert base["fid"] == {"mean": 6.0, "std": 2.0, "worst": 8.0}  # lower is better: the worst is the largest
    assert base["precision"]["worst"] == 0.6  # higher is better
    assert base["density"]["worst"] == 1.3  # 1 is best: the farthest from it
    assert aug["fid"]["std"] is None  # one seed: no spread
    assert "cas" not in base  # no run has it


def test_summary_table_reads_mean_std_worst():
    table = quality.summary_table(quality.summarize([_row(0, 4.0, 0.8, 1.0), _row(1, 6.0, 0.6, 1.0)]))
    head, _, row = table
    assert "| FID |" in head and "| precision |" in head
    assert "| 5.00 ± 1.41 (6.00) |" in row and "| 0.700 ± 0.141 (0.600) |" in row


def test_fit_arguments_carry_seed_subset_and_variant(tmp_path):
    aug = "aug model.init_args.augment=translation,cutout"
    args = quality.parse_args(
        [
            "--seeds",
            "3",
            "4",
            "--train_subset",
            "1000",
            "--set",
            "data.batch_size=32",
            "--variant",
            "base",
            "--variant",
            aug,
        ]
    )
    assert args.variants == [("base", []), ("aug", ["model.init_args.augment=translation,cutout"])]
    cmd = quality.fit_args("configs/cgan_dcgan28.yaml", args, tmp_path, 4, args.variants[1][1])
    after = lambda flag: cmd[cmd.index(flag) + 1]  # noqa: E731
    assert cmd[0] == "fit" and after("--seed_everything") == "4" and after("--data.train_subset") == "1000"
    assert cmd[-4:] == ["--data.batch_size", "32", "--model.init_args.augment", "translation,cutout"]
    assert quality.run_dir(args, "configs/cgan_dcgan28.yaml", "aug", 4).parts[-3:] == ("cgan_dcgan28", "aug", "seed_4")
    plain = quality.parse_args([])
    assert "--seed_everything" not in quality.fit_args("c.yaml", plain, tmp_path, None, [])
    assert quality.run_dir(plain, "configs/c.yaml", "", None).name == "c"  # the single-run layout is unchanged


def test_a_batch_budget_sets_max_steps_from_n_critic(tmp_path):
    config = tmp_path / "c.yaml"
    config.write_text("model:\n  init_args:\n    n_critic: 5\n")
    args = quality.parse_args(["--budget_batches", "1000"])
    cmd = quality.fit_args(str(config), args, tmp_path, None, [])
    assert cmd[cmd.index("--trainer.max_steps") + 1] == "1200"  # 1000 D steps + 200 G steps
    cmd = quality.fit_args(str(config), args, tmp_path, None, ["model.init_args.n_critic=1"])
    assert cmd[cmd.index("--trainer.max_steps") + 1] == "2000"  # the override wins
    assert "--trainer.max_steps" not in quality.fit_args(str(config), quality.parse_args([]), tmp_path, None, [])


def test_a_batch_budget_keeps_a_wall_clock_safety_stop_of_hours(tmp_path):
    config = tmp_path / "c.yaml"
    config.write_text("model:\n  init_args: {}\n")
    cmd = quality.fit_args(str(config), quality.parse_args(["--budget_batches", "10"]), tmp_path, None, [])
    assert cmd[cmd.index("--trainer.max_time") + 1] == "00:06:00:00"  # DD:HH:MM:SS
    cmd = quality.fit_args(str(config), quality.parse_args(["--budget_min", "2.5"]), tmp_path, None, [])
    assert cmd[cmd.index("--trainer.max_time") + 1] == "00:00:02:30"


def test_report_only_tables_rows_of_earlier_runs(tmp_path, capsys):
    first, second = tmp_path / "a.json", tmp_path / "b.json"
    first.write_text(quality.json.dumps([dict(_row(0, 4.0, 0.8, 1.0), fit_seconds=60.0)]))
    second.write_text(quality.json.dumps([dict(_row(1, 6.0, 0.6, 1.0), fit_seconds=None)]))
    out = tmp_path / "merged"
    quality.main(["--report_only", "--include", str(first), str(second), "--out", str(out)])
    table = out.with_suffix(".md").read_text()
    assert "| cgan | - | 0 1 | 5.00 ± 1.41 (6.00) |" in table  # one summary over both files' seeds
    assert len(quality.json.loads(out.with_suffix(".json").read_text())) == 2


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--seeds", "1", "1"], "--seeds must not repeat a seed, got [1, 1]"),
        (["--report_only"], "--report_only needs --include JSON files to report"),
        (["--budget_batches", "0"], "--budget_batches must be a positive integer, got 0"),
        (["--train_subset", "0"], "--train_subset must be a positive integer, got 0"),
        (["--variant", "a=b"], "--variant must start with a name, then KEY=VALUE overrides, got 'a=b'"),
        (["--variant", "aug augment"], "--variant aug: overrides are KEY=VALUE, got 'augment'"),
        (["--variant", "a", "--variant", "a"], "--variant names must differ, got ['a', 'a']"),
    ],
)
def test_bad_arguments(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        quality.parse_args(argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err.strip().splitlines()[-1]
