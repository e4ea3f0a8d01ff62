"""The drawing row: the canvas, the answer, the 28x28 image the network reads, the output
bars and the hidden layer.

The row is a fragment: a stroke (or "Clear canvas") reruns only this row, not the sidebar,
the training section or the explanation. The other places that follow the drawing, the
hidden neurons' panel (`ui.neurons`) and its re-reading by a network in training
(`ui.training`), are fragments of their own that a stroke reruns too, by key. The teaching
panel (`ui.teach`) is part of the row.
"""

from __future__ import annotations

import numpy as np
import streamlit as st
from streamlit.errors import StreamlitAPIException

from nn.models import read
from nn.preprocess import Drawn, prepare
from nn.verdict import CLOSE_CALL, DIGIT, Verdict, judge

from .charts import hidden_figure, output_figure, pixelated, show
from .compat import canvas_with_toolbar_style, reruns_only_fragments
from .neurons import open_neuron_from
from .state import (
    DRAWING,
    NEURONS,
    NEURONS_OPEN,
    OUTPUT_CHART,
    REREAD,
    canvas_key,
    clear_drawing,
    current,
    followers,
    hidden_chart_key,
    selected,
    set_drawing,
    tab,
    value_of,
)
from .teach import teach_ui

CANVAS_SIZE = 280  # px; the drawing is cropped and scaled anyway, so any fixed size works
PEN_WIDTH = 22  # px: a digit ~200 px tall shrinks 10x to MNIST's 20 px box -> ~2.2 px strokes
PREVIEW_SCALE = 7  # the 28x28 image is shown 196 px wide, one network input = 7x7 px


@st.fragment(key=DRAWING)
def drawing_ui() -> None:
    row = st.container(horizontal=True, gap="medium")
    canvas_col = row.container(width=CANVAS_SIZE + 12)
    seen_col = row.container(width=28 * PREVIEW_SCALE + 12)
    charts_col = row.container(width="stretch", key="drawing_charts")
    with canvas_col:
        canvas_ui()
    image = tab().drawing
    if image is None:
        with seen_col:
            st.subheader("What it reads")
            st.space("small")  # level with the canvas
            st.info(
                "Draw a digit on the black square, large and centred or not: "
                "the network answers after each stroke.",
                icon=":material/draw:",
            )
        teach_ui(current().net, selected(), None)
        return
    reading = read(current().net, image)
    with seen_col:
        seen_ui(image, reading.output, tab().drawn)
    with charts_col:
        show(output_figure(reading.output, reading.answer), key=OUTPUT_CHART)
        for i, layer in enumerate(reading.hidden):
            name = "Hidden layer" if len(reading.hidden) == 1 else f"Hidden layer {i + 1}"
            key = hidden_chart_key(i)  # a click on the first layer's square opens that neuron
            show(
                hidden_figure(layer, name),
                key=key,
                on_select=open_neuron_from(key) if i == 0 else None,
            )
    teach_ui(current().net, selected(), image)


# streamlit-drawable-canvas 0.13.0 floats its toolbar, invisible until hovered, over the top
# right of the canvas (x 139-280, y 0-30), where it swallowed the strokes that started there:
# every one by touch, and by mouse any press before the hover had slid it up (then still the
# top 4 px). st_canvas has no option to hide or move it, and the page's CSS cannot reach into
# the component's shadow root; so this style goes into the component itself
# (`ui.compat.canvas_with_toolbar_style`): the toolbar goes below the canvas, always visible,
# with only Undo and Redo, sized for a finger. ("Clear canvas" is the page's own button.)
CANVAS_TOOLBAR_STYLE = """
.dc-toolbar { position: static !important; opacity: 1 !important; transition: none !important;
              padding: 0.25rem 0 0 !important; justify-content: flex-end; }
.dc-toolbar-card { box-shadow: none; }
.dc-icon-button:not([aria-label="Undo"]):not([aria-label="Redo"]), .dc-toolbar-separator,
.dc-toolbar-contextual { display: none !important; }
.dc-toolbar .dc-icon-button { padding: 0.5rem; }
.dc-toolbar .dc-icon-button svg { width: 1.25rem; height: 1.25rem; }
"""  # the component's own sheet comes after this one: equal selectors would lose to it
st_canvas = canvas_with_toolbar_style(CANVAS_TOOLBAR_STYLE)


def canvas_ui() -> None:
    st.subheader("Your drawing")
    st.space("small")  # level with the prompt beside it, which has the same space
    result = st_canvas(
        stroke_width=PEN_WIDTH,
        stroke_color="#FFFFFF",
        background_color="#000000",
        drawing_mode="freedraw",
        update_streamlit=True,
        return_image_data=True,
        width=CANVAS_SIZE,
        height=CANVAS_SIZE,
        key=canvas_key(tab().canvas_gen),
        on_change=rerun_readers,
    )
    try:
        pixels = result.image_data
    except Exception:  # noqa: BLE001 - a client's "drawing" that is no PNG, or too big a one
        pixels = None
    prepared = None if pixels is None else prepare(pixels)
    set_drawing(*(prepared or (None, None)))
    st.button("Clear canvas", on_click=clear_canvas, icon=":material/delete:")


def seen_ui(image, output, drawn: Drawn | None = None) -> None:
    """The answer, as `nn.verdict.judge` allows it (from the image, the outputs and what the
    canvas says about the drawing, `drawn`), then the image the network read.

    The answer comes first: on a phone the seen column falls below the canvas, and
    PAGE_STYLE pins the answer to the bottom of the screen there, in sight while drawing."""
    verdict = judge(image, output, drawn)
    st.subheader("What it reads")
    with st.container(key="answer"), st.container(key=f"answer_{verdict.kind}"):
        st.metric("The network's answer", verdict.answer)  # "7", "4 or 9?" or "?"
        st.caption(verdict_note(verdict, output))
    st.image(
        pixelated(image, PREVIEW_SCALE),
        width=28 * PREVIEW_SCALE,
        caption="28 × 28 pixels, cropped, scaled and centred like MNIST's digits",
    )


def verdict_note(verdict: Verdict, output) -> str:
    """One short honest line under the answer: why there is no plain digit, if there is not."""
    top = int(np.argmax(output))
    if verdict.kind == DIGIT:
        return f"Output {verdict.digits[0]} fires at {output[top]:.2f}."
    if verdict.kind == CLOSE_CALL:
        first, second = verdict.digits
        return (
            f"A close call: {first} fires at {output[first]:.2f}, {second} at {output[second]:.2f}."
        )
    if "fires" in verdict.reason:  # all outputs low
        return f"Not sure it is a digit: {verdict.reason} (the highest, {top}: {output[top]:.2f})."
    return f"Not sure it is a digit: {verdict.reason}."


def clear_canvas() -> None:
    clear_drawing()
    rerun_readers()


def rerun_readers() -> None:
    """A widget callback: rerun the drawing row and, where they are on show, the hidden
    neurons' panel (its order follows the drawing) and the training section's re-reading.

    With neither, the row's own rerun (the default for a widget in a fragment) is enough. In
    a whole-page run (a stroke merged with a change outside the fragments, e.g. the picker)
    everything is redrawn anyway, and replacing that run by a keyed rerun right after its
    start would leave the browser without the live part's timer (the freeze): never then.
    """
    if not reruns_only_fragments():
        return
    keys = [DRAWING]
    if value_of(NEURONS_OPEN):
        keys.append(NEURONS)
    if tab().runs:
        keys.append(REREAD)
    keys += followers()  # the lab's open panels (ui.follow)
    if len(keys) == 1:
        return
    try:
        st.rerun(keys)
    except StreamlitAPIException:  # not all on the page after all: the row alone reruns
        pass
