"""`gan-lightning demo`: a playground page in the browser for a trained generator.

    gan-lightning demo                                        # the shipped mnist-cgan, offline
    gan-lightning demo --pretrained mnist-gan                 # the self-conditioned one: pick a cluster
    gan-lightning demo --ckpt_path RUN/checkpoints/last.ckpt --port 8000
    gan-lightning demo --pretrained me/mnist-cgan --host 0.0.0.0   # a Hub repo, seen from other machines

The page takes `generate`'s settings (digits or cluster, how many, seed, truncation) and draws what
`generate` draws for them, pixel for pixel; it walks between two seeds (a slider and an animated GIF)
and offers what it shows as PNG and NPZ. The model is given as to `generate` (`--pretrained`: a
shipped name, a folder from `export --format hf`, a Hub repo id; or `--ckpt_path`).

Gradio serves it (``pip install "gan_lightning[demo]"``) at 127.0.0.1 (this machine only) unless
`--host` says otherwise, never through a public share link, with Gradio's telemetry off; what it
writes goes to a temporary folder of its own, removed when it stops (Ctrl+C or SIGTERM). Bad
arguments end with one line and exit code 2; a bad value in the page is answered in the page.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import os
import signal
import socket
import sys
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

from gan_lightning.commands.generate import OneLineParser, add_source_arguments, load_sampler
from gan_lightning.sampling.images import Sampler
from gan_lightning.sharing.playground import Playground

DEFAULT_MODEL = "mnist-cgan"
INSTALL = 'pip install "gan_lightning[demo]"'
PORTS = (7860, 7959)  # where Gradio looks for a free port when none is given


class DemoError(ValueError):
    """Bad input to `demo`: one line, exit code 2."""


def _cannot_listen(host: str, port: int | None) -> DemoError:
    ports = f"port {port}" if port is not None else f"any port in {PORTS[0]}..{PORTS[1]}"
    return DemoError(
        f"port: cannot listen on {host!r} at {ports} (in use, or not an address of this machine); "
        "give another --port or --host"
    )


def check_port(host: str, port: int | None) -> None:
    """Raises DemoError when nothing could listen at `host`:`port`, before the seconds of loading the
    model and Gradio. The server binds again later (and says the same if the port was taken meanwhile);
    with no port, Gradio picks a free one itself."""
    if port is None:
        return
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server's own socket does
            probe.bind(address)
    except OSError:  # in use, not this machine's address, or a name that does not resolve
        raise _cannot_listen(host, port) from None


def _missing(package: str) -> ModuleNotFoundError:
    return ModuleNotFoundError(f"the demo needs the `{package}` package (Gradio's web page); {INSTALL}")


def check_gradio() -> None:
    """Raises ModuleNotFoundError naming the extra when Gradio is not installed, without loading it
    (it must load after `serve` has set where it writes)."""
    if importlib.util.find_spec("gradio") is None:
        raise _missing("gradio")


def _load_gradio() -> None:
    try:
        import gradio  # noqa: F401
    except ImportError as err:  # a package Gradio needs is missing or broken: the extra installs it
        raise _missing(getattr(err, "name", None) or "gradio") from None


@contextlib.contextmanager
def _environ(**values: str) -> Iterator[None]:
    """These environment variables for the block, the earlier values back after it."""
    before = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in before.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@contextlib.contextmanager
def _sigterm_stops() -> Iterator[None]:
    """SIGTERM ends the server as Ctrl+C does, so the temporary folder is removed either way."""

    def stop(signum, frame):
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second one must not cut the clean-up short
        raise KeyboardInterrupt

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    before = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, before)


def serve(
    model: Sampler,
    source: list[str],
    name: str,
    host: str = "127.0.0.1",
    port: int | None = None,
    open_browser: bool = False,
) -> None:
    """Serve the page of `model` until Ctrl+C (or SIGTERM). `source`: how `generate` names the model
    (``["--pretrained", name]``), for the command each drawing names.

    Raises:
        ModuleNotFoundError: Gradio is not installed (the message names the extra).
        DemoError: nothing can listen at `host`:`port`.
    """
    with (
        tempfile.TemporaryDirectory(prefix="gan-lightning-demo-") as tmp,
        # Before Gradio loads: its copies of the files shown go inside this folder, as does the font cache of
        # the matplotlib it loads (else in the home folder); it sends nothing out, and it keeps no record of
        # the requests (its run history, which a page can send to the Hub).
        _environ(
            GRADIO_TEMP_DIR=str(Path(tmp) / "gradio"),
            MPLCONFIGDIR=str(Path(tmp) / "matplotlib"),
            GRADIO_ANALYTICS_ENABLED="False",
            GRADIO_RUN_HISTORY="False",
        ),
    ):
        _load_gradio()
        from gan_lightning.sharing.page import CSS, build_page  # Gradio: seconds of imports, for this command only

        files = Path(tmp) / "files"
        files.mkdir()
        page = build_page(Playground(model, source, files), name)
        with _sigterm_stops():
            try:
                _, url, _ = page.launch(
                    server_name=host,
                    server_port=port,
                    share=False,  # never a public link
                    inbrowser=open_browser,
                    prevent_thread_lock=True,
                    quiet=True,
                    show_error=False,  # an unexpected failure says "Error" in the page, no traceback
                    allowed_paths=[tmp],
                    ssr_mode=False,
                    footer_links=["api", "gradio"],
                    css=CSS,
                )
            except OSError:
                raise _cannot_listen(host, port) from None
            print(f"gan-lightning demo: {name} at {url} (Ctrl+C stops it)", flush=True)
            try:
                page.block_thread()
            finally:
                page.close()


# -- command line ----------------------------------------------------------------------------
def _parser() -> argparse.ArgumentParser:
    p = OneLineParser(
        prog="gan-lightning demo",
        description="Serve a playground page for a trained generator: digits, seeds, truncation, a latent walk.",
    )
    add_source_arguments(p, required=False)
    p.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only; 0.0.0.0: all)"
    )
    p.add_argument(
        "--port",
        type=int,
        help=f"port to listen on (default: the first free one in {PORTS[0]}..{PORTS[1]})",
    )
    p.add_argument("--open", action="store_true", help="also open the page in the default web browser")
    p.add_argument(
        "--name",
        help="how the page names the model, in its title and in the `generate` commands it shows, e.g. owner/repo "
        "(default: the --pretrained value, or --ckpt_path)",
    )
    return p


def main(argv: list[str] | None = None) -> None:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        if args.port is not None and not 1 <= args.port <= 65535:
            raise DemoError(f"port must be in 1..65535, got {args.port}")
        if not args.host.strip():
            raise DemoError(f"host must be an address such as 127.0.0.1 or 0.0.0.0, got {args.host!r}")
        check_port(args.host, args.port)
        check_gradio()  # before the model loads: say what to install first
        pretrained = None if args.ckpt_path else (args.pretrained or DEFAULT_MODEL)
        model = load_sampler(args.ckpt_path, pretrained)
        if args.name:
            source = ["--pretrained", args.name]
        else:
            source = ["--ckpt_path", args.ckpt_path] if args.ckpt_path else ["--pretrained", pretrained]
        serve(model, source, source[1], args.host, args.port, args.open)
    except (ValueError, ModuleNotFoundError) as err:  # DemoError, the loaders' one-line errors, no Gradio
        parser.exit(2, f"{parser.prog}: error: {err}\n")


if __name__ == "__main__":
    main(sys.argv[1:])
