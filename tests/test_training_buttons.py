"""Which run buttons the training section draws, from one read of the run's state.

The buttons and the live part's timer are decided from the same `buttons_for` answer. It reads
the run once (`view()`), so a run that ends while the page is being drawn cannot leave Pause on
the page with no timer left to replace it (seen once on a busy CI machine).
"""

import types

import pytest

from nn.protocol import State
from ui.training import buttons_for


class Handle:
    """A run handle caught mid-change: its view says `state`, its `over` says it ended."""

    over = True

    def __init__(self, state):
        self.state = state

    def view(self):
        return types.SimpleNamespace(state=self.state)


@pytest.mark.parametrize(
    ("state", "mode"),
    [
        (State.QUEUED, "wait"),
        (State.STARTING, "pause"),
        (State.RUNNING, "pause"),
        (State.PAUSED, "resume"),
        (State.FINISHED, "train"),
        (State.STOPPED, "train"),
        (State.FAILED, "train"),
    ],
)
def test_the_buttons_follow_the_one_state_read(state, mode):
    assert buttons_for(Handle(state)) == mode


def test_no_run_offers_train():
    assert buttons_for(None) == "train"
