"""Sharing trained generators: the Hugging Face Hub format (`hub`), its model cards (`card`), the
models shipped in the package (`pretrained`), and the demo page (`playground`, `page`) that an exported
folder also serves as a Hugging Face Space (`space`)."""
