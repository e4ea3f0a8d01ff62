"""Which run buttons the training section draws, from one read of the run's state.

The buttons and the live part's timer are decided from the same `buttons_for` answer. It reads
the run once (`view()`), so a run that ends while the page is being drawn cannot leave Pause on
the page with no timer left to replace it (seen once on a busy CI machine).

The rules are checked against the run protocol's state machine, not against a copy of
`buttons_for`'s table: a button is offered only if the run in that state accepts what the
button asks for.
"""

import types

import pytest

from nn.protocol import IllegalTransition, State
from ui.training import buttons_for, repair_after_tick


class Handle:
    """A run handle caught mid-change: its view says `state`; it counts its reads and has
    no other way to tell its state (`over` and `state` of the handle itself fail)."""

    def __init__(self, state):
        self._state = state
        self.views = 0

    def view(self):
        self.views += 1
        return types.SimpleNamespace(state=self._state)

    def __getattr__(self, name):
        raise AssertionError(f"buttons_for read the run's {name!r}, not its one view")


def accepts(state: State, new: State) -> bool:
    try:
        state.to(new)
    except IllegalTransition:
        return False
    return new is not state


@pytest.mark.parametrize("state", list(State))
def test_each_button_asks_for_what_the_run_accepts_from_one_read(state):
    handle = Handle(state)
    mode = buttons_for(handle)
    assert handle.views == 1
    if mode == "train":  # a new run: only when this one is over
        assert state.over
    elif mode == "pause":
        assert accepts(state, State.PAUSED)
    elif mode == "resume":  # Resume and Step: a paused run goes on
        assert state is State.PAUSED and accepts(state, State.RUNNING)
    else:  # waiting for a worker: the run can be stopped, but not paused yet
        assert mode == "wait" and not accepts(state, State.PAUSED) and not state.over


def test_a_run_that_can_be_paused_offers_pause_and_only_an_ended_one_offers_train():
    modes = {state: buttons_for(Handle(state)) for state in State}
    assert {s for s, mode in modes.items() if mode == "pause"} == {
        s for s in State if s is not State.PAUSED and accepts(s, State.PAUSED)
    }
    assert {s for s, mode in modes.items() if mode == "train"} == {s for s in State if s.over}


def test_no_run_offers_train():
    assert buttons_for(None) == "train"


@pytest.mark.parametrize("stroke_since", [False, True])
def test_a_tick_after_dropped_messages_redraws_the_whole_page(stroke_since):
    # What was dropped may be a whole-page run's end, the run buttons with it (a fresh-clone
    # CI run kept "Slow motion" on the page for 30 s while the run went slowly): redrawing
    # only the drawing row would leave it so.
    assert repair_after_tick(dropped=True, stroke_since=stroke_since, fragment_run=True) == "page"


def test_a_tick_after_a_stroke_redraws_the_drawing_row_and_a_page_run_nothing():
    assert repair_after_tick(dropped=False, stroke_since=True, fragment_run=True) == "drawing"
    assert repair_after_tick(dropped=False, stroke_since=False, fragment_run=True) is None
    for dropped in (False, True):  # a whole-page run has just drawn all of it
        assert repair_after_tick(dropped=dropped, stroke_since=True, fragment_run=False) is None


def status_of(state, speed="full"):
    from nn.settings import Settings
    from ui.training import status_text

    view = types.SimpleNamespace(
        state=state,
        speed=speed,
        progress=5.8,
        settings=Settings(),
        images_per_second=18_906.0,  # the run's mean speed so far
        seconds_left=16.0,
        reason="",
    )
    return status_text(view)


def test_the_status_line_gives_a_speed_only_where_it_is_the_runs_speed():
    # at full speed and once it is over: its mean speed, a true figure
    assert "18,906 images/s" in status_of(State.RUNNING)
    assert "18,906 images/s" in status_of(State.FINISHED)
    # in slow motion (4 mini-batches a second) or paused, a mean of thousands a second is
    # not what the run does now: the line says what it does instead
    slow = status_of(State.RUNNING, "slow")
    assert "images/s" not in slow and "slow motion, 4 mini-batches a second" in slow
    paused = status_of(State.PAUSED, "slow")
    assert "images/s" not in paused and paused.endswith("· paused")
