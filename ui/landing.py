"""The panel "Where your drawing lands": 2,000 of MNIST's test digits placed by what the
first hidden layer makes of them (PCA of its activations to two dimensions, `nn.lab`), one
dot per digit coloured by its label, and the visitor's drawing as a star that moves with
every stroke. Clicking a dot shows that digit.

Costs: the map (2,000 forward passes and a PCA) is computed once per network, cached by its
weights' fingerprint, with its dots as ready-made figure traces; a stroke adds one forward
pass and one 2 x N product, and the figure is sent again (see docs/lab.md for the measured
figures). For a network in training (the tab's current run) the map is recomputed when its
weights change, at the live part's pace (`LIVE_EVERY`): the clusters form as it learns.

`landing_ui(net, label, image, run=None)` is the panel; `hidden_map_ui(net, label, image,
key)` the map alone, for any network (what the training section's live part can call).
The panel runs only while its expander is open; then a stroke reruns it (`ui.follow`).
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from nn import insight
from nn.lab import MAP_DIGITS, HiddenMap
from nn.mnist import MnistError, shared_test_set

from .charts import map_figure, map_traces, picked, pixelated, show
from .follow import following_panel, mnist_here
from .neighbours import how_it_reads
from .state import (
    LANDING,
    MAP_CHART,
    MAP_CHART_RUN,
    MAP_OPEN,
    MAP_SOURCE,
    current,
    current_run,
    selected,
    tab,
)

LIVE_EVERY = 0.5  # s: as the training section's live part
ANSWERING, TRAINING = "The network that answers", "The network being trained"


@st.cache_resource(max_entries=8, show_spinner=False)
def _map(key: str, _net) -> tuple[HiddenMap, list[dict]]:
    """The map of a network (key: its fingerprint) and its dots as figure traces."""
    images, labels = shared_test_set()
    hidden_map = HiddenMap.of(_net, images, labels, MAP_DIGITS)
    return hidden_map, map_traces(hidden_map.points, hidden_map.labels, hidden_map.answers)


def landing_ui(net, label: str, image: np.ndarray | None, run=None, drawn=None) -> None:
    panel = following_panel(
        "Where your drawing lands", MAP_OPEN, ":material/scatter_plot:", LANDING
    )
    if panel is None:
        return
    with panel:
        if len(net.sizes) < 3 or net.sizes[0] != 784:
            st.info("This map needs a network with a hidden layer that reads 28 × 28 digits.")
            return
        if not mnist_here("test digits"):
            return
        source = ANSWERING
        if run is not None:  # offered from the run's start: its weights follow in a moment
            source = st.radio(
                "Map",
                (ANSWERING, TRAINING),
                horizontal=True,
                key=MAP_SOURCE,
                label_visibility="collapsed",
            )
        try:
            if source == TRAINING:
                _live_map(run, image, not run.over, drawn)
            else:
                hidden_map_ui(net, label, image, key=MAP_CHART, drawn=drawn)
        except MnistError as e:
            st.error(f"The MNIST files on this server cannot be read: {e}")


def _live_map(run, image, live: bool, drawn=None) -> None:
    @st.fragment(run_every=LIVE_EVERY if live else None)
    def refresh() -> None:
        net = run.network()
        if net is None:
            st.caption("The run's first weights arrive in a moment: its map follows.")
        else:
            label = f"the run {run.settings.label()}"
            hidden_map_ui(
                net, label, image, key=MAP_CHART_RUN, live=live and not run.over, drawn=drawn
            )

    refresh()


def hidden_map_ui(
    net, label: str, image: np.ndarray | None, key: str, live: bool = False, drawn=None
) -> None:
    """The map of `net`'s first hidden layer with `image` (or None) as a star; `key` the
    chart's widget key (one per place it is drawn)."""
    hidden_map, traces = _map(insight.fingerprint_once(net), net)
    point = hidden_map.place(net, image) if image is not None else None
    n = net.sizes[1]
    text = (
        f"Each dot is one of {len(hidden_map.labels):,} test digits, placed by what the {n} "
        f"hidden neurons of *{label}* make of it: the two directions in which their "
        "activations differ most from digit to digit (PCA). Digits the network finds alike "
        "land close together."
    )
    if live:
        text += " The map is redrawn as the network learns: watch the colours sort themselves."
    st.caption(text)
    if image is not None and point is not None:
        near = hidden_map.nearest_class(point)
        _, reads = how_it_reads(net, image, drawn, as_="it as ")
        st.markdown(f"Your drawing (the star) lands among the **{near}s**; the network {reads}.")
    else:
        st.caption("Draw a digit above: it appears here as a star, and moves with every stroke.")
    selection = show(map_figure(traces, point, hidden_map.explained), key=key, on_select="rerun")
    chosen = picked(selection)
    if chosen:
        _digit_preview(int(chosen[0]), int(chosen[1]))
    else:
        st.caption("Click a dot to see that digit.")


def _digit_preview(index: int, read: int) -> None:
    images, labels = shared_test_set()
    if not 0 <= index < len(images):
        return
    row = st.container(horizontal=True, vertical_alignment="center")
    row.image(pixelated(images[index].reshape(28, 28) / 255.0, 3), width=84)
    row.markdown(
        f"Test digit #{index}: a **{int(labels[index])}**, which this network reads as **{read}**."
    )


@st.fragment(key=LANDING)
def landing_section_ui() -> None:
    """The panel for the network that answers (and the tab's current run), as a fragment a
    stroke reruns by key while the panel is open."""
    landing_ui(current().net, selected(), tab().drawing, current_run(), tab().drawn)
