"""What makes a model folder a Hugging Face Space as it is: `app.py`, which serves the folder's demo page
(`gan-lightning demo --pretrained <the folder>`), `requirements.txt`, which installs gan_lightning
with the demo extra, and the Space's settings (``sdk: gradio``, ``app_file: app.py``) in the card's
front matter. `gan-lightning export --format hf` writes them beside the model; a model repository
ignores them, and `from_pretrained` reads the folder as before.

`requirements.txt` names this gan_lightning: the git repository and commit pip installed it from when
pip recorded one (PEP 610's direct_url.json, with any credentials in the address left out), else
this version as a release. A Space installs from PyPI and public git repositories only; for another
source, change that line.
"""

from __future__ import annotations

import importlib.metadata
import json
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from huggingface_hub import ModelCard

APP_NAME = "app.py"
REQUIREMENTS_NAME = "requirements.txt"
SPACE_FILES = (APP_NAME, REQUIREMENTS_NAME)

APP = '''"""The playground page of the gan_lightning model in this folder: a Hugging Face Space as it is.

Here: `pip install -r requirements.txt`, then `python app.py`. It serves
`gan-lightning demo --pretrained <this folder>` at GRADIO_SERVER_NAME and GRADIO_SERVER_PORT (what a
Space sets), else at 127.0.0.1 (this machine only) on the first free port from 7860.
"""

import os
from pathlib import Path

from gan_lightning.commands.demo import main

HERE = Path(__file__).resolve().parent
NAME = {name}  # how the page names the model, in its title and the commands it shows

if __name__ == "__main__":
    argv = ["--pretrained", str(HERE), "--name", NAME, "--host", os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1")]
    if os.environ.get("GRADIO_SERVER_PORT"):
        argv += ["--port", os.environ["GRADIO_SERVER_PORT"]]
    main(argv)
'''


def requirement() -> str:
    """The requirements line that installs this gan_lightning with the demo extra (see the module docstring)."""
    try:
        dist = importlib.metadata.distribution("gan_lightning")
    except importlib.metadata.PackageNotFoundError:
        return "gan_lightning[demo]"
    origin = json.loads(dist.read_text("direct_url.json") or "{}")
    vcs = origin.get("vcs_info") or {}
    if vcs.get("vcs") == "git" and vcs.get("commit_id") and origin.get("url"):
        parts = urlsplit(origin["url"])
        address = urlunsplit(parts._replace(netloc=parts.hostname + (f":{parts.port}" if parts.port else "")))
        return f"gan_lightning[demo] @ git+{address}@{vcs['commit_id']}"
    return f"gan_lightning[demo]=={dist.version}"


def gradio_version() -> str | None:
    """The installed Gradio's version (the Space runs the one the page was made with), or None."""
    try:
        return importlib.metadata.version("gradio")
    except importlib.metadata.PackageNotFoundError:
        return None


def write_space(folder: str | Path, name: str) -> None:
    """Write `app.py` and `requirements.txt` into the model `folder` (which holds its README.md card) and
    add the Space's settings to the card's front matter. `name`: how the page names the model."""
    folder = Path(folder)
    (folder / APP_NAME).write_text(APP.format(name=json.dumps(name)))
    (folder / REQUIREMENTS_NAME).write_text(f"{requirement()}\n")
    card = ModelCard.load(folder / "README.md")
    card.data.sdk = "gradio"
    card.data.app_file = APP_NAME
    version = gradio_version()
    if version:
        card.data.sdk_version = version
    card.save(folder / "README.md")
