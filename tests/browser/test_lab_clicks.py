"""The learner's lab in a real browser: the clicks (a hidden-layer square, a neuron's
picture, a confusion-matrix cell, a dot of the map), operating on a neuron and restoring it,
the drawing's star moving on the map, the drawing's nearest training digits; on a laptop and
on a phone. Screenshots go to artifacts/lab-*.png, to be looked at.
"""

from __future__ import annotations

import re

from tests.helpers import (
    ARTIFACTS,
    SEVEN,
    ZERO,
    answer,
    draw,
    missing,
    picker,
    playwright_expect,
    touch_draw,
    wait_until,
)

expect = playwright_expect()
NEURONS = "What each hidden neuron looks for"
MAP = "Where your drawing lands"
DATA = "The data, and your drawing's neighbours"


def need_mnist() -> None:
    from nn.mnist import find_mnist_dir

    if find_mnist_dir() is None:
        missing("MNIST not found (set MNIST_DIR): the map and the data panels need it")


def panel(page, title: str):
    return page.get_by_test_id("stExpander").filter(has_text=title)


def open_panel(page, title: str):
    page.get_by_text(title, exact=True).click()
    return panel(page, title)


def plot_area(chart):
    """The chart's plot area (where its points are), on screen. The chart may be drawn anew
    while it is looked up (a rerun of its panel replaces the element): then look again."""
    from playwright.sync_api import Error

    def area():
        try:
            chart.scroll_into_view_if_needed(timeout=5_000)
            return chart.locator(".nsewdrag").first.bounding_box(timeout=5_000)
        except Error:  # detached by a redraw between the look-up and the scroll
            return None

    return wait_until(area, 60, "the chart's plot area on screen")


def opened_neuron(where) -> str:
    return where.get_by_text(re.compile(r"^Neuron #\d+ fires at$")).inner_text()


def figure_data(chart, name: str) -> list:
    """The x, y of a named trace, as plotly.js holds it in the page."""
    return chart.evaluate(
        "(el, name) => { const t = el.data.find(t => t.name === name);"
        " return t ? [t.x[0], t.y[0]] : null; }",
        name,
    )


def test_a_hidden_layer_square_names_its_neuron_and_opens_it(page):
    draw(page, SEVEN)
    expect(answer(page)).to_have_text("7")
    heatmap = page.locator(".st-key-drawing_charts .js-plotly-plot").nth(1)
    box = plot_area(heatmap)
    page.mouse.move(box["x"] + 4, box["y"] + 4)  # the top-left square: neuron #0
    expect(heatmap.locator(".hoverlayer")).to_contain_text("neuron #0")
    page.mouse.click(box["x"] + 4, box["y"] + 4)
    neurons = panel(page, NEURONS)
    expect(neurons.get_by_text("Neuron #0 fires at", exact=True)).to_be_visible()
    page.screenshot(path=ARTIFACTS / "lab-heatmap-opens-neuron.png")


def test_a_neurons_picture_opens_that_neuron_and_operating_on_it(page):
    neurons = open_panel(page, NEURONS)
    draw(page, SEVEN)
    expect(answer(page)).to_have_text("7")
    grid = neurons.locator(".js-plotly-plot").first
    box = plot_area(grid)
    x, y = box["x"] + 56 * 2.5 + 8, box["y"] + 28  # the third picture of the first row
    page.mouse.move(x, y)
    hover = grid.locator(".hoverlayer")
    expect(hover).to_contain_text(re.compile(r"neuron #\d+: fires at"))
    number = re.search(r"#(\d+)", hover.text_content()).group(1)
    page.mouse.click(x, y)
    expect(neurons.get_by_text(f"Neuron #{number} fires at", exact=True)).to_be_visible()
    # operate on it: switched off, the picker's network changes and restore brings it back
    operate = page.locator(".st-key-operate")
    operate.get_by_role("radio", name="off").click()
    expect(picker(page)).to_have_value(re.compile(rf"^Operated: Default \(#{number} off\)"))
    expect(
        operate.get_by_text(re.compile(r"10,000 test digits: [\d.]+ % → [\d.]+ %"))
    ).to_be_visible()
    page.screenshot(path=ARTIFACTS / "lab-operated.png")
    operate.get_by_role("button", name=re.compile("Restore")).click()
    expect(picker(page)).to_have_value(re.compile(r"^Default: "))
    expect(answer(page)).to_have_text("7")


def test_a_confusion_matrix_cell_shows_that_mix_up(page):
    need_mnist()
    mistakes = open_panel(page, "What it gets wrong")
    chart = mistakes.locator(".js-plotly-plot").first
    expect(chart).to_be_visible()
    box = plot_area(chart)
    cell_w, cell_h = box["width"] / 10, box["height"] / 10
    # true 3 (row 3), read as 5 (column 5)
    x, y = box["x"] + 5.5 * cell_w, box["y"] + 3.5 * cell_h
    page.mouse.move(x, y)
    expect(chart.locator(".hoverlayer")).to_contain_text("true 3, read as 5")
    page.mouse.click(x, y)
    expect(mistakes.get_by_text(re.compile(r"test digits 3 read as 5"))).to_be_visible()
    page.screenshot(path=ARTIFACTS / "lab-confusion-click.png")


def test_the_drawing_moves_on_the_map_and_a_dot_shows_its_digit(page):
    need_mnist()
    landing = open_panel(page, MAP)
    chart = landing.locator(".js-plotly-plot").first
    expect(chart).to_be_visible()
    draw(page, SEVEN)
    expect(landing.get_by_text(re.compile(r"lands among the \d+s"))).to_be_visible()
    first = figure_data(chart, "your drawing")
    assert first is not None
    page.get_by_role("button", name=re.compile("Clear canvas")).click()
    expect(landing.get_by_text(re.compile("appears here as a star"))).to_be_visible()
    draw(page, ZERO)
    expect(answer(page)).to_have_text("0")
    expect(landing.get_by_text(re.compile(r"reads it as 0"))).to_be_visible()
    second = figure_data(chart, "your drawing")
    assert second is not None and second != first
    landing.scroll_into_view_if_needed()
    page.screenshot(path=ARTIFACTS / "lab-map.png")
    # a click on a dot shows its digit: the dot of the 1s that stands farthest from any other
    # dot (where dots overlap, the click gets the one on top), where plotly.js drew it
    x, y, index = chart.evaluate(
        """el => { const L = el._fullLayout, one = el.data.find(t => t.name === '1');
                   const at = (t, i) => [L.xaxis._offset + L.xaxis.l2p(t.x[i]),
                                         L.yaxis._offset + L.yaxis.l2p(t.y[i])];
                   const all = [];
                   for (const t of el.data) if (t.name !== 'your drawing' && t.x)
                       for (let i = 0; i < t.x.length; i++) all.push(at(t, i));
                   let best = null;
                   for (let i = 0; i < one.x.length; i++) {
                       const [x, y] = at(one, i);
                       let near = Infinity;
                       for (const [a, b] of all) {
                           const d = (a - x) ** 2 + (b - y) ** 2;
                           if (d > 0 && d < near) near = d;
                       }
                       if (!best || near > best[3]) best = [x, y, one.customdata[i][0], near];
                   }
                   return best.slice(0, 3); }"""
    )
    chart.scroll_into_view_if_needed()
    box = chart.bounding_box()
    page.mouse.click(box["x"] + x, box["y"] + y)
    expect(landing.get_by_text(re.compile(r"^Test digit #\d+: a \d"))).to_be_visible()
    assert (
        landing.get_by_text(re.compile(r"^Test digit #"))
        .inner_text()
        .startswith(f"Test digit #{index}: a 1")
    )


def test_the_drawings_nearest_training_digits(page):
    need_mnist()
    data = open_panel(page, DATA)
    expect(data.get_by_text(re.compile("its nearest training digits"))).to_be_visible()
    draw(page, SEVEN)
    expect(answer(page)).to_have_text("7")
    expect(data.get_by_text(re.compile(r"among 10,000"))).to_be_visible()
    expect(data.get_by_text(re.compile(r"vote"))).to_be_visible()
    data.scroll_into_view_if_needed()
    page.screenshot(path=ARTIFACTS / "lab-neighbours.png")
    data.get_by_role("tab", name="The average digit").click()
    expect(data.get_by_test_id("stImage").nth(2).locator("img")).to_be_visible()
    page.screenshot(path=ARTIFACTS / "lab-averages.png")


def test_the_lab_on_a_phone(phone):
    need_mnist()
    page = phone
    landing = panel(page, MAP)
    page.get_by_text(MAP, exact=True).tap()
    expect(landing.locator(".js-plotly-plot")).to_have_count(1)
    touch_draw(page, SEVEN)
    expect(landing.get_by_text(re.compile(r"lands among the \d+s"))).to_be_visible()
    landing.scroll_into_view_if_needed()
    page.screenshot(path=ARTIFACTS / "lab-phone-map.png")
    page.get_by_text(NEURONS, exact=True).tap()
    neurons = panel(page, NEURONS)
    expect(neurons.get_by_text(re.compile(r"^Neuron #\d+ fires at$"))).to_be_visible()
    neurons.scroll_into_view_if_needed()
    page.screenshot(path=ARTIFACTS / "lab-phone-neurons.png")
    page.get_by_text(DATA, exact=True).tap()
    data = panel(page, DATA)
    expect(data.get_by_text(re.compile(r"among 10,000"))).to_be_visible()
    data.scroll_into_view_if_needed()
    page.screenshot(path=ARTIFACTS / "lab-phone-neighbours.png")


def choose_preset(page, name: str) -> None:
    box = page.get_by_role("combobox", name="The book's experiments")
    expect(box).to_be_visible()  # the training section is in
    box.click()
    page.keyboard.type(name)
    page.keyboard.press("Enter")


def test_a_hint_during_a_real_run_sets_up_the_next_one(page):
    """The eta 100 experiment: after its first epoch, still near chance, the book's hint
    appears under the progress bar; its button sets eta for the next run."""
    need_mnist()
    choose_preset(page, "eta too large: 100")
    expect(page.get_by_text("Stuck near chance")).to_be_visible()
    page.get_by_role("button", name="Train", exact=True).click()
    hint = page.locator(".st-key-hint_eta-large")
    expect(hint).to_contain_text("about what guessing gets", timeout=120_000)
    expect(hint).to_contain_text("chapter 1")
    hint.scroll_into_view_if_needed()
    page.screenshot(path=ARTIFACTS / "lab-hint.png")
    # Clicked while the run goes on (in slow motion, so that it is still going however slow
    # the machine): the live part keeps ticking, and a tick the browser sent before it saw
    # the new eta carries the slider's old value, which must not undo the change.
    page.get_by_role("button", name="Slow motion").click()
    expect(page.get_by_text(re.compile("slow motion, 4 mini-batches a second"))).to_be_visible()
    hint.get_by_role("button", name="Next run: eta 10").click()
    eta = page.get_by_role("slider", name=re.compile("Learning rate"))
    expect(eta).to_have_attribute("aria-valuetext", "10.0")
    batch = page.get_by_text(re.compile(r"The mini-batch just done \(number [\d,]+\)"))

    def number() -> int | None:
        try:
            return int(re.sub(r"\D", "", batch.first.inner_text(timeout=5_000)))
        except Exception:  # noqa: BLE001 - redrawn between two looks: look again
            return None

    clicked_at = wait_until(number, 60, "the mini-batch number under the live status")
    wait_until(lambda: (number() or 0) >= clicked_at + 4, 60, "a second of live ticks")
    expect(eta).to_have_attribute("aria-valuetext", "10.0")  # not undone by any of them
    assert page.get_by_role("button", name="Stop").is_visible()  # clicked while it was live
    page.get_by_role("button", name="Stop").click()
    expect(page.get_by_role("button", name="Train", exact=True)).to_be_visible()
    expect(eta).to_have_attribute("aria-valuetext", "10.0")
    expect(page.get_by_role("combobox", name="The book's experiments")).to_have_value(
        "Your own settings"
    )
    # picking the experiment again restores every one of its settings
    choose_preset(page, "eta too large: 100")
    expect(eta).to_have_attribute("aria-valuetext", "100.0")


def test_a_stalled_run_gets_the_books_hint_and_it_says_where_the_change_went(page):
    """The book's unlucky run, for real: the preset "100 hidden neurons" with seed 9 sticks at
    about 49 % (weights from N(0, 1)). The hint names the stall; its change lands in a
    collapsed expander, so the hint says where it went."""
    need_mnist()
    choose_preset(page, "100 hidden neurons")
    expect(page.get_by_text("some runs get stuck much lower")).to_be_visible()
    seed = page.get_by_role("spinbutton", name="Seed")
    seed.fill("9")
    seed.press("Enter")
    expect(page.get_by_role("combobox", name="The book's experiments")).to_have_value(
        "100 hidden neurons"
    )  # the seed is the visitor's: still the book's experiment
    page.get_by_role("button", name="Train", exact=True).click()
    hint = page.locator(".st-key-hint_saturated")
    expect(hint).to_contain_text("It is stuck at", timeout=120_000)
    # Paused (a stalled run can still break free, and the hint then goes): it stays put.
    page.get_by_role("button", name="Pause").click()
    expect(page.get_by_role("button", name="Resume")).to_be_visible()
    expect(hint).to_contain_text("N(0, 1/n)")
    hint.get_by_role("button", name="Next run: weights from N(0, 1/n)").click()
    expect(hint).to_contain_text("Set for your next run: Initial weights, under Later")
    hint.scroll_into_view_if_needed()
    page.screenshot(path=ARTIFACTS / "lab-hint-stalled.png")
    page.get_by_role("button", name="Stop").click()  # paused: it cannot end under the click
    expect(page.get_by_role("button", name="Train", exact=True)).to_be_visible()
    page.locator("summary").filter(has_text="Later chapters' options").click()
    expect(page.get_by_role("radio", name="N(0, 1/n): chapter 3")).to_be_checked()


def test_one_tap_opens_what_it_lands_on_a_phone(phone):
    """plotly.js selects a clicked point from its hover data, which a tap has not made: on a
    phone the first tap on a hidden-layer square or a confusion cell only showed its hover
    label, and a second tap opened it. One tap now does (ui.compat.TAP_SCRIPT)."""
    need_mnist()
    page = phone
    touch_draw(page, SEVEN)
    expect(answer(page)).to_have_text("7")
    heatmap = page.locator(".st-key-drawing_charts .js-plotly-plot").nth(1)
    box = plot_area(heatmap)
    page.touchscreen.tap(box["x"] + 4, box["y"] + 4)  # once, on the top-left square: #0
    expect(panel(page, NEURONS).get_by_text("Neuron #0 fires at", exact=True)).to_be_visible()
    page.get_by_text(NEURONS, exact=True).tap()  # closed again: the page stays short
    page.get_by_text("What it gets wrong", exact=True).tap()
    mistakes = panel(page, "What it gets wrong")
    chart = mistakes.locator(".js-plotly-plot").first
    expect(chart).to_be_visible()
    box = plot_area(chart)
    # true 2 (row 2), read as 7 (column 7): not the mix-up the panel opens with (4 read as 9)
    page.touchscreen.tap(box["x"] + 7.5 * box["width"] / 10, box["y"] + 2.5 * box["height"] / 10)
    expect(mistakes.get_by_text(re.compile(r"test digits 2 read as 7"))).to_be_visible()
    mistakes.scroll_into_view_if_needed()
    page.screenshot(path=ARTIFACTS / "lab-phone-one-tap.png")
