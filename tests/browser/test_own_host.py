"""A fresh server's first visit: every request the page makes goes to the page's own host (the
page says it sends nothing anywhere, and it must work offline), and the server's log holds
no warning, from its start through that visit (Streamlit's "already registered" warning once
came from the canvas being registered twice)."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from tests import helpers
from tests.helpers import ARTIFACTS, ONE, VIEWPORT, answer, draw, playwright_expect

expect = playwright_expect()


@pytest.fixture(scope="module")
def first_visit(browser):
    """A server of its own (a fresh log), one visit that draws a 1 and opens every panel: the
    requests the browser made (URL, resource type) and the server's log."""
    ARTIFACTS.mkdir(exist_ok=True)
    log_path = ARTIFACTS / "streamlit-first-visit.log"
    port = helpers.free_port()
    requests: list[tuple[str, str]] = []
    with open(log_path, "wb") as log:
        proc = helpers.start_page(port, log)
        try:
            url = f"http://127.0.0.1:{port}"
            helpers.wait_healthy(url, proc, log_path)
            context = browser.new_context(viewport=VIEWPORT)
            context.on("request", lambda r: requests.append((r.url, r.resource_type)))
            page = context.new_page()
            page.goto(url)
            expect(page.locator("canvas.upper-canvas")).to_be_visible()
            draw(page, ONE)
            expect(answer(page)).to_have_text("1")
            for expander in page.get_by_test_id("stExpander").all():
                expander.locator("summary").click()
            page.screenshot(path=str(ARTIFACTS / "first-visit.png"))
            context.close()
        finally:
            helpers.stop(proc)
    return url, requests, log_path.read_text(errors="replace")


def test_every_request_goes_to_the_pages_own_host(first_visit):
    url, requests, _log = first_visit
    own = urlsplit(url).netloc
    assert any(kind == "document" for _u, kind in requests)
    assert any("favicon" in u or "/media/" in u for u, _k in requests), "no page icon asked for"
    elsewhere = [u for u, _kind in requests if urlsplit(u).netloc != own]
    assert elsewhere == []


# What a healthy start and stop print (streamlit 1.67); Streamlit's warnings carry no level
# word, so the log is checked against this list rather than searched for "WARNING".
EXPECTED_LOG = ("Uvicorn server started on", "You can now view your Streamlit app", "URL: ")


def test_the_servers_log_says_nothing_but_its_start_after_a_first_visit(first_visit):
    _url, _requests, log = first_visit
    lines = [line.strip() for line in log.splitlines() if line.strip()]
    assert any(line.startswith("You can now view") for line in lines)  # the server's own log
    unexpected = [
        line
        for line in lines
        if line != "Stopping..." and not any(part in line for part in EXPECTED_LOG)
    ]
    assert unexpected == []
