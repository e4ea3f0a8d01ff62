"""Every pixel of the canvas takes a stroke, from the first press, by mouse and by touch.

The canvas component's own toolbar used to lie, invisible, over the top right of the canvas and
swallow the presses that landed on it (issue 9, section 1). Each test here opens a fresh page,
where the pointer has never been over the canvas, starts ONE stroke a few pixels inside a
corner or an edge, or inside the area the toolbar covered, and checks that the stroke arrived:
the page answers (the drawing reached the server) and the canvas has ink where the stroke
began (it was drawn from its first point, not picked up later).
"""

from __future__ import annotations

import pytest

from tests.browser.servers import playwright_expect

expect = playwright_expect()

from test_drawing import answer
from test_mobile import PIXEL_7, WAIT, touch_draw

SIZE = 280  # the canvas, in CSS pixels (app.CANVAS_SIZE)
INSET = 3  # px inside the border

# Where strokes start, in canvas pixels; each stroke runs from there toward the centre.
STARTS = {
    "top-left": (INSET, INSET),
    "top": (SIZE // 2, INSET),
    "top-right": (SIZE - INSET, INSET),
    "right": (SIZE - INSET, SIZE // 2),
    "bottom-right": (SIZE - INSET, SIZE - INSET),
    "bottom": (SIZE // 2, SIZE - INSET),
    "bottom-left": (INSET, SIZE - INSET),
    "left": (INSET, SIZE // 2),
    # The area the toolbar covered: about x 139-280, y 0-30.
    "toolbar-left": (142, 12),
    "toolbar-middle": (210, 18),
    "toolbar-bottom-right": (268, 28),
}


def inward(start: tuple[int, int], length: int = 70, step: int = 5) -> list[tuple[float, float]]:
    """A straight stroke from `start` toward the canvas's centre, in small moves."""
    x0, y0 = start
    dx, dy = SIZE / 2 - x0, SIZE / 2 - y0
    norm = (dx * dx + dy * dy) ** 0.5
    return [(x0 + dx / norm * d, y0 + dy / norm * d) for d in range(0, length + 1, step)]


def mouse_draw_at_once(page, stroke) -> None:
    """Move the mouse straight to the stroke's first point and press at once (no hover first:
    the pointer arrives in one move and the button goes down right after), then draw."""
    canvas = page.locator("canvas.upper-canvas")
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    (x, y), rest = stroke[0], stroke[1:]
    page.mouse.move(box["x"] + x, box["y"] + y)
    page.mouse.down()
    for x, y in rest:
        page.mouse.move(box["x"] + x, box["y"] + y, steps=2)
    page.mouse.up()


# Brightest pixel of the drawing around (x, y): the pen is white on a black background.
INK_NEAR = """(canvas, [x, y]) => {
    const r = 2, data = canvas.getContext("2d").getImageData(x - r, y - r, 2 * r + 1, 2 * r + 1).data;
    let brightest = 0;
    for (let i = 0; i < data.length; i += 4) brightest = Math.max(brightest, data[i]);
    return brightest;
}"""


def assert_stroke_arrived(page, start) -> None:
    expect(answer(page)).to_have_count(1, timeout=WAIT)  # the server got a drawing and read it
    # The drawing layer: fabric's lower canvas (the upper one only shows a stroke in progress;
    # the component's background canvas is a "lower-canvas" too).
    # Inside the component's open shadow root, which Playwright's CSS locators pierce.
    ink = page.locator("canvas.dc-canvas.lower-canvas").evaluate(INK_NEAR, list(start))
    assert ink > 200, f"no ink where the stroke started, at {start}: brightest {ink}"


def assert_pointer_never_over_canvas(page) -> None:
    assert not page.locator("canvas.upper-canvas").evaluate("c => c.matches(':hover')")


@pytest.fixture
def phone(browser, app_url):
    """A fresh touch-only phone tab (Pixel 7 sized) with the canvas ready."""
    context = browser.new_context(**PIXEL_7)
    page = context.new_page()
    page.set_default_timeout(WAIT)
    page.goto(app_url)
    expect(page.locator("canvas.upper-canvas")).to_be_visible(timeout=WAIT)
    yield page
    context.close()


@pytest.mark.parametrize("start", STARTS.values(), ids=STARTS.keys())
def test_mouse_stroke_from_the_first_press(page, start):
    assert_pointer_never_over_canvas(page)
    mouse_draw_at_once(page, inward(start))
    assert_stroke_arrived(page, start)


@pytest.mark.parametrize("start", STARTS.values(), ids=STARTS.keys())
def test_touch_stroke_from_the_first_press(phone, start):
    touch_draw(phone, [inward(start)])
    assert_stroke_arrived(phone, start)
