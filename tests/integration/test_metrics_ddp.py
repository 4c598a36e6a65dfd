"""GANMetrics under DDP: two CPU processes (gloo), each with half the digits, give the one-process numbers."""

import json

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from gan_lightning.data import SAMPLE_DIR, load_split, to_unit_range
from gan_lightning.metrics.gan_metrics import GANMetrics

N = 600


def _data():
    x, y = load_split(SAMPLE_DIR, "test")
    x = to_unit_range(x)
    real, real_y = x[:N], y[:N]
    fake, fake_y = x[N : 2 * N].flip(-1), y[N : 2 * N]  # mirrored digits: every metric away from its ideal
    return real, real_y, fake, fake_y


def _worker(rank: int, world: int, init_file: str, out_file: str) -> None:
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank, world_size=world)
    try:
        real, real_y, fake, fake_y = _data()
        part = slice(rank * N // world, (rank + 1) * N // world)  # rank 0 the first half, as one process orders it
        m = GANMetrics(True, kid_subsets=10)
        m.update_real(real[part], real_y[part])
        m.update_fake(fake[part], fake_y[part])
        result = m.compute()
        result["local_real"] = m.real_count  # compute reduced a copy; the rank's own state is intact
        if rank == 0:
            with open(out_file, "w") as f:
                json.dump(result, f)
    finally:
        dist.destroy_process_group()


@pytest.mark.slow
def test_two_ranks_reduce_to_the_single_process_result(tmp_path):
    out = tmp_path / "rank0.json"
    mp.spawn(_worker, args=(2, str(tmp_path / "init"), str(out)), nprocs=2, join=True)
    ddp = json.loads(out.read_text())
    real, real_y, fake, fake_y = _data()
    single = GANMetrics(True, kid_subsets=10)
    single.update_real(real, real_y)
    single.update_fake(fake, fake_y)
    ref = single.compute()
    assert ddp["n_real"] == ddp["n_fake"] == N and ddp["local_real"] == N // 2
    for key in ("fid", "kid", "is", "class_acc", "modes", "kl_uniform", "diversity", "diversity_min", "class_fid"):
        assert ddp[key] == pytest.approx(ref[key], rel=1e-5, abs=1e-7), key
