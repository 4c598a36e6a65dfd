"""`predict` in pieces: the batches are one draw dealt out to the processes, and the writer adds
each batch step's pieces to its files as they come, holding no process's images beyond a step."""

from types import SimpleNamespace

import numpy as np
import pytest
import torch

import gan_lightning.callbacks.predictions as predictions
from gan_lightning.callbacks.predictions import SampleWriter
from gan_lightning.noise import draw_noise
from gan_lightning.sampling.chunked import NoisePieces
from gan_lightning.sampling.images import PieceWriter, write_output

HPARAMS = SimpleNamespace(latent_dim=3, noise="normal")


@pytest.mark.parametrize("n, piece, world", [(10, 3, 1), (10, 3, 2), (10, 3, 3), (5, 4, 3), (2, 8, 4), (32, 16, 2)])
def test_the_pieces_of_all_processes_are_the_one_draw(n, piece, world):
    labels = torch.arange(n) % 10
    whole = draw_noise(n, HPARAMS, torch.Generator().manual_seed(4), "cpu")
    per_rank = [list(NoisePieces(HPARAMS, labels, 4, piece, rank, world)) for rank in range(world)]
    assert {len(batches) for batches in per_rank} == {len(NoisePieces(HPARAMS, labels, 4, piece, 0, world))}
    steps = list(zip(*per_rank, strict=True))  # what the writer gathers at each batch step
    kept = [(i, z, y) for step in steps for i, z, y in step if i[0] >= 0]
    index = torch.cat([i for i, _, _ in kept])
    assert torch.equal(index, torch.arange(n))  # in order, step by step and rank by rank
    assert torch.equal(torch.cat([z for _, z, _ in kept]), whole)
    assert torch.equal(torch.cat([y for _, _, y in kept]), labels)
    assert all(len(i) <= piece for step in steps for i, _, _ in step)


def _trainer(rank, loader):
    return SimpleNamespace(is_global_zero=rank == 0, world_size=2, predict_dataloaders=loader)


@pytest.mark.parametrize("name", ["s.npz", "s.png"])
def test_the_writer_of_two_processes_writes_the_one_draw_in_order(monkeypatch, tmp_path, name):
    n, piece = 11, 2
    labels = torch.arange(n) // 4  # digits 0, 1, 2: four of each but the last
    ranks = [NoisePieces(HPARAMS, labels, 1, piece, rank, 2) for rank in range(2)]

    def decode(batch):  # a stand-in model: each image is its row of noise
        index, z, y = batch
        return {"index": index, "images": z.reshape(-1, 1, 1, 3).tanh(), "labels": y}

    steps = [[decode(b) for b in step] for step in zip(*ranks, strict=True)]
    monkeypatch.setattr(predictions, "_gather", lambda trainer, piece: next(gathered))
    writers = [SampleWriter(out=str(tmp_path / name)) for _ in range(2)]
    for rank, writer in enumerate(writers):
        writer.on_predict_epoch_start(
            _trainer(rank, SimpleNamespace(dataset=ranks[rank])), SimpleNamespace(conditional=True)
        )
    assert [len(w._files) for w in writers] == [1, 0]  # only rank zero opens the file
    for step in steps:
        for rank, writer in enumerate(writers):
            gathered = iter([step])
            writer.write_on_batch_end(_trainer(rank, None), None, step[rank], None, None, 0, 0)
    for rank, writer in enumerate(writers):
        writer.on_predict_epoch_end(_trainer(rank, None), SimpleNamespace(conditional=True))
    whole = draw_noise(n, HPARAMS, torch.Generator().manual_seed(1), "cpu").reshape(-1, 1, 1, 3).tanh()
    expected = tmp_path / f"expected{name[1:]}"
    write_output(whole, labels, expected, nrow=4)
    assert (tmp_path / name).read_bytes() == expected.read_bytes()
    if name.endswith(".npz"):
        assert np.load(tmp_path / name)["images"].shape == (n, 1, 1, 3)


def test_an_interrupted_predict_leaves_no_file(tmp_path):
    writer = SampleWriter(out=str(tmp_path / "s.npz"))
    pieces = NoisePieces(HPARAMS, torch.full((6,), -1), 0, 2)
    trainer = SimpleNamespace(is_global_zero=True, world_size=1, predict_dataloaders=[SimpleNamespace(dataset=pieces)])
    writer.on_predict_epoch_start(trainer, SimpleNamespace(conditional=False))
    index, z, y = next(iter(pieces))
    writer.write_on_batch_end(
        trainer, None, {"index": index, "images": z.view(-1, 1, 1, 3), "labels": y}, None, None, 0, 0
    )
    writer.on_exception(trainer, None, KeyboardInterrupt())
    assert list(tmp_path.iterdir()) == []


def test_a_predict_of_other_batches_is_refused_in_one_line(tmp_path):
    writer = SampleWriter(out=str(tmp_path / "s.npz"))
    trainer = SimpleNamespace(is_global_zero=True, predict_dataloaders=SimpleNamespace(dataset=[1, 2]))
    with pytest.raises(
        RuntimeError, match="SampleWriter writes the batches of MNISTDataModule.predict_dataloader.*list"
    ):
        writer.on_predict_epoch_start(trainer, SimpleNamespace(conditional=False))


def test_a_piece_writer_fed_piece_by_piece_writes_what_one_write_does(tmp_path):
    images, labels = torch.rand(7, 1, 2, 2) * 2 - 1, torch.arange(7)
    writer = PieceWriter(tmp_path / "p.npz", 7, nrow=3)
    for start in range(0, 7, 3):
        writer.add(images[start : start + 3], labels[start : start + 3])
    assert not (tmp_path / "p.npz").exists()  # named only when closed
    writer.close()
    write_output(images, labels, tmp_path / "w.npz", nrow=3)
    assert (tmp_path / "p.npz").read_bytes() == (tmp_path / "w.npz").read_bytes()
