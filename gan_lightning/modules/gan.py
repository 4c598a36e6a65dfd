"""GAN: a thin LightningModule over plain nets, a loss pair and two optimizers.

One training batch is one discriminator step; every `n_critic`-th batch also makes one
generator step. Lightning's `trainer.global_step` counts *optimizer* steps, so with
`n_critic=1` each batch advances it by 2: `max_steps=2000` means 1000 batches. Anything keyed
on generator progress reads `self.g_steps` instead.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Literal

import lightning as L
import torch
from torch import nn

from gan_lightning import resume
from gan_lightning.checkpoints import check_compatible, check_hparams, check_model_kind, read_checkpoint
from gan_lightning.guard import NonFiniteGuard
from gan_lightning.losses import get_loss, gradient_penalty
from gan_lightning.metrics.inception import check_inception_weights
from gan_lightning.metrics.validation import SampleQuality
from gan_lightning.modules.ema import ExponentialMovingAverage
from gan_lightning.nets import (
    DCGANDiscriminator,
    DCGANGenerator,
    MLPDiscriminator,
    MLPGenerator,
    spectral_normalize,
)
from gan_lightning.speed import adam_kwargs, apply_to_nets, check_speed_args
from gan_lightning.strategies import prepare_ddp_for_gan

ARCHS = ("mlp", "dcgan")
NOISES = ("normal", "uniform")
OPTIMIZERS = ("adam", "sgd")
LR_DECAYS = ("none", "linear", "cosine")


def _check_choice(name: str, value: Any, allowed: tuple) -> None:
    if value not in allowed:
        raise ValueError(f"{name} must be one of {allowed}, got {value!r}")


def _check_positive(name: str, value: Any, integer: bool = False) -> None:
    kind = int if integer else (int, float)
    # `not value > 0` also refuses NaN (every comparison with NaN is false); isfinite refuses inf.
    if isinstance(value, bool) or not isinstance(value, kind) or not value > 0 or not math.isfinite(value):
        what = "positive integer" if integer else "finite positive number"
        raise ValueError(f"{name} must be a {what}, got {value!r}")


# lr_decay: the learning-rate factor at fraction t of the run.
_DECAY_FACTORS = {
    "linear": lambda t: 1.0 - t,
    "cosine": lambda t: 0.5 * (1.0 + math.cos(math.pi * t)),
}


class GAN(L.LightningModule):
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
        fused_adam: Adam's fused CUDA kernel (ignored on CPU; not with ``16-mixed`` + clipping).
        on_nonfinite: a NaN/Inf D or G loss ``"stop"``s training with a `DivergenceError` (last.ckpt
            keeps the last good weights) or ``"skip"``s that optimizer step (see `gan_lightning.guard`).
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
        fused_adam: bool = False,
        on_nonfinite: Literal["stop", "skip"] = "stop",
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
        self.quality = SampleQuality(self.conditional, metric_samples, inception_weights) if metrics else None
        # Counts generator updates; saved with the module so resumes keep counting.
        self.register_buffer("g_steps", torch.zeros((), dtype=torch.long))
        # Reliability (gan_lightning/guard.py, resume.py): loss check before each backward; RNG states
        # loaded from a checkpoint, put back in on_train_start.
        self.guard = NonFiniteGuard(on_nonfinite)
        self._rng_to_restore: dict | None = None

    # -- construction (ConditionalGAN overrides the conditioning part only) -------------------
    def build_conditioning(self) -> None:
        self.g_cond_dim = self.d_cond_dim = 0

    def build_nets(self) -> tuple[nn.Module, nn.Module]:
        hp = self.hparams
        common = dict(image_size=hp.image_size, channels=hp.channels)
        if hp.arch == "dcgan":
            g = DCGANGenerator(latent_dim=hp.latent_dim, ngf=hp.ngf, cond_dim=self.g_cond_dim, **common)
            d = DCGANDiscriminator(
                ndf=hp.ndf,
                norm=hp.d_norm or "batchnorm",
                cond_dim=self.d_cond_dim,
                minibatch_std=hp.minibatch_std,
                **common,
            )
            return g, d
        body = dict(
            activation=hp.activation,
            negative_slope=hp.negative_slope,
            norm_eps=hp.norm_eps,
            norm_after_activation=hp.norm_after_activation,
            plain_first_layer=hp.plain_first_layer,
        )
        g = MLPGenerator(
            latent_dim=hp.latent_dim,
            hidden=hp.g_hidden,
            cond_dim=self.g_cond_dim,
            output=hp.g_output,
            norm=hp.g_norm or "none",
            **common,
            **body,
        )
        d = MLPDiscriminator(
            hidden=hp.d_hidden,
            cond_dim=self.d_cond_dim,
            norm=hp.d_norm or "none",
            dropout=hp.d_dropout,
            minibatch_std=hp.minibatch_std,
            **common,
            **body,
        )
        return g, d

    def configure_optimizers(self):
        hp = self.hparams
        if hp.optimizer == "adam":
            fused = adam_kwargs(hp.get("fused_adam", False), self.device)
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
        was_training = g.training
        g.eval()
        try:
            return self.generate(z, labels, g)
        finally:
            g.train(was_training)

    # -- training ---------------------------------------------------------------------------
    def training_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int) -> None:
        real, labels = batch  # (B, C, H, W) in [-1, 1], (B,)
        opt_g, opt_d = self.optimizers()
        n = real.size(0)
        g_turn = (batch_idx + 1) % self.hparams.n_critic == 0

        z, fake_labels = self.sample_z(n), self.sample_labels(n)
        # On a G turn keep the graph through G so the G step reuses these fakes (one G forward).
        with torch.set_grad_enabled(g_turn):
            fake = self.generate(z, fake_labels)  # (B, C, H, W)

        with self.toggled_optimizer(opt_d):
            d_real = self.discriminate(real, labels)  # (B,) logits
            d_fake = self.discriminate(fake.detach(), fake_labels)
            d_loss = self.loss_fn.d_loss(d_real, d_fake)
            if self.hparams.gp_weight > 0:  # the penalty's points carry the real batch's labels
                penalty = gradient_penalty(lambda x: self.discriminate(x, labels), real, fake)
                d_loss = d_loss + self.hparams.gp_weight * penalty
            if not self.loss_is_finite("discriminator", "d_loss", d_loss):
                return  # on_nonfinite: skip (stop raises): this batch makes no D and no G step
            opt_d.zero_grad(set_to_none=True)
            self.manual_backward(d_loss)
            opt_d.step()
        self.log_dict(
            {
                "train/d_loss": d_loss.detach(),
                "train/d_real": torch.sigmoid(d_real.detach().float()).mean(),
                "train/d_fake": torch.sigmoid(d_fake.detach().float()).mean(),
            },
            on_step=True,
            on_epoch=True,
            prog_bar=True,
            batch_size=n,
        )

        if g_turn:
            with self.toggled_optimizer(opt_g):
                g_loss = self.loss_fn.g_loss(self.discriminate(fake, fake_labels))
                if not self.loss_is_finite("generator", "g_loss", g_loss):
                    return
                opt_g.zero_grad(set_to_none=True)
                self.manual_backward(g_loss)
                opt_g.step()
            self.g_steps += 1
            if self.generator_ema is not None:
                self.generator_ema.update(self.g_modules())
            self.log("train/g_loss", g_loss.detach(), on_step=True, on_epoch=True, prog_bar=True, batch_size=n)
        for scheduler in self._schedulers():
            scheduler.step()

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

    def loss_is_finite(self, network: str, name: str, loss: torch.Tensor) -> bool:
        """The divergence guard, asked before every backward pass (see `gan_lightning.guard`)."""
        if self.guard.ok(self, network, name, loss):
            return True
        self.log("train/skipped_steps", float(self.guard.skipped), on_step=True, on_epoch=False)
        return False

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
        checkpoint[resume.RNG_KEY] = resume.rng_state()

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        # Before the weights load: a checkpoint of another model fails naming the setting, not a shape.
        check_compatible(self, checkpoint, resume=self._trainer is not None)
        self._rng_to_restore = checkpoint.get(resume.RNG_KEY)

    def on_train_start(self) -> None:
        if self._rng_to_restore is not None:  # as late as possible: sanity validation ran already
            resume.set_rng_state(self._rng_to_restore)
            self._rng_to_restore = None
        resume.start_next_epoch_after_last_batch(self.trainer)

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
