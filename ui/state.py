"""The tab's session state, with one owner: this module. Every key the page keeps is declared
here, and every change to the network picker's state is a function here.

- `TabState` lists the page's own keys with their types and defaults; `init_state()` gives a
  new tab all of them, `tab()` is `st.session_state` typed as a `TabState` (`tab().drawing`,
  not a string).
- The widgets' keys (Streamlit keeps a keyed widget's value under its key) and the fragments'
  keys (a stroke reruns fragments by key) are the constants below, each declared once;
  `WIDGET_KEYS` lists them, `KEY_FAMILIES` the keys made per item (`canvas_key(gen)`, ...).
  `value_of(key)` reads a widget's value, `set_value(key, value)` sets it for the next
  drawing of the widget.
- The picker (`networks`, `selected`, `network_note`) changes only through `add_network`,
  `remove_network` and `select_network`; panels read it with `networks()`, `selected()`
  and `current()`. The drawing changes only through `set_drawing` and `clear_drawing`.
- The training settings are plain session values, mapped to `nn.settings.Settings` through
  `SETTING_WIDGETS`: `apply_settings` sets them, `widget_settings` reads them. Each is
  shown by a widget keyed by generation (`owned`), so a stale value the browser sends for
  an older widget cannot undo a change the page made since.

No other module touches `st.session_state` (tests/test_state.py checks it).

The networks the picker offers: `networks` maps each label to a `Choice`. The shipped
ones are loaded once per server and shared read-only by every visitor (st.cache_resource):
never modify them; add a network with `add_network`.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, cast

import numpy as np
import streamlit as st

from nn.models import SHIPPED
from nn.network import Network, layers_label
from nn.preprocess import Drawn
from nn.settings import Settings

from .bounds import LEDGER, MAX_TAB_NETWORKS
from .presets import PRESETS
from .text import plain, visible


@dataclass(frozen=True)
class Choice:
    """One network the picker offers."""

    net: Network
    meta: dict  # the model file's metadata (untrusted for an uploaded file)
    file_name: str  # what "Download this network" names its file


@dataclass
class TabState:
    """Everything the page keeps for one browser tab (st.session_state's keys), besides the
    widgets' values."""

    # The picker: changed by add_network, remove_network and select_network only.
    networks: dict[str, Choice]  # label -> network, in picker order
    selected: str  # the picker's label (its widget key): the network that answers
    network_note: str | None = None  # Markdown: a network dropped to make room (add_network)
    upload_note: tuple[str, str] | None = None  # (kind, Markdown) about the last uploaded file
    # The drawing (ui.drawing).
    drawing: np.ndarray | None = None  # the drawing as the (28, 28) float32 image the network
    #                                     reads, or None while the canvas is empty
    drawn: Drawn | None = None  # what the canvas says that the image does not (nn.verdict uses
    #                              it: a face's eyes, a short dash's length); None when empty
    canvas_gen: int = 0  # bumped by "Clear canvas": part of the canvas's key, so a
    #                                 new (empty) canvas mounts
    drawing_gen: int = 0  # bumped whenever the drawing changes (a stroke, Clear canvas)
    stroke_followers: set[str] = field(default_factory=set)  # fragment keys a stroke reruns
    #                                                           (follow, followers)
    # Training (ui.training, ui.step).
    runs: list = field(default_factory=list)  # this tab's runs.manager.RunHandle, oldest first;
    #                                             the last is the current run
    live_drawing_gen: int = 0  # the drawing_gen the training's live part last saw
    used_runs: set[int] = field(default_factory=set)  # runs already added to the picker
    train_error: str | None = None  # why the last press of Train started nothing
    t_buttons: str = "train"  # which run buttons are drawn ('train', 'pause', 'resume',
    #                                 'wait'): the live part reruns the page when it changes
    step_neuron_sent: dict[int, Any] = field(default_factory=dict)  # run id -> the neuron
    #                                 choice that run's worker was told to keep (ui.step)
    # Teaching (ui.teach).
    taught: list = field(default_factory=list)  # [(image, digit), ...] taught, oldest first
    teach_base: str | None = None  # the picker label of the network being taught
    taught_label: str | None = None  # the picker label of the current taught copy
    teach_result: dict | None = None  # what the last fine-tune did (for the message)
    teach_shown: dict | None = None  # the reading on show when the visitor clicked
    teach_error: str | None = None  # why the last lesson did not happen
    teach_rerun: bool = False  # set by a teaching click: rerun the whole page once
    # Operating on neurons (ui.surgery).
    op_base: str | None = None  # the picker label of the network operated on
    op_factors: dict[int, float] = field(default_factory=dict)  # neuron -> factor
    op_label: str | None = None  # the picker label of the operated copy
    op_rerun: bool = False  # set by a click: rerun the whole page once
    # The hidden neurons' panel (ui.neurons).
    neuron_auto: int | None = None  # the most active neuron, while the panel follows it
    on_a_phone: bool | None = None  # what the browser's User-Agent said (read once)
    # A shared link (ui.share).
    link_applied: bool = False  # the page's link has been read (once per tab)
    link_notice: str | None = None  # what part of the link was ignored


# --- keys ----------------------------------------------------------------------------------

# The fragments' keys: a stroke reruns these by key (ui.drawing.rerun_readers).
DRAWING = "drawing"  # the drawing row (ui.drawing)
REREAD = "reread"  # the training run's re-reading of the drawing (ui.training)
LIVE = "live"  # the training section's live part (ui.training)
NEURONS = "neurons"  # the hidden neurons' panel (ui.neurons)
LANDING = "landing"  # where the drawing lands (ui.landing)
NEIGHBOURS = "neighbours"  # the data and the drawing's neighbours (ui.neighbours)

# The widgets' keys (and the charts' keys: a chart that can be clicked is a widget).
PICKER = "selected"  # the picker: its value is TabState.selected
UPLOAD = "upload"
DOWNLOAD = "download"
OUTPUT_CHART = "output_chart"
T_ZOOM = "t_zoom"
ACCURACY_CHART = "accuracy_chart"
COST_CHART = "cost_chart"
STEP_NEURON = "step_neuron"
STEP_OUTPUTS, STEP_BP1, STEP_BP2, STEP_BP4 = "step_outputs", "step_bp1", "step_bp2", "step_bp4"
TEACH_DIGIT = "teach_digit"
NEURONS_OPEN = "neurons_open"
NEURONS_SOURCE = "neurons_source"
NEURONS_ORDER = "neurons_order"
NEURON_PICK = "neuron_pick"
NEURON_GRID = "neuron_grid"
NEURON_VOTES = "neuron_votes"
OP_FACTOR = "op_factor"
OP_RESTORE = "op_restore"
MISTAKES_OPEN = "mistakes_open"
MISTAKES_SOURCE = "mistakes_source"
CONFUSION_CHART = "confusion_chart"
MIX_COMMON = "mix_common"
MIX_TRUE = "mix_true"
MIX_READ = "mix_read"
MAP_OPEN = "map_open"
MAP_SOURCE = "map_source"
MAP_CHART = "map_chart"
MAP_CHART_RUN = "map_chart_run"
DATA_OPEN = "data_open"

# The training settings: session key -> the Settings field it holds. The only place where the
# two meet: `apply_settings` sets them from a Settings, `widget_settings` reads one. Each key
# is the setting's one owner, a plain session value; the widget that shows it has a key of
# its own with a generation (`shown_key`), so a value the browser sends for an older widget
# cannot overwrite a change the page made since (a hint's button, a preset, a shared link).
SETTING_WIDGETS = {
    "t_hidden": "hidden",
    "t_eta": "eta",
    "t_batch": "batch_size",
    "t_epochs": "epochs",
    "t_train_size": "train_size",
    "t_seed": "seed",
    "t_init": "init",
    "t_cost": "cost",
    "t_l2": "l2",
}
T_HIDDEN, T_ETA, T_BATCH, T_EPOCHS, T_TRAIN_SIZE, T_SEED, T_INIT, T_COST, T_L2 = SETTING_WIDGETS
T_PRESET = "t_preset"  # the preset box's choice, kept the same way
SETTINGS = (*SETTING_WIDGETS, T_PRESET)  # plain session values, each shown by a widget

# Every widget key, with what it belongs to.
WIDGET_KEYS = {
    PICKER: "the picker (see TabState.selected)",
    UPLOAD: "the model file uploader",
    DOWNLOAD: "the sidebar's download button",
    OUTPUT_CHART: "the drawing row's output bars",
    T_ZOOM: "zoom in on the top of the accuracy chart",
    ACCURACY_CHART: "the training's accuracy curves",
    COST_CHART: "the training's cost curve",
    STEP_NEURON: "the step panel's neuron for BP4",
    STEP_OUTPUTS: "the step panel's outputs",
    STEP_BP1: "the step panel's output error",
    STEP_BP2: "the step panel's hidden error",
    STEP_BP4: "the step panel's weight change",
    TEACH_DIGIT: "the digit the visitor meant (teaching)",
    NEURONS_OPEN: "the hidden neurons' panel is open",
    NEURONS_SOURCE: "which network the neurons' panel shows",
    NEURONS_ORDER: "the neurons' order",
    NEURON_PICK: "the neuron looked at",
    NEURON_GRID: "the neurons' pictures (a click opens one)",
    NEURON_VOTES: "the neuron's outgoing weights",
    OP_FACTOR: "the operated neuron's factor",
    OP_RESTORE: "restore the operated network",
    MISTAKES_OPEN: "the mistakes panel is open",
    MISTAKES_SOURCE: "which network the mistakes panel shows",
    CONFUSION_CHART: "the confusion matrix (a click picks a mix-up)",
    MIX_COMMON: "the most common mix-ups",
    MIX_TRUE: "the mix-up's true digit",
    MIX_READ: "the mix-up's answer",
    MAP_OPEN: "the landing map's panel is open",
    MAP_SOURCE: "which network the map shows",
    MAP_CHART: "the map of the network that answers",
    MAP_CHART_RUN: "the map of the network in training",
    DATA_OPEN: "the data panel is open",
}

# Keys made per item, by the functions below: prefix -> what they belong to.
KEY_FAMILIES = {
    "canvas-": "the drawing canvas, per canvas_gen (a new key mounts an empty one)",
    "hidden_chart_": "the drawing row's hidden layers, per layer",
    "download_run_": "a finished run's download button, per run",
    "untaught_": "forget a taught drawing, per drawing",
    "hint_button_": "a hint's button, per kind of hint",
    **{
        f"{owner}-": f"the widget showing {owner} ('{owner}-w<generation>') and its "
        f"generation ('{owner}-gen')"
        for owner in SETTINGS
    },
}


def canvas_key(gen: int) -> str:
    return f"canvas-{gen}"


def hidden_chart_key(layer: int) -> str:
    return f"hidden_chart_{layer}"


def run_download_key(run_id: int) -> str:
    return f"download_run_{run_id}"


def untaught_key(index: int) -> str:
    return f"untaught_{index}"


def hint_button_key(kind: str) -> str:
    return f"hint_button_{kind}"


_FIELDS = frozenset(f.name for f in dataclasses.fields(TabState))


def declared(key: str) -> bool:
    """Whether `key` is one of the page's session keys declared here."""
    return (
        key in _FIELDS
        or key in WIDGET_KEYS
        or key in SETTINGS
        or any(key.startswith(p) for p in KEY_FAMILIES)
    )


# --- access --------------------------------------------------------------------------------


def tab() -> TabState:
    """This tab's state (st.session_state, typed)."""
    return cast(TabState, st.session_state)


def tab_id() -> int:
    """An identity for this tab's state, stable while the tab lives."""
    return id(st.session_state)


def value_of(key: str, default: Any = None) -> Any:
    """A widget's value or a training setting (`key` one of the keys above), or `default`
    before it has one."""
    return st.session_state.get(key, default)


def has_value(key: str) -> bool:
    return key in st.session_state


def set_value(key: str, value: Any) -> None:
    """Set a widget's value (before it is drawn in this run, or in a callback), or a
    training setting (its widget shows it when next drawn)."""
    if key not in WIDGET_KEYS and key not in SETTINGS:
        raise KeyError(f"{key!r} is not a widget key or a setting declared in ui.state")
    st.session_state[key] = value


@st.cache_resource(show_spinner=False)
def shipped_networks() -> dict[str, Choice]:
    """The shipped networks, label -> Choice, in picker order; loaded once per server."""
    networks = {}
    for model in SHIPPED:
        net, meta = model.load()
        networks[label_for(model.title, net, meta)] = Choice(net, meta, file_name(model.title, net))
    return networks


def init_state() -> None:
    """Give a new tab every key of TabState (and keep what an existing tab has), and the
    training settings their values (`init_settings`)."""
    state = st.session_state
    if "networks" not in state:
        state.networks = dict(shipped_networks())
    if state.get("selected") not in state.networks:
        state.selected = next(iter(state.networks))
    for f in dataclasses.fields(TabState):
        if f.name not in state and f.name not in ("networks", "selected"):
            state[f.name] = _default(f)
    init_settings()


def _default(f: dataclasses.Field) -> Any:
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return f.default


# --- the picker ----------------------------------------------------------------------------


def networks() -> Mapping[str, Choice]:
    """The networks the picker offers, label -> Choice, in its order (read only)."""
    return MappingProxyType(tab().networks)


def selected() -> str:
    """The picker's label of the network that answers."""
    return tab().selected


def current() -> Choice:
    """The network that answers."""
    return tab().networks[tab().selected]


def select_network(label: str) -> bool:
    """Let the network `label` answer, if the picker offers it; whether it does now."""
    if label not in tab().networks:
        return False
    tab().selected = label
    return True


def remove_network(label: str | None, then_select: str | None = None) -> bool:
    """Take `label` off the picker (a shipped network stays); `then_select` answers next if
    offered, else, if `label` was answering, the first network. Whether it was removed."""
    networks = tab().networks
    if label is None or label not in networks or label in shipped_networks():
        return False
    del networks[label]
    selects = then_select is not None and select_network(then_select)
    if not selects and tab().selected not in networks:
        tab().selected = next(iter(networks))
    return True


def add_network(
    title: str,
    net: Network,
    meta: dict,
    select: bool = True,
    accuracy_note: str = "",
    replacing: str | None = None,
) -> str:
    """Offer `net` in this tab's picker as '<title>: <layers>, <accuracy>' (made unique);
    `accuracy_note` replaces the accuracy when there is none to show ("not measured");
    `replacing`, a label, is taken off the picker first (a network's new version).

    By default it also answers from now on. Returns the label it got. A tab keeps at most
    MAX_TAB_NETWORKS networks besides the shipped ones: the oldest other one (not the one
    answering) is dropped to make room, and `network_note` says so. The network is counted
    in the copy's ledger (ui.bounds.LEDGER) for as long as it lives.
    """
    remove_network(replacing)
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


# --- the training settings' widgets --------------------------------------------------------

# int, float, str: what each field's widget value is turned into
_TYPES: dict[str, Callable[[Any], Any]] = {
    f.name: type(f.default) for f in dataclasses.fields(Settings)
}


def apply_settings(settings: Settings) -> None:
    """Set every training setting's widget to `settings`."""
    for key, name in SETTING_WIDGETS.items():
        st.session_state[key] = getattr(settings, name)


def widget_settings() -> Settings:
    """The Settings the training widgets show."""
    return Settings(
        **{name: _TYPES[name](st.session_state[key]) for key, name in SETTING_WIDGETS.items()}
    )


def init_settings() -> None:
    """A new tab's settings start on the first preset; a tab's own settings are kept, also
    through a whole-page run that does not draw them.

    Streamlit forgets a widget's value after a whole-page run that did not draw the widget
    (the training section draws no settings while the server cannot train for a moment: a
    mistyped limit, unreadable MNIST, the run service restarting), and the widget then comes
    back with its default, a select slider's first option. The settings and the preset box's
    choice (`t_preset`) are plain session values, which Streamlit never forgets, and their
    widgets are given them each time they are drawn (`shown_key`)."""
    state = st.session_state
    if T_HIDDEN not in state:
        apply_settings(PRESETS[0].settings)
        state[T_PRESET] = PRESETS[0].name


def widget_key(state: Any, owner: str) -> str:
    """The key of the widget that shows the setting `owner` now (generation 0 at first);
    `state` the session state (a test's too)."""
    generation = f"{owner}-gen"
    return f"{owner}-w{state[generation] if generation in state else 0}"  # noqa: SIM401


def shown_key(owner: str) -> str:
    """Just before a setting's widget is drawn: its key, holding the setting's value.

    When the setting was changed by the page since the widget last showed it (the widget's
    value differs from it), the widget gets a new key, one generation on: the browser may
    still send the old widget's value with a tick it sent before it saw the change, and a
    value for a key no longer drawn is ignored (`setting_moved` checks it too). Otherwise
    the key stays, and is set to the setting's value again, so that the browser can never
    bring a widget back with its default."""
    state = st.session_state
    key = widget_key(state, owner)
    if key in state and state[key] != state[owner]:
        state[f"{owner}-gen"] = int(key.rsplit("-w", 1)[1]) + 1
        key = widget_key(state, owner)
    state[key] = state[owner]
    return key


def setting_moved(owner: str, key: str, then=None) -> None:
    """A setting's widget moved: the setting takes its value, unless the widget is of an
    older generation than the one on show (a stale value: the page changed the setting
    after the browser sent it). `then`: called after a change taken."""
    state = st.session_state
    if key != widget_key(state, owner) or key not in state:
        return
    state[owner] = state[key]
    if then is not None:
        then()


def owned(owner: str, then=None) -> dict:
    """A setting's widget's key and callback (`shown_key`, `setting_moved`), to pass to the
    widget as `**owned(T_ETA, then=...)`."""
    if owner not in SETTINGS:
        raise KeyError(f"{owner!r} is not a setting declared in ui.state")
    key = shown_key(owner)
    return dict(key=key, on_change=setting_moved, args=(owner, key, then))


# --- the drawing ---------------------------------------------------------------------------


def set_drawing(drawing: np.ndarray | None, drawn: Drawn | None = None) -> None:
    """The canvas's drawing as the network reads it (None: empty) and what
    `nn.preprocess.prepare` says about it on the canvas; a change bumps `drawing_gen`, which
    the training's live part follows (ui.training)."""
    if not _same(drawing, tab().drawing):
        tab().drawing_gen += 1
    tab().drawing = drawing
    tab().drawn = None if drawing is None else drawn


def clear_drawing() -> None:
    """ "Clear canvas": no drawing, and a new canvas key, so an empty canvas mounts."""
    tab().canvas_gen += 1
    tab().drawing = None
    tab().drawn = None
    tab().drawing_gen += 1


def _same(a: np.ndarray | None, b: np.ndarray | None) -> bool:
    return (a is None and b is None) or (a is not None and b is not None and (a == b).all())


# --- runs and the panels a stroke reruns ---------------------------------------------------


def current_run():
    """This tab's latest run (a runs.manager.RunHandle), or None."""
    return tab().runs[-1] if tab().runs else None


def follow(key: str, on: bool) -> None:
    """Register (on) or withdraw (off) a fragment that a stroke should rerun (ui.follow)."""
    keys = st.session_state.setdefault("stroke_followers", set())
    if on:
        keys.add(key)
    else:
        keys.discard(key)


def followers() -> list[str]:
    """The fragment keys a stroke reruns besides the drawing row, in a stable order."""
    return sorted(st.session_state.get("stroke_followers", ()))


# --- labels ----------------------------------------------------------------------------


def describe(net: Network, meta: dict) -> str:
    """'[784, 200, 10], 98.2 % on test' (the accuracy only if the metadata has it), or
    '..., 91.8 % on 2,000 test digits' for a run stopped mid-epoch, whose accuracy was measured
    on the first 2,000 (its metadata's `accuracy_measured_on`, `nn.trainer.metadata`)."""
    text = layers_label(net.sizes)
    accuracy = meta.get("test_accuracy")
    if isinstance(accuracy, (int, float)) and not isinstance(accuracy, bool) and 0 <= accuracy <= 1:
        on = meta.get("accuracy_measured_on")
        subset = isinstance(on, int) and not isinstance(on, bool) and 0 < on < 10_000
        text += f", {100 * accuracy:.1f} % on " + (f"{on:,} test digits" if subset else "test")
    return text


def label_for(title: str, net: Network, meta: dict) -> str:
    """A picker label: 'Default: [784, 200, 10], 98.2 % on test'."""
    return f"{title}: {describe(net, meta)}"


def upload_title(file_name: str) -> str:
    """'Uploaded mine.npz' for an uploaded file's name (one line, at most 60 characters,
    without control or bidi characters: a name cannot reorder or hide the picker's text)."""
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
