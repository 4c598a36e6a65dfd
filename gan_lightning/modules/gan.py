"""GAN: the LightningModule that coordinates nets, a loss pair and two optimizers.

One training batch is one discriminator step; every `n_critic`-th batch also makes one
generator step. Lightning's `trainer.global_step` counts *optimizer* steps, so with
`n_critic=1` each batch advances it by 2: `max_steps=2000` means 1000 batches. Anything keyed
on generator progress reads `self.g_steps` instead.

Where the rest lives: nets from `gan_lightning.nets.build_nets`; optimizers and learning-rate
schedules in `modules/optim.py`; augmentation, R1, LeCam and top-k in `modules/techniques.py`;
logging and the divergence check in `modules/scalars.py` (`gan_lightning.reliability.guard`); validation
metrics in `metrics/validation.py`; test/predict in `modules/stages.py`; speed switches in
`gan_lightning.modules.speed`; DDP in `gan_lightning.modules.strategies`; checkpoint checks in
`gan_lightning.reliability.checkpoints`; the random streams of a resume in `gan_lightning.reliability.resume`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Literal

import lightning as L
import torch
from torch import nn

from gan_lightning.checks import check_choice, check_positive, check_positive_int
from gan_lightning.losses import get_loss, gradient_penalty
from gan_lightning.metrics.inception import check_inception_weights
from gan_lightning.metrics.validation import SampleQuality, ValidationMetrics
from gan_lightning.modules import optim
from gan_lightning.modules.ema import ExponentialMovingAverage
from gan_lightning.modules.scalars import TrainingLogs, TrainingScalars
from gan_lightning.modules.speed import ClipAlgorithm, SpeedSwitches, check_speed_args
from gan_lightning.modules.stages import EvaluationStages
from gan_lightning.modules.strategies import check_ddp
from gan_lightning.modules.techniques import TECHNIQUE_ARGS, QualityTechniques, check_technique_args
from gan_lightning.nets import build_nets, spectral_normalize
from gan_lightning.reliability.checkpoints import CheckedLoading, check_compatible
from gan_lightning.reliability.guard import NonFiniteGuard, OnNonfinite
from gan_lightning.reliability.resume import RNG_KEY, RNGState, start_next_epoch_after_last_batch
from gan_lightning.sharing.hub import HubMixin

Arch = Literal["mlp", "dcgan"]
Noise = Literal["normal", "uniform"]
Activation = Literal["relu", "leaky_relu", "sigmoid"]
GOutput = Literal["tanh", "sigmoid"]
Optimizer = Literal["adam", "sgd"]
LRDecay = Literal["none", "linear", "cosine"]


class GAN(
    SpeedSwitches,
    QualityTechniques,
    TrainingLogs,
    ValidationMetrics,
    EvaluationStages,
    CheckedLoading,
    HubMixin,
    L.LightningModule,
):
    """Unconditional GAN with manual optimization (D step(s), then a G step).

    Args:
        arch: ``"mlp"`` or ``"dcgan"``.
        image_size: 28 or 64 for ``dcgan`` (linked from the data module by the CLI).
        channels: image channels (1 for MNIST).
        num_classes: classes in the data; the unconditional GAN ignores labels in training,
            metrics use them (linked from the data module by the CLI).
        latent_dim: noise dimension.
        noise: ``"normal"`` N(0, 1) or ``"uniform"`` U[0, 1) (the tutorial's first choice).
        g_hidden, d_hidden: MLP hidden widths, input side first (a list in YAML).
        activation, negative_slope: MLP hidden activation (``relu``, ``leaky_relu``, ``sigmoid``).
        g_norm, d_norm: MLP: ``none``/``layernorm``/``batchnorm``; DCGAN D: ``batchnorm``/``none``/
            ``layernorm``. ``None`` picks the architecture's default.
        norm_eps: epsilon of the MLP norms (the MLP CGAN's famous ``BatchNorm1d(n, 0.8)`` is eps=0.8).
        norm_after_activation: MLP block order Linear-act-norm instead of Linear-norm-act.
        d_dropout: dropout after each MLP discriminator block.
        plain_first_layer: MLP first block without norm/dropout.
        g_output: MLP generator output ``tanh`` or ``sigmoid`` (mapped to [-1, 1]).
        ngf, ndf: DCGAN widths.
        spectral_norm: spectral normalization on every weight of the discriminator side (SN-GAN).
        minibatch_std: the discriminator sees the batch's feature spread (ProGAN), against collapse.
        loss: a name in `gan_lightning.losses.LOSSES`.
        gp_weight: weight of WGAN-GP's gradient penalty in the D loss (0: none; 10 is the paper's).
            Needs a discriminator without BatchNorm (``d_norm: layernorm`` or ``none``), as R1 does.
        n_critic: discriminator steps (batches) per generator step.
        optimizer: ``adam`` or ``sgd``, for both nets.
        lr_g, lr_d: learning rates.
        betas: Adam betas; momentum: SGD momentum.
        lr_decay: ``none``, or ``linear``/``cosine`` decay of both learning rates to 0 at the end of the run,
            stepped every batch; the run's length comes from ``trainer.max_epochs`` or ``trainer.max_steps``
            (which counts both optimizers' steps), and a run bounded by ``trainer.max_time`` is refused
            (`gan_lightning.modules.optim`).
        ema_decay: keep an exponential moving average of the generator's weights with this decay
            (e.g. 0.999), updated after every generator step and used for every sample drawn through
            `decode` (grids, metrics, `generate`, `evaluate`); ``None``: no EMA.
        grad_clip_val, grad_clip_algorithm: clip each net's gradients (``"norm"`` or ``"value"``) before
            its optimizer steps; with ``16-mixed`` on the unscaled gradients (see `on_before_optimizer_step`).
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
        metrics: score samples in every validation (FID, KID, IS, modes, class accuracy, diversity;
            see `gan_lightning.metrics`), logged as ``val/...``.
        metric_samples: at most this many test digits, and as many samples, per validation
            (``None``: all the val loader serves).
        inception_weights: path to torch-fidelity's FID Inception weights; adds ``val/fid_inception``.
        metrics_prd: validation adds precision/recall (k=3) and density/coverage (k=5) in the
            classifier's feature space (`gan_lightning.metrics.prd`).
        compile: ``torch.compile`` G and D at setup.
        channels_last: NHWC memory order for the conv weights (activations follow them).
        fused_adam: Adam's fused kernel (CPU and CUDA): one kernel per update and no host syncs; off,
            torch's default Adam reads its step counts on the host. Not with mixed precision + clipping.
        on_nonfinite: a NaN/Inf D or G loss ``"stop"``s training with a `DivergenceError` (last.ckpt
            keeps the last good weights) or ``"skip"``s that optimizer step (see `gan_lightning.reliability.guard`).
    Raises:
        ValueError: a bad argument, in one line naming it, what is allowed and what was given
            (`gan_lightning.checks`); also the technique checks of `check_technique_args`.
    """

    conditional = False

    def __init__(
        self,
        # -- nets: what G and D are (gan_lightning/nets) ---------------------------------------
        arch: Arch = "dcgan",
        image_size: int = 28,  # linked from data.image_size by the CLI
        channels: int = 1,
        num_classes: int = 10,  # linked from the data module by the CLI
        latent_dim: int = 100,
        noise: Noise = "normal",
        g_hidden: tuple[int, ...] = (256, 512),  # MLP only, like everything down to g_output
        d_hidden: tuple[int, ...] = (512, 256),
        activation: Activation = "leaky_relu",
        negative_slope: float = 0.2,
        g_norm: str | None = None,
        d_norm: str | None = None,
        norm_eps: float = 1e-5,
        norm_after_activation: bool = False,
        d_dropout: float = 0.0,
        plain_first_layer: bool = False,
        g_output: GOutput = "tanh",
        ngf: int = 64,  # DCGAN only
        ndf: int = 64,
        spectral_norm: bool = False,
        minibatch_std: bool = False,
        # -- objective: the loss pair (gan_lightning/losses.py) --------------------------------
        loss: str = "bce",
        gp_weight: float = 0.0,
        # -- optimization (modules/optim.py) ------------------------------------------------------
        n_critic: int = 1,
        optimizer: Optimizer = "adam",
        lr_g: float = 2e-4,
        lr_d: float = 2e-4,  # the DCGAN paper's rate for both nets
        betas: tuple[float, float] = (0.5, 0.999),  # beta1 0.5: the DCGAN paper's fix for oscillation
        momentum: float = 0.0,
        lr_decay: LRDecay = "none",
        ema_decay: float | None = None,
        grad_clip_val: float | None = None,
        grad_clip_algorithm: ClipAlgorithm = "norm",
        # -- quality techniques, all off by default (modules/techniques.py) ----------------------
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
        # -- validation metrics (gan_lightning/metrics) ----------------------------------------------
        metrics: bool = True,
        metric_samples: int | None = None,
        inception_weights: str | None = None,
        metrics_prd: bool = False,
        # -- speed switches (gan_lightning/speed.py): measured in benchmarks/README.md ---------------
        compile: bool = False,
        channels_last: bool = False,
        fused_adam: bool = True,
        # -- safety (gan_lightning/guard.py) ---------------------------------------------------------
        on_nonfinite: OnNonfinite = "stop",
    ) -> None:
        super().__init__()
        given = locals()
        for name, literal in (("arch", Arch), ("noise", Noise), ("activation", Activation), ("g_output", GOutput)):
            check_choice(name, given[name], literal)
        check_choice("optimizer", optimizer, Optimizer)
        check_choice("lr_decay", lr_decay, LRDecay)
        for name in ("image_size", "channels", "num_classes", "latent_dim", "n_critic", "ngf", "ndf"):
            check_positive_int(name, given[name])
        check_positive_int("metric_samples", metric_samples, optional=True)
        check_positive("lr_g", lr_g)
        check_positive("lr_d", lr_d)
        if inception_weights is not None:
            check_inception_weights(inception_weights)
        check_speed_args(grad_clip_val, grad_clip_algorithm, compile, channels_last, fused_adam)
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
        self.rng = RNGState()
        self.build_techniques(policy)

    def _read_counters(self) -> None:
        self._g_steps = int(self.g_steps)  # once per load_state_dict, never in the training loop

    @property
    def generator_steps(self) -> int:
        """Generator updates so far, as a Python int (`g_steps` is the same count as a saved buffer)."""
        return self._g_steps

    # -- construction (ConditionalGAN overrides the conditioning part only) -------------------
    def build_conditioning(self) -> None:
        self.g_cond_dim = self.d_cond_dim = 0
        self.g_cond_mode = "concat"  # how G reads its label vector: at its input, or in its norms ("cbn")

    def build_nets(self) -> tuple[nn.Module, nn.Module]:
        return build_nets(self.hparams, self.g_cond_dim, self.d_cond_dim, self.g_cond_mode)

    def configure_optimizers(self):
        return optim.configure(self)  # [G, D] optimizers, with lr_decay's schedulers

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

    # -- the pieces training and sampling share (the sampling path itself: modules/stages.py) ----
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
            if self._gp_weight > 0:  # the penalty's points carry the real batch's labels
                penalty = gradient_penalty(lambda x: self.discriminate(x, labels), real, fake)
                d_loss = d_loss + self._gp_weight * penalty
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

    # -- fit-level hooks: the data and the strategy must suit the model; checkpoints; resume ----------
    def on_fit_start(self) -> None:
        dm = getattr(self.trainer, "datamodule", None)
        for name in ("image_size", "num_classes"):
            have = getattr(dm, name, None)
            if have is not None and have != self.hparams[name]:
                raise ValueError(
                    f"{name}: the model was built for {self.hparams[name]} but the data module serves {have}; "
                    f"set data.{name} and model.{name} to the same value (the CLI links them)"
                )
        check_ddp(self.trainer.strategy.model)  # the DDP wrapper, built by now: refuse plain 'ddp'

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        # The deferred divergence check runs before anything is written: a diverged state is never saved.
        if self.guard.on_nonfinite == "stop":
            self.check_finite()
        checkpoint[RNG_KEY] = self.rng.state_dict()
        self.save_technique_state(checkpoint)

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        # Before the weights load: a checkpoint of another model fails naming the setting, not a shape.
        check_compatible(self, checkpoint, resume=self._trainer is not None)
        self.rng.load_state_dict(checkpoint.get(RNG_KEY))
        self.load_technique_state(checkpoint)

    def on_train_start(self) -> None:
        super().on_train_start()
        self.rng.restore()  # as late as possible: sanity validation ran already
        start_next_epoch_after_last_batch(self.trainer)  # Lightning's count after a last-batch resume
