"""The tab's session state, declared once: every key the page keeps, with its type.

`TabState` lists them; `init_state()` gives a new tab its defaults, and `tab()` is
`st.session_state` typed as a `TabState`, so the page reads `tab().drawing`, not a string.
Widgets whose key is in session state are listed too (`WIDGET_KEYS`): Streamlit owns their
values; the training settings' widgets are in `ui.training.SETTING_WIDGETS`.

The networks the picker offers: `networks` maps each label to a `Choice`. The shipped
ones are loaded once per server and shared read-only by every visitor (st.cache_resource):
never modify them; add a network with `add_network`.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from typing import Any, cast

import numpy as np
import streamlit as st

from nn.models import SHIPPED
from nn.network import Network, layers_label


@dataclass(frozen=True)
class Choice:
    """One network the picker offers."""

    net: Network
    meta: dict  # the model file's metadata (untrusted for an uploaded file)
    file_name: str  # what "Download this network" names its file


@dataclass
class TabState:
    """Everything the page keeps for one browser tab (st.session_state's keys)."""

    networks: dict[str, Choice]  # label -> network, in picker order
    selected: str  # the picker's label (its widget key): the network that answers
    drawing: np.ndarray | None = None  # the drawing as the (28, 28) float32 image the network
    #                                     reads, or None while the canvas is empty
    canvas_gen: int = 0  # bumped by "Clear canvas": part of the canvas's key, so a
    #                                 new (empty) canvas mounts
    upload_note: tuple[str, str] | None = None  # (kind, Markdown) about the last uploaded file
    network_note: str | None = None  # Markdown: a network dropped to make room (add_network)
    runs: list = field(default_factory=list)  # this tab's runs.manager.RunHandle, oldest first;
    #                                             the last is the current run
    drawing_gen: int = 0  # bumped whenever the drawing changes (a stroke, Clear canvas)
    live_drawing_gen: int = 0  # the drawing_gen the training's live part last saw
    used_runs: set[int] = field(default_factory=set)  # runs already added to the picker
    train_error: str | None = None  # why the last press of Train started nothing
    t_buttons: str = "train"  # which run buttons are drawn ('train', 'pause', 'resume',
    #                                 'wait'): the live part reruns the page when it changes


# Widgets with a key (Streamlit keeps their values in session state under that key).
WIDGET_KEYS = {
    "selected": "the picker (see TabState.selected)",
    "upload": "the model file uploader",
    "download": "the sidebar's download button",
    "t_preset": "the book's experiments",
    "t_zoom": "zoom in on the top of the accuracy chart",
    "canvas-<canvas_gen>": "the drawing canvas (a new key mounts an empty one)",
    "download_run_<id>": "a finished run's download button",
    # t_hidden, t_eta, ...: the training settings, see ui.training.SETTING_WIDGETS
}


def tab() -> TabState:
    """This tab's state (st.session_state, typed)."""
    return cast(TabState, st.session_state)


@st.cache_resource(show_spinner=False)
def shipped_networks() -> dict[str, Choice]:
    """The shipped networks, label -> Choice, in picker order; loaded once per server."""
    networks = {}
    for model in SHIPPED:
        net, meta = model.load()
        networks[label_for(model.title, net, meta)] = Choice(net, meta, file_name(model.title, net))
    return networks


def init_state() -> None:
    """Give a new tab every key of TabState (and keep what an existing tab has)."""
    state = st.session_state
    if "networks" not in state:
        state.networks = dict(shipped_networks())
    if state.get("selected") not in state.networks:
        state.selected = next(iter(state.networks))
    for f in dataclasses.fields(TabState):
        if f.name not in state and f.name not in ("networks", "selected"):
            state[f.name] = _default(f)


def _default(f: dataclasses.Field) -> Any:
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return f.default


def current() -> Choice:
    """The network that answers."""
    return tab().networks[tab().selected]


def add_network(
    title: str, net: Network, meta: dict, select: bool = True, accuracy_note: str = ""
) -> str:
    """Offer `net` in this tab's picker as '<title>: <layers>, <accuracy>' (made unique);
    `accuracy_note` replaces the accuracy when there is none to show ("not measured").

    By default it also answers from now on. Returns the label it got. A tab keeps at most
    MAX_TAB_NETWORKS networks besides the shipped ones: the oldest other one (not the one
    answering) is dropped to make room, and `network_note` says so. The network is counted
    in the copy's ledger (ui.bounds.LEDGER) for as long as it lives.
    """
    from .bounds import LEDGER, MAX_TAB_NETWORKS
    from .text import plain

    networks = tab().networks
    shipped = shipped_networks()
    own = [label for label in networks if label not in shipped]
    tab().network_note = None
    while len(own) >= MAX_TAB_NETWORKS:
        oldest = next((label for label in own if label != tab().selected), own[0])
        own.remove(oldest)
        del networks[oldest]
        tab().network_note = (
            f"*{plain(oldest)}* was taken off the list to make room: a tab keeps "
            f"{MAX_TAB_NETWORKS} networks of its own at most (download one to keep it)."
        )
    label = label_for(title, net, meta)
    if accuracy_note and "test_accuracy" not in meta:
        label += f", {accuracy_note}"
    label = unique_label(label, networks)
    networks[label] = Choice(net, meta, file_name(title, net))
    LEDGER.add(net)
    if select or tab().selected not in networks:
        tab().selected = label
    return label


# --- labels ----------------------------------------------------------------------------


def describe(net: Network, meta: dict) -> str:
    """'[784, 200, 10], 98.2 % on test' (the accuracy only if the metadata has it)."""
    text = layers_label(net.sizes)
    accuracy = meta.get("test_accuracy")
    if isinstance(accuracy, (int, float)) and not isinstance(accuracy, bool) and 0 <= accuracy <= 1:
        text += f", {100 * accuracy:.1f} % on test"
    return text


def label_for(title: str, net: Network, meta: dict) -> str:
    """A picker label: 'Default: [784, 200, 10], 98.2 % on test'."""
    return f"{title}: {describe(net, meta)}"


def upload_title(file_name: str) -> str:
    """'Uploaded mine.npz' for an uploaded file's name (one line, at most 60 characters,
    without control or bidi characters: a name cannot reorder or hide the picker's text)."""
    from .text import visible

    name = visible(file_name)[:60].strip() or "file"
    return f"Uploaded {name}"


def unique_label(label: str, taken) -> str:
    """`label`, or `label (2)`, `label (3)`, ... if it is already taken."""
    if label not in taken:
        return label
    n = 2
    while f"{label} ({n})" in taken:
        n += 1
    return f"{label} ({n})"


def file_name(title: str, net: Network) -> str:
    """A download name from a title and the layers: 'Default' -> 'default-784-100-10.npz'.

    An uploaded file keeps its own name's stem: 'Uploaded mine.npz' -> 'mine-784-30-10.npz'.
    """
    head = re.sub(r"\.npz$", "", title.removeprefix("Uploaded ").strip(), flags=re.IGNORECASE)
    slug = re.sub(r"[^a-z0-9]+", "-", " ".join([head, *map(str, net.sizes)]).lower())
    return f"{slug.strip('-') or 'network'}.npz"
