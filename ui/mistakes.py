"""The panel "What it gets wrong": a network's confusion matrix on MNIST's 10,000 test digits,
the digits of one mix-up ("true 4, read as 9") and its most confident mistakes.

`mistakes_ui(net, label, run=None)`: `net`/`label` the network that answers; `run` this
tab's latest training run (a runs.manager.RunHandle) or None: once it has finished, the panel
offers its network too. Everything is computed once per network (by its weights'
fingerprint) and the panel runs only while its expander is open. Without MNIST on the
server it says so; drawing is not affected.
"""

from __future__ import annotations

import io
import logging

import numpy as np
import plotly.graph_objects as go
import streamlit as st
from PIL import Image

from nn import insight
from nn.mnist import MnistError
from nn.modelfile import parameter_count

from .analysis import ANALYSE_MAX_PARAMS, analysable, mistakes_of
from .analysis import test_set as mnist_test_set
from .charts import picked
from .state import (
    CONFUSION_CHART,
    MISTAKES_OPEN,
    MISTAKES_SOURCE,
    MIX_COMMON,
    MIX_READ,
    MIX_TRUE,
    has_value,
    set_value,
    value_of,
)
from .text import MNIST_UNREADABLE

CHART_CONFIG = {"displayModeBar": False, "displaylogo": False}
ANSWERING, FINISHED = "The network that answers", "The network just trained"
GALLERY_SIZE = 40


@st.cache_data(max_entries=48, show_spinner=False)
def _gallery_png(key: str, what: tuple, _mistakes: insight.Mistakes) -> bytes:
    images, _ = mnist_test_set()
    if what[0] == "cell":
        indices = _mistakes.cell(what[1], what[2], GALLERY_SIZE)
    else:
        indices = _mistakes.most_confident(GALLERY_SIZE)
    out = io.BytesIO()
    Image.fromarray(insight.digit_gallery(images, indices, _mistakes)).save(out, format="PNG")
    return out.getvalue()


def mistakes_ui(net, label: str, run=None) -> None:
    panel = st.expander(
        "What it gets wrong", key=MISTAKES_OPEN, on_change="rerun", icon=":material/troubleshoot:"
    )
    if not panel.open:
        return
    with panel:
        if net.sizes[0] != 784 or net.sizes[-1] != 10:
            st.info("This panel needs a network that reads 28 × 28 digits into 10 answers.")
            return
        try:
            data = mnist_test_set()
        except MnistError:
            logging.getLogger("digitlab.mistakes").exception("MNIST's test files")
            st.error(MNIST_UNREADABLE)
            return
        if data is None:
            st.warning(
                "This needs MNIST's 10,000 test digits, which are not on this server "
                "yet (the training section below can download them). Drawing works "
                "without them.",
                icon=":material/download:",
            )
            return
        run_net = run.network() if run is not None and run.over else None
        if run_net is not None:
            choice = st.radio(
                "Show",
                (ANSWERING, FINISHED),
                horizontal=True,
                key=MISTAKES_SOURCE,
                label_visibility="collapsed",
            )
            if choice == FINISHED:
                net, label = run_net, f"the run {run.settings.label()}"
        _mistakes_body(net, label)


def _mistakes_body(net, label: str) -> None:
    if not analysable(net):
        st.info(
            f"This network has {parameter_count(net.sizes):,} weights and biases; this server "
            f"reads the 10,000 test digits only with networks of up to "
            f"{ANALYSE_MAX_PARAMS:,} (so that one visitor's panel never slows everyone's "
            "drawing). Drawing with it works as usual."
        )
        return
    key = insight.fingerprint(net)
    mistakes = mistakes_of(net)
    wrong = mistakes.total - mistakes.correct
    st.caption(
        f"*{label}* read all 10,000 test digits, which it never saw in training: "
        f"{mistakes.correct:,} right ({100 * mistakes.correct / mistakes.total:.2f} %), "
        f"{wrong:,} wrong. Each row is the true digit, each column what it read; the "
        "diagonal (the right answers) is left grey so the mix-ups stand out."
    )
    st.plotly_chart(
        confusion_figure(mistakes.matrix),
        width="stretch",
        config=CHART_CONFIG,
        key=CONFUSION_CHART,
        on_select=_pick_cell,  # a click on a cell shows that mix-up below
        selection_mode="points",
    )
    one, worst = st.tabs(["One mix-up", "Most confident mistakes"])
    with one:
        _cell_ui(key, mistakes)
    with worst:
        st.caption(
            "The wrong answers it was surest of: the highest activation of a wrong "
            "digit's neuron. Some are the network's fault, some are MNIST's "
            "(labels that look wrong to people too)."
        )
        st.image(_gallery_png(key, ("worst",), mistakes), caption=_GALLERY_CAPTION)


_GALLERY_CAPTION = (
    "Under each digit: the ten output activations, 0 to 9, the true digit's "
    "in green, the answer's in red."
)


def _cell_ui(key: str, mistakes: insight.Mistakes) -> None:
    common = mistakes.worst_cells(6)
    if not has_value(MIX_TRUE) and common:
        set_value(MIX_TRUE, common[0][0])
        set_value(MIX_READ, common[0][1])
    if common:
        st.segmented_control(
            "Most common mix-ups",
            [f"{t}-{r}" for t, r, _ in common],
            key=MIX_COMMON,
            format_func=lambda cell: _cell_name(cell, mistakes.matrix),
            on_change=_pick_common,
        )
    row = st.container(horizontal=True)
    row.selectbox("True digit", range(10), key=MIX_TRUE, width=150)
    row.selectbox("Read as", range(10), key=MIX_READ, width=150)
    true, read = int(value_of(MIX_TRUE, 4)), int(value_of(MIX_READ, 9))
    count = int(mistakes.matrix[true, read])
    if true == read:
        st.caption(f"{count:,} test digits {true} read correctly; the most confident first.")
    elif count == 0:
        st.success(f"No test {true} was read as {read}.")
        return
    else:
        st.caption(
            f"{count:,} test digits {true} read as {read}"
            + (f"; the {GALLERY_SIZE} most confident shown." if count > GALLERY_SIZE else ".")
        )
    st.image(_gallery_png(key, ("cell", true, read), mistakes), caption=_GALLERY_CAPTION)


def _cell_name(cell: str, matrix: np.ndarray) -> str:
    true, read = map(int, cell.split("-"))
    return f"{true} read as {read} · {matrix[true, read]}"


def _pick_cell() -> None:
    """A click on a cell of the confusion matrix: show its digits under "One mix-up"."""
    chosen = picked(value_of(CONFUSION_CHART))
    if chosen and len(chosen) == 2:
        set_value(MIX_TRUE, int(chosen[0]))
        set_value(MIX_READ, int(chosen[1]))
        set_value(MIX_COMMON, None)


def _pick_common() -> None:
    choice = value_of(MIX_COMMON)
    if choice:
        true, read = map(int, choice.split("-"))
        set_value(MIX_TRUE, true)
        set_value(MIX_READ, read)


def confusion_figure(matrix: np.ndarray) -> go.Figure:
    """The 10x10 counts: mix-ups coloured by how many, the diagonal as grey numbers."""
    off = matrix.astype(float)
    np.fill_diagonal(off, np.nan)
    digits = [str(d) for d in range(10)]
    text = [
        [("" if i == j or matrix[i, j] == 0 else str(matrix[i, j])) for j in range(10)]
        for i in range(10)
    ]
    fig = go.Figure(
        go.Heatmap(
            z=[[None if np.isnan(v) else float(v) for v in row] for row in off],
            x=digits,
            y=digits,
            text=text,
            texttemplate="%{text}",
            colorscale="Reds",
            zmin=0,
            showscale=False,
            xgap=1,
            ygap=1,
            hoverinfo="skip",
        )
    )
    # A heatmap's cells cannot be selected in plotly: an invisible point over each cell
    # carries (true, read) for a click, and the hover.
    fig.add_trace(
        go.Scatter(
            x=[digits[j] for i in range(10) for j in range(10)],
            y=[digits[i] for i in range(10) for j in range(10)],
            customdata=[[i, j] for i in range(10) for j in range(10)],
            text=[f"{matrix[i, j]:,}" for i in range(10) for j in range(10)],
            mode="markers",
            marker=dict(symbol="square", size=26, color="rgba(0,0,0,0)"),
            selected=dict(marker=dict(opacity=1)),
            unselected=dict(marker=dict(opacity=1)),
            hovertemplate="true %{customdata[0]}, read as %{customdata[1]}: %{text}"
            "<br>click to see them<extra></extra>",
            showlegend=False,
        )
    )
    fig.add_trace(
        go.Scatter(
            x=digits,
            y=digits,
            mode="text",
            text=[f"{matrix[d, d]:,}" for d in range(10)],
            textfont=dict(color="#5c6b80", size=11),
            hoverinfo="skip",
            showlegend=False,
        )
    )
    fig.update_layout(
        title=dict(
            text="Confusion matrix",
            subtitle=dict(text="rows: true digit · columns: what it read · click a cell to see it"),
        ),
        height=440,
        margin=dict(l=10, r=10, t=75, b=10),
        hoverdistance=-1,  # the nearest cell answers wherever the pointer is
        plot_bgcolor="#eef0f4",
        xaxis=dict(
            title="read as",
            type="category",
            range=[-0.5, 9.5],  # the cells alone: the click points would pad the axes
            constrain="domain",
            showgrid=False,
            zeroline=False,
        ),
        yaxis=dict(
            title="true digit",
            type="category",
            range=[9.5, -0.5],
            scaleanchor="x",
            showgrid=False,
            zeroline=False,
        ),
    )
    return fig
