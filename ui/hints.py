"""Hints from the book under a run's curves: what `nn.hints.book_hints` notices in the run's
own figures, each with why (pointing to the chapter) and a button that changes the settings
for the next run.

    hints_ui(settings, epochs, accuracy, cost)     # plain numbers: no run object needed
    hints_ui(settings, *series(view["history"]))   # from a run's points (dicts or objects)

The training section's live part calls it after the progress bar. The button sets the
settings' widgets (`ui.state.SETTING_WIDGETS`; eta to the nearest step of its slider) and
reruns the whole page, so the settings column shows the change. A pure function of numbers
the run reports anyway: it costs the server well under a millisecond per live refresh.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import streamlit as st

from nn.hints import Hint, book_hints

from .presets import ETA_STEPS
from .state import SETTING_WIDGETS, hint_button_key, set_value, value_of
from .text import unbroken


def series(points) -> tuple[list[float], list[float], list[float]]:
    """(epochs, validation accuracies, training costs) of a run's points, whether each
    point is a dict (today's views) or an object with those attributes."""

    def get(point, name):
        return point[name] if isinstance(point, dict) else getattr(point, name)

    points = list(points)
    return (
        [float(get(p, "epoch")) for p in points],
        [float(get(p, "val_accuracy")) for p in points],
        [float(get(p, "train_cost")) for p in points],
    )


def hints_ui(
    settings,
    epochs: Sequence[float],
    accuracy: Sequence[float],
    cost: Sequence[float],
) -> list[Hint]:
    """Show the hints for these figures; returns them (for tests)."""
    hints = book_hints(settings, epochs, accuracy, cost)
    for hint in hints:
        done = _already(hint.change)
        box = st.container(border=True, key=f"hint_{hint.kind}")
        box.markdown(f":material/lightbulb: **{unbroken(hint.what)}** {unbroken(hint.why)}")
        box.button(
            hint.action,
            key=hint_button_key(hint.kind),
            on_click=apply_change,
            args=(hint.change,),
            disabled=done,
            help="Sets the controls on the left for your next run; press Train to try it.",
        )
        if done:  # say where, as the control may be out of sight
            box.caption(f":material/check: Set for your next run: {_where(hint.change)}.")
    return hints


# Where the settings column shows each setting a hint can change (some sit in a collapsed
# expander, where the visitor would not see the click did anything).
_PLACES = {
    "eta": "*Learning rate η*",
    "train_size": "*Training images*",
    "init": "*Initial weights*, under *Later chapters' options*",
    "l2": "*L2 regularisation λ*, under *Later chapters' options*",
}


def _where(change: dict) -> str:
    return ", ".join(_PLACES.get(field, field) for field in change)


def _widget_values(change: dict) -> dict:
    """The widget keys and values that make `change` (eta snapped to the slider's steps)."""
    keys = {field: key for key, field in SETTING_WIDGETS.items()}
    values = {}
    for field, value in change.items():
        if field not in keys:
            continue
        if field == "eta":
            value = min(ETA_STEPS, key=lambda step: abs(math.log(step) - math.log(value)))
        values[keys[field]] = value
    return values


def _already(change: dict) -> bool:
    values = _widget_values(change)
    return bool(values) and all(value_of(k) == v for k, v in values.items())


def apply_change(change: dict) -> None:
    """A hint's button: set the settings' widgets for the next run, redraw the page."""
    for key, value in _widget_values(change).items():
        set_value(key, value)
    st.rerun()  # the settings column is outside the live part's fragment
