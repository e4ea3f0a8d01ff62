"""Real-browser fixtures: the page served by `streamlit run app.py`, seen by Debian's chromium.

The server starts once per session on a free port and is stopped at teardown, its training
workers with it (tests/helpers.py). No test tool downloads a browser here: Playwright drives
/usr/bin/chromium. Without it the tests skip on a developer's machine and fail on CI
(env CI == "true"). Every test in this folder is marked `browser` and `slow`.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import (
    ARTIFACTS,
    CHROMIUM,
    CHROMIUM_FLAGS,
    PIXEL_7,
    VIEWPORT,
    free_port,
    missing,
    start_page,
    stop,
    wait_healthy,
)

# How long a browser check waits for the page to show what it expects. Not a timing claim:
# a busy CI machine (or a training run beside the page) can delay a rerun by seconds.
EXPECT_TIMEOUT = 30_000  # ms

try:
    from playwright.sync_api import expect as _expect

    _expect.set_options(timeout=EXPECT_TIMEOUT)
except ImportError:  # the `browser` fixture reports it: a failure on CI, a skip elsewhere
    pass


def pytest_collection_modifyitems(config, items):
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.fspath).parents:
            item.add_marker(pytest.mark.browser)
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def server_log() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS / "streamlit-server.log"


@pytest.fixture(scope="session")
def app_url(server_log):
    """URL of the page, served by its own `streamlit run app.py` process for this session."""
    port = free_port()
    with open(server_log, "wb") as log:
        proc = start_page(port, log)
        try:
            url = f"http://127.0.0.1:{port}"
            wait_healthy(url, proc, server_log)
            yield url
        finally:
            stop(proc)


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        missing(f"chromium not found at {CHROMIUM} (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing("playwright is not installed (pip install -r requirements-dev.txt)")
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS
        )
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


@pytest.fixture
def phone(browser, app_url):
    """A fresh touch-only phone tab (Pixel 7 sized) with the page loaded and the canvas ready."""
    from playwright.sync_api import expect

    context = browser.new_context(**PIXEL_7)
    page = context.new_page()
    page.set_default_timeout(EXPECT_TIMEOUT)
    page.goto(app_url)
    expect(page.locator("canvas.upper-canvas")).to_be_visible(timeout=EXPECT_TIMEOUT)
    yield page
    context.close()
