"""The page in a real browser: draw digits with the mouse, read the answer, clear, upload.

Screenshots go to artifacts/ (git-ignored), to be looked at.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

from tests.browser.servers import ARTIFACTS, playwright_expect

expect = playwright_expect()

PROMPT = "Draw a digit on the black square"

# Strokes in canvas pixels (the canvas is 280 x 280); each inner list is one mouse-down..up.
ONE = [[(140, 45 + 5 * i) for i in range(39)]]  # one vertical stroke, 45 -> 235
SEVEN = [[(75 + 5 * i, 55) for i in range(28)]  # the top bar, left to right ...
         + [(210 - 3 * i, 55 + 6 * i) for i in range(31)]]  # ... then down to the left
ZERO = [[(140 + 62 * math.sin(2 * math.pi * i / 72), 140 - 92 * math.cos(2 * math.pi * i / 72))
         for i in range(76)]]  # an ellipse of many small moves, closed with a little overlap
DIGITS = {1: ONE, 7: SEVEN, 0: ZERO}


def draw(page, strokes) -> None:
    """Draw strokes on the canvas with the mouse, as a visitor would."""
    canvas = page.locator("canvas.upper-canvas")
    expect(canvas).to_have_count(1)  # just after "Clear canvas" the old one may linger
    canvas.scroll_into_view_if_needed()  # the mouse only reaches what is on screen
    box = canvas.bounding_box()
    for stroke in strokes:
        (x, y), rest = stroke[0], stroke[1:]
        page.mouse.move(box["x"] + x, box["y"] + y)
        page.mouse.down()
        for x, y in rest:
            page.mouse.move(box["x"] + x, box["y"] + y, steps=2)
        page.mouse.up()


def picker(page):
    return page.get_by_test_id("stSidebar").get_by_role("combobox")


def answer(page):
    """The answer's metric (a finished run shows metrics of its own further down)."""
    return page.locator(".st-key-answer").get_by_test_id("stMetricValue")


def wait_for_reading(page) -> None:
    """The answer's text comes first; wait for the image and both charts to render too."""
    expect(page.get_by_test_id("stImage").locator("img")).to_be_visible()
    expect(page.locator(".js-plotly-plot")).to_have_count(2)


def clear(page) -> None:
    page.get_by_role("button", name=re.compile("Clear canvas")).click()
    expect(page.get_by_text(PROMPT)).to_be_visible()
    expect(answer(page)).to_have_count(0)


def test_empty_page_prompts_to_draw(page):
    expect(page.get_by_text(PROMPT)).to_be_visible()
    expect(answer(page)).to_have_count(0)
    expect(picker(page)).to_have_value(re.compile(r"^Default: \[784, \d+, 10\]"))
    page.screenshot(path=ARTIFACTS / "empty.png", full_page=True)


def test_drawn_digits_are_read(page):
    for digit, strokes in DIGITS.items():
        draw(page, strokes)
        expect(answer(page)).to_have_text(str(digit))
        wait_for_reading(page)
        page.screenshot(path=ARTIFACTS / f"drawn-{digit}.png", full_page=True)
        clear(page)


def test_book_network_reads_a_seven(page):
    picker(page).click()
    page.get_by_role("option", name=re.compile("The book's")).click()
    expect(picker(page)).to_have_value(re.compile(r"^The book's: \[784, 30, 10\]"))
    draw(page, SEVEN)
    expect(answer(page)).to_have_text("7")
    wait_for_reading(page)
    expect(page.get_by_text("activations of its 30 neurons")).to_be_visible()


def test_bad_model_file_gives_message_and_keeps_model(page, tmp_path):
    bad = tmp_path / "bad.npz"
    bad.write_bytes(bytes(range(256)) * 8)
    sidebar = page.get_by_test_id("stSidebar")
    sidebar.locator("input[type=file]").set_input_files(bad)
    error = sidebar.get_by_test_id("stAlertContentError")
    expect(error).to_contain_text("bad.npz")
    expect(error).to_contain_text("not a zip archive")
    expect(picker(page)).to_have_value(re.compile(r"^Default: "))
    draw(page, ONE)
    expect(answer(page)).to_have_text("1")
    wait_for_reading(page)
    page.screenshot(path=ARTIFACTS / "bad-upload.png", full_page=True)


def test_good_model_file_is_added_and_answers(page):
    sidebar = page.get_by_test_id("stSidebar")
    book = Path(__file__).resolve().parents[2] / "assets" / "models" / "book.npz"
    sidebar.locator("input[type=file]").set_input_files(book)
    expect(sidebar.get_by_test_id("stAlertContentSuccess")).to_contain_text("Uploaded book.npz")
    expect(picker(page)).to_have_value(re.compile(r"^Uploaded book\.npz: \[784, 30, 10\]"))
    draw(page, ONE)
    expect(answer(page)).to_have_text("1")
    expect(page.get_by_text("activations of its 30 neurons")).to_be_visible()
