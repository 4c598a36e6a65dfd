"""GAN: a thin LightningModule over plain nets, a loss pair and two optimizers.

One training batch is one discriminator step; every `n_critic`-th batch also makes one
generator step. Lightning's `trainer.global_step` counts *optimizer* steps, so with
`n_critic=1` each batch advances it by 2: `max_steps=2000` means 1000 batches. Anything keyed
on generator progress reads `self.g_steps` instead.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

import lightning as L
import torch
from torch import nn

from gan_lightning.losses import LeCamAnchors, get_loss, gradient_penalty, lecam_penalty, r1_penalty, topk_count
from gan_lightning.metrics.inception import check_inception_weights
from gan_lightning.metrics.validation import SampleQuality
from gan_lightning.modules.ema import ExponentialMovingAverage
from gan_lightning.modules.scalars import D_KEYS, TrainingScalars
from gan_lightning.modules.speed import (
    adam_kwargs,
    apply_to_nets,
    cheap_cuda_check_during_cpu_training,
    check_speed_args,
    restore_cuda_check,
)
from gan_lightning.modules.stages import EvaluationStages
from gan_lightning.modules.strategies import prepare_ddp_for_gan
from gan_lightning.modules.techniques import TECHNIQUE_ARGS, check_technique_args
from gan_lightning.nets import build_nets, spectral_normalize
from gan_lightning.nets.augment import AdaptiveAugment
from gan_lightning.reliability import resume
from gan_lightning.reliability.checkpoints import check_compatible, check_hparams, check_model_kind, read_checkpoint
from gan_lightning.reliability.guard import NonFiniteGuard
from gan_lightning.sharing.hub import HubMixin

ARCHS = ("mlp", "dcgan")
NOISES = ("normal", "uniform")
OPTIMIZERS = ("adam", "sgd")
LR_DECAYS = ("none", "linear", "cosine")
TECHNIQUE_KEY = "technique_state"  # checkpoint entry: adaptive augmentation p, LeCam anchors


def _check_choice(name: str, value: Any, allowed: tuple) -> None:
    if value not in allowed:
        raise ValueError(f"{name} must be one of {allowed}, got {value!r}")


def _check_positive(name: str, value: Any, integer: bool = False) -> None:
    kind = int if integer else (int, float)
    # `not value > 0` also refuses NaN (every comparison with NaN is false); isfinite refuses inf.
    if isinstance(value, bool) or not isinstance(value, kind) or not value > 0 or not math.isfinite(value):
        what = "positive integer" if integer else "finite positive number"
        raise ValueError(f"{name} must be a {what}, got {value!r}")


_PLAIN_TYPES = (str, int, float, bool, type(None))

# lr_decay: the learning-rate factor at fraction t of the run.
_DECAY_FACTORS = {
    "linear": lambda t: 1.0 - t,
    "cosine": lambda t: 0.5 * (1.0 + math.cos(math.pi * t)),
}


class GAN(EvaluationStages, HubMixin, L.LightningModule):
    """Unconditional GAN with manual optimization (D step(s), then a G step).

    Args:
        arch: ``"mlp"`` or ``"dcgan"``.
        image_size: 28 or 64 (linked from the data module by the CLI).
        channels: image channels (1 for MNIST).
        num_classes: classes in the data; the unconditional GAN ignores labels in training,
            metrics use them (linked from the data module by the CLI).
        latent_dim: noise dimension.
        noise: ``"normal"`` N(0, 1) or ``"uniform"`` U[0, 1) (the tutorial's first choice).
        g_hidden, d_hidden: MLP hidden widths, input side first.
        activation, negative_slope: MLP hidden activation (``relu``, ``leaky_relu``, ``sigmoid``).
        g_norm, d_norm: MLP: ``none``/``layernorm``/``batchnorm``; DCGAN D: ``batchnorm``/``none``/
            ``layernorm``. ``None`` picks the architecture's default.
        norm_eps: epsilon of the MLP norms (the MLP CGAN's famous ``BatchNorm1d(n, 0.8)`` is eps=0.8).
        norm_after_activation: MLP block order Linear-act-norm instead of Linear-norm-act.
        d_dropout: dropout after each MLP discriminator block.
        plain_first_layer: MLP first block without norm/dropout.
        g_output: MLP generator output ``tanh`` or ``sigmoid`` (mapped to [-1, 1]).
        ngf, ndf: DCGAN widths.
        loss: a name in `gan_lightning.losses.LOSSES`.
        n_critic: discriminator steps (batches) per generator step.
        optimizer: ``adam`` or ``sgd``, for both nets.
        lr_g, lr_d: learning rates.
        betas: Adam betas; momentum: SGD momentum.
        metrics: score samples in every validation (FID, KID, IS, modes, class accuracy, diversity;
            see `gan_lightning.metrics`), logged as ``val/...``.
        metric_samples: at most this many test digits, and as many samples, per validation
            (``None``: all the val loader serves).
        inception_weights: path to torch-fidelity's FID Inception weights; adds ``val/fid_inception``.
        gp_weight: weight of WGAN-GP's gradient penalty in the D loss (0: none; 10 is the paper's).
            Needs a discriminator without BatchNorm (``d_norm: layernorm`` or ``none``).
        spectral_norm: spectral normalization on every weight of the discriminator side (SN-GAN).
        minibatch_std: the discriminator sees the batch's feature spread (ProGAN), against collapse.
        ema_decay: keep an exponential moving average of the generator's weights with this decay
            (e.g. 0.999), updated after every generator step and used for every sample drawn through
            `decode` (grids, metrics, `generate`, `evaluate`); ``None``: no EMA.
        lr_decay: ``none``, or ``linear``/``cosine`` decay of both learning rates to 0 over the run
            (``trainer.estimated_stepping_batches`` batches; stepped every batch).
        grad_clip_val, grad_clip_algorithm: clip each net's gradients (``"norm"`` or ``"value"``) before
            its optimizer steps; with ``16-mixed`` on the unscaled gradients (see `on_before_optimizer_step`).
        compile: ``torch.compile`` G and D at setup.
        channels_last: NHWC memory order for the conv weights (activations follow them).
        fused_adam: Adam's fused kernel (CPU and CUDA): one kernel per update and no host syncs; off,
            torch's default Adam reads its step counts on the host. Not with mixed precision + clipping.
        on_nonfinite: a NaN/Inf D or G loss ``"stop"``s training with a `DivergenceError` (last.ckpt
            keeps the last good weights) or ``"skip"``s that optimizer step (see `gan_lightning.reliability.guard`).
        augment: differentiable augmentation of everything D sees, real and fake (DiffAugment): a
            comma-separated choice of ``translation``, ``cutout``, ``color`` (`gan_lightning.nets.augment`).
        augment_p: probability that each transform is applied to an image (DiffAugment: 1); with
            ``ada_target`` the starting value.
        ada_target: adapt ``augment_p`` on the device so that E[sign(D(real))] stays near this value
            (StyleGAN2-ADA's r_t; 0.6 there); ``None``: fixed p.
        ada_interval, ada_kimg: D steps between adjustments; thousands of real images for p to move by 1.
        r1_gamma: weight gamma of the R1 penalty gamma/2 E||grad D(x_real)||^2 (0: none); needs a
            discriminator without BatchNorm.
        r1_every: lazy R1: the penalty (times this interval) every this many D steps.
        lecam_weight: weight of LeCam regularization of D's logits towards moving anchors (0: none).
        lecam_decay: decay of the anchors' moving averages.
        topk_decay: top-k training: G learns only from the fakes D scores highest, a share decaying by
            this factor per epoch (0.99 in the paper); ``None``: all fakes.
        topk_min: the floor of that share.
        metrics_prd: validation adds precision/recall (k=3) and density/coverage (k=5) in the
            classifier's feature space (`gan_lightning.metrics.prd`).
    """

    conditional = False

    def __init__(
        self,
        arch: Literal["mlp", "dcgan"] = "dcgan",
        image_size: int = 28,
        channels: int = 1,
        num_classes: int = 10,
        latent_dim: int = 100,
        noise: Literal["normal", "uniform"] = "normal",
        g_hidden: list[int] = [256, 512],  # noqa: B006 - jsonargparse needs literal defaults
        d_hidden: list[int] = [512, 256],  # noqa: B006
        activation: Literal["relu", "leaky_relu", "sigmoid"] = "leaky_relu",
        negative_slope: float = 0.2,
        g_norm: str | None = None,
        d_norm: str | None = None,
        norm_eps: float = 1e-5,
        norm_after_activation: bool = False,
        d_dropout: float = 0.0,
        plain_first_layer: bool = False,
        g_output: Literal["tanh", "sigmoid"] = "tanh",
        ngf: int = 64,
        ndf: int = 64,
        loss: str = "bce",
        n_critic: int = 1,
        optimizer: Literal["adam", "sgd"] = "adam",
        lr_g: float = 2e-4,
        lr_d: float = 2e-4,
        betas: tuple[float, float] = (0.5, 0.999),
        momentum: float = 0.0,
        metrics: bool = True,
        metric_samples: int | None = None,
        inception_weights: str | None = None,
        gp_weight: float = 0.0,
        spectral_norm: bool = False,
        minibatch_std: bool = False,
        ema_decay: float | None = None,
        lr_decay: Literal["none", "linear", "cosine"] = "none",
        # Scale and speed (gan_lightning/speed.py); all off by default.
        grad_clip_val: float | None = None,
        grad_clip_algorithm: Literal["norm", "value"] = "norm",
        compile: bool = False,
        channels_last: bool = False,
        fused_adam: bool = True,
        on_nonfinite: Literal["stop", "skip"] = "stop",
        # Quality techniques (gan_lightning/augment.py, losses.py); all off by default.
        augment: str | None = None,
        augment_p: float = 1.0,
        ada_target: float | None = None,
        ada_interval: int = 4,
        ada_kimg: float = 100.0,
        r1_gamma: float = 0.0,
        r1_every: int = 16,
        lecam_weight: float = 0.0,
        lecam_decay: float = 0.99,
        topk_decay: float | None = None,
        topk_min: float = 0.5,
        metrics_prd: bool = False,
    ) -> None:
        super().__init__()
        _check_choice("arch", arch, ARCHS)
        _check_choice("noise", noise, NOISES)
        _check_choice("optimizer", optimizer, OPTIMIZERS)
        for name in ("image_size", "channels", "num_classes", "latent_dim", "n_critic", "ngf", "ndf"):
            _check_positive(name, locals()[name], integer=True)
        for name in ("lr_g", "lr_d"):
            _check_positive(name, locals()[name])
        if image_size not in (28, 64):
            raise ValueError(f"image_size must be one of (28, 64), got {image_size!r}")
        if metric_samples is not None:
            _check_positive("metric_samples", metric_samples, integer=True)
        if inception_weights is not None:
            check_inception_weights(inception_weights)
        _check_choice("lr_decay", lr_decay, LR_DECAYS)
        if isinstance(gp_weight, bool) or not isinstance(gp_weight, (int, float)) or gp_weight < 0:
            raise ValueError(f"gp_weight must be a number >= 0, got {gp_weight!r}")
        if gp_weight > 0 and arch == "dcgan" and (d_norm or "batchnorm") == "batchnorm":
            raise ValueError(
                "gp_weight: the gradient penalty needs per-sample gradients, which BatchNorm in the "
                "discriminator mixes; set d_norm to 'layernorm' or 'none', got d_norm='batchnorm'"
            )
        check_speed_args(grad_clip_val, grad_clip_algorithm)
        given = locals()
        policy = check_technique_args(**{name: given[name] for name in TECHNIQUE_ARGS})
        self.save_hyperparameters()
        self.automatic_optimization = False
        self.loss_fn = get_loss(loss)
        self.build_conditioning()
        self.generator, self.discriminator = self.build_nets()
        if spectral_norm:
            for m in self.d_modules():
                spectral_normalize(m)
        # The averaged generator (with its label encoder): a frozen copy, saved in every checkpoint.
        self.generator_ema = ExponentialMovingAverage(self.g_modules(), ema_decay) if ema_decay is not None else None
        # Not an nn.Module: the metrics' classifier stays out of state_dict and checkpoints.
        self.quality = (
            SampleQuality(self.conditional, metric_samples, inception_weights, prd=metrics_prd) if metrics else None
        )
        # Counts generator updates: a buffer so checkpoints carry it, a host copy so reading it costs no sync.
        self.register_buffer("g_steps", torch.zeros((), dtype=torch.long))
        self._g_steps = 0
        self.register_load_state_dict_post_hook(lambda module, _: module._read_counters())
        # The hot path's fixed lists: each net's parameters, frozen during the other net's step.
        self._g_params, self._d_params = self.g_parameters(), self.d_parameters()
        # Training scalars stay on the device between log steps (modules/scalars.py); the divergence
        # guard reads them there (guard.py). RNG states loaded from a checkpoint wait for on_train_start.
        self.scalars = TrainingScalars()
        self.guard = NonFiniteGuard(on_nonfinite)
        self.last_window: dict[str, float] | None = None  # the last logged means, for LossCurves
        self._step_of_d = 0
        self._rng_to_restore: dict | None = None
        self.build_techniques(policy)

    def __setattr__(self, name: str, value: Any) -> None:
        # Lightning sets `_current_fx_name` on the module twice per hook call, some twenty times a
        # batch, and nn.Module.__setattr__ checks its parameter, buffer and module tables each time.
        # Plain values under names that are none of those skip the checks (same result, ~10x cheaper).
        if type(value) in _PLAIN_TYPES and not (
            name in self._parameters or name in self._buffers or name in self._modules
        ):
            object.__setattr__(self, name, value)
        else:
            super().__setattr__(name, value)

    def _read_counters(self) -> None:
        self._g_steps = int(self.g_steps)  # once per load_state_dict, never in the training loop

    # -- construction (ConditionalGAN overrides the conditioning part only) -------------------
    def build_conditioning(self) -> None:
        self.g_cond_dim = self.d_cond_dim = 0
        self.g_cond_mode = "concat"  # how G reads its label vector: at its input, or in its norms ("cbn")

    def build_nets(self) -> tuple[nn.Module, nn.Module]:
        return build_nets(self.hparams, self.g_cond_dim, self.d_cond_dim, self.g_cond_mode)

    def configure_optimizers(self):
        hp = self.hparams
        if hp.optimizer == "adam":
            precision = str(self.trainer.precision) if self._trainer is not None else "32-true"
            clipping = hp.get("grad_clip_val") is not None
            fused = adam_kwargs(hp.get("fused_adam", False), self.device, precision, clipping)
            make = lambda params, lr: torch.optim.Adam(params, lr=lr, betas=tuple(hp.betas), **fused)  # noqa: E731
        else:
            make = lambda params, lr: torch.optim.SGD(params, lr=lr, momentum=hp.momentum)  # noqa: E731
        optimizers = [make(self.g_parameters(), hp.lr_g), make(self.d_parameters(), hp.lr_d)]
        if hp.lr_decay == "none":
            return optimizers
        # Manual optimization: Lightning saves and restores these, training_step steps them per batch.
        horizon = max(1, int(self.trainer.estimated_stepping_batches))
        factor = _DECAY_FACTORS[hp.lr_decay]
        schedulers = [torch.optim.lr_scheduler.LambdaLR(o, lambda t: factor(min(t / horizon, 1.0))) for o in optimizers]
        return optimizers, schedulers

    def g_modules(self) -> nn.ModuleDict:
        """The modules that turn noise (and labels) into images: what the G optimizer and the EMA see."""
        return nn.ModuleDict({"net": self.generator})

    def d_modules(self) -> list[nn.Module]:
        """The modules that score images: what the D optimizer and spectral normalization see."""
        return [self.discriminator]

    def g_parameters(self) -> list[nn.Parameter]:
        """Everything the generator's optimizer updates."""
        return list(self.g_modules().parameters())

    def d_parameters(self) -> list[nn.Parameter]:
        return [p for m in self.d_modules() for p in m.parameters()]

    # -- the pieces training and sampling share -----------------------------------------------
    def sample_z(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        shape, dev = (n, self.hparams.latent_dim), self.device
        if self.hparams.noise == "uniform":
            return torch.rand(shape, generator=generator, device=dev)
        return torch.randn(shape, generator=generator, device=dev)  # (n, latent_dim)

    def sample_labels(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor | None:
        return None  # labels for fakes: none for the unconditional GAN

    def generate(
        self, z: torch.Tensor, labels: torch.Tensor | None = None, g: nn.ModuleDict | None = None
    ) -> torch.Tensor:
        """Images from noise with the training generator, or with `g` (a `g_modules()`-shaped copy: the EMA)."""
        return (self.generator if g is None else g["net"])(z)

    def discriminate(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        return self.discriminator(x)

    @torch.no_grad()
    def sample(
        self, n: int, labels: torch.Tensor | None = None, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        """`n` images (n, C, H, W) in [-1, 1] in eval mode; pass a `torch.Generator` to reproduce them."""
        if labels is not None:
            raise ValueError("labels: an unconditional GAN takes no labels; use a ConditionalGAN checkpoint")
        return self.decode(self.sample_z(n, generator), None)

    @torch.no_grad()
    def decode(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """Images (n, C, H, W) from given noise (n, latent_dim) [and labels (n,)]: eval mode, no grad,
        the averaged generator when the model keeps one. Grids, metrics and export all draw through here."""
        g = self.generator_ema.module if self.generator_ema is not None else self.g_modules()
        modes = [(m, m.training) for m in g.modules()]  # g may be a fresh ModuleDict: record its members
        g.eval()
        try:
            return self.generate(z, labels, g)
        finally:
            for m, training in modes:
                m.training = training

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """The sampling path: images (n, C, H, W) in [-1, 1] from noise (n, latent_dim) [and labels (n,)],
        drawn like every sample the project shows (eval mode, no grad, the EMA generator if kept)."""
        return self.decode(z, labels)

    # -- training: sample; D step; G step; EMA ---------------------------------------------------
    def training_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int) -> None:
        real, labels = batch  # (B, C, H, W) in [-1, 1], (B,)
        opt_g, opt_d = self.optimizers()
        g_turn = (batch_idx + 1) % self.hparams.n_critic == 0
        z, fake_labels = self.sample_z(real.size(0)), self.sample_labels(real.size(0))
        with torch.set_grad_enabled(g_turn):  # on a G turn the G step reuses these fakes: one G forward
            fake = self.generate(z, fake_labels)  # (B, C, H, W)

        # D step: score real digits up and (detached) fakes down.
        d_scalars = self.discriminator_step(opt_d, real, labels, fake.detach(), fake_labels)
        # G step, every n_critic-th batch: make the frozen D score the same fakes up.
        g_loss = None
        if g_turn and d_scalars is not None:
            g_loss = self.generator_step(opt_g, fake, fake_labels)
        self.end_batch(batch_idx, d_scalars, g_loss)

    def discriminator_step(
        self, opt: Any, real: torch.Tensor, labels: torch.Tensor, fake: torch.Tensor, fake_labels: torch.Tensor | None
    ) -> torch.Tensor | None:
        """One D update. Returns (d_loss, mean D(x), mean D(G(z))) (3,) on the device; None if skipped."""
        step = self.global_step
        with self.frozen(self._g_params):
            real_in, fake_in, r1_now = self.d_inputs(real), self.d_inputs(fake), self.r1_due()
            if r1_now:  # R1 differentiates D at the (augmented) real images it scores
                real_in = real_in.detach().requires_grad_(True)
            d_real = self.discriminate(real_in, labels)  # (B,) logits
            d_fake = self.discriminate(fake_in, fake_labels)
            d_loss = self.loss_fn.d_loss(d_real, d_fake)
            if self.hparams.gp_weight > 0:  # the penalty's points carry the real batch's labels
                penalty = gradient_penalty(lambda x: self.discriminate(x, labels), real, fake)
                d_loss = d_loss + self.hparams.gp_weight * penalty
            d_loss = self.add_d_regularizers(d_loss, d_real, d_fake, real_in, r1_now)
            if not self.apply_loss(opt, d_loss):
                return None
        self.after_d_step(d_real, d_fake)
        self._step_of_d = step
        probs = torch.sigmoid(torch.stack([d_real.detach(), d_fake.detach()]).float()).mean(1)  # (2,) D(x), D(G(z))
        return torch.cat([d_loss.detach().float().reshape(1), probs])

    def generator_step(self, opt: Any, fake: torch.Tensor, fake_labels: torch.Tensor | None) -> torch.Tensor | None:
        """One G update on the fakes of the D step, D frozen; then the EMA. Returns g_loss; None if skipped."""
        with self.frozen(self._d_params):
            g_loss = self.loss_fn.g_loss(self.top_k(self.discriminate(self.d_inputs(fake), fake_labels)))
            if not self.apply_loss(opt, g_loss):
                return None
        self.g_steps.add_(1)  # the saved counter (a buffer); the host copy is what code reads
        self._g_steps += 1
        if self.generator_ema is not None:
            self.generator_ema.update()
        return g_loss.detach().float()

    def apply_loss(self, opt: Any, loss: torch.Tensor) -> bool:
        """backward + optimizer step (Lightning's, so precision plugins and hooks apply); False if the
        divergence guard (``on_nonfinite: skip``) left the step out."""
        if self.guard.checks_every_step and self.guard.skip(loss):
            return False
        opt.zero_grad(set_to_none=True)
        self.manual_backward(loss)
        opt.step()
        return True

    @contextmanager
    def frozen(self, params: list[nn.Parameter]) -> Iterator[None]:
        """No gradients for `params` inside (the other net's step): Lightning's `toggled_optimizer`
        without rebuilding its parameter maps every step."""
        for p in params:
            p.requires_grad_(False)
        try:
            yield
        finally:
            for p in params:
                p.requires_grad_(True)

    def end_batch(self, batch_idx: int, d_scalars: torch.Tensor | None, g_loss: torch.Tensor | None) -> None:
        for scheduler in self._schedulers():  # a skipped step still moves the schedule on
            scheduler.step()
        if d_scalars is not None:
            self.scalars.add(self._step_of_d, self.current_epoch, batch_idx, d_scalars, g_loss)
        if self._logs_now(batch_idx):
            self.log_training_scalars()

    def _logs_now(self, batch_idx: int) -> bool:
        """Log at Lightning's own log steps (the same test its logger connector makes, so no stale value
        is ever sent), and at the epoch's last batch so that epoch means cover every batch."""
        trainer = self.trainer
        every = trainer.log_every_n_steps
        if every > 0 and (trainer.fit_loop.epoch_loop._batches_that_stepped + 1) % every == 0:
            return True
        return batch_idx + 1 == trainer.num_training_batches or trainer.should_stop

    def log_training_scalars(self) -> None:
        """Read the device-side scalars (one host sync), stop on a non-finite loss, log the window means."""
        self.check_finite()
        window = self.scalars.take()
        if window is None:
            return
        means, counts = window.means, window.counts
        d_means = {f"train/{k}": means[k] for k in D_KEYS}
        # Not prog_bar=True: Lightning turns progress-bar values into Python numbers after every batch,
        # a host sync each time; `callbacks.ProgressBar` shows `last_window` instead.
        self.log_dict(d_means, on_step=True, on_epoch=True, batch_size=counts["d"])
        if counts["g"]:
            self.log("train/g_loss", means["g_loss"], on_step=True, on_epoch=True, batch_size=counts["g"])
        if self.guard.skipped:
            self.log("train/skipped_steps", float(self.guard.skipped), on_step=True, on_epoch=False)
        self.log_technique_scalars()
        self.last_window = {"step": self.global_step, **{f"train/{k}": v for k, v in means.items()}}

    def check_finite(self) -> None:
        """Raise `DivergenceError` if a loss since the last check was NaN/Inf (``on_nonfinite: stop``)."""
        bad = self.scalars.read()
        if bad is not None:
            where = f"step {bad.step} (epoch {bad.epoch}, batch {bad.batch})"
            last = self.scalars.last_finite
            self.guard.stop(self._trainer, bad.name, bad.value, where, last, self.scalars.last_finite_step)

    @property
    def generator_steps(self) -> int:
        """Generator updates so far, as a Python int (`g_steps` is the same count as a saved buffer)."""
        return self._g_steps

    def _schedulers(self) -> list:
        if self.hparams.lr_decay == "none":
            return []
        schedulers = self.lr_schedulers()
        return schedulers if isinstance(schedulers, list) else [schedulers]

    # -- scale and speed: DDP, clipping, compile, channels_last (gan_lightning/speed.py, strategies.py) ------
    def setup(self, stage: str) -> None:
        # Runs before the strategy wraps the module in DDP: the one place to adjust its arguments.
        if self._trainer is not None:
            prepare_ddp_for_gan(self.trainer)
        hp = self.hparams
        apply_to_nets([self.generator, self.discriminator], hp.get("compile", False), hp.get("channels_last", False))

    def on_before_optimizer_step(self, optimizer: torch.optim.Optimizer) -> None:
        # Manual optimization: Lightning's own `gradient_clip_val` does nothing, so clip here. This hook
        # runs inside `opt.step()` after the 16-mixed grad scaler has unscaled the gradients and before
        # the scaler's step: clipping sees true gradient values (clipping in training_step would not).
        clip = self.hparams.get("grad_clip_val")
        if clip is not None:
            algorithm = self.hparams.grad_clip_algorithm
            self.clip_gradients(optimizer, gradient_clip_val=clip, gradient_clip_algorithm=algorithm)

    # -- checkpoints: exact resume and clear mismatch errors (gan_lightning/resume.py, checkpoints.py) --
    @classmethod
    def load_from_checkpoint(cls, checkpoint_path, *args: Any, **kwargs: Any):
        """Lightning's loader, after checking the file exists, is a checkpoint, and holds this kind of model."""
        if isinstance(checkpoint_path, (str, Path)):
            checkpoint = read_checkpoint(checkpoint_path)
            check_model_kind(cls, checkpoint, where=f"checkpoint {str(checkpoint_path)!r}")
            # Lightning merges keyword overrides into the saved hyperparameters: compare before it does.
            check_hparams(checkpoint.get("hyper_parameters") or {}, kwargs)
        return super().load_from_checkpoint(checkpoint_path, *args, **kwargs)

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        # The deferred divergence check runs before anything is written: a diverged state is never saved.
        if self.guard.on_nonfinite == "stop":
            self.check_finite()
        checkpoint[resume.RNG_KEY] = resume.rng_state()
        self.save_technique_state(checkpoint)

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        # Before the weights load: a checkpoint of another model fails naming the setting, not a shape.
        check_compatible(self, checkpoint, resume=self._trainer is not None)
        self._rng_to_restore = checkpoint.get(resume.RNG_KEY)
        self.load_technique_state(checkpoint)

    def on_train_start(self) -> None:
        self._cuda_check = cheap_cuda_check_during_cpu_training(self.device)  # speed.py: NVML per Adam step
        if self._rng_to_restore is not None:  # as late as possible: sanity validation ran already
            resume.set_rng_state(self._rng_to_restore)
            self._rng_to_restore = None
        resume.start_next_epoch_after_last_batch(self.trainer)

    def on_train_end(self) -> None:  # (after an exception the cheap check stays: CPU training used no CUDA)
        restore_cuda_check(getattr(self, "_cuda_check", None))
        self._cuda_check = None

    # -- validation: sample quality (the metric logic lives in gan_lightning.metrics) ----------
    def validation_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int) -> None:
        if self.quality is not None:
            self.quality.step(self, batch)

    def on_validation_epoch_start(self) -> None:
        if self.quality is not None:
            self.quality.start(self)

    def on_validation_epoch_end(self) -> None:
        if self.quality is not None:  # values are already reduced over ranks: no sync_dist
            self.log_dict({f"val/{k}": float(v) for k, v in self.quality.end(self).items()})

    def on_fit_start(self) -> None:
        dm = getattr(self.trainer, "datamodule", None)
        for name in ("image_size", "num_classes"):
            have = getattr(dm, name, None)
            if have is not None and have != self.hparams[name]:
                raise ValueError(
                    f"{name}: the model was built for {self.hparams[name]} but the data module serves {have}; "
                    f"set data.{name} and model.{name} to the same value (the CLI links them)"
                )

    # -- quality techniques: augmentation, R1, LeCam, top-k (gan_lightning/augment.py, losses.py) --------
    def build_techniques(self, policy: tuple[str, ...]) -> None:
        hp = self.hparams
        self.d_augment = (
            AdaptiveAugment(policy, hp.augment_p, hp.ada_target, hp.ada_interval, hp.ada_kimg) if policy else None
        )
        self.lecam = LeCamAnchors(hp.lecam_decay) if hp.lecam_weight > 0 else None
        # Plain copies: the hot path reads no hparams dictionary.
        self._r1 = (float(hp.r1_gamma), int(hp.r1_every))
        self._lecam_weight = float(hp.lecam_weight)
        self._topk = None if hp.topk_decay is None else (float(hp.topk_decay), float(hp.topk_min))
        self._d_updates = 0  # D steps taken by this process: the lazy R1 schedule (a host count)

    def d_inputs(self, x: torch.Tensor) -> torch.Tensor:
        """What D sees of images (B, C, H, W): augmented when ``augment`` is on (real and fake alike)."""
        return x if self.d_augment is None else self.d_augment(x)

    def r1_due(self) -> bool:
        gamma, every = self._r1
        return gamma > 0 and self._d_updates % every == 0

    def add_d_regularizers(
        self, d_loss: torch.Tensor, d_real: torch.Tensor, d_fake: torch.Tensor, real_in: torch.Tensor, r1_now: bool
    ) -> torch.Tensor:
        """d_loss + the lazy R1 penalty (when due) + the LeCam term (when on)."""
        if r1_now:
            gamma, every = self._r1
            d_loss = d_loss + (gamma / 2 * every) * r1_penalty(d_real, real_in)
        if self.lecam is not None:
            d_loss = d_loss + self._lecam_weight * lecam_penalty(d_real, d_fake, self.lecam.real, self.lecam.fake)
        return d_loss

    def after_d_step(self, d_real: torch.Tensor, d_fake: torch.Tensor) -> None:
        """Device-side bookkeeping after a D update: LeCam anchors, the adaptive augmentation signal."""
        self._d_updates += 1
        if self.lecam is not None:
            self.lecam.update(d_real, d_fake)
        if self.d_augment is not None and self.d_augment.adaptive:
            world = torch.distributed.get_world_size() if torch.distributed.is_initialized() else 1
            self.d_augment.observe(d_real, _all_reduce_sum if world > 1 else None, world)

    def top_k(self, scores: torch.Tensor) -> torch.Tensor:
        """The generator's scores (B,) to learn from: all, or the k highest (``topk_decay``)."""
        if self._topk is None:
            return scores
        k = topk_count(scores.shape[0], self.current_epoch, *self._topk)
        return scores if k == scores.shape[0] else scores.topk(k).values

    def log_technique_scalars(self) -> None:
        """At log steps only: the adaptive augmentation probability and its overfitting signal."""
        if self.d_augment is not None and self.d_augment.adaptive:
            self.log("train/aug_p", self.d_augment.p, on_step=True, on_epoch=False)
            self.log("train/ada_rt", self.d_augment.signal, on_step=True, on_epoch=False)

    def save_technique_state(self, checkpoint: dict[str, Any]) -> None:
        state = {}
        if self.d_augment is not None and self.d_augment.adaptive:
            state["augment"] = self.d_augment.state()
        if self.lecam is not None:
            state["lecam"] = self.lecam.state()
        if state:
            checkpoint[TECHNIQUE_KEY] = state

    def load_technique_state(self, checkpoint: dict[str, Any]) -> None:
        """The adaptive p and LeCam anchors of a resumed run (what the model has no use for is left)."""
        state = checkpoint.get(TECHNIQUE_KEY) or {}
        if "augment" in state and self.d_augment is not None and self.d_augment.adaptive:
            self.d_augment.load_state(state["augment"])
        if "lecam" in state and self.lecam is not None:
            self.lecam.load_state(state["lecam"])


def _all_reduce_sum(t: torch.Tensor) -> torch.Tensor:
    # torch's all_reduce, not the strategy's `reduce`: that one waits at a barrier first, which on
    # CUDA would make the host wait for the device at every adjustment of the augmentation p.
    torch.distributed.all_reduce(t, op=torch.distributed.ReduceOp.SUM)
    return t
