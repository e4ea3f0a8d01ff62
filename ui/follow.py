"""Panels that follow the drawing: an open panel below the drawing row registers its
fragment's key here, and a stroke reruns it with the row (`ui.drawing.rerun_readers` reads
`followers()`). A closed panel takes its key back, so a stroke costs it nothing.

The fragment must be drawn on every full run (its expander inside it), so that its key is
always known to Streamlit when a stroke names it.
"""

from __future__ import annotations

import streamlit as st

FOLLOWERS = "stroke_followers"  # session-state key: the set of fragment keys


def follow(key: str, on: bool) -> None:
    """Register (on) or withdraw (off) a fragment that a stroke should rerun."""
    keys = st.session_state.setdefault(FOLLOWERS, set())
    if on:
        keys.add(key)
    else:
        keys.discard(key)


def followers() -> list[str]:
    """The fragment keys a stroke reruns besides the drawing row, in a stable order."""
    return sorted(st.session_state.get(FOLLOWERS, ()))
