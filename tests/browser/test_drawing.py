"""The page in a real browser: draw digits with the mouse, read the answer, clear, upload.

Screenshots go to artifacts/ (git-ignored), to be looked at.
"""

from __future__ import annotations

import re

from tests.helpers import (
    ARTIFACTS,
    NOT_DIGITS,
    ONE,
    PROMPT,
    REPO,
    SEVEN,
    STROKES,
    answer,
    draw,
    picker,
    playwright_expect,
)

expect = playwright_expect()


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
    for digit, strokes in STROKES.items():
        draw(page, strokes)
        expect(answer(page)).to_have_text(str(digit))
        wait_for_reading(page)
        page.screenshot(path=ARTIFACTS / f"drawn-{digit}.png", full_page=True)
        clear(page)


def test_no_digit_is_named_for_a_tap_a_line_a_dash_or_a_face(page):
    """The page admits it: "?" and the reason, never a confident digit (nn.verdict)."""
    for name, (strokes, why) in NOT_DIGITS.items():
        draw(page, strokes)
        expect(answer(page)).to_have_text("?")
        expect(page.locator(".st-key-answer")).to_contain_text(why)
        page.screenshot(path=ARTIFACTS / f"not-a-digit-{name}.png", full_page=True)
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
    book = REPO / "assets" / "models" / "book.npz"
    sidebar.locator("input[type=file]").set_input_files(book)
    expect(sidebar.get_by_test_id("stAlertContentSuccess")).to_contain_text("Uploaded book.npz")
    expect(picker(page)).to_have_value(re.compile(r"^Uploaded book\.npz: \[784, 30, 10\]"))
    draw(page, ONE)
    expect(answer(page)).to_have_text("1")
    expect(page.get_by_text("activations of its 30 neurons")).to_be_visible()
