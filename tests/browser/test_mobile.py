"""The page on a phone: a Pixel 7 sized, touch-only browser draws with its finger.

Touches are sent through the Chrome DevTools Protocol (`Input.dispatchTouchEvent`), which is
what a real touch screen produces: touch events and pointer events of type "touch", and a
page scroll if the page, not the canvas, takes the gesture. Screenshots of what the phone
shows go to artifacts/phone-*.png (git-ignored), to be looked at.
"""

from __future__ import annotations

import re

from tests.helpers import (
    ARTIFACTS,
    ONE,
    PROMPT,
    SEVEN,
    WAIT,
    answer,
    playwright_expect,
    touch_draw,
)

expect = playwright_expect()


def read_as(page, digit: int) -> None:
    expect(answer(page)).to_have_text(str(digit), timeout=WAIT)
    expect(page.get_by_test_id("stImage").locator("img")).to_be_visible(timeout=WAIT)
    expect(page.locator(".js-plotly-plot")).to_have_count(2, timeout=WAIT)


def test_phone_draws_with_a_finger(phone):
    page = phone
    expect(page.get_by_text(PROMPT)).to_be_visible()
    page.screenshot(path=ARTIFACTS / "phone-empty.png")  # the first screen a visitor sees

    scrolled_before = page.evaluate("window.scrollY")
    touch_draw(page, ONE)
    read_as(page, 1)
    # The finger drew: the page did not scroll under it.
    assert page.evaluate("window.scrollY") == scrolled_before
    page.screenshot(path=ARTIFACTS / "phone-drawn-1.png")
    page.screenshot(path=ARTIFACTS / "phone-drawn-1-full.png", full_page=True)

    page.get_by_role("button", name=re.compile("Clear canvas")).tap()
    expect(answer(page)).to_have_count(0, timeout=WAIT)
    touch_draw(page, SEVEN)
    read_as(page, 7)
    page.screenshot(path=ARTIFACTS / "phone-drawn-7.png")
