"""The panel "What each hidden neuron looks for": every hidden neuron's input weights as a
28x28 picture, in one image, and one neuron larger.

`neurons_ui(net, label, image, run=None)`: `net`/`label` the network that answers, `image`
the current (28, 28) drawing or None, `run` this tab's latest training run (an
runs.manager.RunHandle) or None; the visitor can then look at the network being trained, whose
pictures refresh with the curves while it trains.

The panel sits in an expander that runs only while it is open (`on_change="rerun"`), so a
closed panel costs a stroke nothing. The expensive part, colouring and labelling up to 200
pictures, is cached per network (by its weights' fingerprint).
"""

from __future__ import annotations

import io

import numpy as np
import streamlit as st
from PIL import Image

from nn import insight

from .charts import image_grid_figure, picked, show, template, value_axis
from .state import (
    NEURON_GRID,
    NEURON_PICK,
    NEURON_VOTES,
    NEURONS,
    NEURONS_OPEN,
    NEURONS_ORDER,
    NEURONS_SOURCE,
    current,
    current_run,
    selected,
    set_value,
    tab,
    value_of,
)
from .surgery import operate_ui

LIVE_EVERY = 0.5  # s: the training section's refresh
DETAIL_SCALE = 5  # the chosen neuron's pictures: 140 px wide, three fit beside its numbers
CHART_CONFIG = {"displayModeBar": False, "displaylogo": False}
ANSWERING, TRAINING = "The network that answers", "The network being trained"
BY_ACTIVATION, BY_NUMBER = "Most active on your drawing", "All, by neuron number"
MOST_ACTIVE = 40  # neurons shown (and redrawn per stroke) in the "most active" view
MAX_GRID = 400  # neurons in the "all, by number" picture


@st.cache_resource(max_entries=6, show_spinner=False)
def _tiles(key: str, _net) -> np.ndarray:
    """The labelled weight pictures of a network, once per network (key: its fingerprint).

    Up to 60 neurons at 3x (84 px squares), more at 2x, so that 200 still fit a laptop."""
    blocks = insight.neuron_tiles(_net, scale=3 if _net.sizes[1] <= 60 else 2)
    blocks.flags.writeable = False
    return blocks


@st.cache_data(max_entries=12, show_spinner=False)
def _png_by_number(key: str, columns: int, _blocks) -> bytes:
    """The grid in neuron order as PNG bytes: the same for every drawing, so encoded once.
    At most MAX_GRID neurons (an uploaded network may have thousands)."""
    shown = np.arange(min(len(_blocks), MAX_GRID))
    return png(insight.weight_grid(_blocks, shown, columns=columns))


PHONE_COLUMNS = 5  # pictures a row on a phone: 5 x 60 px fits its ~330 px
WIDTH = {"phone": 330, "laptop": 860}  # px the panel's pictures have, about


def _on_a_phone() -> bool:
    """Whether the visitor's browser says it is a phone (its User-Agent; read once a tab)."""
    state = tab()
    if state.on_a_phone is None:
        try:
            agent = st.context.headers.get("User-Agent", "")
        except Exception:  # no browser (a test): a laptop
            agent = ""
        state.on_a_phone = any(word in agent for word in ("Mobile", "iPhone", "Android"))
    return bool(state.on_a_phone)


def _columns(count: int) -> int:
    return min(PHONE_COLUMNS, count) if _on_a_phone() else insight.grid_columns(count)


def png(rgb: np.ndarray) -> bytes:
    out = io.BytesIO()
    Image.fromarray(rgb).save(out, format="PNG", compress_level=1)
    return out.getvalue()


def neurons_ui(net, label: str, image: np.ndarray | None, run=None) -> None:
    panel = st.expander(
        "What each hidden neuron looks for",
        key=NEURONS_OPEN,
        on_change="rerun",
        icon=":material/grid_view:",
    )
    if not panel.open:
        return
    with panel:
        if len(net.sizes) < 3:
            st.info("This network has no hidden layer: its inputs go straight to the digits.")
            return
        run_net = run.network() if run is not None else None
        source = ANSWERING
        if run_net is not None:
            source = st.radio(
                "Show",
                (ANSWERING, TRAINING),
                horizontal=True,
                key=NEURONS_SOURCE,
                label_visibility="collapsed",
            )
        if source == TRAINING:
            live = not run.over
            _neurons_fragment(run, image, f"the run {run.settings.label()}", live)
        else:
            _neurons_body(net, label, image, operable=True)


def _neurons_fragment(run, image, label: str, live: bool) -> None:
    @st.fragment(run_every=LIVE_EVERY if live else None)
    def refresh() -> None:
        net = run.network()
        if net is not None:
            _neurons_body(net, label, image, live=live and not run.over)

    refresh()


def _grid_ui(picture: bytes, blocks, shown, activations, caption: str) -> None:
    """The grid picture as a chart: hovering a tile names its neuron, clicking opens it."""
    h, w = blocks.shape[1:3]
    bar = insight.ACTIVATION_BAR + 2 if activations is not None else 0
    columns = _columns(len(shown))
    rows = max(1, -(-len(shown) // columns))
    gap = 4
    size = (columns * (w + gap) - gap, rows * (h + bar + gap))
    # The chart's height is fixed: the picture's, shrunk as it will be to fit the width.
    fit = min(1.0, WIDTH["phone" if _on_a_phone() else "laptop"] / size[0])
    centres = [
        ((k % columns) * (w + gap) + w / 2, (k // columns) * (h + bar + gap) + h / 2)
        for k in range(len(shown))
    ]
    hover = [
        f"neuron #{i}" + ("" if activations is None else f": fires at {activations[i]:.2f}")
        for i in shown
    ]
    spec = image_grid_figure(picture, size, centres, [int(i) for i in shown], hover)
    spec["layout"]["height"] = max(60, round(size[1] * fit))
    show(spec, key=NEURON_GRID, on_select=_open_from_grid)
    st.caption(caption)


def _open_from_grid() -> None:
    chosen = picked(value_of(NEURON_GRID))
    if chosen:
        _pick(int(chosen[0]))


def _pick(index: int) -> None:
    set_value(NEURON_PICK, index)
    tab().neuron_auto = None  # picked by the visitor: no longer follows the most active


def open_neuron_from(chart_key: str):
    """A callback for a chart whose points carry neuron numbers (the drawing row's hidden
    layer): open this panel on the clicked neuron, and rerun the page to show it."""

    def callback() -> None:
        chosen = picked(value_of(chart_key))
        if chosen:
            set_value(NEURONS_OPEN, True)
            set_value(NEURONS_SOURCE, ANSWERING)
            _pick(int(chosen[0]))
            st.rerun()  # the panel is outside the row's fragment

    return callback


def _neurons_body(
    net, label: str, image: np.ndarray | None, live: bool = False, operable: bool = False
) -> None:
    n = net.sizes[1]
    st.caption(
        f"Each square is one of the {n} hidden neurons of *{label}*, drawn as its 784 input "
        "weights, one per pixel: **red** where ink makes it fire, **blue** where ink holds "
        "it back, white where it does not care. One colour scale for all squares."
        + (" The pictures change as the network learns: from noise to strokes." if live else "")
    )
    order_by = st.radio(
        "Order",
        (BY_ACTIVATION, BY_NUMBER),
        horizontal=True,
        key=NEURONS_ORDER,
        label_visibility="collapsed",
        disabled=image is None,
    )
    key = insight.fingerprint_once(net)
    blocks = _tiles(key, net)
    if image is None or order_by == BY_NUMBER:
        order = np.arange(n)
        if image is not None:
            order, _ = insight.neuron_order(net, image)
        caption = (
            "All of them, by number."
            if n <= MAX_GRID
            else f"The first {MAX_GRID} of {n}, by number."
        )
        shown = np.arange(min(n, MAX_GRID))
        _grid_ui(
            _png_by_number(key, _columns(len(shown)), blocks),  # the same for every drawing
            blocks,
            shown,
            None,
            caption
            + " Click a picture to open that neuron."
            + ("" if image is not None else " Draw a digit to see which fire most."),
        )
    else:
        # Only the most active ones are redrawn per stroke: a bounded cost whatever N.
        order, activations = insight.neuron_order(net, image)
        top = order[:MOST_ACTIVE]
        _grid_ui(
            png(insight.weight_grid(blocks, top, activations, columns=_columns(len(top)))),
            blocks,
            top,
            activations,
            f"The {len(top)} that fire most on your drawing, strongest first"
            + (f" (of {n})" if len(top) < n else "")
            + "; under each its number and a bar: how strongly it fires. Click a picture "
            "to open that neuron.",
        )
    _detail_ui(net, image, n, int(order[0]), operable)


def _detail_ui(net, image, n: int, first: int, operable: bool = False) -> None:
    # The most active neuron is shown (and followed as the drawing changes) until the
    # visitor picks one; "The most active one" goes back to following.
    pick = value_of(NEURON_PICK)
    following = pick is None or pick == tab().neuron_auto
    if following or not isinstance(pick, int) or not 0 <= pick < n:
        set_value(NEURON_PICK, first)
        tab().neuron_auto = first
    row = st.container(horizontal=True, vertical_alignment="bottom")
    row.number_input("Look at neuron", 0, n - 1, step=1, key=NEURON_PICK, width=180)
    if image is not None:
        row.button(
            "The most active one",
            on_click=_follow,
            icon=":material/bolt:",
            disabled=value_of(NEURON_PICK) == first,
        )
    detail = insight.neuron_detail(net, int(value_of(NEURON_PICK)), image)
    left, right = st.columns([2, 1], gap="medium")
    pictures = left.container(horizontal=True, gap="small")
    size = 28 * DETAIL_SCALE
    pictures.image(
        insight.enlarge(insight.diverging(detail.weights, detail.scale), DETAIL_SCALE),
        width=size,
        caption="its weights",
    )
    if image is not None and detail.contribution is not None:  # (it is, with a drawing)
        pictures.image(
            insight.enlarge(insight.ink_overlay(detail.weights, image, detail.scale), DETAIL_SCALE),
            width=size,
            caption="your ink over them",
        )
        pictures.image(
            insight.enlarge(insight.diverging(detail.contribution, detail.scale), DETAIL_SCALE),
            width=size,
            caption="what each inked pixel adds",
        )
    with right:
        if detail.activation is None:
            st.metric(f"Neuron #{detail.index}", "–", help="Draw a digit to see it fire.")
        else:
            st.metric(
                f"Neuron #{detail.index} fires at",
                f"{detail.activation:.2f}",
                help="Its activation on your drawing: σ(sum of weight × ink + bias), "
                f"with bias {detail.bias:+.2f}.",
            )
        _outgoing_chart(detail.outgoing, net.sizes)
    if operable:
        operate_ui(detail.index, n, image)


def _follow() -> None:
    set_value(NEURON_PICK, None)  # the next run shows (and follows) the most active


def _outgoing_chart(outgoing: np.ndarray, sizes: list[int]) -> None:
    show(outgoing_figure(outgoing, sizes), key=NEURON_VOTES)


def outgoing_figure(outgoing: np.ndarray, sizes: list[int]) -> dict:
    """Its weights to the next layer as bars (a figure dict: plotly's validation of a
    go.Figure cost more than the rest of the panel per stroke). The value axis keeps its top
    tick clear of the subtitle (`value_axis`): with plotly's own range, all-zero votes (a
    neuron switched off) put a tick "1" at the plot's top edge, over the subtitle."""
    to_digits = len(sizes) == 3
    return {
        "data": [
            {
                "type": "bar",
                "x": [str(d) for d in range(len(outgoing))],
                "y": [float(w) for w in outgoing],
                "marker": {"color": ["#c81e28" if w > 0 else "#2350c8" for w in outgoing]},
                "hovertemplate": ("digit" if to_digits else "neuron")
                + " %{x}: weight %{y:.2f}<extra></extra>",
            }
        ],
        "layout": {
            "title": {
                "text": "Its votes" if to_digits else "Its weights to the next layer",
                "subtitle": {
                    "text": "for (red) and against (blue) each digit"
                    if to_digits
                    else "one bar per neuron of the next layer"
                },
            },
            "template": template("streamlit"),
            "height": 200,
            "margin": {"l": 10, "r": 10, "t": 55, "b": 10},
            "xaxis": {"type": "category"},
            "yaxis": {"zeroline": True, **value_axis(outgoing)},
        },
    }


@st.fragment(key=NEURONS)
def neurons_section_ui() -> None:
    """The panel for the network that answers, as a fragment a stroke reruns by key
    (`ui.drawing.rerun_readers`): the order follows the drawing, the rest of the page stays."""
    neurons_ui(current().net, selected(), tab().drawing, current_run())
