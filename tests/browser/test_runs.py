"""The run service as a class meets it, in chromium, on a server of its own with one slot:
a reload mid-run finds the run again, a second browser waits in the queue with an expected
wait, and a stroke released together with a picker change does not stop the live part."""

from __future__ import annotations

import re

from tests.helpers import (
    ARTIFACTS,
    SEVEN,
    VIEWPORT,
    draw,
    free_port,
    picker,
    playwright_expect,
    start_page,
    wait_healthy,
)
from tests.helpers import stop as stop_server

expect = playwright_expect()

POINTS = """() => {{ const el = [...document.querySelectorAll('.js-plotly-plot')]
    .find(e => JSON.stringify(e.layout && e.layout.title || '').includes('Accuracy'));
    return !!el && el.data.length > 0 && el.data[0].x.length > {n}; }}"""
COUNT = """() => { const el = [...document.querySelectorAll('.js-plotly-plot')]
    .find(e => JSON.stringify(e.layout && e.layout.title || '').includes('Accuracy'));
    return el && el.data.length ? el.data[0].x.length : 0; }"""


def more_points_than(page, n: int) -> None:
    page.wait_for_function(POINTS.format(n=n), timeout=60_000)


def open_page(browser, url):
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.goto(url)
    expect(page.locator("canvas.upper-canvas")).to_be_visible()
    return page


def train_long(page) -> None:
    """The 100-neuron preset, 50 epochs: a minute or more of training."""
    page.get_by_role("combobox", name="The book's experiments").click()
    page.keyboard.type("100 hidden neurons")
    page.keyboard.press("Enter")
    expect(page.get_by_role("slider", name="Hidden neurons N")).to_have_attribute(
        "aria-valuetext", "100"
    )
    epochs = page.get_by_role("slider", name="Epochs")
    epochs.focus()
    page.keyboard.press("End")
    expect(epochs).to_have_attribute("aria-valuetext", "50")
    page.get_by_role("button", name="Train", exact=True).click()


def test_reload_queue_and_a_stroke_with_a_picker_change(browser):
    port = free_port()
    log_path = ARTIFACTS / "runs-server.log"
    with open(log_path, "wb") as log:
        server = start_page(port, log, env={"DIGITLAB_MAX_RUNS": "1"})
        try:
            url = f"http://127.0.0.1:{port}"
            wait_healthy(url, server, log_path)
            first = open_page(browser, url)
            train_long(first)
            expect(first.get_by_role("button", name="Stop")).to_be_visible()
            more_points_than(first, 2)
            assert "run=" in first.url  # the run's token, for a reload

            second = open_page(browser, url)  # another browser: the one slot is taken
            second.get_by_role("button", name="Train", exact=True).click()
            waiting = second.get_by_text(re.compile(r"number 1 in the queue, about \d+ (s|min)"))
            expect(waiting).to_be_visible()
            waiting.scroll_into_view_if_needed()
            second.screenshot(path=str(ARTIFACTS / "runs-queued.png"))

            first.reload()  # the visitor presses F5 mid-run
            expect(first.locator("canvas.upper-canvas")).to_be_visible()
            expect(first.get_by_role("button", name="Stop")).to_be_visible()
            expect(first.get_by_role("slider", name="Hidden neurons N")).to_have_attribute(
                "aria-valuetext", "100"
            )
            more_points_than(first, first.evaluate(COUNT))  # the same run, still live
            first.get_by_role("button", name="Stop").scroll_into_view_if_needed()
            first.screenshot(path=str(ARTIFACTS / "runs-reloaded.png"))

            # a stroke and a picker change reaching the server together: one whole-page run
            ticks = first.evaluate(COUNT)
            draw(first, [SEVEN[0]])
            picker(first).click()
            first.keyboard.press("ArrowDown")
            first.keyboard.press("Enter")
            more_points_than(first, ticks + 3)  # the live part goes on
            expect(first.get_by_text(re.compile(r"read by this network now: \d"))).to_be_visible()

            first.get_by_role("button", name="Stop").click()
            expect(first.get_by_text(re.compile(r"Stopped at epoch \d+\.\d of 50"))).to_be_visible()
            # the slot is free: the queued run starts by itself
            expect(second.get_by_text(re.compile(r"Epoch \d+\.\d of 30"))).to_be_visible()
            second.screenshot(path=str(ARTIFACTS / "runs-second-started.png"))
        finally:
            stop_server(server)
