"""Every bad input the CLI can be given ends in one line naming the argument, and a non-zero exit.

`CASES` is the table in docs/reliability.md (section 7): `python -m tests.integration.test_bad_input`
runs each case for real and prints that table with the messages it got.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import os
import re
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from unittest import mock

import lightning as L
import pytest
import torch

from gan_lightning.commands.cli import main, run_cli
from gan_lightning.data.idx import read_idx, write_idx
from tests.helpers import untrue

ROOT = Path(__file__).resolve().parents[2]
CONFIG = str(ROOT / "configs" / "gan_mlp.yaml")


@dataclass
class Case:
    what: str  # the bad input, as the table shows it
    argv: Callable[[Path], list[str]]  # the command line, given a scratch folder
    match: str  # regex the error line must match
    skip: str = ""  # why this machine cannot show the case (it has the hardware asked for), or ''
    env: dict[str, str] | None = None  # environment variables set for the command
    without_wandb: bool = False  # run as if the `wandb` package were not installed
    exit_code: int | None = None  # the exit code it must end with (None: any but 0)


def _fit(*extra: str, config: str = CONFIG, root: str = "runs/{n}") -> Callable[[Path], list[str]]:
    def argv(tmp: Path) -> list[str]:
        n = len(list(tmp.glob("runs/*")))  # a fresh run folder per command (none.yaml does not version them)
        return [
            "fit",
            "--config",
            config,
            "--config",
            str(ROOT / "configs" / "logger" / "none.yaml"),
            "--trainer.max_epochs=1",
            "--trainer.limit_train_batches=1",
            "--trainer.limit_val_batches=0",
            "--trainer.enable_progress_bar=false",
            f"--trainer.default_root_dir={tmp / root.format(n=n)}",
            f"--data.data_dir={tmp / 'data'}",
            "--data.download=false",
            *(e.format(tmp=tmp) for e in extra),
        ]

    return argv


def _cmd(*args: str) -> Callable[[Path], list[str]]:
    return lambda tmp: [a.format(tmp=tmp) for a in args]


def _save(tmp: Path, name: str, *args: str, config: str = CONFIG) -> Path:
    """A checkpoint of the model a config builds (no training needed to test loading it)."""
    path = tmp / name
    if not path.exists():
        cli = run_cli(_fit(*args, config=config)(tmp)[1:], run=False)  # no subcommand with run=False
        trainer = L.Trainer(logger=False, enable_checkpointing=False, enable_progress_bar=False, max_epochs=0)
        trainer.strategy.connect(cli.model)
        trainer.save_checkpoint(path)
    return path


def _files(tmp: Path) -> None:
    """Checkpoints, a corrupt one, a truncated IDX set and an existing output file, made once per folder."""
    _save(tmp, "gan28.ckpt")
    _save(tmp, "gan64.ckpt", "--data.image_size=64")
    _save(tmp, "cgan.ckpt", config=str(ROOT / "configs" / "cgan_mlp.yaml"))
    (tmp / "garbage.ckpt").write_bytes(b"this is not a checkpoint\n" * 10)
    (tmp / "truncated.ckpt").write_bytes((tmp / "gan28.ckpt").read_bytes()[:100_000])  # an interrupted copy
    (tmp / "a_file").write_text("not a folder")
    (tmp / "typo_model.yaml").write_text("model:\n  init_args:\n    lr_gg: 0.001\n")
    (tmp / "typo_data.yaml").write_text("data:\n  batch_sizee: 32\n")
    (tmp / "exists.png").write_bytes(b"keep me")
    (tmp / "fixed_run").mkdir(exist_ok=True)
    (tmp / "fixed_run" / "config.yaml").write_text("# an earlier run's config\n")
    idx = tmp / "bad_idx"
    if not idx.exists():  # the shipped sample, with the training images cut short
        sample = ROOT / "gan_lightning" / "assets" / "mnist_sample"
        idx.mkdir()
        for src in sample.iterdir():
            if "idx" in src.name:
                data = src.read_bytes() if src.suffix != ".gz" else None
                target = idx / src.name.removesuffix(".gz")
                write_idx(
                    target, read_idx(src, 3 if "images" in src.name else 1)
                ) if data is None else target.write_bytes(data)
        images = idx / "train-images-idx3-ubyte"
        images.write_bytes(images.read_bytes()[:5000])
    _broken_files(tmp)
    partial = tmp / "partial_mnist" / "MNIST" / "raw"  # the user's training files, no test split
    if not partial.exists():
        partial.mkdir(parents=True)
        for name in ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"):
            (partial / name).write_bytes((ROOT / "gan_lightning" / "assets" / "mnist_sample" / name).read_bytes())


def _broken_files(tmp: Path) -> None:
    """Files a user hands us, broken: --config YAMLs, model folders, IDX labels out of range."""
    (tmp / "empty.yaml").write_bytes(b"")
    (tmp / "list.yaml").write_text("- fit\n- --trainer.max_epochs=3\n")
    (tmp / "binary.yaml").write_bytes(b"\x00\xff\xfe\x01" * 16)
    shipped = ROOT / "gan_lightning" / "assets" / "pretrained" / "mnist-cgan"
    for name, file, cut in (("cut_config", "config.json", 40), ("cut_weights", "model.safetensors", 5000)):
        if not (tmp / name).exists():
            shutil.copytree(shipped, tmp / name)
            (tmp / name / file).write_bytes((shipped / file).read_bytes()[:cut])  # an interrupted copy
    labels = tmp / "bad_labels"
    if not labels.exists():  # the shipped sample, with one training label that is not a digit
        shutil.copytree(ROOT / "gan_lightning" / "assets" / "mnist_sample", labels)
        values = read_idx(labels / "train-labels-idx1-ubyte.gz", 1).copy()
        values[7] = 200
        write_idx(labels / "train-labels-idx1-ubyte.gz", values)


GEN = ("generate", "--out", "{tmp}/out.png", "--ckpt_path")
CASES: list[Case] = [
    Case("`data.image_size 32`", _fit("--data.image_size=32"), r"image_size must be one of \(28, 64\), got 32"),
    Case(
        "`data.dataset cifar`",
        _fit("--data.dataset=cifar"),
        r"data.dataset must be one of \('mnist', 'fashion_mnist'\), got 'cifar'",
    ),
    Case(
        "`model.init_args.loss hinge2`",
        _fit("--model.init_args.loss=hinge2"),
        r"loss must be one of \('bce', .*\), got 'hinge2'",
    ),
    Case(
        "`model.init_args.arch resnet`",
        _fit("--model.init_args.arch=resnet"),
        r"model.init_args.arch must be one of \('mlp', 'dcgan'\), got 'resnet'",
    ),
    Case(
        "`model.init_args.conditioning film` (CGAN)",
        _fit("--model.init_args.conditioning=film", config=str(ROOT / "configs" / "cgan_mlp.yaml")),
        r"model.init_args.conditioning must be one of \('onehot', 'embedding', 'projection', 'cbn'\), got 'film'",
    ),
    Case(
        "`model.init_args.class_weight 0.5` with embedding conditioning (CGAN)",
        _fit("--model.init_args.class_weight=0.5", config=str(ROOT / "configs" / "cgan_mlp.yaml")),
        r"class_weight trains the projection head's class logits; set conditioning to 'projection' or 'cbn', "
        r"got conditioning='embedding'",
    ),
    Case(
        "`model.init_args.optimizer rmsprop`",
        _fit("--model.init_args.optimizer=rmsprop"),
        r"model.init_args.optimizer must be one of \('adam', 'sgd'\), got 'rmsprop'",
    ),
    Case("`data.batch_size 0`", _fit("--data.batch_size=0"), r"batch_size must be a positive integer, got 0"),
    Case(
        "`data.steps_per_batch fast`",
        _fit("--data.steps_per_batch=fast"),
        r"data.steps_per_batch must be an integer or 'auto', got 'fast'",
    ),
    Case(
        "`data.steps_per_batch 0`",
        _fit("--data.steps_per_batch=0"),
        r"steps_per_batch must be a positive integer or 'auto', got 0",
    ),
    Case(
        "`model.init_args.lr_d -1e-4`",
        _fit("--model.init_args.lr_d=-1e-4"),
        r"lr_d must be a finite positive number, got -0.0001",
    ),
    Case(
        "`model.init_args.lr_g nan`",
        _fit("--model.init_args.lr_g=nan"),
        r"model.init_args.lr_g must be a finite number, got nan",
    ),
    Case(
        "`model.init_args.lr_d inf`",
        _fit("--model.init_args.lr_d=inf"),
        r"model.init_args.lr_d must be a finite number, got inf",
    ),
    Case(
        "`model.init_args.lr_gg` in a YAML config",
        _fit("--config={tmp}/typo_model.yaml"),
        r"model.init_args.lr_gg: not a setting of gan_lightning.GAN; did you mean model.init_args.lr_g\?",
    ),
    Case(
        "`data.batch_sizee` in a YAML config",
        _fit("--config={tmp}/typo_data.yaml"),
        r"data.batch_sizee: no such setting; did you mean data.batch_size\?",
    ),
    Case(
        "`--trainer.max_epochz 3` on the command line",
        _fit("--trainer.max_epochz=3"),
        r"trainer.max_epochz: no such setting; did you mean trainer.max_epochs\?",
    ),
    Case(
        "`data.batch_size` larger than the training set",
        _fit("--data.batch_size=7000"),
        r"data.batch_size must be at most the number of training images, 6000, got 7000",
    ),
    Case(
        "`model.init_args.n_critic 0`",
        _fit("--model.init_args.n_critic=0"),
        r"n_critic must be a positive integer, got 0",
    ),
    Case(
        "`model.init_args.on_nonfinite ignore`",
        _fit("--model.init_args.on_nonfinite=ignore"),
        r"model.init_args.on_nonfinite must be one of \('stop', 'skip'\), got 'ignore'",
    ),
    Case(
        "truncated IDX file in `data.data_dir`",
        _fit("--data.data_dir={tmp}/bad_idx"),
        r"IDX file .*train-images-idx3-ubyte is truncated or padded: 5000 bytes",
    ),
    Case(
        "`trainer.default_root_dir` not writable",
        _fit("--trainer.default_root_dir={tmp}/a_file/runs"),
        r"trainer.default_root_dir: cannot write to '.*a_file/runs' \(Not a directory\)",
    ),
    Case(
        "two system configs in one command",
        _fit("--config", str(ROOT / "configs" / "cgan_mlp.yaml")),
        r"--config: .*/gan_mlp\.yaml and .*/cgan_mlp\.yaml are both system configs \(each names model.class_path\) "
        r"and would mix; give one system config",
    ),
    Case(
        "`data.data_dir` with some of the MNIST files",
        _fit("--data.data_dir={tmp}/partial_mnist", "--data.download=false"),
        r"data.data_dir: '.*partial_mnist/MNIST/raw' holds some of the mnist IDX files but not "
        r"t10k-images-idx3-ubyte\[.gz\], t10k-labels-idx1-ubyte\[.gz\]",
    ),
    Case(
        "`data.data_dir` a file",
        _fit("--data.data_dir={tmp}/a_file"),
        r"data.data_dir must be a folder \(searched for the IDX files, or downloaded into\), got '.*a_file', a file",
    ),
    Case(
        "`data.data_dir` under a file, `data.download true`",
        _fit("--data.data_dir={tmp}/a_file/data", "--data.download=true"),
        r"data.data_dir must be a folder .*, got '.*a_file/data', a path under the file '.*a_file'",
    ),
    Case(
        "`fit --ckpt_path` missing file",
        _fit("--ckpt_path={tmp}/nope.ckpt"),
        r"ckpt_path: no checkpoint file at '.*nope.ckpt'",
    ),
    Case(
        "`fit --ckpt_path` not a checkpoint",
        _fit("--ckpt_path={tmp}/garbage.ckpt"),
        r"ckpt_path: '.*garbage.ckpt' is not a readable PyTorch checkpoint",
    ),
    Case(
        "`fit --ckpt_path` truncated file",
        _fit("--ckpt_path={tmp}/truncated.ckpt"),
        r"is not a readable PyTorch checkpoint \(truncated, or not a PyTorch file\)",
    ),
    Case(
        "`fit --ckpt_path` of a CGAN into a GAN",
        _fit("--ckpt_path={tmp}/cgan.ckpt"),
        r"holds a ConditionalGAN but the model is a GAN",
    ),
    Case(
        "`fit --ckpt_path` of a 64 px model at 28 px",
        _fit("--ckpt_path={tmp}/gan64.ckpt"),
        r"saved with image_size=64 but the model has image_size=28",
    ),
    Case(
        "`fit --ckpt_path` with other widths",
        _fit("--ckpt_path={tmp}/gan28.ckpt", "--model.init_args.d_hidden=[64]"),
        r"saved with d_hidden=\[512, 256\] but the model has d_hidden=\[64\]",
    ),
    Case(
        "`generate --digits 12`", _cmd(*GEN, "{tmp}/cgan.ckpt", "--digits", "12"), r"digits must be in 0..9, got \[12\]"
    ),
    Case("`generate --n -5`", _cmd(*GEN, "{tmp}/gan28.ckpt", "--n", "-5"), r"n must be a positive integer, got -5"),
    Case(
        "`generate --digits 3` for an unconditional model",
        _cmd(*GEN, "{tmp}/gan28.ckpt", "--digits", "3"),
        r"digits: this model is an unconditional GAN, which takes no digits .*; got digits=\[3\]",
    ),
    Case(
        "`generate --n_per_digit 16` for an unconditional model",
        _cmd(*GEN, "{tmp}/gan28.ckpt", "--n_per_digit", "16"),
        r"n_per_digit: this model is an unconditional GAN, .*\(n sets how many images\); got n_per_digit=16",
    ),
    Case(
        "`generate --n 64` for a conditional model",
        _cmd(*GEN, "{tmp}/cgan.ckpt", "--n", "64"),
        r"n: this model is a conditional GAN, which draws n_per_digit images of each digit; got n=64",
    ),
    Case("`generate --ckpt_path` missing file", _cmd(*GEN, "{tmp}/nope.ckpt"), r"ckpt_path: no checkpoint file at"),
    Case(
        "`generate --ckpt_path` not a checkpoint",
        _cmd(*GEN, "{tmp}/garbage.ckpt"),
        r"is not a readable PyTorch checkpoint",
    ),
    Case(
        "`generate --out` an existing file",
        _cmd("generate", "--out", "{tmp}/exists.png", "--ckpt_path", "{tmp}/gan28.ckpt"),
        r"already exists; pass --overwrite to replace it",
    ),
    Case(
        "a `--config` name the package does not ship",
        _fit("--config=cgan_dcgan32"),
        r"--config: 'cgan_dcgan32' is neither a file nor a config the package ships; shipped: cgan_dcgan28, .*"
        r"logger/csv, .*recipes/ada, ",
    ),
    Case(
        "an empty `--config` file", _fit("--config={tmp}/empty.yaml"), r"--config: '.*empty\.yaml' is empty \(0 bytes\)"
    ),
    Case(
        "a `--config` file that is a YAML list",
        _fit("--config={tmp}/list.yaml"),
        r"--config: '.*list\.yaml' must hold a mapping of settings \(key: value\), got a list",
    ),
    Case(
        "a `--config` file that is not text",
        _fit("--config={tmp}/binary.yaml"),
        r"--config: '.*binary\.yaml' is not a YAML file \(byte 1 is not UTF-8 text\)",
    ),
    Case(
        "`generate --pretrained` a folder whose `config.json` is cut short",
        _cmd("generate", "--out", "{tmp}/out.png", "--pretrained", "{tmp}/cut_config"),
        r"pretrained: '.*cut_config/config\.json' is not valid JSON \(line \d+, column \d+: ",
    ),
    Case(
        "`generate --pretrained` a folder whose `model.safetensors` is cut short",
        _cmd("generate", "--out", "{tmp}/out.png", "--pretrained", "{tmp}/cut_weights"),
        r"pretrained: '.*cut_weights/model\.safetensors' is not a readable safetensors file \(truncated",
    ),
    Case(
        "an IDX label that is not a digit in `data.data_dir`",
        _fit("--data.data_dir={tmp}/bad_labels"),
        r"IDX file .*bad_labels/train-labels-idx1-ubyte\.gz holds label 200 \(at index 7\); labels must be the digits",
    ),
    Case(
        "`fit` into a `default_root_dir` that holds a run (no logger)",
        _fit(root="fixed_run"),
        r"trainer.default_root_dir: '.*fixed_run' already holds a run \(config.yaml\); nothing is overwritten",
    ),
    Case(
        "W&B logger without `wandb` installed",
        _fit("--config", str(ROOT / "configs" / "logger" / "wandb.yaml")),
        r"the `wandb` package is not installed; pip install wandb",
        without_wandb=True,
    ),
    Case(
        "`WANDB_MODE` set but empty, W&B logger",
        _fit("--config", str(ROOT / "configs" / "logger" / "wandb.yaml")),
        r"WANDB_MODE must be one of online, offline, disabled, shared \(or the older dryrun, run\), got ''",
        env={"WANDB_MODE": ""},
    ),
]


# Trainer settings Lightning refuses while it builds the Trainer (setting, value, what its reason says, what a
# machine needs to accept the value). Each is a row of CASES (and of the docs table);
# `test_a_trainer_setting_lightning_refuses_is_one_line_naming_it` walks them all.
_HAS_GPU = torch.cuda.is_available() or torch.backends.mps.is_available()
_HAS_XLA = importlib.util.find_spec("torch_xla") is not None
TRAINER_REFUSALS: list[tuple[str, str, str, str]] = [
    (
        "accelerator",
        "gpu",
        r"No supported gpu backend found!; got 'gpu'; available on this machine: auto, cpu",
        "a GPU",
    ),
    ("accelerator", "cuda", r"`CUDAAccelerator` can not run on your system.*: \['cpu'\]", "a GPU"),
    ("accelerator", "tpu", r"Requirement 'torch_xla.*' not met", "torch_xla"),
    ("accelerator", "foo", r"invalid accelerator name: `accelerator='foo'`. Available names are: auto, ", ""),
    ("devices", "0", r"`Trainer\(devices='0'\)` value is not a valid input using cpu accelerator", "a GPU"),
    ("devices", "abc", r"`devices` selected with `CPUAccelerator` should be an int > 0; got 'abc'", "a GPU"),
    ("precision", "fp8", r"must be one of \(64, 32, 16, 'transformer-engine', .*'bf16'\), got 'fp8'", ""),
    ("strategy", "foo", r"invalid strategy name: `strategy='foo'`", ""),
    ("strategy", "dpp", r"invalid strategy name: `strategy='dpp'`.*; did you mean ddp\?", ""),
    ("strategy", "fsdp", r"The strategy `fsdp` requires a GPU accelerator, but received `accelerator='cpu'`", "a GPU"),
    ("num_nodes", "0", r"`num_nodes` must be a positive integer, but got 0", ""),
    ("max_epochs", "-5", r"`max_epochs` must be a non-negative integer or -1. You passed in -5", ""),
    ("max_time", "abc", r"`Timer\(duration='abc'\)` is not a valid duration", ""),
    (
        "val_check_interval",
        "-1",
        r"invalid value -1 for val_check_interval, it has to be in \[0.0, 1.0\] or an int",
        "",
    ),
    ("gradient_clip_algorithm", "foo", r"Allowed algorithms: \['value', 'norm'\]; got 'foo'", ""),
    ("profiler", "foo", r"it can only be one of \['simple', 'advanced', 'pytorch', 'xla'\]; got 'foo'", ""),
]
_CANNOT_SHOW = {
    "a GPU": "this machine has a GPU" if _HAS_GPU else "",
    "torch_xla": "torch_xla is installed" if _HAS_XLA else "",
}
# The rule, not a list of messages: whatever Lightning raises while it builds the Trainer names the
# trainer.* setting first, and is bad input (exit code 2), not a traceback.
TRAINER_CASES = [
    Case(
        f"`trainer.{name} {value}`",
        _fit(f"--trainer.{name}={value}"),
        rf"^gan-lightning: error: trainer\.{name}\b.*{match}",
        skip,
        exit_code=2,
    )
    for name, value, match, needs in TRAINER_REFUSALS
    for skip in [_CANNOT_SHOW.get(needs, "")]
]
CASES += TRAINER_CASES
# A strategy that pickles the model for its processes, with a model torch cannot pickle (spectral norm):
# refused before any process starts (gan_lightning/modules/strategies.py).
CASES.append(
    Case(
        "`trainer.strategy ddp_spawn` for a model with spectral norm",
        _fit(
            "--trainer.accelerator=cpu",
            "--trainer.devices=2",
            "--trainer.strategy=ddp_spawn",
            config=str(ROOT / "configs" / "cgan_dcgan28.yaml"),
        ),
        r"^gan-lightning: error: trainer\.strategy must not pickle this model .*use 'ddp' .*got 'ddp_spawn'$",
        exit_code=2,
    )
)


def run_case(case: Case, tmp: Path) -> tuple[int, str]:
    """(exit code, what the command wrote on stderr starting with `gan-lightning`)."""
    _files(tmp)
    err = io.StringIO()
    saved = sys.modules.get("wandb")
    if case.without_wandb:
        sys.modules["wandb"] = None  # import wandb now fails as when it is not installed
    try:
        with (
            contextlib.redirect_stderr(err),
            pytest.raises(SystemExit) as exit_info,
            mock.patch.dict(os.environ, case.env or {}),
        ):
            main(case.argv(tmp))
    finally:
        if case.without_wandb:
            sys.modules.pop("wandb")
            if saved is not None:
                sys.modules["wandb"] = saved
    lines = [line for line in err.getvalue().splitlines() if line.startswith("gan-lightning")]
    return int(exit_info.value.code), "\n".join(lines)


@pytest.fixture(scope="module")
def scratch(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("bad_input")


def _params(cases: list[Case]) -> list:
    return [
        pytest.param(
            c, id=re.sub(r"\W+", "_", c.what).strip("_"), marks=pytest.mark.skipif(bool(c.skip), reason=c.skip)
        )
        for c in cases
    ]


@pytest.mark.parametrize("case", _params(CASES))
def test_bad_input_is_one_line_and_exits_non_zero(case, scratch):
    code, message = run_case(case, scratch)
    assert code != 0 if case.exit_code is None else code == case.exit_code, (code, message)
    assert message.count("\n") == 0 and message.startswith(
        ("gan-lightning: error: ", "gan-lightning generate: error: ")
    ), message
    assert re.search(case.match, message), message
    assert untrue(message, [scratch, ROOT], run_root=scratch) == [], message  # names only what is there


def test_num_classes_of_data_and_model_must_agree(tmp_path, tiny_dm):
    # The CLI links data.num_classes into the model; in Python the two can differ, and fit says so.
    from gan_lightning import GAN
    from tests.helpers import tiny_trainer

    model = GAN(arch="mlp", g_hidden=[16], d_hidden=[16], num_classes=5, metrics=False)
    with pytest.raises(ValueError, match=r"num_classes: the model was built for 5 but the data module serves 10"):
        tiny_trainer(tmp_path).fit(model, tiny_dm)


if __name__ == "__main__":  # the docs/reliability.md table, from real runs
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        print("| bad input | exit | message |\n| --- | --- | --- |")
        for case in CASES:
            code, message = run_case(case, Path(folder))
            message = message.replace(folder, "<tmp>").replace(f"{ROOT}/", "").replace("|", "\\|")
            print(f"| {case.what} | {code} | `` {message} `` |")
