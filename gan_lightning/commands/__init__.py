"""The `gan-lightning` console script: LightningCLI's fit/validate/test/predict (`cli`), `generate`,
`evaluate`, `export`, and the classifier behind the metrics (`python -m gan_lightning.commands.train_classifier`)."""

PROG = "gan-lightning"  # the console script, as every message and usage line names it
