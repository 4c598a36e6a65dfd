"""benchmarks/nearest_neighbours.py: the distances it reports, and its table for a checkpoint."""

import importlib.util
from pathlib import Path

import torch

from gan_lightning import GAN
from tests.helpers import save_checkpoint

ROOT = Path(__file__).resolve().parents[3]
spec = importlib.util.spec_from_file_location("nearest_neighbours", ROOT / "benchmarks" / "nearest_neighbours.py")
nn_bench = importlib.util.module_from_spec(spec)
spec.loader.exec_module(nn_bench)


def test_nearest_is_zero_for_a_training_point_and_the_gap_otherwise():
    train = torch.tensor([[0.0, 0.0], [3.0, 4.0]])
    x = torch.tensor([[3.0, 4.0], [0.0, 1.0], [6.0, 8.0]])
    assert nn_bench.nearest(x, train, block=2).tolist() == [0.0, 1.0, 5.0]


def test_table_row_per_checkpoint(tmp_path, capsys):
    ckpt = save_checkpoint(tmp_path, GAN(arch="mlp", g_hidden=[8], d_hidden=[8], latent_dim=4), "g.ckpt")
    nn_bench.main([str(ckpt), "--data_dir", str(tmp_path / "data"), "--n", "50"])  # the shipped sample
    rows = [line for line in capsys.readouterr().out.splitlines() if line.startswith(f"| {ckpt}")]
    assert len(rows) == 1 and len(rows[0].split("|")) == 6
