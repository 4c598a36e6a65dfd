import gzip

import numpy as np
import pytest

from gan_lightning.data.idx import read_idx, write_idx


@pytest.mark.parametrize("suffix", [".gz", ""], ids=["gzip", "plain"])
def test_roundtrip(tmp_path, suffix):
    images = np.random.default_rng(0).integers(0, 256, (5, 28, 28), dtype=np.uint8)
    labels = np.arange(5, dtype=np.uint8)
    write_idx(tmp_path / f"i{suffix}", images)
    write_idx(tmp_path / f"l{suffix}", labels)
    np.testing.assert_array_equal(read_idx(tmp_path / f"i{suffix}", 3), images)
    np.testing.assert_array_equal(read_idx(tmp_path / f"l{suffix}", 1), labels)


def test_wrong_magic_names_file(tmp_path):
    write_idx(tmp_path / "labels", np.zeros(3, np.uint8))
    with pytest.raises(ValueError, match=r"labels has magic number 0x00000801, expected 0x00000803"):
        read_idx(tmp_path / "labels", 3)


def test_truncated_payload(tmp_path):
    write_idx(tmp_path / "x", np.zeros((4, 28, 28), np.uint8))
    data = (tmp_path / "x").read_bytes()
    (tmp_path / "x").write_bytes(data[:-100])
    with pytest.raises(ValueError, match=r"x is truncated or padded: 3052 bytes, its header \(shape \(4, 28, 28\)\)"):
        read_idx(tmp_path / "x", 3)


def test_truncated_header(tmp_path):
    (tmp_path / "x").write_bytes(b"\x00\x00\x08\x03\x00")
    with pytest.raises(ValueError, match="x is truncated: 5 bytes, header needs 16"):
        read_idx(tmp_path / "x", 3)


def test_broken_gzip(tmp_path):
    write_idx(tmp_path / "x.gz", np.zeros((4, 28, 28), np.uint8))
    data = (tmp_path / "x.gz").read_bytes()
    (tmp_path / "x.gz").write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match=r"Cannot read IDX file .*x\.gz"):
        read_idx(tmp_path / "x.gz", 3)


def test_not_gzip_despite_suffix(tmp_path):
    (tmp_path / "x.gz").write_bytes(gzip.compress(b"") + b"garbage")
    with pytest.raises(ValueError, match=r"x\.gz"):
        read_idx(tmp_path / "x.gz", 3)
