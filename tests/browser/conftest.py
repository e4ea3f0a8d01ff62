"""Real-browser fixtures: the page served by `streamlit run app.py`, seen by Debian's chromium.

The server starts once per session on a free port and is stopped by its PID at teardown.
No test tool downloads a browser here: Playwright drives /usr/bin/chromium. Without it the
tests skip on a developer's machine and fail on CI (env CI == "true").
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "artifacts"
CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync"]
VIEWPORT = {"width": 1366, "height": 900}  # a common laptop screen
SERVER_START_TIMEOUT = 60  # s
# How long a browser check waits for the page to show what it expects. Not a timing claim:
# a busy CI machine (or a training run beside the page) can delay a rerun by seconds.
EXPECT_TIMEOUT = 30_000  # ms

try:
    from playwright.sync_api import expect as _expect
    _expect.set_options(timeout=EXPECT_TIMEOUT)
except ImportError:  # the `browser` fixture reports it: a failure on CI, a skip elsewhere
    pass


def _missing(message: str):
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def server_log() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS / "streamlit-server.log"


@pytest.fixture(scope="session")
def app_url(server_log):
    """URL of the page, served by its own `streamlit run app.py` process for this session."""
    port = _free_port()
    log = open(server_log, "wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--server.headless", "true",
         "--browser.gatherUsageStats", "false"],
        cwd=REPO, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while True:
            if proc.poll() is not None:
                pytest.fail(f"streamlit exited with {proc.returncode}; see {server_log}")
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"streamlit not healthy after {SERVER_START_TIMEOUT} s; "
                            f"see {server_log}")
            time.sleep(0.2)
        yield url
    finally:
        try:
            os.killpg(proc.pid, signal.SIGTERM)  # its own session: the server and its children
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        _missing(f"chromium not found at {CHROMIUM} (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("playwright is not installed (pip install -r requirements-dev.txt)")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                    args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, app_url):
    """A fresh tab (its own Streamlit session) with the page loaded and the canvas ready."""
    from playwright.sync_api import expect

    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    page.set_default_timeout(EXPECT_TIMEOUT)
    page.goto(app_url)
    expect(page.locator("canvas.upper-canvas")).to_be_visible(timeout=30_000)
    yield page
    context.close()
