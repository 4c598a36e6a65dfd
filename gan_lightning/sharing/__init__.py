"""Sharing trained generators: the Hugging Face Hub format (`hub`), its model cards (`card`) and the
models shipped in the package (`pretrained`)."""
