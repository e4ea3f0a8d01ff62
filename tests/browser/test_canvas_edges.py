"""Every pixel of the canvas takes a stroke, from the first press, by mouse and by touch;
the canvas's Undo, below it, works with a finger.

The canvas component's own toolbar used to lie, invisible, over the top right of the canvas and
swallow the presses that landed on it (issue 9, section 1). Each test here opens a fresh page,
where the pointer has never been over the canvas, starts ONE stroke a few pixels inside a
corner or an edge, or inside the area the toolbar covered, and checks that the stroke arrived:
the page answers (the drawing reached the server) and the canvas has ink where the stroke
began (it was drawn from its first point, not picked up later).
"""

from __future__ import annotations

import pytest

from tests.helpers import ARTIFACTS, ONE, WAIT, answer, playwright_expect, touch_draw

expect = playwright_expect()

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
    const r = 2, side = 2 * r + 1;
    const data = canvas.getContext("2d").getImageData(x - r, y - r, side, side).data;
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


@pytest.mark.parametrize("start", STARTS.values(), ids=STARTS.keys())
def test_mouse_stroke_from_the_first_press(page, start):
    assert_pointer_never_over_canvas(page)
    mouse_draw_at_once(page, inward(start))
    assert_stroke_arrived(page, start)


@pytest.mark.parametrize("start", STARTS.values(), ids=STARTS.keys())
def test_touch_stroke_from_the_first_press(phone, start):
    touch_draw(phone, [inward(start)])
    assert_stroke_arrived(phone, start)


# Canvas pixels whose topmost element (hit test, as a press would find it) is not the canvas's
# drawing layer: every other pixel, the last row and column included (a full scan takes ~10 s
# on a busy machine); at most `limit` of them, and how many there are.
COVERED_PIXELS = """(canvas, limit) => {
    const root = canvas.getRootNode(), r = canvas.getBoundingClientRect(), covered = [];
    const along = n => [...Array(Math.ceil(n / 2)).keys()].map(i => 2 * i).concat([n - 1]);
    let count = 0;
    for (const y of along(r.height)) for (const x of along(r.width)) {
        if (root.elementFromPoint(r.left + x + 0.5, r.top + y + 0.5) === canvas) continue;
        count++;
        if (covered.length < limit) covered.push([x, y]);
    }
    return {count, covered};
}"""


def test_nothing_lies_over_the_canvas(page):
    """Hit-test the canvas's pixels: before the pointer comes (a first press, a finger) and
    with the pointer over the canvas (the component's toolbar used to slide in on hover)."""
    canvas = page.locator("canvas.upper-canvas")
    canvas.scroll_into_view_if_needed()
    assert_pointer_never_over_canvas(page)
    assert canvas.evaluate(COVERED_PIXELS, 5) == {"count": 0, "covered": []}
    box = canvas.bounding_box()
    page.mouse.move(box["x"] + SIZE / 2, box["y"] + SIZE / 2)
    assert canvas.evaluate("c => c.matches(':hover')")
    assert canvas.evaluate(COVERED_PIXELS, 5) == {"count": 0, "covered": []}


INK_GONE = """([canvas, x, y]) => canvas.getContext("2d").getImageData(x, y, 1, 1).data[0] < 50"""
BAR = [[(60 + 5 * i, 50) for i in range(18)]]  # a top bar that makes the 1 a 7


def test_finger_undoes_the_last_stroke(phone):
    touch_draw(phone, ONE)
    expect(answer(phone)).to_have_text("1", timeout=WAIT)
    touch_draw(phone, BAR)
    expect(answer(phone)).to_have_text("7", timeout=WAIT)

    undo = phone.get_by_role("button", name="Undo", exact=True)
    canvas = phone.locator("canvas.upper-canvas")
    assert undo.bounding_box()["y"] >= canvas.bounding_box()["y"] + SIZE  # below the canvas
    undo.tap()
    # The bar is gone from the drawing and the page reads the 1 alone again.
    drawing = phone.locator("canvas.dc-canvas.lower-canvas").element_handle()
    phone.wait_for_function(INK_GONE, arg=[drawing, 100, 50], timeout=WAIT)
    expect(answer(phone)).to_have_text("1", timeout=WAIT)
    assert drawing.evaluate(INK_NEAR, [140, 150]) > 200  # the 1 is still there
    phone.screenshot(path=ARTIFACTS / "phone-undone.png")
