"""Work sized by the user fits in memory: `generate` and `evaluate` draw in pieces, the pieces give
the images of one draw, and no piece is larger than the chunk size."""

from types import SimpleNamespace

import numpy as np
import pytest
import torch
from PIL import Image

import gan_lightning.commands.generate as generate
import gan_lightning.sampling.images as images_module
from gan_lightning import GAN, ConditionalGAN, SelfConditionedGAN
from gan_lightning.callbacks.sinks import grid_image, to_grid
from gan_lightning.commands.cli import main
from gan_lightning.commands.evaluate import evaluate
from gan_lightning.commands.generate import cpu_noise, generate_images
from gan_lightning.data.idx import write_idx
from gan_lightning.noise import draw_noise
from gan_lightning.sampling.chunked import ClusterRows, NoiseRows
from tests.helpers import save_checkpoint


@pytest.mark.parametrize("noise", ["normal", "uniform"])
@pytest.mark.parametrize("latent_dim", [1, 3, 8, 100])
@pytest.mark.parametrize("n", [1, 5, 17, 100])
def test_noise_in_pieces_is_the_one_draw(noise, latent_dim, n):
    hparams = SimpleNamespace(latent_dim=latent_dim, noise=noise)
    whole = draw_noise(n, hparams, torch.Generator().manual_seed(7), "cpu", 0.7)
    for piece in (1, 3, 16, 1000):
        rows = NoiseRows(hparams, n, torch.Generator().manual_seed(7), 0.7)
        parts = [rows.take(min(piece, n - start)) for start in range(0, n, piece)]
        assert torch.equal(torch.cat(parts), whole), piece


@pytest.fixture(scope="module")
def models():
    torch.manual_seed(0)
    return {
        "gan": GAN(arch="mlp", g_hidden=[16], d_hidden=[16], latent_dim=5).eval(),
        "cgan": ConditionalGAN(arch="mlp", g_hidden=[16], d_hidden=[16], latent_dim=6).eval(),
        "selfcond": SelfConditionedGAN(ngf=4, ndf=4, latent_dim=8, clusters=3, metrics=False).eval(),
    }


def _one_draw(model, n, seed, cluster=None):
    """The noise of a single draw for all images, what `generate` decoded before it drew in pieces."""
    if cluster is not None:
        return model.noise_in_clusters(torch.full((n,), cluster), torch.Generator().manual_seed(seed))
    return cpu_noise(model, n, torch.Generator().manual_seed(seed))


@pytest.mark.parametrize(
    ("name", "counts", "cluster"),
    [
        ("gan", {"n": 23}, None),
        ("cgan", {"n_per_digit": 2}, None),
        ("selfcond", {"n": 11}, None),
        ("selfcond", {"n": 11}, 2),
    ],
)
def test_pieces_give_the_images_of_one_draw(monkeypatch, models, name, counts, cluster):
    model = models[name]
    z = _one_draw(model, counts.get("n", 20), seed=3, cluster=cluster)
    whole = model.decode(z, torch.arange(10).repeat_interleave(2) if model.conditional else None)
    for chunk in (1, 3, 4, 8, 1000):
        with monkeypatch.context() as patch:
            decoded = _spy_decode(patch, type(model))
            images, _ = generate_images(model, seed=3, cluster=cluster, chunk=chunk, **counts)
        assert [len(piece) for piece in decoded] == [len(piece) for piece in z.split(chunk)]
        assert torch.equal(torch.cat(decoded), z), chunk  # the same noise, bit for bit, whatever the pieces
        # The images too, up to the last bit: the CPU's matrix kernels round some row counts differently.
        torch.testing.assert_close(images, whole, rtol=0, atol=1e-6)


def _spy_decode(monkeypatch, model_class) -> list[torch.Tensor]:
    """The noise of every `decode` call of `model_class` (and its subclasses), in order."""
    noise: list[torch.Tensor] = []
    decode = model_class.decode

    def recorded(self, z, labels=None):
        noise.append(z.clone())
        return decode(self, z, labels)

    monkeypatch.setattr(model_class, "decode", recorded)
    return noise


@pytest.mark.parametrize("suffix", [".npz", ".png"])
def test_generate_decodes_at_most_a_chunk_and_writes_the_one_draw(monkeypatch, tmp_path, models, suffix):
    ckpt = save_checkpoint(tmp_path, models["gan"], "gan.ckpt")
    main(["generate", "--ckpt_path", str(ckpt), "--n", "10", "--seed", "2", "--out", str(tmp_path / f"one{suffix}")])
    monkeypatch.setattr(images_module, "CHUNK", 4)
    decoded = _spy_decode(monkeypatch, GAN)
    main(["generate", "--ckpt_path", str(ckpt), "--n", "10", "--seed", "2", "--out", str(tmp_path / f"four{suffix}")])
    assert [len(z) for z in decoded] == [4, 4, 2]  # never the whole count at once
    if suffix == ".npz":
        one, four = np.load(tmp_path / "one.npz"), np.load(tmp_path / "four.npz")
        assert four["images"].dtype == np.float32 and four["images"].shape == (10, 1, 28, 28)
        np.testing.assert_allclose(four["images"], one["images"], rtol=0, atol=1e-6)  # see above
        assert four["labels"].tolist() == [-1] * 10
    else:
        one, four = (np.asarray(Image.open(tmp_path / f"{name}.png"), dtype=int) for name in ("one", "four"))
        assert one.shape == four.shape and np.abs(one - four).max() <= 1  # a last-bit change may round one step


def test_a_grid_from_pieces_is_the_grid_of_the_float_images(tmp_path, models):
    images, labels = generate_images(models["cgan"], n_per_digit=3, seed=1)
    images[0, 0, 0, 0] = 5.0  # out of range: clamped alike
    for nrow in (1, 3, 7):
        generate.write_output(images, labels, tmp_path / f"{nrow}.png", nrow)
        pieces = [(images[i : i + 4], labels[i : i + 4]) for i in range(0, len(labels), 4)]
        generate.write_pieces(pieces, len(labels), tmp_path / f"{nrow}-pieces.png", nrow)
        expected = np.asarray(grid_image(to_grid(images, nrow)))
        assert np.array_equal(np.asarray(Image.open(tmp_path / f"{nrow}.png")), expected)
        assert np.array_equal(np.asarray(Image.open(tmp_path / f"{nrow}-pieces.png")), expected)


def test_an_npz_written_in_pieces_is_np_savez(tmp_path):
    images, labels = torch.randn(9, 1, 4, 4).clamp(-1, 1), torch.arange(9)
    generate.write_pieces([(images[:5], labels[:5]), (images[5:], labels[5:])], 9, tmp_path / "a.npz", 3)
    np.savez(tmp_path / "b.npz", images=images.numpy(), labels=labels.numpy())
    a, b = np.load(tmp_path / "a.npz"), np.load(tmp_path / "b.npz")
    assert sorted(a.files) == sorted(b.files) == ["images", "labels"]
    assert all(np.array_equal(a[k], b[k]) and a[k].dtype == b[k].dtype for k in a.files)


@pytest.mark.parametrize("name", ["a.npz", "a.png"])
def test_a_short_stream_leaves_no_file(tmp_path, name):
    images, labels = torch.zeros(3, 1, 4, 4), torch.full((3,), -1)
    with pytest.raises(RuntimeError, match="5 images promised for .*a\\.(npz|png)', 3 given"):
        generate.write_pieces([(images, labels)], 5, tmp_path / name, 3)
    assert list(tmp_path.iterdir()) == []


def test_cluster_rows_are_noise_in_clusters(models):
    model = models["selfcond"]
    whole = model.noise_in_clusters(torch.full((9,), 1), torch.Generator().manual_seed(5), 0.8)
    rows = ClusterRows(model, 1, 9, seed=5, truncation=0.8)
    assert torch.equal(torch.cat([rows.take(k) for k in (2, 2, 5)]), whole)
    assert "sample_z" not in vars(model)  # the model's own sampling is back


def test_evaluate_decodes_at_most_a_batch_and_the_batch_size_changes_nothing(monkeypatch, tmp_path, models):
    raw = tmp_path / "MNIST" / "raw"  # a small test split: the real side is scored once per run
    raw.mkdir(parents=True)
    pixels = np.random.default_rng(0).integers(0, 256, (64, 28, 28), dtype=np.uint8)
    for split in ("train", "t10k"):
        write_idx(raw / f"{split}-images-idx3-ubyte", pixels)
        write_idx(raw / f"{split}-labels-idx1-ubyte", (np.arange(64) % 10).astype(np.uint8))
    decoded = _spy_decode(monkeypatch, GAN)
    kwargs = {"model": models["gan"], "n_samples": 40, "data_dir": str(tmp_path), "seed": 1}
    small = evaluate(batch_size=16, **kwargs)
    assert [len(z) for z in decoded] == [16, 16, 8]
    large = evaluate(batch_size=40, **kwargs)
    assert torch.equal(torch.cat(decoded[:3]), decoded[3])  # the same noise in 3 pieces or 1
    del small["seconds"], large["seconds"]
    assert small == pytest.approx(large, rel=1e-6)  # the same samples, up to the kernels' last bit
