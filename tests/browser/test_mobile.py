"""The page on a phone: a Pixel 7 sized, touch-only browser draws with its finger.

Touches are sent through the Chrome DevTools Protocol (`Input.dispatchTouchEvent`), which is
what a real touch screen produces: touch events and pointer events of type "touch", and a
page scroll if the page, not the canvas, takes the gesture. Screenshots of what the phone
shows go to artifacts/phone-*.png (git-ignored), to be looked at.
"""

from __future__ import annotations

import re

import pytest

from tests.helpers import (
    ARTIFACTS,
    NOT_DIGITS,
    ONE,
    PIXEL_7,
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


def test_a_face_drawn_with_a_finger_gets_a_question_mark_in_sight(phone):
    page = phone
    strokes, why = NOT_DIGITS["face"]
    touch_draw(page, strokes)
    expect(answer(page)).to_have_text("?", timeout=WAIT)
    box = page.locator(".st-key-answer")
    expect(box).to_contain_text(why, timeout=WAIT)
    seen = box.bounding_box()
    assert seen["y"] >= 0 and seen["y"] + seen["height"] <= page.viewport_size["height"], seen
    page.screenshot(path=ARTIFACTS / "phone-face.png")


# A small phone (iPhone SE sized), touch-only, besides the Pixel 7 of the `phone` fixture.
SMALL_PHONE = {
    **PIXEL_7,
    "viewport": {"width": 375, "height": 667},
    "screen": {"width": 375, "height": 667},
    "device_scale_factor": 2,
}


def dense(*corners, step: float = 8.0) -> list:
    """A finger's stroke through the corners: a touch point every `step` px or so."""
    points = [corners[0]]
    for (x0, y0), (x1, y1) in zip(corners, corners[1:]):
        count = max(1, round(max(abs(x1 - x0), abs(y1 - y0)) / step))
        points += [
            (x0 + (x1 - x0) * k / count, y0 + (y1 - y0) * k / count) for k in range(1, count + 1)
        ]
    return points


# A 4 in two strokes: the answer must be in sight after the first stroke as after the second.
FOUR = [dense((85, 50), (75, 165), (205, 165)), dense((165, 60), (165, 245))]


def in_sight(box, viewport) -> bool:
    return (
        box is not None
        and box["y"] >= 0
        and box["x"] >= 0
        and box["y"] + box["height"] <= viewport["height"]
        and box["x"] + box["width"] <= viewport["width"]
    )


@pytest.mark.parametrize("device", [PIXEL_7, SMALL_PHONE], ids=["412x839", "375x667"])
def test_the_answer_is_in_sight_with_the_canvas_after_every_stroke(browser, app_url, device):
    context = browser.new_context(**device)
    try:
        page = context.new_page()
        page.goto(app_url)
        canvas = page.locator("canvas.upper-canvas")
        expect(canvas).to_be_visible(timeout=WAIT)
        viewport = device["viewport"]
        name = f"{viewport['width']}x{viewport['height']}"
        for k, stroke in enumerate(FOUR):
            touch_draw(page, [stroke])
            box = page.locator(".st-key-answer")
            if k == len(FOUR) - 1:
                expect(answer(page)).to_have_text("4", timeout=WAIT)
            else:
                expect(answer(page)).to_have_count(1, timeout=WAIT)
            assert page.evaluate("window.scrollY") == 0  # nobody scrolled
            answer_box, canvas_box = box.bounding_box(), canvas.bounding_box()
            assert in_sight(answer_box, viewport), (name, k, answer_box)
            assert in_sight(canvas_box, viewport), (name, k, canvas_box)
            # side by side or one above the other, never one over the other
            assert answer_box["y"] >= canvas_box["y"] + canvas_box["height"], (
                answer_box,
                canvas_box,
            )
            page.screenshot(path=ARTIFACTS / f"phone-{name}-stroke-{k + 1}.png")
    finally:
        context.close()
