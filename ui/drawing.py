"""The drawing row: the canvas, the answer, the 28x28 image the network reads, the output
bars and the hidden layer.

The row is a fragment: a stroke (or "Clear canvas") reruns only this row, not the sidebar,
the training section or the explanation. The one other place that shows the drawing, its
re-reading by a network in training (`ui.training`), is a small fragment of its own that a
stroke reruns too, by key.
"""

from __future__ import annotations

import streamlit as st
from streamlit.errors import StreamlitAPIException
from streamlit_drawable_canvas import st_canvas

from nn.models import read
from nn.preprocess import canvas_to_mnist

from .charts import hidden_figure, output_figure, pixelated, show
from .page import freeze_heap
from .state import current, tab

CANVAS_SIZE = 280  # px; the drawing is cropped and scaled anyway, so any fixed size works
PEN_WIDTH = 22  # px: a digit ~200 px tall shrinks 10x to MNIST's 20 px box -> ~2.2 px strokes
PREVIEW_SCALE = 7  # the 28x28 image is shown 196 px wide, one network input = 7x7 px
DRAWING, REREAD = "drawing", "reread"  # the fragments' keys


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
            st.info("Draw a digit on the black square, large and centred or not: "
                    "the network answers after each stroke.", icon=":material/draw:")
        return
    reading = read(current().net, image)
    with seen_col:
        seen_ui(image, reading.answer)
    with charts_col:
        show(output_figure(reading.output, reading.answer), key="output_chart")
        for i, layer in enumerate(reading.hidden):
            name = "Hidden layer" if len(reading.hidden) == 1 else f"Hidden layer {i + 1}"
            show(hidden_figure(layer, name), key=f"hidden_chart_{i}")
    freeze_heap("drawing")


def canvas_ui() -> None:
    st.subheader("Your drawing")
    st.space("small")  # room for the canvas's own toolbar, which floats above its top edge
    result = st_canvas(stroke_width=PEN_WIDTH, stroke_color="#FFFFFF",
                       background_color="#000000", drawing_mode="freedraw",
                       update_streamlit=True, return_image_data=True,
                       width=CANVAS_SIZE, height=CANVAS_SIZE,
                       key=f"canvas-{tab().canvas_gen}", on_change=rerun_readers)
    pixels = result.image_data
    tab().drawing = None if pixels is None else canvas_to_mnist(pixels)
    st.button("Clear canvas", on_click=clear_canvas, icon=":material/delete:")


def seen_ui(image, answer: int) -> None:
    st.subheader("What it reads")
    with st.container(key="answer"):  # first: on a phone, just below the canvas
        st.metric("The network's answer", str(answer))
    st.image(pixelated(image, PREVIEW_SCALE), width=28 * PREVIEW_SCALE,
             caption="28 × 28 pixels, cropped, scaled and centred like MNIST's digits")


def clear_canvas() -> None:
    tab().canvas_gen += 1
    tab().drawing = None
    rerun_readers()


def rerun_readers() -> None:
    """A widget callback: rerun the drawing row and, if there is one, the re-reading.

    Without runs there is no re-reading on the page: the row's own rerun is the default.
    """
    if tab().runs:
        try:
            st.rerun([DRAWING, REREAD])
        except StreamlitAPIException:  # not on the page after all: the row alone reruns
            pass
