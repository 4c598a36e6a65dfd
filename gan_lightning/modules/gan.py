"""GAN: the LightningModule that coordinates nets, a loss pair and two optimizers.

One training batch is one discriminator step; every `n_critic`-th batch also makes one
generator step. Lightning's `trainer.global_step` counts *optimizer* steps, so with
`n_critic=1` each batch advances it by 2: `max_steps=2000` means 1000 batches. Anything keyed
on generator progress reads `self.g_steps` instead.

Where the rest lives: nets from `gan_lightning.nets.build_nets`; optimizers and learning-rate
schedules in `modules/optim.py`; augmentation, R1, LeCam and top-k in `modules/techniques.py` (held as
`techniques`); the training scalars' way to the loggers (device-side window, log-step test, divergence
guard, last logged means) in `modules/scalars.py` (held as `training_log`); each update's backward and
step in `modules/updates.py` (held as `updates`); validation metrics in `metrics/validation.py` (held as
`quality`); speed switches in
`gan_lightning.modules.speed`; InfoGAN's code in `modules/infocode.py`; DDP in
`gan_lightning.modules.strategies`; checkpoint checks in `gan_lightning.reliability.checkpoints`; the
random streams of a resume in `gan_lightning.reliability.resume`.
"""

from __future__ import annotations

from typing import Any

import torch
from lightning.pytorch.utilities import rank_zero_info, rank_zero_warn
from torch import nn

from gan_lightning.checks import attached_trainer, check_data_matches
from gan_lightning.losses import get_loss, gradient_penalty
from gan_lightning.metrics.validation import VALIDATION_KID_SUBSETS, SampleQuality
from gan_lightning.modules import optim
from gan_lightning.modules.ema import ExponentialMovingAverage
from gan_lightning.modules.infocode import InfoCode
from gan_lightning.modules.optim import frozen
from gan_lightning.modules.scalars import D_KEYS, TrainingLog
from gan_lightning.modules.settings import GANSettings
from gan_lightning.modules.speed import (
    apply_to_nets,
    bf16_on_cpu_note,
    cheap_cuda_check_during_cpu_training,
    restore_cuda_check,
)
from gan_lightning.modules.steps import MicroSteps, pick_steps_per_batch
from gan_lightning.modules.strategies import check_ddp
from gan_lightning.modules.techniques import TECHNIQUE_KEY, Techniques
from gan_lightning.modules.updates import Updates
from gan_lightning.nets import build_nets, spectral_normalize
from gan_lightning.noise import draw_noise
from gan_lightning.reliability.checkpoints import check_checkpoint_file, check_compatible
from gan_lightning.reliability.resume import RNG_KEY, RNGState, start_next_epoch_after_last_batch
from gan_lightning.sharing.hub import HubMixin

_PLAIN_TYPES = (str, int, float, bool, type(None))  # values GAN.__setattr__ sets without nn.Module's checks


class GAN(
    HubMixin,
    GANSettings,
):
    """Unconditional GAN with manual optimization: a D step on every batch, a G step every `n_critic`-th.

    Takes the settings of `GANSettings` (`modules/settings.py`: the argument list, documented and
    checked, which ``--model.help`` prints); this class builds the nets from them and trains.

    Raises:
        ValueError: a bad setting, in one line naming it, what is allowed and what was given.
    """

    conditional = False  # takes digits (ConditionalGAN)
    clustered = False  # conditions on clusters it finds itself (SelfConditionedGAN)
    # G's and D's backward passes each leave the other net's parameters unused: DDP must know (strategies.py).
    unused_parameters_per_backward = True

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

    def __init__(self, **settings: Any) -> None:
        super().__init__(**settings)  # GANSettings: checked, saved as self.hparams
        hp = self.hparams
        self.automatic_optimization = False
        self.loss_fn = get_loss(hp.loss)
        self.build_conditioning()
        self.info_code = None
        self.generator, self.discriminator = self.build_nets()
        if hp.spectral_norm:
            for m in self.d_modules():
                spectral_normalize(m)
        if hp.info_codes is not None:  # after spectral norm: Q is a classifier whose logits must be free to grow
            self.info_code = InfoCode(hp.info_codes, self.discriminator.feature_dim, hp.info_weight)
        # The averaged generator (with its label encoder): a frozen copy, saved in every checkpoint.
        ema = hp.ema_decay
        self.generator_ema = ExponentialMovingAverage(self.g_modules(), ema) if ema is not None else None
        # Not an nn.Module: the metrics' classifier stays out of state_dict and checkpoints.
        self.quality = (
            SampleQuality(
                self.conditional,
                hp.metric_samples,
                hp.inception_weights,
                prd=hp.metrics_prd,
                kid_subsets=VALIDATION_KID_SUBSETS,
            )
            if hp.metrics
            else None
        )
        # Counts generator updates: a buffer so checkpoints carry it, a host copy so reading it costs no sync.
        self.register_buffer("g_steps", torch.zeros((), dtype=torch.long))
        self._g_steps = 0
        self.register_load_state_dict_post_hook(_read_counters_after_load)
        # The hot path's fixed lists: each net's parameters, frozen during the other net's step.
        self._g_params, self._d_params = self.g_parameters(), self.d_parameters()
        # Training scalars stay on the device between log steps, where the divergence guard reads them
        # (modules/scalars.py). RNG states loaded from a checkpoint wait for on_train_start.
        self.training_log = TrainingLog(hp.on_nonfinite)
        self._step_of_d = 0
        self.rng = RNGState()
        self.micro_steps = MicroSteps()  # several steps per Lightning batch (data.steps_per_batch)
        self.updates = Updates()  # backward + optimizer step: Lightning's path, or the direct one (updates.py)
        self.techniques = Techniques(hp, self.technique_policy)  # augmentation, R1, LeCam, GP, top-k, packing

    def _read_counters(self) -> None:
        self._g_steps = int(self.g_steps)  # once per load_state_dict, never in the training loop

    @property
    def generator_steps(self) -> int:
        """Generator updates so far, as a Python int (`g_steps` is the same count as a saved buffer)."""
        return self._g_steps

    # -- construction (ConditionalGAN overrides the conditioning part only) -------------------
    def build_conditioning(self) -> None:
        self.g_cond_dim = self.hparams.info_codes or 0  # G reads InfoGAN's one-hot code beside the noise
        self.d_cond_dim = 0
        self.g_cond_mode = "concat"  # how G reads its label vector: at its input, or in its norms ("cbn")

    def build_nets(self) -> tuple[nn.Module, nn.Module]:
        return build_nets(self.hparams, self.g_cond_dim, self.d_cond_dim, self.g_cond_mode)

    def configure_optimizers(self):
        return optim.configure(self)  # [G, D] optimizers, with lr_decay's schedulers

    def g_modules(self) -> nn.ModuleDict:
        """The modules that turn noise (and labels) into images: what the G optimizer and the EMA see."""
        return nn.ModuleDict({"net": self.generator})

    def d_modules(self) -> list[nn.Module]:
        """The modules that score images: what the D optimizer (and, built before the code head,
        spectral normalization) see."""
        return [self.discriminator] + ([self.info_code] if self.info_code is not None else [])

    def g_parameters(self) -> list[nn.Parameter]:
        """Everything the generator's optimizer updates."""
        return list(self.g_modules().parameters())

    def d_parameters(self) -> list[nn.Parameter]:
        return [p for m in self.d_modules() for p in m.parameters()]

    # -- the pieces training and sampling share (the sampling path itself: below, `decode`) ----------
    def sample_z(self, n: int, generator: torch.Generator | None = None, truncation: float = 1.0) -> torch.Tensor:
        """Noise (n, latent_dim) on the model's device; `truncation` < 1 pulls it toward its mean (`truncate`)."""
        return draw_noise(n, self.hparams, generator, self.device, truncation)  # (n, latent_dim)

    def sample_labels(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor | None:
        return None  # labels for fakes: none for the unconditional GAN

    def fake_labels(self, z: torch.Tensor) -> torch.Tensor | None:
        """The labels of the fakes drawn from noise `z` (n, latent_dim) in a training step (with
        ``info_codes``: their codes)."""
        return self.sample_labels(len(z)) if self.info_code is None else self.info_code.of(z)

    def read_batch(self, batch: tuple[torch.Tensor, ...]) -> tuple[torch.Tensor, torch.Tensor]:
        """(real images, the labels the nets read) of a training batch ``(images, labels[, indices])``."""
        return batch[0], batch[1]

    def generate(
        self, z: torch.Tensor, labels: torch.Tensor | None = None, g: nn.ModuleDict | None = None
    ) -> torch.Tensor:
        """Images from noise with the training generator, or with `g` (a `g_modules()`-shaped copy: the EMA);
        with ``info_codes`` G also reads the code, `labels` or else the one the noise carries."""
        net = self.generator if g is None else g["net"]
        if self.info_code is None:
            return net(z)
        codes = self.info_code.of(z) if labels is None else labels
        return net(z, self.info_code.g_input(codes))

    def discriminate(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        return self.discriminator(self.techniques.packed(x))

    def score(
        self, x: torch.Tensor, labels: torch.Tensor | None, real: bool
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """D's logits (B,) in the training step, and an extra loss term from the same pass: None, or on
        fakes InfoGAN's code term (G's, in the G step); the ConditionalGAN's class term."""
        if self.info_code is None or real:
            return self.discriminate(x, labels), None
        features = self.discriminator.features(x)  # (B, F): one pass for D's logit and Q's code
        return self.discriminator.head(features).squeeze(1), self.info_code.loss(features, labels)

    def score_fakes(self, x: torch.Tensor, labels: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor | None]:
        """D's logits (B,) on the fakes of the D step, and Q's code term there (``info_codes``: Q learns it)."""
        if self.info_code is None:
            return self.discriminate(x, labels), None
        return self.score(x, labels, real=False)

    # -- training: sample; D step; G step; EMA ---------------------------------------------------
    def training_step(self, batch: tuple[torch.Tensor, ...], batch_idx: int) -> None:
        if self.micro_steps.grouped(batch):  # data.steps_per_batch > 1: one full step per batch of the group
            self.micro_steps.run(self, batch, batch_idx)
        else:
            self.train_on(batch, batch_idx)

    def train_on(self, batch: tuple[torch.Tensor, ...], batch_idx: int) -> None:
        """One training step on one batch (`batch_idx`: its index in the epoch)."""
        real, labels = self.read_batch(batch)  # (B, C, H, W) in [-1, 1], (B,)
        opt_g, opt_d = self.optimizers()
        g_turn = (batch_idx + 1) % self.hparams.n_critic == 0
        z = self.sample_z(real.size(0))
        fake_labels = self.fake_labels(z)
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
        step, techniques = self.global_step, self.techniques
        with frozen(self._g_params):
            real_in, fake_in, r1_now = techniques.d_inputs(real), techniques.d_inputs(fake), techniques.r1_due()
            if r1_now:  # R1 differentiates D at the (augmented) real images it scores
                real_in = real_in.detach().requires_grad_(True)
            d_real, class_loss = self.score(real_in, labels, real=True)  # (B,) logits; the CGAN's class term
            d_fake, fake_term = self.score_fakes(fake_in, fake_labels)
            d_loss = self.loss_fn.d_loss(d_real, d_fake)
            for term in (class_loss, fake_term):
                if term is not None:
                    d_loss = d_loss + term
            if techniques.gp_weight > 0:  # the penalty's points carry the real batch's labels
                penalty = gradient_penalty(lambda x: self.discriminate(x, labels), real, fake)
                d_loss = d_loss + techniques.gp_weight * penalty
            d_loss = techniques.add_d_regularizers(d_loss, d_real, d_fake, real_in, r1_now)
            if not self.apply_loss(opt, d_loss):
                return None
        techniques.after_d_step(d_real, d_fake)
        self._step_of_d = step
        probs = torch.sigmoid(torch.stack([d_real.detach(), d_fake.detach()]).float()).mean(1)  # (2,) D(x), D(G(z))
        return torch.cat([d_loss.detach().float().reshape(1), probs])

    def generator_step(self, opt: Any, fake: torch.Tensor, fake_labels: torch.Tensor | None) -> torch.Tensor | None:
        """One G update on the fakes of the D step, D frozen; then the EMA. Returns g_loss; None if skipped."""
        with frozen(self._d_params):
            scores, class_loss = self.score(self.techniques.d_inputs(fake), fake_labels, real=False)  # (B,)
            g_loss = self.loss_fn.g_loss(self.techniques.top_k(scores, self.current_epoch))
            if class_loss is not None:
                g_loss = g_loss + class_loss
            if not self.apply_loss(opt, g_loss):
                return None
        self.g_steps.add_(1)  # the saved counter (a buffer); the host copy is what code reads
        self._g_steps += 1
        if self.generator_ema is not None:
            self.generator_ema.update()
        return g_loss.detach().float()

    def log(
        self,
        name: str,
        value: Any,
        *args: Any,
        on_step: bool | None = None,
        on_epoch: bool | None = None,
        **kwargs: Any,
    ) -> None:
        # Inside a group of batches (data.steps_per_batch) a step's values go to the loggers at once.
        if self.micro_steps.active is not None and kwargs.get("logger") is not False:
            epoch_name = self.micro_steps.keep(name, value, on_step, on_epoch)
            if epoch_name is None:
                return
            name, on_step, on_epoch = epoch_name, False, True
        super().log(name, value, *args, on_step=on_step, on_epoch=on_epoch, **kwargs)

    # -- logging: the scalars stay on the device until a log step (modules/scalars.py) ---------------------
    def end_batch(self, batch_idx: int, d_scalars: torch.Tensor | None, g_loss: torch.Tensor | None) -> None:
        """After each batch: the learning-rate schedules move on (a skipped step too), the batch's scalars
        join the window, and at log steps the window is read, checked and logged."""
        if self.hparams.lr_decay != "none":
            schedulers = self.lr_schedulers()
            for scheduler in schedulers if isinstance(schedulers, list) else [schedulers]:
                scheduler.step()
        if d_scalars is not None:
            self.training_log.add(self._step_of_d, self.current_epoch, batch_idx, d_scalars, g_loss)
        if self.training_log.due(self.trainer, self.micro_steps.active, batch_idx):
            self.log_training_scalars()

    def log_training_scalars(self) -> None:
        """Read the device-side scalars (one host sync), stop on a non-finite loss, log the window means."""
        window = self.training_log.take(attached_trainer(self), self.global_step)
        if window is None:
            return
        means, counts = window.means, window.counts
        d_means = {f"train/{k}": means[k] for k in D_KEYS}
        # Not prog_bar=True: Lightning turns progress-bar values into Python numbers after every batch,
        # a host sync each time; `callbacks.ProgressBar` shows `training_log.last_window` instead.
        self.log_dict(d_means, on_step=True, on_epoch=True, batch_size=counts["d"])
        if counts["g"]:
            self.log("train/g_loss", means["g_loss"], on_step=True, on_epoch=True, batch_size=counts["g"])
        skipped = self.training_log.guard.skipped
        if skipped:
            self.log("train/skipped_steps", float(skipped), on_step=True, on_epoch=False)
        self.log_technique_scalars()

    def log_technique_scalars(self) -> None:
        """At log steps only: the adaptive augmentation's p and its signal; the code head's cross-entropy and
        accuracy on fakes (``info_codes``)."""
        values = dict(self.techniques.scalars())
        if self.info_code is not None:
            values.update(self.info_code.window_means())
        for key, value in values.items():
            self.log(key, value, on_step=True, on_epoch=False)

    def apply_loss(self, opt: Any, loss: torch.Tensor) -> bool:
        """backward + optimizer step (precision plugins and hooks apply: `self.updates`); False if the
        divergence guard (``on_nonfinite: skip``) left the step out."""
        guard = self.training_log.guard
        if guard.checks_every_step and guard.skip(loss):
            return False
        self.updates.apply(self, opt, loss)
        return True

    # -- sampling: every image the project shows (grids, metrics, generate, export, predict) is drawn by
    # `decode`: eval mode, no grad, the EMA generator when kept. The noise and the truncation trick of the
    # sampling commands are in gan_lightning.noise (training never truncates) ------------------------
    @torch.no_grad()
    def sample(
        self,
        n: int,
        labels: torch.Tensor | None = None,
        generator: torch.Generator | None = None,
        truncation: float = 1.0,
    ) -> torch.Tensor:
        """`n` images (n, C, H, W) in [-1, 1] in eval mode; pass a `torch.Generator` to reproduce them
        and `truncation` < 1 for more typical digits (see `gan_lightning.noise.truncate`)."""
        if labels is not None:
            raise ValueError("labels: an unconditional GAN takes no labels; use a ConditionalGAN checkpoint")
        return self.decode(self.sample_z(n, generator, truncation), None)

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

    # -- test: the project's metrics on the test split, whatever `metrics` says (that switch only saves
    # validation time); a fresh scorer per run, so the real side is the split this run serves ---------
    def on_test_epoch_start(self) -> None:
        hp = self.hparams
        self._test_quality = SampleQuality(self.conditional, hp.metric_samples, hp.inception_weights, stage="test")
        self._test_quality.start(self)

    def test_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int) -> None:
        self._test_quality.step(self, batch)  # real digits (B, C, H, W), labels (B,)

    def on_test_epoch_end(self) -> None:
        values = self._test_quality.end(self)  # already reduced over ranks
        self.log_dict({f"test/{k}": float(v) for k, v in values.items()})

    # -- predict: batches of (index, z, labels) from MNISTDataModule.predict_dataloader (the noise and digits
    # `generate` draws for the same seed) through forward; the SampleWriter callback writes them ------
    def predict_step(self, batch: tuple[torch.Tensor, ...], batch_idx: int) -> dict[str, torch.Tensor]:
        index, z, labels = batch  # (B,), (B, latent_dim), (B,) (-1: unconditional)
        images = self(z.to(self.dtype), labels if self.conditional else None)  # (B, C, H, W) in [-1, 1]
        return {"index": index, "images": images.float(), "labels": labels}

    # -- validation: the sample metrics of `self.quality` (metrics/validation.py), when `metrics` is on --
    def validation_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int) -> None:
        if self.quality is not None:
            self.quality.step(self, batch)  # real digits (B, C, H, W), labels (B,)

    def on_validation_epoch_start(self) -> None:
        if self.quality is not None:
            self.quality.start(self)

    def on_validation_epoch_end(self) -> None:
        if self.quality is not None:  # values are already reduced over ranks: no sync_dist
            self.log_dict({f"val/{k}": float(v) for k, v in self.quality.end(self).items()})

    # -- fit-level hooks: the data and the strategy must suit the model; checkpoints; resume ----------
    def on_fit_start(self) -> None:
        check_data_matches(self.hparams, getattr(self.trainer, "datamodule", None))
        check_ddp(self.trainer.strategy.model)  # the DDP wrapper, built by now: refuse plain 'ddp'
        datamodule = getattr(self.trainer, "datamodule", None)
        batch_size = getattr(datamodule, "batch_size", None)
        pack = self.techniques.pack
        if pack > 1 and batch_size is not None and batch_size % pack:
            raise ValueError(f"pack: data.batch_size must be a multiple of pack ({pack}), got {batch_size}")
        steps = getattr(datamodule, "steps_per_batch", 1)
        if hasattr(datamodule, "decide_steps_per_batch"):  # "auto" is sized here, before the training loader
            steps = datamodule.decide_steps_per_batch(lambda: pick_steps_per_batch(self, batch_size))
        MicroSteps.adapt_trainer(self.trainer, steps)

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        # The deferred divergence check runs before anything is written: a diverged state is never saved.
        if self.training_log.guard.on_nonfinite == "stop":
            self.training_log.check_finite(attached_trainer(self))
        checkpoint[RNG_KEY] = self.rng.state_dict()
        state = self.techniques.checkpoint_state()
        if state:
            checkpoint[TECHNIQUE_KEY] = state

    @classmethod
    def load_from_checkpoint(cls, checkpoint_path: Any, *args: Any, **kwargs: Any) -> GAN:
        """Lightning's loader, after checking the file exists, is a checkpoint, and holds this kind of model.

        Raises:
            CheckpointError: no file at `checkpoint_path`, not a checkpoint, another kind of model, or
                `kwargs` that change a structural setting (a ValueError: one line naming it).
        """
        check_checkpoint_file(cls, checkpoint_path, kwargs)
        return super().load_from_checkpoint(checkpoint_path, *args, **kwargs)

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        # Before the weights load: a checkpoint of another model fails naming the setting, not a shape.
        check_compatible(self, checkpoint, resume=attached_trainer(self) is not None)
        self.rng.load_state_dict(checkpoint.get(RNG_KEY))
        self.techniques.load_checkpoint_state(checkpoint.get(TECHNIQUE_KEY) or {})

    def setup(self, stage: str) -> None:
        hp = self.hparams  # the speed switches (modules/speed.py)
        apply_to_nets([self.generator, self.discriminator], hp.get("compile", False), hp.get("channels_last", False))

    def on_before_optimizer_step(self, optimizer: torch.optim.Optimizer) -> None:
        # Manual optimization: Lightning's own `gradient_clip_val` does nothing, so clip here. This hook
        # runs inside `opt.step()` after the 16-mixed grad scaler has unscaled the gradients and before
        # the scaler's step: clipping sees true gradient values (clipping in training_step would not).
        clip = self.hparams.get("grad_clip_val")
        if clip is not None:
            algorithm = self.hparams.grad_clip_algorithm
            self.clip_gradients(optimizer, gradient_clip_val=clip, gradient_clip_algorithm=algorithm)

    def on_train_start(self) -> None:
        self._cuda_check = cheap_cuda_check_during_cpu_training(self.device)  # NVML per Adam step: speed.py
        super().on_train_start()
        self.rng.restore()  # as late as possible: sanity validation ran already
        self.updates.prepare(self.trainer, self)
        start_next_epoch_after_last_batch(self.trainer)  # Lightning's count after a last-batch resume
        changed = optim.apply_configured_rates(self)  # a resume restored the checkpoint's rates
        if changed:
            note = "resumed with other learning rates than the checkpoint's; the configured ones apply: "
            rank_zero_info(note + ", ".join(changed))
        slow = bf16_on_cpu_note(self.device, self.trainer.precision)
        if slow is not None:
            rank_zero_info(slow)

    def on_train_end(self) -> None:  # (after an exception the cheap check stays: CPU training used no CUDA)
        restore_cuda_check(getattr(self, "_cuda_check", None))
        self._cuda_check = None
        super().on_train_end()
        note = optim.unfinished_decay(self)  # a max_time safety stop must not hide a half-done decay
        if note is not None:
            rank_zero_warn(note)


def _read_counters_after_load(module: GAN, incompatible_keys) -> None:
    # A module-level function, not a lambda: the module must pickle (ddp_spawn sends it to its processes).
    module._read_counters()
