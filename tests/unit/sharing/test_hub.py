"""Hugging Face Hub format: save_pretrained / from_pretrained round trips, the card, the pretrained
names and their one-line errors, push_to_hub (with the Hub API replaced by a recorder: no network)."""

import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from gan_lightning import GAN, ConditionalGAN, SelfConditionedGAN
from gan_lightning.reliability.checkpoints import CheckpointError
from gan_lightning.sharing.pretrained import PretrainedError, resolve

FP16_TOLERANCE = 2e-2  # |images from fp16 weights - images from fp32 weights|, pixels in [-1, 1]


def _models() -> dict:
    torch.manual_seed(0)
    return {
        "cgan_dcgan_ema": ConditionalGAN(
            arch="dcgan", ngf=8, ndf=8, conditioning="projection", d_norm="none", spectral_norm=True, ema_decay=0.9
        ),
        "gan_mlp": GAN(arch="mlp", g_hidden=[32, 64], d_hidden=[32], g_norm="batchnorm", latent_dim=16),
        "cgan_mlp_embedding": ConditionalGAN(
            arch="mlp", conditioning="embedding", embed_dim=6, g_hidden=[32], d_hidden=[32], noise="uniform"
        ),
        "selfcond": SelfConditionedGAN(ngf=8, ndf=8, clusters=4, ema_decay=0.9),
    }


@pytest.fixture(scope="module")
def saved(tmp_path_factory) -> dict:
    out = {}
    for name, model in _models().items():
        if model.generator_ema is not None:  # make the EMA differ from the live generator
            for p in model.generator.parameters():
                p.data.add_(0.05)
        if model.clustered:  # uneven cluster shares, which sampling must keep
            model.cluster_cdf = torch.tensor([0.1, 0.5, 0.6, 1.0])
        folder = tmp_path_factory.mktemp(name)
        model.save_pretrained(folder)
        out[name] = (model.eval(), folder)
    return out


def _inputs(model, n: int = 6):
    z = model.sample_z(n, torch.Generator().manual_seed(3))
    return z, (torch.arange(n) % 10 if model.conditional else None)


@pytest.mark.parametrize("name", ["cgan_dcgan_ema", "gan_mlp", "cgan_mlp_embedding", "selfcond"])
def test_round_trip_draws_the_same_images(saved, name):
    model, folder = saved[name]
    assert sorted(p.name for p in folder.iterdir()) == ["README.md", "config.json", "model.safetensors", "sample.png"]
    loaded = GAN.from_pretrained(folder)  # GAN loads either kind
    assert type(loaded) is type(model) and not loaded.training
    z, labels = _inputs(model)
    diff = (loaded.decode(z, labels) - model.decode(z, labels)).abs().max().item()
    assert 0 < diff < FP16_TOLERANCE  # rounded to fp16, nothing more
    live, sampling = loaded.g_modules().state_dict(), loaded.sampling_modules().state_dict()
    assert all(torch.equal(live[k], sampling[k]) for k in sampling)  # the live G holds the saved (EMA) G too
    if model.clustered:
        assert torch.equal(loaded.cluster_cdf, model.cluster_cdf)


def test_weights_are_the_ema_generator_in_fp16(saved):
    model, folder = saved["cgan_dcgan_ema"]
    state = load_file(str(folder / "model.safetensors"))
    ema = model.generator_ema.module.state_dict()
    assert state.keys() == ema.keys()
    assert all(k.startswith(("net.", "label.")) for k in state)  # no discriminator
    weight = "net.net.0.weight"
    assert state[weight].dtype == torch.float16
    assert torch.equal(state[weight], ema[weight].half())
    assert not torch.allclose(state[weight].float(), model.generator.state_dict()["net.0.weight"], atol=1e-2)
    assert state["net.net.1.running_var"].dtype == torch.float32  # BatchNorm statistics keep their range
    config = json.loads((folder / "config.json").read_text())
    assert config["ngf"] == 8 and config["conditioning"] == "projection" and config["ema_decay"] == 0.9
    assert config["gan_lightning"]["model_class"] == "ConditionalGAN"
    assert config["gan_lightning"]["weights"] == "ema generator"


def test_card_and_sample_grid(saved):
    model, folder = saved["cgan_dcgan_ema"]
    card = (folder / "README.md").read_text()
    assert card.startswith("---\n") and "library_name: gan_lightning" in card
    assert "ConditionalGAN.from_pretrained" in card and "![Samples, seed 0](sample.png)" in card
    assert "Not measured for this folder" in card  # a fresh model has no metrics to show
    from PIL import Image

    assert Image.open(folder / "sample.png").size == (10 * 30 + 2, 10 * 30 + 2)  # 10 x 10 digits of 28 px


def test_card_shows_metrics_and_training_when_known(tmp_path):
    model = GAN(arch="mlp", g_hidden=[16], d_hidden=[16])
    model.hub_info["training"] = {"budget": "max_time 00:00:01:00", "seed": 0}
    model.hub_info["metrics"] = [
        {
            "what": "this model",
            "test_data": "MNIST test split (10,000 digits)",
            "n_samples": 10000,
            "command": "gan-lightning evaluate --pretrained x --n_samples 10000",
            "values": {"fid": 12.345, "modes": 9, "kl_uniform": 0.0123},
        }
    ]
    model.save_pretrained(tmp_path, model_card_kwargs={"model_ref": "owner/repo"})
    card = (tmp_path / "README.md").read_text()
    assert "| budget | max_time 00:00:01:00 |" in card
    assert "| this model | MNIST test split (10,000 digits) | 10000 | 12.35 | - | - | 9 | 0.0123 |" in card
    assert "gan-lightning evaluate --pretrained x --n_samples 10000" in card
    assert "gan-lightning generate --pretrained owner/repo --n 64" in card
    again = GAN.from_pretrained(tmp_path)
    assert again.hub_info["metrics"][0]["values"]["fid"] == 12.345  # kept in config.json


def test_kind_and_structure_mismatches_are_one_line(saved):
    _, gan_folder = saved["gan_mlp"]
    with pytest.raises(CheckpointError, match="holds a GAN but ConditionalGAN.from_pretrained was asked"):
        ConditionalGAN.from_pretrained(gan_folder)
    _, cgan_folder = saved["cgan_dcgan_ema"]
    with pytest.raises(CheckpointError, match=r"ngf: .* was saved with ngf=8, which its weights need; got 16"):
        ConditionalGAN.from_pretrained(cgan_folder, ngf=16)
    model = ConditionalGAN.from_pretrained(cgan_folder, metric_samples=100)  # not structural: allowed
    assert model.hparams.metric_samples == 100


def test_pretrained_values_that_name_nothing(tmp_path, monkeypatch):
    with pytest.raises(PretrainedError, match=r"'mnist-cgn' is not a shipped model \(mnist-cgan .*mnist-gan"):
        resolve("mnist-cgn")
    (tmp_path / "empty").mkdir()
    with pytest.raises(PretrainedError, match="is not a gan_lightning model folder .no config.json and no model"):
        resolve(tmp_path / "empty")
    (tmp_path / "file.txt").write_text("x")
    with pytest.raises(PretrainedError, match="is a file"):
        resolve(tmp_path / "file.txt")
    assert resolve("owner/some-model") == "owner/some-model"  # a Hub repo id: downloaded by huggingface_hub
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)  # the Hub is not asked: no network in tests
    with pytest.raises(PretrainedError, match=r"'owner/some-model' is not a local folder, and loading it from the Hug"):
        GAN.from_pretrained("owner/some-model", cache_dir=str(tmp_path / "cache"))


def test_push_to_hub_uploads_the_folder_with_the_repo_in_the_card(saved, monkeypatch):
    import huggingface_hub.hub_mixin as hub_mixin

    uploaded = {}

    class RecordingApi:  # stands in for huggingface_hub.HfApi: records instead of uploading
        def __init__(self, token=None):
            pass

        def create_repo(self, repo_id, private=None, exist_ok=False):
            return type("Repo", (), {"repo_id": repo_id})()

        def upload_folder(self, repo_id, folder_path, **kwargs):
            folder = Path(folder_path)
            uploaded.update({p.name: p.read_bytes() for p in folder.iterdir()}, repo_id=repo_id)
            return f"https://huggingface.co/{repo_id}/commit/0"

    monkeypatch.setattr(hub_mixin, "HfApi", RecordingApi)
    model, _ = saved["gan_mlp"]
    assert model.push_to_hub("someone/mnist-gan").endswith("/commit/0")
    assert uploaded["repo_id"] == "someone/mnist-gan"
    assert {"config.json", "model.safetensors", "README.md", "sample.png"} <= uploaded.keys()
    assert b"gan-lightning generate --pretrained someone/mnist-gan" in uploaded["README.md"]
