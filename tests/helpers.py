"""Small shared pieces for tests."""

import lightning as L


def tiny_trainer(tmp_path, **kwargs) -> L.Trainer:
    defaults = dict(
        default_root_dir=str(tmp_path),
        max_epochs=1,
        limit_train_batches=2,
        limit_val_batches=0,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        accelerator="cpu",
        devices=1,
    )
    defaults.update(kwargs)
    return L.Trainer(**defaults)
