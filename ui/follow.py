"""Panels that follow the drawing: an open panel below the drawing row registers its
fragment's key (`ui.state.follow`), and a stroke reruns it with the row
(`ui.drawing.rerun_readers` reads `ui.state.followers()`). A closed panel takes its key
back, so a stroke costs it nothing.

The fragment must be drawn on every full run (its expander inside it), so that its key is
always known to Streamlit when a stroke names it.
"""

from __future__ import annotations

import streamlit as st

from nn.mnist import find_mnist_dir

from .state import follow


def following_panel(title: str, key: str, icon: str, fragment: str):
    """An expander (`key` its open state) that a stroke reruns while open (`fragment` the
    key of the fragment it is drawn in); the expander if open, else None."""
    panel = st.expander(title, key=key, on_change="rerun", icon=icon)
    follow(fragment, bool(panel.open))
    return panel if panel.open else None


def mnist_here(what: str) -> bool:
    """Whether MNIST is on the server; if not, say that `what` needs it (and drawing works)."""
    if find_mnist_dir() is not None:
        return True
    st.warning(
        f"This needs MNIST's {what}, which are not on this server yet (the training section "
        "below can download them). Drawing works without them.",
        icon=":material/download:",
    )
    return False
