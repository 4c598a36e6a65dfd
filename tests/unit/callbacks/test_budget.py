"""ValidationBudget on a fake clock: a training batch costs one second, a validation `val_s` seconds."""

import lightning as L
import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

from gan_lightning.callbacks.budget import ValidationBudget


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class Timed(L.LightningModule):
    """One linear layer; each training batch advances the clock 1 s, each validation `val_s` seconds."""

    def __init__(self, clock: Clock, val_s: float) -> None:
        super().__init__()
        self.clock, self.val_s = clock, val_s
        self.layer = torch.nn.Linear(2, 1)
        self.validated: list[int] = []  # epochs that validated

    def training_step(self, batch, batch_idx):
        self.clock.now += 1.0
        return self.layer(batch[0]).pow(2).mean()

    def validation_step(self, batch, batch_idx):
        self.clock.now += self.val_s / 2  # two val batches

    def on_validation_epoch_end(self):
        if not self.trainer.sanity_checking:
            self.validated.append(self.current_epoch)
            self.log("val/x", float(self.current_epoch))

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)


def _fit(budget, val_s=2.0, ckpt_path=None, root=None, **trainer_args):
    clock = Clock()
    budget.clock = clock
    model = Timed(clock, val_s)
    data = DataLoader(TensorDataset(torch.randn(4, 2)), batch_size=1)  # 4 batches: 4 s per epoch
    val = DataLoader(TensorDataset(torch.randn(2, 2)), batch_size=1)
    trainer_args = {"max_epochs": 10, "num_sanity_val_steps": 0, **trainer_args}
    trainer = L.Trainer(
        callbacks=[budget], logger=False, enable_progress_bar=False, enable_model_summary=False,
        enable_checkpointing=root is not None, default_root_dir=root, **trainer_args,
    )  # fmt: skip
    trainer.fit(model, data, val, ckpt_path=ckpt_path)
    return model, trainer, clock


def test_validation_keeps_within_its_share_and_always_sees_the_first_and_last_epoch():
    budget = ValidationBudget(share=0.25)
    model, trainer, clock = _fit(budget)
    assert model.validated[0] == 0 and model.validated[-1] == 9  # the first epoch measures, the last is kept
    assert 3 <= len(model.validated) < 10  # some epochs skipped, not all
    assert budget.spent_s == pytest.approx(2.0 * len(model.validated))
    assert budget.spent_s <= 0.25 * clock.now  # the whole run, the kept-back last validation included
    assert trainer.check_val_every_n_epoch == 1  # the trainer's own setting is back after fit


def test_a_generous_share_validates_every_epoch_and_a_tight_one_only_the_ends():
    assert _fit(ValidationBudget(share=0.9))[0].validated == list(range(10))
    assert _fit(ValidationBudget(share=0.01))[0].validated == [0, 9]


def test_only_multiples_of_check_val_every_n_epoch_are_candidates_and_the_last_epoch_is_kept():
    model, trainer, _ = _fit(ValidationBudget(share=0.9), check_val_every_n_epoch=3)
    assert model.validated == [2, 5, 8, 9]
    assert trainer.check_val_every_n_epoch == 3


def test_max_steps_inside_an_epoch_ends_with_a_validation():
    assert _fit(ValidationBudget(share=0.01), max_steps=22)[0].validated == [0, 5]  # step 22: epoch 5's 2nd batch


def test_batch_based_validation_is_left_to_lightning_and_said(caplog):
    model, _, _ = _fit(ValidationBudget(share=0.01), max_epochs=3, val_check_interval=2)
    assert model.validated == [0, 0, 1, 1, 2, 2]  # every second batch, as asked
    assert caplog.text.count("ValidationBudget stands aside") == 1


def test_a_resumed_run_counts_the_time_of_the_part_before(tmp_path):
    first, _, _ = _fit(ValidationBudget(share=0.25), root=str(tmp_path), max_epochs=4)
    assert first.validated == [0, 3]  # 16 s of training, 4 s of validation
    (ckpt,) = tmp_path.rglob("*.ckpt")
    budget = ValidationBudget(share=0.25)
    rest, _, clock = _fit(budget, root=str(tmp_path), ckpt_path=str(ckpt))
    # A budget that forgot would validate epoch 4 as a first epoch; with 4 s of 24 spent, epoch 6 is the next.
    assert rest.validated == [6, 7, 9]
    assert budget.elapsed_s() == pytest.approx(20.0 + clock.now)
    assert budget.spent_s == pytest.approx(4.0 + 2.0 * 3)
    assert budget.spent_s <= 0.25 * budget.elapsed_s()


@pytest.mark.parametrize("share", [0, 1, -0.5, 1.5, True, "5%"])
def test_share_outside_zero_one_is_refused_naming_it(share):
    with pytest.raises(ValueError, match=rf"ValidationBudget share must be a number in \(0, 1\), got {share!r}"):
        ValidationBudget(share=share)
