"""The settings of the GAN modules, in one place: the argument list, its documentation and its checks.

Like nanoGPT's config, the settings are grouped under short headers (nets, objective, optimization,
techniques, metrics, speed, safety) with the reason for a default beside it. `GAN` inherits this
`__init__`, so the argument list, `--model.help` and the saved hyperparameters are one thing; the
module itself (`modules/gan.py`) only builds and trains. Every check here runs before anything is
built and fails in one line naming the argument, what is allowed and what was given
(`gan_lightning.checks`).
"""

from __future__ import annotations

from typing import Literal

import lightning as L

from gan_lightning.checks import check_choice, check_positive, check_positive_int
from gan_lightning.metrics.inception import check_inception_weights
from gan_lightning.modules.speed import ClipAlgorithm, check_speed_args
from gan_lightning.modules.techniques import TECHNIQUE_ARGS, check_technique_args
from gan_lightning.reliability.guard import OnNonfinite

Arch = Literal["mlp", "dcgan"]
Noise = Literal["normal", "uniform"]
Activation = Literal["relu", "leaky_relu", "sigmoid"]
GOutput = Literal["tanh", "sigmoid"]
Optimizer = Literal["adam", "sgd"]
LRDecay = Literal["none", "linear", "cosine"]


class GANSettings(L.LightningModule):
    """Every setting of `GAN` (and, through it, `ConditionalGAN`): grouped, documented, checked.

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
        info_codes: InfoGAN's categorical code (`modules/infocode.py`): G reads a uniform code of this many
            values (read off the noise), and a head on D's features must recover it from the fakes (both
            nets minimize its cross-entropy); ``None``: none. Unconditional models only.
        info_weight: the weight lambda of that cross-entropy (InfoGAN: 1).
        pack: PacGAN's packing: D judges this many samples at once, stacked along the channels, real
            packs against fake packs, so a generator that repeats itself is seen (1: off). The batch
            must be a multiple of it; not with ``info_codes``.
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
        info_codes: int | None = None,
        info_weight: float = 1.0,
        pack: int = 1,
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
        # What the technique switches add up to (augment, ADA, R1, LeCam, top-k), for build_techniques.
        self.technique_policy = check_technique_args(**{name: given[name] for name in TECHNIQUE_ARGS})
        self.save_hyperparameters()
