"""The MNIST classifier and GANMetrics: shapes, shipped weights, and properties every metric must have."""

import importlib.util

import pytest
import torch
from torchmetrics.image.fid import FrechetInceptionDistance
from torchmetrics.image.inception import InceptionScore

from gan_lightning.commands import train_classifier
from gan_lightning.data import SAMPLE_DIR, load_split, to_unit_range
from gan_lightning.metrics import MNISTClassifier, MNISTFeatures, load_classifier
from gan_lightning.metrics.accumulators import frechet_distance
from gan_lightning.metrics.classifier import DEFAULT_WEIGHTS, classifier_metadata
from gan_lightning.metrics.gan_metrics import GANMetrics
from gan_lightning.metrics.inception import check_inception_weights


@pytest.fixture(scope="module")
def digits():
    """The shipped sample's 2,000 real test digits (N, 1, 28, 28) in [-1, 1] and labels (N,)."""
    x, y = load_split(SAMPLE_DIR, "test")
    return to_unit_range(x), y


@pytest.fixture(scope="module")
def classifier():
    return load_classifier()


def _score(real, real_y, fake, fake_y, conditional=True):
    m = GANMetrics(conditional, kid_subsets=10)
    m.update_real(real, real_y)
    m.update_fake(fake, fake_y if conditional else None)
    return m.compute()


def test_classifier_shapes():
    net = MNISTClassifier().eval()
    x = torch.randn(4, 1, 28, 28)
    assert net.features(x).shape == (4, 128)
    assert net(x).shape == (4, 10)
    f, logits = net.features_and_logits(x)
    assert torch.allclose(logits, net(x)) and torch.allclose(f, net.features(x))


def test_feature_wrapper_resizes_64px_and_rejects_bad_shapes(classifier):
    feats = MNISTFeatures(classifier)
    assert feats(torch.zeros(2, 1, 64, 64)).shape == (2, 128)
    assert MNISTFeatures(classifier, logits=True)(torch.zeros(2, 1, 28, 28)).shape == (2, 10)
    with pytest.raises(ValueError, match=r"images must have shape \(B, 1, H, W\), got \(2, 3, 28, 28\)"):
        feats(torch.zeros(2, 3, 28, 28))
    feats.train()
    assert not feats.classifier.training  # a feature network stays in eval mode


def test_shipped_weights_are_small_documented_and_accurate(classifier, digits):
    assert DEFAULT_WEIGHTS.stat().st_size < 1_000_000
    meta = classifier_metadata()
    # However many training digits it saw (the file says; 60,000 after a retrain on full MNIST), it is
    # scored on the official 10,000-digit test split.
    assert isinstance(meta["train_size"], int) and 0 < meta["train_size"] <= 60_000
    assert meta["test_size"] == 10_000
    assert meta["test_accuracy"] >= 0.985 and "train_classifier" in meta["command"]
    x, y = digits  # official test digits, never trained on
    with torch.no_grad():
        acc = (classifier(x).argmax(1) == y).float().mean().item()
    assert acc >= 0.985


def test_missing_classifier_weights_say_how_to_make_them(tmp_path):
    with pytest.raises(FileNotFoundError, match="python -m gan_lightning.commands.train_classifier"):
        load_classifier(tmp_path / "none.pt")


def test_real_digits_against_themselves(digits):
    x, y = digits[0][:1000], digits[1][:1000]
    r = _score(x, y, x, y)
    assert abs(r["fid"]) < 1e-3 and abs(r["class_fid"]) < 1e-2
    assert r["diversity"] == pytest.approx(1.0, abs=1e-6) and r["diversity_min"] == pytest.approx(1.0, abs=1e-6)
    assert r["class_acc"] > 0.97  # the classifier's accuracy on these digits
    assert r["modes"] == 10 and r["kl_uniform"] < 0.01
    assert r["is"] > 8.5  # ten digits, confidently read
    assert r["n_real"] == r["n_fake"] == 1000


def test_collapsed_conditional_generator_is_flagged(digits, classifier):
    """Every digit drawn as one fixed real image: class accuracy is perfect, diversity and FID are not."""
    x, y = digits
    real, real_y, other, other_y = x[0::2], y[0::2], x[1::2], y[1::2]  # interleaved: the same digit mix
    with torch.no_grad():
        read_right = classifier(other).argmax(1) == other_y
    # one fixed, clearly written real image per digit (the first the classifier reads correctly)
    prototypes = torch.stack([other[(other_y == c) & read_right][0] for c in range(10)])  # (10, 1, 28, 28)
    collapsed = _score(real, real_y, prototypes[real_y], real_y)
    other_real = _score(real, real_y, other, other_y)  # fresh real digits: the floor at this size
    assert collapsed["class_acc"] == 1.0
    assert collapsed["diversity"] < 0.05 and collapsed["diversity_min"] < 0.05
    assert other_real["diversity"] > 0.8
    assert collapsed["fid"] > 10 * other_real["fid"]
    assert abs(other_real["kid"]) < 0.01 and collapsed["kid"] > 0.1
    assert collapsed["class_fid"] > 10 * other_real["class_fid"]
    print({k: (round(collapsed[k], 4), round(other_real[k], 4)) for k in ("fid", "kid", "class_fid", "diversity")})


def test_shuffled_labels_give_chance_class_accuracy(digits):
    x, y = digits[0][:1000], digits[1][:1000]
    shuffled = y[torch.randperm(len(y), generator=torch.Generator().manual_seed(0))]
    r = _score(x, y, x, shuffled)
    assert r["class_acc"] < 0.2
    assert r["diversity"] > 1.2  # each "digit" now holds all digits: far more spread than real ones


def test_unconditional_single_digit_covers_one_mode(digits):
    x, y = digits
    ones = x[y == 1][:150]
    r = _score(x[:1000], y[:1000], ones, None, conditional=False)
    assert r["modes"] == 1
    assert r["kl_uniform"] == pytest.approx(torch.log(torch.tensor(10.0)).item(), abs=0.1)
    assert r["is"] < 1.5
    assert "class_acc" not in r


def test_fid_matches_torchmetrics_with_the_feature_network(digits, classifier):
    """GANMetrics hands precomputed features to torchmetrics; the stand-alone `feature=` path agrees."""
    x, y = digits
    real, fake = x[:600], x[600:1200].flip(-1)  # mirrored digits: a clearly non-zero FID
    direct = FrechetInceptionDistance(feature=MNISTFeatures(classifier))
    direct.update(real, real=True)
    direct.update(fake, real=False)
    ours = _score(real, y[:600], fake, y[600:1200])
    assert ours["fid"] == pytest.approx(direct.compute().item(), rel=1e-4)
    assert ours["fid"] > 10


def test_inception_score_matches_torchmetrics(digits, classifier):
    x, y = digits
    sample = x[:800]
    tm = InceptionScore(feature=MNISTFeatures(classifier, logits=True), splits=1)
    tm.update(sample)
    ours = _score(x[800:1600], y[800:1600], sample, y[:800])
    assert ours["is"] == pytest.approx(tm.compute()[0].item(), rel=1e-4)


def test_reset_fake_keeps_the_real_side(digits):
    x, y = digits[0][:200], digits[1][:200]
    m = GANMetrics(True, kid_subsets=5)
    m.update_real(x, y)
    m.update_fake(x, y)
    first = m.compute()
    m.reset_fake()
    assert m.real_count == 200
    m.update_fake(x, y)
    assert m.compute()["fid"] == pytest.approx(first["fid"], abs=1e-6)
    m.reset()
    assert m.real_count == 0 and m.fid.real_features_num_samples.item() == 0 and m.kid.real_features == []


def test_metric_input_errors(digits):
    x, y = digits[0][:10], digits[1][:10]
    m = GANMetrics(True)
    with pytest.raises(ValueError, match="labels: a conditional model's samples need the digits"):
        m.update_fake(x)
    m.update_real(x[:1], y[:1])
    m.update_fake(x, y)
    with pytest.raises(ValueError, match="needs at least 2 real digits and 2 samples, got 1 and 10"):
        m.compute()
    with pytest.raises(ValueError, match="kid_subsets must be a positive integer, got 0"):
        GANMetrics(True, kid_subsets=0)


def test_missing_inception_weights_say_what_is_needed(tmp_path):
    missing = tmp_path / "pt_inception.pth"
    with pytest.raises(
        FileNotFoundError, match=r"inception_weights: no file at .*pt_inception.pth; .*weights-inception"
    ):
        check_inception_weights(missing)
    with pytest.raises(FileNotFoundError, match="inception_weights: no file at"):
        GANMetrics(True, inception_weights=missing)


def test_inception_without_torch_fidelity_says_how_to_install(tmp_path, monkeypatch):
    weights = tmp_path / "w.pth"
    weights.write_bytes(b"0")
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "torch_fidelity" else real_find_spec(name, *a)
    )
    with pytest.raises(ModuleNotFoundError, match=r"needs the torch-fidelity package; .*gan_lightning\[inception\]"):
        check_inception_weights(weights)


def test_frechet_distance_matches_the_closed_form_for_diagonal_covariances():
    a, b = torch.tensor([1.0, 4.0, 0.25], dtype=torch.float64), torch.tensor([9.0, 1.0, 0.25], dtype=torch.float64)
    mu = torch.tensor([1.0, -2.0, 0.0], dtype=torch.float64)
    expected = mu.square().sum() + (a.sqrt() - b.sqrt()).square().sum()  # 5 + 4 + 1 + 0
    got = frechet_distance(torch.zeros(3, dtype=torch.float64), torch.diag(a), mu, torch.diag(b))
    assert got.item() == pytest.approx(expected.item()) == 10.0


def test_trainer_records_the_data_it_saw_and_writes_no_config_entry(tmp_path, monkeypatch):
    seen = []  # the digits handed to training; the fit itself is not what this test is about
    monkeypatch.setattr(train_classifier, "train", lambda x, y, *args, **kw: seen.append(len(y)) or MNISTClassifier())
    out = tmp_path / "clf.pt"
    meta = train_classifier.main(["--data_dir", str(tmp_path), "--out", str(out), "--epochs", "1", "--threads", "1"])
    train_y, test_y = load_split(SAMPLE_DIR, "train")[1], load_split(SAMPLE_DIR, "test")[1]
    assert (meta["train_size"], meta["test_size"]) == (len(train_y), len(test_y)) and seen == [len(train_y)]
    assert classifier_metadata(out) == meta
    assert set(torch.load(out, weights_only=True)) == {"state_dict", "meta"}  # no always-empty "config"
    assert isinstance(load_classifier(out), MNISTClassifier)


def test_files_with_the_old_config_entry_still_load(tmp_path):
    blob = torch.load(DEFAULT_WEIGHTS, weights_only=True)
    old = tmp_path / "old.pt"
    torch.save({"state_dict": blob["state_dict"], "config": {}, "meta": blob["meta"]}, old)
    x = torch.zeros(2, 1, 28, 28)
    torch.testing.assert_close(load_classifier(old)(x), load_classifier()(x))


def test_validation_kid_averages_fewer_subsets_to_nearly_the_same_value(digits):
    from gan_lightning import GAN
    from gan_lightning.metrics.validation import VALIDATION_KID_SUBSETS

    real, real_y = digits[0][:1000], digits[1][:1000]
    fake = torch.nn.functional.avg_pool2d(digits[0][1000:], 3, 1, 1)  # blurred digits: a clearly nonzero KID
    kids = {}
    for subsets in (VALIDATION_KID_SUBSETS, 100):
        m = GANMetrics(False, kid_subsets=subsets)
        m.update_real(real, real_y)
        m.update_fake(fake)
        kids[subsets] = m.compute()["kid"]
    assert kids[100] > 0.05
    assert kids[VALIDATION_KID_SUBSETS] == pytest.approx(kids[100], rel=0.1)
    assert GAN(arch="mlp").quality.kid_subsets == VALIDATION_KID_SUBSETS < 100
