"""A bare PyTorch training loop: the yardstick that `fit` is measured against.

The same nets (`gan_lightning.nets.build_nets`), label conditioning, loss, optimizers (fused Adam
where torch has it, as the modules use), EMA and batch size as a config's model, in the loop one
would write by hand: D step, G step on the same fakes with D frozen, EMA update. No Lightning, no
logging, no checks. Batches are cut from the whole training set, normalised once in memory.
It imports only torch and the project's Lightning-free parts (nets, losses, data files), so
its process start is a plain PyTorch script's.

  python benchmarks/bare_loop.py --hparams hp.json --data_dir DIR --epochs 4      # a whole run
  (benchmarks/throughput.py writes hp.json from a config and imports `BareGAN` for in-process timing)
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a checkout without installing

from gan_lightning.data import SAMPLE_DIR, load_split, mnist_or_sample, to_unit_range  # noqa: E402
from gan_lightning.losses import LOSSES  # noqa: E402
from gan_lightning.nets import LabelEncoder, ProjectionHead, build_nets, spectral_normalize  # noqa: E402


class BareGAN:
    """A config's nets, loss, optimizers and EMA, trained by `step(real, labels)`.

    Args:
        hp: the model's settings (`GAN`'s argument names, plus ``conditioning``/``embed_dim`` for a CGAN).
        device: where to train.
        precision: ``32-true``, ``bf16-mixed`` or ``16-mixed`` (autocast; a GradScaler for the latter).
    """

    def __init__(self, hp: dict, device: str | torch.device = "cpu", precision: str = "32-true") -> None:
        if hp.get("gp_weight") or hp.get("lr_decay", "none") != "none" or hp.get("grad_clip_val"):
            raise ValueError("the bare loop covers the configs' defaults: no gp_weight, lr_decay or grad_clip_val")
        self.hp, self.device = hp, torch.device(device)
        n, kind = hp["num_classes"], hp.get("conditioning")
        self.g_label = self.d_label = self.d_proj = None
        if kind == "projection":
            self.g_label = LabelEncoder(n, "onehot")
        elif kind is not None:
            self.g_label = LabelEncoder(n, kind, hp.get("embed_dim"))
            self.d_label = LabelEncoder(n, kind, hp.get("embed_dim"))
        g_dim = self.g_label.dim if self.g_label else 0
        self.g, self.d = build_nets(hp, g_dim, self.d_label.dim if self.d_label else 0)
        if kind == "projection":
            self.d_proj = ProjectionHead(n, self.d.feature_dim)
        g_mods = [m for m in (self.g, self.g_label) if m is not None]
        d_mods = [m for m in (self.d, self.d_label, self.d_proj) if m is not None]
        if hp["spectral_norm"]:
            for m in d_mods:
                spectral_normalize(m)
        for m in g_mods + d_mods:
            m.to(self.device).train()
        self.g_params = [p for m in g_mods for p in m.parameters()]
        self.d_params = [p for m in d_mods for p in m.parameters()]
        self.loss = LOSSES[hp["loss"]]
        self.opt_g, self.opt_d = self._optimizer(self.g_params, hp["lr_g"]), self._optimizer(self.d_params, hp["lr_d"])
        self.ema = None
        if hp.get("ema_decay") is not None:  # warm-up min(decay, (1 + n) / (10 + n)), as the modules do
            live = [t for m in g_mods for t in (*m.parameters(), *m.buffers()) if t.is_floating_point()]
            self.ema = ([copy.deepcopy(t.detach()) for t in live], live)
            self.ema_updates = 0
        half = torch.bfloat16 if precision == "bf16-mixed" else torch.float16
        self.autocast = torch.autocast(self.device.type, dtype=half, enabled=precision.endswith("-mixed"))
        self.scaler = torch.amp.GradScaler(self.device.type, enabled=precision == "16-mixed")
        self.batches = 0

    def _optimizer(self, params: list, lr: float) -> torch.optim.Optimizer:
        if self.hp["optimizer"] == "sgd":
            return torch.optim.SGD(params, lr=lr, momentum=self.hp["momentum"])
        return torch.optim.Adam(params, lr=lr, betas=tuple(self.hp["betas"]), fused=self.device.type in ("cpu", "cuda"))

    def compile(self) -> None:
        self.g.compile()
        self.d.compile()

    def noise(self, n: int) -> torch.Tensor:
        shape = (n, self.hp["latent_dim"])
        if self.hp["noise"] == "uniform":
            return torch.rand(shape, device=self.device)
        return torch.randn(shape, device=self.device)

    def generate(self, z: torch.Tensor, y: torch.Tensor | None) -> torch.Tensor:
        return self.g(z) if self.g_label is None else self.g(z, self.g_label(y))

    def discriminate(self, x: torch.Tensor, y: torch.Tensor | None) -> torch.Tensor:
        if self.d_proj is not None:
            h = self.d.features(x)
            return self.d.head(h).squeeze(1) + self.d_proj(h, y)
        return self.d(x) if self.d_label is None else self.d(x, self.d_label(y))

    def _update(self, opt: torch.optim.Optimizer, loss: torch.Tensor) -> None:
        opt.zero_grad(set_to_none=True)
        self.scaler.scale(loss).backward()
        self.scaler.step(opt)
        self.scaler.update()

    def step(self, real: torch.Tensor, labels: torch.Tensor) -> None:
        n = real.size(0)
        g_turn = (self.batches + 1) % self.hp["n_critic"] == 0
        self.batches += 1
        z = self.noise(n)
        fake_y = torch.randint(0, self.hp["num_classes"], (n,), device=self.device) if self.g_label else None
        with torch.set_grad_enabled(g_turn), self.autocast:
            fake = self.generate(z, fake_y)
        with self.autocast:
            d_loss = self.loss.d_loss(self.discriminate(real, labels), self.discriminate(fake.detach(), fake_y))
        self._update(self.opt_d, d_loss)
        if not g_turn:
            return
        for p in self.d_params:
            p.requires_grad_(False)
        with self.autocast:
            g_loss = self.loss.g_loss(self.discriminate(fake, fake_y))
        self._update(self.opt_g, g_loss)
        for p in self.d_params:
            p.requires_grad_(True)
        if self.ema is not None:
            k = self.ema_updates
            with torch.no_grad():
                if k == 0:
                    torch._foreach_copy_(self.ema[0], self.ema[1])
                else:
                    torch._foreach_lerp_(self.ema[0], self.ema[1], 1.0 - min(self.hp["ema_decay"], (1 + k) / (10 + k)))
            self.ema_updates += 1


def load_train_set(data_dir: str | None) -> tuple[torch.Tensor, torch.Tensor]:
    """(N, 28, 28) uint8 and (N,) int64 from IDX files in `data_dir` (or its MNIST/raw), else the shipped sample."""
    source = mnist_or_sample(data_dir, note=lambda message: print(message, file=sys.stderr)) if data_dir else SAMPLE_DIR
    return load_split(source, "train")


def tensor_batches(images: torch.Tensor, labels: torch.Tensor, batch: int, device) -> Iterator:
    """The whole dataset normalised once; batches cut from a fresh permutation each epoch (drop_last)."""
    x = to_unit_range(images.to(device))  # (N, 1, 28, 28) in [-1, 1]
    y = labels.to(device)
    while True:
        perm = torch.randperm(len(y), device=device)
        for s in range(0, len(y) - batch + 1, batch):
            idx = perm[s : s + batch]
            yield x[idx], y[idx]


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--hparams", required=True, help="JSON: the model's settings and data.batch_size as 'batch_size'")
    p.add_argument("--data_dir", default=None)
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--max_batches", type=int, default=None, help="stop after this many batches in all")
    p.add_argument("--device", default="cpu")
    p.add_argument("--precision", default="32-true", choices=["32-true", "bf16-mixed", "16-mixed"])
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    hp = json.loads(Path(args.hparams).read_text())
    images, labels = load_train_set(args.data_dir)
    model = BareGAN(hp, args.device, args.precision)
    batches = tensor_batches(images, labels, hp["batch_size"], args.device)
    per_epoch = len(labels) // hp["batch_size"]
    total = min(args.epochs * per_epoch, args.max_batches or args.epochs * per_epoch)
    t0 = time.perf_counter()
    for _ in range(total):
        model.step(*next(batches))
    if model.device.type == "cuda":
        torch.cuda.synchronize()
    print(json.dumps({"batches": total, "train_seconds": time.perf_counter() - t0}))


if __name__ == "__main__":
    main()
