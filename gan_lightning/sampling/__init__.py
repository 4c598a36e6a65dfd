"""Drawing images from a model's noise in pieces, and writing them whole or not at all (`images`,
`chunked`): shared by `generate`, `evaluate`, `predict` and model folders, below the modules."""
