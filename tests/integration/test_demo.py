"""`gan-lightning demo` for real: its page driven in a headless Chromium (Debian's `chromium` and
`chromium-driver`, through Selenium), an exported folder's app.py served as a Space, and a busy port.

The browser test asks for digit 7, seed 3 and checks that the image the page shows is
`gan-lightning generate --digits 7 --seed 3`'s PNG, pixel for pixel (and byte for byte), that the NPZ
download is generate's NPZ, that a bad value is answered in the page and the next request still
works, and that the page asked nothing of any address but the demo's own. The demo runs with its own
home, temporary and working folders, which must be empty once it stops. The screenshot is left in the
test's folder (its path is printed). Nothing here needs a network beyond 127.0.0.1.
"""

from __future__ import annotations

import base64
import contextlib
import io
import json
import os
import queue
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np
import pytest
from PIL import Image

from gan_lightning.commands.cli import main
from tests.helpers import free_port

START_TIMEOUT = 120  # seconds for the server to say where it listens (imports on a busy 2-core machine)
WAIT = 30  # seconds for the page to show an answer
INSTALL_BROWSER = (
    "apt-get update && apt-get install -y chromium chromium-driver (as root; .ci/run does it), "
    "and selenium: pip install -e '.[dev]'"
)


@contextlib.contextmanager
def _served(argv: list[str], cwd: Path, env: dict[str, str] | None = None) -> Iterator[str]:
    """Run a server command until the block ends (SIGTERM, as a service manager stops it); yields the URL it
    prints. Its output is shown when it fails to start."""
    process = subprocess.Popen(
        argv,
        cwd=cwd,
        env={**os.environ, **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in process.stdout], daemon=True).start()
    seen, url, deadline = [], None, time.monotonic() + START_TIMEOUT
    while url is None and time.monotonic() < deadline and process.poll() is None:
        with contextlib.suppress(queue.Empty):
            seen.append(lines.get(timeout=0.2))
            if " at http://" in seen[-1]:
                url = seen[-1].split(" at ")[1].split()[0]
    try:
        assert url, f"the server did not start: {''.join(seen)[-3000:]}"
        yield url
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            raise


def _generated(tmp_path: Path, *args: str) -> tuple[bytes, Path]:
    """`gan-lightning generate --pretrained mnist-cgan ARGS`'s PNG bytes, and its NPZ file."""
    png, npz = tmp_path / f"generate{'_'.join(args)}.png", tmp_path / f"generate{'_'.join(args)}.npz"
    for out in (png, npz):
        main(["generate", "--pretrained", "mnist-cgan", *args, "--out", str(out)])
    return png.read_bytes(), npz


def _pixels(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)))


# -- the page in a real browser ------------------------------------------------------------------
def _require_browser() -> None:
    """Fail (not skip: .ci/run installs them) when Chromium, its driver or Selenium is missing."""
    missing = [name for name in ("chromium", "chromedriver") if shutil.which(name) is None]
    if missing:
        pytest.fail(f"the browser test needs {' and '.join(missing)} on PATH; install with: {INSTALL_BROWSER}")
    try:
        import selenium  # noqa: F401
    except ImportError:
        pytest.fail(f"the browser test needs the selenium package; install with: {INSTALL_BROWSER}")


def _chromium(downloads: Path):
    """Headless Chromium through Selenium: Debian's browser and driver, no address but 127.0.0.1."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium")
    for arg in (
        "--headless=new",
        "--no-sandbox",  # as root in a container
        "--disable-dev-shm-usage",
        "--window-size=1280,1300",
        "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",  # no name outside resolves
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
    ):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})  # every request the page makes
    driver = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=options)
    driver.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
    return driver


def _type(driver, css: str, text: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    field = driver.find_element(By.CSS_SELECTOR, css)
    field.click()
    field.send_keys(Keys.CONTROL, "a")
    field.send_keys(text, Keys.TAB)  # typed, then left: the page takes the value


def _press_and_wait(driver, button: str, message: str) -> str:
    """Press a button; wait for the message box to hold `message`; return the whole message."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    driver.find_element(By.CSS_SELECTOR, button).click()
    box = "#status textarea"
    WebDriverWait(driver, WAIT).until(lambda d: message in d.find_element(By.CSS_SELECTOR, box).get_property("value"))
    return driver.find_element(By.CSS_SELECTOR, box).get_property("value")


def _shown(driver, css: str, ending: str, instead_of: str = "") -> tuple[str, bytes]:
    """The address and bytes of the image `css` once its address ends in `ending` (and is not `instead_of`),
    as the browser fetches them."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    def loaded(d):
        found = d.find_elements(By.CSS_SELECTOR, f"{css} img")
        src = found[0].get_attribute("src") if found else ""
        return src if src.endswith(ending) and src != instead_of and found[0].get_property("complete") else None

    src = WebDriverWait(driver, WAIT).until(loaded)
    fetched = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "fetch(arguments[0]).then(r => r.arrayBuffer()).then(b => {"
        "  let s = ''; for (const x of new Uint8Array(b)) s += String.fromCharCode(x); done(btoa(s)); });",
        src,
    )
    return src, base64.b64decode(fetched)


def _downloaded(driver, button: str, folder: Path, name: str) -> Path:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    driver.find_element(By.CSS_SELECTOR, button).click()
    path = folder / name
    WebDriverWait(driver, WAIT).until(lambda d: path.is_file() and not list(folder.glob("*.crdownload")))
    return path


def _requested_addresses(driver) -> set[str]:
    addresses = set()
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            url = urlsplit(message["params"]["request"]["url"])
            addresses.add(url.scheme if url.scheme in ("data", "blob") else f"{url.scheme}://{url.netloc}")
    return addresses


@pytest.mark.browser
def test_the_page_draws_generates_pixels_in_a_real_browser(tmp_path):
    _require_browser()
    folders = {name: tmp_path / name for name in ("home", "tmp", "cwd", "downloads")}
    for folder in folders.values():
        folder.mkdir()
    expected_png, expected_npz = _generated(tmp_path, "--digits", "7", "--seed", "3")
    fewer_png, _ = _generated(tmp_path, "--digits", "7", "--n_per_digit", "4", "--seed", "3")
    started = time.monotonic()
    driver = _chromium(folders["downloads"])
    env = {"HOME": str(folders["home"]), "TMPDIR": str(folders["tmp"])}
    port = free_port()
    try:
        with _served([sys.executable, "-m", "gan_lightning", "demo", "--port", str(port)], folders["cwd"], env) as url:
            assert urlsplit(url).netloc == f"127.0.0.1:{port}"
            driver.get(url)
            _shown(driver, "#grid", "samples-seed0.png")  # the page opens on generate's default grid
            _type(driver, "#digits textarea", "7")
            _type(driver, "#seed input", "3")
            text = _press_and_wait(driver, "#draw", "seed 3")
            assert text.startswith("10 images (digits [7], seed 3), as drawn by: gan-lightning generate"), text
            src, shown = _shown(driver, "#grid", "samples-seed3.png")
            assert np.array_equal(_pixels(shown), _pixels(expected_png))  # what the page shows is generate's
            assert shown == expected_png  # the very file: Gradio did not re-encode it
            npz = _downloaded(driver, "#npz", folders["downloads"], "samples-seed3.npz")
            with np.load(npz) as got, np.load(expected_npz) as want:
                assert np.array_equal(got["images"], want["images"]) and np.array_equal(got["labels"], want["labels"])

            # The walk: a GIF from seed 3 to seed 1 and back, and the grid at the slider's position.
            _press_and_wait(driver, "#walk", "walk from seed 3 to seed 1 in 16 frames")
            _, gif = _shown(driver, "#gif", ".gif")
            with Image.open(io.BytesIO(gif)) as animation:
                assert animation.n_frames == 16 + 14
                assert np.array_equal(np.asarray(animation.convert("L")), _pixels(expected_png))
            _shown(driver, "#frame", "-at-0.5.png")
            screenshot = tmp_path / "demo.png"
            driver.save_screenshot(str(screenshot))
            print(f"screenshot of the page: {screenshot}")

            # A bad value: one line in the page, the image left as it was, and the server still serving.
            _type(driver, "#how_many input", "0")
            text = _press_and_wait(driver, "#draw", "error")
            assert text == "error: how many must be an integer in 1..100, got 0", text
            assert _shown(driver, "#grid", "samples-seed3.png")[0] == src
            _type(driver, "#how_many input", "4")
            assert _press_and_wait(driver, "#draw", "4 images").startswith("4 images (digits [7], seed 3)")
            _, shown = _shown(driver, "#grid", "samples-seed3.png", instead_of=src)
            assert np.array_equal(_pixels(shown), _pixels(fewer_png))
            assert _requested_addresses(driver) <= {f"http://127.0.0.1:{port}", "data", "blob"}
    finally:
        driver.quit()
    print(f"browser test: {time.monotonic() - started:.1f} s from the browser's start")
    # It wrote only into its own temporary folder, and removed it on SIGTERM.
    assert {name: sorted(p.name for p in folders[name].rglob("*")) for name in ("home", "tmp", "cwd")} == {
        "home": [],
        "tmp": [],
        "cwd": [],
    }


# -- an exported folder, served as a Space serves it -------------------------------------------------
def _api_draw(url: str, data: list) -> list:
    """One call of the page's `draw` through Gradio's HTTP API: its outputs."""
    post = urllib.request.Request(
        f"{url}gradio_api/call/draw", json.dumps({"data": data}).encode(), {"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(post, timeout=WAIT) as response:
        event = json.load(response)["event_id"]
    with urllib.request.urlopen(f"{url}gradio_api/call/draw/{event}", timeout=WAIT) as response:
        lines = response.read().decode().splitlines()
    assert "event: complete" in lines, lines
    return json.loads(lines[lines.index("event: complete") + 1].removeprefix("data: "))


def test_an_exported_folder_runs_as_a_space(tmp_path):
    folder = tmp_path / "space"
    args = ["--format", "hf", "--out", str(folder), "--n_samples", "0", "--name", "someone/mnist-cgan"]
    main(["export", "--pretrained", "mnist-cgan", *args])
    expected_png, _ = _generated(tmp_path, "--digits", "7", "--seed", "3")
    env = {"GRADIO_SERVER_NAME": "127.0.0.1", "GRADIO_SERVER_PORT": str(free_port())}  # what a Space sets
    with _served([sys.executable, "app.py"], folder, env) as url:
        with urllib.request.urlopen(f"{url}config", timeout=WAIT) as response:
            assert json.load(response)["title"] == "gan_lightning: someone/mnist-cgan"
        shown, _, _, text = _api_draw(url, ["7", 10, 3, 1.0])
        with urllib.request.urlopen(shown["url"], timeout=WAIT) as response:
            assert response.read() == expected_png
        assert text.endswith(
            "gan-lightning generate --pretrained someone/mnist-cgan --digits 7 --n_per_digit 10 "
            "--seed 3 --out samples-seed3.png"
        )
        assert _api_draw(url, ["7", 0, 3, 1.0])[3] == "error: how many must be an integer in 1..100, got 0"
        assert _api_draw(url, ["7", 1, 3, 1.0])[3].startswith("1 images (digits [7], seed 3)")


def test_a_busy_port_is_one_line_with_exit_code_2(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "gan_lightning", "demo", "--port", str(port)],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=START_TIMEOUT,
        )
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip().splitlines() == [
        f"gan-lightning demo: error: port: cannot listen on '127.0.0.1' at port {port} (in use, or not an "
        "address of this machine); give another --port or --host"
    ]
    assert list(tmp_path.iterdir()) == []
