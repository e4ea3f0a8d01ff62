"""Live training in a real browser: curves that grow, eta moved mid-run, a drawing re-read
while the network learns, and two tabs training at once, each seeing only its own run."""

from __future__ import annotations

import re

from tests.helpers import (
    ARTIFACTS,
    SEVEN,
    VIEWPORT,
    answer,
    draw,
    free_port,
    playwright_expect,
    start_page,
    wait_healthy,
    wait_until,
    workers_of,
)
from tests.helpers import stop as stop_server

expect = playwright_expect()
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError  # noqa: E402

ACCURACY = """() => [...document.querySelectorAll('.js-plotly-plot')]
    .find(el => JSON.stringify(el.layout && el.layout.title || '').includes('Accuracy'))"""


COST = """() => [...document.querySelectorAll('.js-plotly-plot')]
    .find(el => JSON.stringify(el.layout && el.layout.title || '').includes('Training cost'))"""


def wait_batch_costs_above(page, n: int, timeout=60_000) -> dict:
    """Wait until the cost chart's mini-batch line has more than `n` points; then its point
    count, its legend name and the epoch curve's last x, read in the same look."""
    found = page.wait_for_function(
        f"""() => {{ const el = ({COST})(); if (!el) return null;
        const mean = el.data.find(t => t.meta && t.meta.series === 'batch cost' && t.name);
        const curve = el.data.find(t => t.meta && t.meta.series === 'cost');
        return mean && curve && mean.x.length > {n}
            ? {{n: mean.x.length, name: mean.name, drawn: el.data.indexOf(mean),
                curve: el.data.indexOf(curve), width: mean.line.width,
                curve_width: curve.line.width}} : null; }}""",
        timeout=timeout,
    )
    return found.json_value()


def chart(page) -> dict:
    """The accuracy chart's traces (name, x) and annotations, as plotly holds them."""
    return page.evaluate(f"""() => {{
        const el = ({ACCURACY})();
        if (!el) return null;
        return {{traces: el.data.map(t => ({{name: t.name, x: t.x}})),
                 notes: (el.layout.annotations || []).map(a => a.text)}};
    }}""")


def points(page) -> int:
    data = chart(page)
    return len(data["traces"][0]["x"]) if data and data["traces"] else 0


def wait_points_above(page, n: int, timeout=60_000) -> list[str]:
    """Wait until the accuracy chart has more than `n` points; its traces' names then.

    Read in the same check: the live part redraws the chart twice a second, and a second
    look a moment later can fall between two drawings (no chart element for an instant)."""
    found = page.wait_for_function(
        f"""() => {{ const el = ({ACCURACY})();
        return el && el.data.length && el.data[0].x.length > {n}
            ? el.data.map(t => t.name) : null; }}""",
        timeout=timeout,
    )
    return found.json_value()


def train(page) -> None:
    page.get_by_role("button", name="Train", exact=True).click()
    expect(page.get_by_role("button", name="Stop")).to_be_visible()
    wait_points_above(page, 1)


def stop(page, tries: int = 6) -> None:
    """Stop the run if it still trains; either way Train comes back.

    The run can end between a look at Stop and the click (a fresh-clone CI run waited 30 s on
    a Stop button that had just left the page), and a live tick can redraw the button under
    the click: so each click is short and is tried again until Train is back."""
    train_button = page.get_by_role("button", name="Train", exact=True)
    for _ in range(tries):
        if train_button.is_visible():
            return
        try:
            page.get_by_role("button", name="Stop").click(timeout=5_000)
            train_button.wait_for(state="visible", timeout=10_000)
            return
        except PlaywrightTimeoutError:
            continue  # gone or redrawn under the click: look again
    expect(train_button).to_be_visible()


def eta_slider(page):
    return page.get_by_test_id("stSlider").filter(has_text="Learning rate").get_by_role("slider")


def test_curves_grow_eta_moves_mid_run_and_the_drawing_is_re_read(page):
    train(page)
    first = points(page)
    wait_points_above(page, first + 2)  # new points arrive while it trains
    # every mini-batch's cost, under the epoch curve: thin, named, and growing as it trains
    costs = wait_batch_costs_above(page, 0)
    assert costs["name"].startswith("mini-batch cost") and costs["drawn"] < costs["curve"]
    assert costs["width"] < costs["curve_width"]
    wait_batch_costs_above(page, costs["n"])
    # (.first: while a whole-page run replaces the live part, the old chart may stand beside
    # the new one for a moment; a fresh-clone CI run saw both)
    legend = page.locator(".legendtext").filter(has_text="mini-batch cost").first
    expect(legend).to_be_visible()
    eta_slider(page).focus()
    page.keyboard.press("ArrowLeft")  # eta 3 -> 2, during the run
    expect(eta_slider(page)).to_have_attribute("aria-valuetext", "2.0")
    page.wait_for_function(
        f"""() => {{ const el = ({ACCURACY})();
        return el && (el.layout.annotations || []).some(a => a.text === 'eta 2'); }}""",
        timeout=30_000,
    )
    marked = points(page)
    names = wait_points_above(page, marked + 1)  # the same run goes on with the new eta
    assert len(names) == 2  # one run: its test and validation curves
    draw(page, [SEVEN[0]])  # a stroke during the run ...
    expect(answer(page)).to_have_text("7", timeout=30_000)  # ... answered during training
    expect(page.get_by_text(re.compile(r"read by this network now: \d"))).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "training.png"), full_page=True)
    # On a busy machine a stroke can take the browser longer than the run has left (30
    # epochs at ~50,000 images/s): the run may have ended already, or end under the click.
    stop(page)


def test_two_tabs_training_at_once_each_see_only_their_own_run(browser, app_url):
    pages = []
    for preset in (None, "eta too large: 100"):  # the first keeps the book's network
        context = browser.new_context(viewport=VIEWPORT)
        tab = context.new_page()
        tab.set_default_timeout(30_000)
        tab.goto(app_url)
        expect(tab.locator("canvas.upper-canvas")).to_be_visible()
        if preset:
            expect(tab.get_by_text("What to expect")).to_be_visible()  # section rendered
            tab.get_by_role("combobox", name="The book's experiments").click()
            tab.keyboard.type(preset)
            tab.keyboard.press("Enter")
            expect(tab.get_by_text("Stuck near chance")).to_be_visible()
        pages.append(tab)
    try:
        for tab in pages:
            train(tab)
        for tab, eta in zip(pages, ("eta 3 ", "eta 100 ")):
            names = wait_points_above(tab, 2)
            assert len(names) == 2 and all(eta in name for name in names), names
        for tab in pages:
            stop(tab)
    finally:
        for tab in pages:
            tab.context.close()


def test_a_closed_tab_stops_its_run_and_leaves_no_worker(browser, tmp_path):
    """A server of its own, which gives up on silent pages after 10 s instead of 60 (not 3:
    on a busy machine a live page's own rerun can be later than that, and its run stopped)."""
    port = free_port()
    log_path = ARTIFACTS / "closed-tab-server.log"
    with open(log_path, "wb") as log:
        env = {"DIGITLAB_ABANDON_SECONDS": "10", "DIGITLAB_SPARE_WORKER": "0"}  # no spare:
        server = start_page(port, log, env=env)  # every worker is a run's
        try:
            url = f"http://127.0.0.1:{port}"
            wait_healthy(url, server, log_path)
            context = browser.new_context(viewport=VIEWPORT)
            tab = context.new_page()
            tab.goto(url)
            expect(tab.locator("canvas.upper-canvas")).to_be_visible()
            train(tab)
            assert len(workers_of(server.pid)) == 1  # the run trains in a worker process
            tab.get_by_role("button", name="Pause").click()  # paused, it would wait 600 s
            expect(tab.get_by_role("button", name="Resume")).to_be_visible()
            context.close()  # the visitor closes the tab
            wait_until(
                lambda: not workers_of(server.pid),
                60,  # stopped, its process gone
                "the closed tab's worker process ends",
                every=0.5,
            )
        finally:
            stop_server(server)
