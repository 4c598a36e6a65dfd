"""The Space files of an exported folder: app.py, requirements.txt naming this gan_lightning, and the
Space's settings in the card (the folder served for real: tests/integration/test_demo.py)."""

from __future__ import annotations

import ast
import json

import pytest
from huggingface_hub import ModelCard

from gan_lightning.sharing import space


class _Installed:
    """An installed distribution whose direct_url.json says `origin` (None: not recorded)."""

    version = "0.1.0"

    def __init__(self, origin: dict | None) -> None:
        self.origin = origin

    def read_text(self, name: str) -> str | None:
        return json.dumps(self.origin) if name == "direct_url.json" and self.origin else None


@pytest.mark.parametrize(
    ("origin", "line"),
    [
        (None, "gan_lightning[demo]==0.1.0"),
        ({"url": "file:///home/me/gan_lightning", "dir_info": {"editable": True}}, "gan_lightning[demo]==0.1.0"),
        (
            {"url": "https://me:token@github.com/me/gan_lightning.git", "vcs_info": {"vcs": "git", "commit_id": "ab1"}},
            "gan_lightning[demo] @ git+https://github.com/me/gan_lightning.git@ab1",  # no credentials
        ),
    ],
    ids=["release", "local-folder", "git"],
)
def test_the_requirement_names_this_gan_lightning(monkeypatch, origin, line):
    monkeypatch.setattr(space.importlib.metadata, "distribution", lambda name: _Installed(origin))
    assert space.requirement() == line


def test_write_space_adds_the_app_and_the_settings_and_keeps_the_card(tmp_path):
    card = "---\nlibrary_name: gan_lightning\nlicense: apache-2.0\n---\n\n# A model\n\nIts card.\n"
    (tmp_path / "README.md").write_text(card)
    space.write_space(tmp_path, 'me/"quoted" cgan')
    data = ModelCard.load(tmp_path / "README.md").data
    assert (data.sdk, data.app_file, data.library_name) == ("gradio", "app.py", "gan_lightning")
    assert data.sdk_version == space.gradio_version()
    assert (tmp_path / "README.md").read_text().endswith("# A model\n\nIts card.\n")
    app = (tmp_path / "app.py").read_text()
    names = [node for node in ast.parse(app).body if isinstance(node, ast.Assign) and node.targets[0].id == "NAME"]
    assert ast.literal_eval(names[0].value) == 'me/"quoted" cgan'
    assert (tmp_path / "requirements.txt").read_text() == space.requirement() + "\n"
