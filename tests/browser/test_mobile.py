"""The page on a phone: a Pixel 7 sized, touch-only browser draws with its finger.

Touches are sent through the Chrome DevTools Protocol (`Input.dispatchTouchEvent`), which is
what a real touch screen produces: touch events and pointer events of type "touch", and a
page scroll if the page, not the canvas, takes the gesture. Screenshots of what the phone
shows go to artifacts/phone-*.png (git-ignored), to be looked at.
"""

from __future__ import annotations

import re

import pytest

from tests.helpers import ARTIFACTS, ONE, PROMPT, SEVEN, answer, playwright_expect

expect = playwright_expect()
WAIT = 30_000  # ms; generous for a busy machine, no timing is asserted

# Playwright's "Pixel 7" descriptor (playwright 1.65 `p.devices["Pixel 7"]`), written out
# because the session's `browser` fixture does not hand out the Playwright object.
PIXEL_7 = {
    "user_agent": "Mozilla/5.0 (Linux; Android 14; Pixel 7) AppleWebKit/537.36 (KHTML, like "
                  "Gecko) Chrome/159.0.8154.6 Mobile Safari/537.36",
    "viewport": {"width": 412, "height": 839},
    "screen": {"width": 412, "height": 915},
    "device_scale_factor": 2.625,
    "is_mobile": True,
    "has_touch": True,
}


@pytest.fixture
def phone(browser, app_url):
    """A phone's tab with the page loaded and the canvas ready."""
    context = browser.new_context(**PIXEL_7)
    page = context.new_page()
    page.set_default_timeout(WAIT)
    page.goto(app_url)
    expect(page.locator("canvas.upper-canvas")).to_be_visible(timeout=WAIT)
    yield page
    context.close()


def touch_draw(page, strokes) -> None:
    """Draw strokes (canvas pixels) with one finger: touchStart, touchMoves, touchEnd."""
    canvas = page.locator("canvas.upper-canvas")
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()  # CSS pixels in the viewport, what touch points use
    cdp = page.context.new_cdp_session(page)
    try:
        for stroke in strokes:
            points = [{"x": box["x"] + x, "y": box["y"] + y} for x, y in stroke]
            cdp.send("Input.dispatchTouchEvent", {"type": "touchStart",
                                                  "touchPoints": [points[0]]})
            for point in points[1:]:
                cdp.send("Input.dispatchTouchEvent", {"type": "touchMove",
                                                      "touchPoints": [point]})
            cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    finally:
        cdp.detach()


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
