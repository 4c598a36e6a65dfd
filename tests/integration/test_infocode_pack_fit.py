"""InfoGAN's code and PacGAN's packing in real fits: exact resume, the batch rule, model folders."""

import lightning as L
import pytest
import torch

from gan_lightning import GAN, MNISTDataModule, SelfConditionedGAN
from tests.helpers import SaveAt, record_losses, tiny_trainer

BATCHES, EPOCHS = 4, 2
TINY = dict(ngf=8, ndf=8, latent_dim=16, metrics=False)
CASES = {
    "info_codes": (GAN, dict(info_codes=4)),
    "pack": (GAN, dict(pack=2, d_norm="none", spectral_norm=True, loss="hinge")),
    "selfcond_pack": (SelfConditionedGAN, dict(clusters=6, pack=4)),
}


def _model_and_data(tmp_path, case: str, seed: int):
    L.seed_everything(seed)
    model_class, settings = CASES[case]
    model = model_class(**TINY, **settings)
    losses = record_losses(model)
    dm = MNISTDataModule(data_dir=str(tmp_path / "data"), download=False, batch_size=16, indices=True)
    return model, dm, losses


def _trainer(tmp_path, *callbacks):
    return tiny_trainer(tmp_path, max_epochs=EPOCHS, limit_train_batches=BATCHES, callbacks=list(callbacks))


@pytest.mark.parametrize("case", list(CASES))
def test_resume_mid_run_continues_exactly(tmp_path, case):
    model, dm, whole = _model_and_data(tmp_path, case, seed=0)
    mid = tmp_path / "mid.ckpt"
    _trainer(tmp_path / "whole", SaveAt(0, 1, mid)).fit(model, dm)
    resumed, dm2, losses = _model_and_data(tmp_path, case, seed=7)  # another seed: the checkpoint sets all
    _trainer(tmp_path / "resumed").fit(resumed, dm2, ckpt_path=mid)
    assert losses == whole[2 * 2 :]  # every D and G loss after the stop, bit for bit
    for (name, a), b in zip(resumed.state_dict().items(), model.state_dict().values(), strict=True):
        assert torch.equal(a, b), name


def test_a_batch_that_is_not_a_multiple_of_pack_is_refused_at_fit_start(tmp_path):
    model = GAN(pack=3, **TINY)
    dm = MNISTDataModule(data_dir=str(tmp_path / "data"), download=False, batch_size=16)
    with pytest.raises(ValueError, match=r"pack: data.batch_size must be a multiple of pack \(3\), got 16"):
        tiny_trainer(tmp_path).fit(model, dm)


def test_the_code_head_learns_and_is_logged(tmp_path):
    model, dm, _ = _model_and_data(tmp_path, "info_codes", seed=0)
    logger = L.pytorch.loggers.CSVLogger(tmp_path)
    trainer = tiny_trainer(tmp_path, max_epochs=1, limit_train_batches=30, log_every_n_steps=5, logger=logger)
    trainer.fit(model, dm)
    # A uniform guess among 4 codes is 0.25; both nets push Q's reading up within a few dozen steps.
    assert trainer.callback_metrics["train/info_acc"] > 0.5


def test_a_model_folder_keeps_the_code(tmp_path):
    model = GAN(info_codes=4, **TINY).eval()
    model.save_pretrained(tmp_path / "folder")
    loaded = GAN.from_pretrained(tmp_path / "folder").eval()
    z = model.sample_z(6, torch.Generator().manual_seed(0))
    assert loaded.hparams.info_codes == 4
    assert torch.allclose(loaded.decode(z), model.decode(z), atol=0.02)  # the folder's weights are float16
    with pytest.raises(ValueError, match=r"info_codes: pretrained .* was saved with info_codes=4, .* got 6"):
        GAN.from_pretrained(tmp_path / "folder", info_codes=6)
