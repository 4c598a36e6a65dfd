"""`gan-lightning demo` at its door: bad arguments and a missing Gradio end in one line and exit code 2,
before the model loads or the server starts (the page itself: tests/integration/test_demo.py)."""

from __future__ import annotations

import os
import re
import socket
import sys

import pytest

from gan_lightning.commands import demo
from gan_lightning.commands.cli import main

INSTALL = 'pip install "gan_lightning[demo]"'


def _one_line_error(capsys, argv: list[str]) -> str:
    with pytest.raises(SystemExit) as exit_info:
        main(["demo", *argv])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("gan-lightning demo: error: "), err
    return err


@pytest.mark.parametrize(
    ("argv", "match"),
    [
        (["--port", "70000"], r"port must be in 1\.\.65535, got 70000"),
        (["--port", "0"], r"port must be in 1\.\.65535, got 0"),
        (["--port", "web"], r"argument --port: invalid int value: 'web'"),
        (["--host", " "], r"host must be an address such as 127\.0\.0\.1 or 0\.0\.0\.0, got ' '"),
        (["--pretrained", "no-such-model"], r"pretrained: 'no-such-model' is not a shipped model"),
        (["--ckpt_path", "{tmp}/missing.ckpt"], r"missing\.ckpt"),
        (["--pretrained", "mnist-gan", "--ckpt_path", "x.ckpt"], r"not allowed with argument"),
        (["--share"], r"unrecognized arguments: --share"),  # there is no public link to ask for
    ],
    ids=["port-range", "port-zero", "port-text", "host-empty", "unknown-model", "no-checkpoint", "both", "share"],
)
def test_bad_arguments_are_one_line_with_exit_code_2(capsys, tmp_path, argv, match):
    err = _one_line_error(capsys, [arg.format(tmp=tmp_path) for arg in argv])
    assert re.search(match, err), err


def test_without_gradio_it_names_the_extra(capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "gradio", None)  # what a missing package looks like to import
    err = _one_line_error(capsys, [])
    assert err == f"gan-lightning demo: error: the demo needs the `gradio` package (Gradio's web page); {INSTALL}\n"


def test_serve_without_gradio_leaves_no_folder_and_no_setting(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "gradio", None)
    monkeypatch.setenv("TMPDIR", str(tmp_path))  # where its temporary folder goes
    monkeypatch.setattr("tempfile.tempdir", None)
    monkeypatch.delenv("GRADIO_TEMP_DIR", raising=False)
    with pytest.raises(ModuleNotFoundError, match=re.escape(INSTALL)):
        demo.serve(model=None, source=["--pretrained", "mnist-cgan"], name="mnist-cgan")
    assert list(tmp_path.iterdir()) == []
    assert "GRADIO_TEMP_DIR" not in os.environ


@pytest.mark.parametrize("host", ["127.0.0.1", "no-such-host.invalid"])
def test_a_port_nothing_can_listen_at_is_refused_before_the_model_loads(capsys, monkeypatch, host):
    def load_sampler(*args):
        raise AssertionError("the model loaded before the port was checked")

    monkeypatch.setattr(demo, "load_sampler", load_sampler)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        err = _one_line_error(capsys, ["--host", host, "--port", str(port)])
    assert err == (
        f"gan-lightning demo: error: port: cannot listen on {host!r} at port {port} (in use, or not an address "
        "of this machine); give another --port or --host\n"
    )


def test_a_free_port_passes_the_check_and_stays_free():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    demo.check_port("127.0.0.1", port)
    demo.check_port("127.0.0.1", port)  # the check let go of it
    demo.check_port("127.0.0.1", None)  # no port: Gradio picks one
