"""A stroke's answer that Streamlit dropped comes back with the live part's next tick.

Under load, a live tick (the training section's 0.5 s `run_every` rerun) that reaches the
server after a stroke's run has finished, but before that run's messages went out, makes
Streamlit drop them ("Ignoring event from non-current ScriptRunner"): the page kept showing the
previous answer. `ui.training.live_ui` makes that harmless: a tick that finds the drawing
changed since the previous tick asks for one rerun of the drawing row after it
(docs/runs.md, "A stroke's answer lost by Streamlit").

The race itself depends on timing, so this test plays it deterministically on a real server
with the websocket client (tests/stclient.py): the tab ticks by hand instead of on a timer,
draws a 7 and drops every message of that stroke's run, as Streamlit does in the race, then
sends one tick, after which the 7 must arrive. Without the rerun the page never hears of it.
The run is paused while this happens, so that nothing else (a run ending, which redraws the
whole page) could bring the answer instead. Every wait is bounded.
"""

from __future__ import annotations

import asyncio
import time

import pytest

from tests.helpers import STROKES, canvas_image, page_server, run_coroutine
from tests.stclient import ANSWER_LABEL, PageSession, drawing_value

pytestmark = pytest.mark.slow

WAIT = 60.0  # s: reached only on a failure (a loaded machine answers in a few seconds)


@pytest.fixture(scope="module")
def server():
    with page_server("lost-answers") as (url, _):
        yield url


class Tab(PageSession):
    """A tab whose live ticks are sent by the test (`tick`), once `by_hand` is set, and that
    can drop every message of a run (`deaf`), as Streamlit does in the race."""

    def __init__(self, url: str):
        super().__init__(url)
        self.by_hand = False
        self.ticking: dict[str, float] = {}  # fragment id -> interval, as the server asked
        self.deaf_from: int | None = None  # drop every message of the runs after this one
        self.dropped_run = asyncio.Event()  # one of them ran to its end
        self.idle = asyncio.Event()  # no run under way (as far as the messages tell)

    async def auto_rerun(self, fragment_id: str, interval: float) -> None:
        self.ticking[fragment_id] = interval
        if not self.by_hand:
            await super().auto_rerun(fragment_id, interval)

    def handle(self, msg) -> None:
        kind = msg.WhichOneof("type")
        if kind == "new_session":
            self.idle.clear()
        elif kind == "script_finished":
            self.idle.set()
        deaf = self.deaf_from is not None and self.run_no > self.deaf_from
        if deaf and kind in ("delta", "script_finished"):
            if kind == "script_finished" and msg.script_finished in (0, 3):  # ran to its end
                self.dropped_run.set()
            return  # never delivered
        super().handle(msg)

    def answer_shown(self) -> str | None:
        proto, _ = self.find("metric", lambda m: m.label == ANSWER_LABEL)
        return proto.body.strip() if proto else None

    async def press(self, label: str, then) -> None:
        proto, fid = self.button(label)
        assert proto is not None, f"no {label} button"
        await self.rerun(trigger=proto.id, fragment_id=fid or "")
        assert await self.wait_for(then, WAIT), f"{label} was not acted on"

    async def tick(self) -> None:
        for fragment_id in self.ticking:
            await self.rerun(fragment_id=fragment_id, auto=True)

    async def quiet(self) -> None:
        """Once ticking by hand: a tick, and every run until the page is idle after it (the
        timer's last ticks, and what they started, are over)."""
        run = self.run_no
        await self.tick()
        assert await self.wait_for(lambda: self.run_no > run and self.idle.is_set(), WAIT), (
            "the live part's tick did not run"
        )


async def a_dropped_answer_comes_back_with_the_next_tick(url: str) -> None:
    tab = Tab(url)
    try:
        await tab.open()
        await tab.press("Train", lambda: tab.button("Pause")[0] is not None)
        await tab.press("Pause", lambda: tab.button("Resume")[0] is not None)
        assert tab.ticking, "a paused run's page has no live part that ticks"
        tab.by_hand = True
        for timer in tab.timers.values():
            timer.cancel()
        await tab.quiet()
        assert tab.answer_shown() is None  # nothing drawn yet

        canvas, fid = tab.find("bidi_component", lambda c: "canvas" in c.component_name)
        tab.deaf_from = tab.run_no
        await tab.rerun(
            extra={canvas.id: ("json_value", drawing_value(canvas_image(STROKES[7])))},
            fragment_id=fid or "",
        )
        await asyncio.wait_for(tab.dropped_run.wait(), WAIT)
        tab.deaf_from = None
        assert tab.answer_shown() is None  # the stroke's answer was dropped

        tab.answered.clear()
        tab.pending = [time.monotonic(), tab.run_no]
        await tab.tick()
        try:
            await asyncio.wait_for(tab.answered.wait(), WAIT)
        except TimeoutError:
            raise AssertionError("the tick after a dropped answer did not bring it") from None
        assert tab.answer == "7"
        assert tab.answer_shown() == "7"
        assert tab.button("Resume")[0] is not None  # still paused: the tick brought it
        assert not tab.exceptions, tab.exceptions
        tab.by_hand = False  # the Stop's whole-page run starts the timer again
        await tab.press("Stop", lambda: tab.button("Train")[0] is not None)
    finally:
        await tab.close()


def test_a_dropped_answer_comes_back_with_the_next_live_tick(server):
    run_coroutine(a_dropped_answer_comes_back_with_the_next_tick(server), 4 * WAIT)
