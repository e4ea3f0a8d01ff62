"""Digit Lab: draw a digit and watch a small neural network read it.

    streamlit run app.py

Layout and widgets only. The network, the drawing's preparation and model files live in
`nn/` (which never imports Streamlit); `nn.models` lists the shipped networks.

Session state (one per browser tab):
    networks      dict label -> (Network, meta): every network the picker offers, in order.
                  The shipped ones are shared by all visitors (st.cache_resource): never
                  modify them; add new networks with `add_network`.
    selected      the picker's label: the network that answers.
    drawing       the current drawing as the (28, 28) float32 image the network reads, or
                  None while the canvas is empty.
    canvas_gen    bumped by "Clear canvas": the canvas's key, so a new (empty) canvas mounts.
    upload_note   (kind, text) about the last uploaded file, shown while the file is there.
"""

from __future__ import annotations

import functools

import plotly.graph_objects as go
import streamlit as st
from streamlit_drawable_canvas import st_canvas

from nn.modelfile import MAX_FILE_BYTES, ModelFileError, model_bytes
from nn.models import (as_grid, describe, download_name, load_shipped, load_upload, pixelated,
                       read, unique_label)
from nn.network import Network
from nn.preprocess import canvas_to_mnist

CANVAS_SIZE = 280  # px; the drawing is cropped and scaled anyway, so any fixed size works
PEN_WIDTH = 22  # px: a digit ~200 px tall shrinks 10x to MNIST's 20 px box -> ~2.2 px strokes
PREVIEW_SCALE = 7  # the 28x28 image is shown 196 px wide, one network input = 7x7 px
CHART_CONFIG = {"displayModeBar": False, "displaylogo": False}
ACCENT = "#ff4b4b"  # the answer's bar; the theme's primary colour
MUTED = "#5c6b80"  # the other bars
ANSWER_STYLE = """<style>
[data-testid="stMetricValue"] { font-size: 4.5rem; line-height: 1.1; color: #ff4b4b; }
</style>"""  # the answer in large type, in the answer bar's colour


@st.cache_resource(show_spinner=False)
def shipped_networks() -> dict:
    """The shipped networks, loaded once per server and shared read-only by every visitor."""
    return load_shipped()


def add_network(label: str, net: Network, meta: dict, select: bool = True) -> str:
    """Offer `net` in this tab's picker (label made unique) and, by default, switch to it.

    Returns the label it got. For networks uploaded or trained in this tab.
    """
    label = unique_label(label, st.session_state.networks)
    st.session_state.networks[label] = (net, meta)
    if select:
        st.session_state.selected = label
    return label


def current_network() -> tuple[Network, dict]:
    return st.session_state.networks[st.session_state.selected]


def init_state() -> None:
    state = st.session_state
    if "networks" not in state:
        state.networks = dict(shipped_networks())
    if state.get("selected") not in state.networks:
        state.selected = next(iter(state.networks))
    state.setdefault("drawing", None)
    state.setdefault("canvas_gen", 0)
    state.setdefault("upload_note", None)


# --- callbacks ---------------------------------------------------------------------------


def clear_canvas() -> None:
    st.session_state.canvas_gen += 1
    st.session_state.drawing = None


def take_upload() -> None:
    """The uploader changed: validate the file; a good one is added and selected."""
    st.session_state.upload_note = upload_outcome(st.session_state.get("upload"))


def upload_outcome(uploaded) -> tuple[str, str] | None:
    """Load an uploaded file (or None); add it if good. Returns (kind, message) to show."""
    if uploaded is None:
        return None
    try:
        label, net, meta = load_upload(uploaded.name, uploaded.getvalue())
    except ModelFileError as e:
        return "error", (f"**{uploaded.name}** cannot be used: {e}. "
                         f"The network that answers is still *{st.session_state.selected}*.")
    label = add_network(label, net, meta)
    return "success", f"Added and now answering: *{label}*."


# --- sections ----------------------------------------------------------------------------


def setup_page() -> None:
    st.set_page_config(page_title="Digit Lab", page_icon=":material/draw:", layout="wide")
    st.html(ANSWER_STYLE)  # a style-only st.html takes no space on the page


def header_ui() -> None:
    st.title("Digit Lab")
    st.caption("Draw a digit from 0 to 9. A small neural network, the one from chapter 1 of "
               "Michael Nielsen's *Neural Networks and Deep Learning*, reads it as you draw.")


def model_picker_ui() -> None:
    with st.sidebar:
        st.header("Which network answers")
        st.selectbox("Network", list(st.session_state.networks), key="selected",
                     help="The shipped networks come first; uploaded ones are added below.")
        net, meta = current_network()
        st.caption(network_facts(net, meta))
        st.download_button("Download this network", key="download",
                           data=functools.partial(model_bytes, net, meta),
                           file_name=download_name(st.session_state.selected),
                           mime="application/octet-stream", on_click="ignore",
                           icon=":material/download:", width="stretch")
        st.file_uploader("Upload a network (.npz model file)", type=["npz"], key="upload",
                         on_change=take_upload,
                         help=f"A file downloaded from this page or saved by `python -m "
                              f"nn.train --save`; at most {MAX_FILE_BYTES // 2**20} MB.")
        note = st.session_state.upload_note
        if note and st.session_state.get("upload") is not None:
            (st.error if note[0] == "error" else st.success)(note[1])


def network_facts(net: Network, meta: dict) -> str:
    """One line about a network: its layers, test accuracy and how it was trained."""
    settings = meta.get("settings") if isinstance(meta.get("settings"), dict) else {}
    facts = [f"Layers {describe(net, meta)}."]
    if settings:
        facts.append(f"Trained {settings.get('epochs', '?')} epochs with "
                     f"η = {settings.get('eta', '?')}, {net.cost} cost"
                     + (f", L2 λ = {net.l2:g}" if net.l2 else "") + ".")
    return " ".join(facts)


def drawing_ui() -> None:
    row = st.container(horizontal=True, gap="medium")
    canvas_col = row.container(width=CANVAS_SIZE + 12)
    seen_col = row.container(width=28 * PREVIEW_SCALE + 12)
    charts_col = row.container(width="stretch")
    with canvas_col:
        canvas_ui()
    image = st.session_state.drawing
    if image is None:
        with seen_col:
            st.subheader("What it reads")
            st.space("small")  # level with the canvas
            st.info("Draw a digit on the black square, large and centred or not: "
                    "the network answers after each stroke.", icon=":material/draw:")
        return
    net, _ = current_network()
    reading = read(net, image)
    with seen_col:
        seen_ui(image, reading.answer)
    with charts_col:
        output_chart_ui(reading.output, reading.answer)
        hidden_chart_ui(reading.hidden)


def canvas_ui() -> None:
    st.subheader("Your drawing")
    st.space("small")  # room for the canvas's own toolbar, which floats above its top edge
    result = st_canvas(stroke_width=PEN_WIDTH, stroke_color="#FFFFFF",
                       background_color="#000000", drawing_mode="freedraw",
                       update_streamlit=True, return_image_data=True,
                       width=CANVAS_SIZE, height=CANVAS_SIZE,
                       key=f"canvas-{st.session_state.canvas_gen}")
    pixels = result.image_data
    st.session_state.drawing = None if pixels is None else canvas_to_mnist(pixels)
    st.button("Clear canvas", on_click=clear_canvas, icon=":material/delete:")


def seen_ui(image, answer: int) -> None:
    st.subheader("What it reads")
    st.space("small")  # level with the canvas
    st.image(pixelated(image, PREVIEW_SCALE), width=28 * PREVIEW_SCALE,
             caption="28 × 28 pixels, cropped, scaled and centred like MNIST's digits")
    st.metric("The network's answer", str(answer))


def output_chart_ui(output, answer: int) -> None:
    digits = [str(d) for d in range(10)]
    fig = go.Figure(go.Bar(
        x=digits, y=output.tolist(), textposition="outside",
        text=[f"{a:.2f}" if a >= 0.05 else "" for a in output],  # label the bars you can see
        marker_color=[ACCENT if d == answer else MUTED for d in range(10)],
        hovertemplate="digit %{x}: activation %{y:.3f}<extra></extra>"))
    fig.update_layout(
        title=dict(text="Output activations",
                   subtitle=dict(text="one neuron per digit; not probabilities")),
        height=280, margin=dict(l=10, r=10, t=60, b=10),
        xaxis=dict(title=None, type="category", dtick=1),
        yaxis=dict(title="activation", range=[0, 1.15], tickvals=[0, 0.5, 1]))
    st.plotly_chart(fig, width="stretch", config=CHART_CONFIG, key="output_chart")


def hidden_chart_ui(hidden) -> None:
    for i, layer in enumerate(hidden):
        name = "Hidden layer" if len(hidden) == 1 else f"Hidden layer {i + 1}"
        fig = go.Figure(go.Heatmap(
            z=as_grid(layer).tolist(), zmin=0, zmax=1, colorscale="Viridis", xgap=2, ygap=2,
            colorbar=dict(thickness=10, tickvals=[0, 0.5, 1]),
            hovertemplate="activation %{z:.2f}<extra></extra>"))
        fig.update_layout(
            title=dict(text=name, subtitle=dict(text=f"activations of its {len(layer)} neurons")),
            height=240, margin=dict(l=10, r=10, t=60, b=10),
            xaxis=dict(visible=False), yaxis=dict(visible=False, autorange="reversed",
                                                  scaleanchor="x"))
        st.plotly_chart(fig, width="stretch", config=CHART_CONFIG, key=f"hidden_chart_{i}")


def explanation_ui() -> None:
    st.divider()
    st.subheader("What am I looking at?")
    net, _ = current_network()
    hidden = ", ".join(str(n) for n in net.sizes[1:-1])
    left, right = st.columns(2, gap="large")
    with left:
        st.markdown(
            f"**The network.** {net.sizes[0]} inputs, one per pixel of the small image; "
            f"a hidden layer of {hidden} neurons; 10 output neurons, one per digit. Each "
            "neuron adds up what it receives, with weights learned from 50,000 handwritten "
            "digits (MNIST), and squashes the sum into a number between 0 and 1: its "
            "*activation*.")
        st.markdown(
            "**The small image.** MNIST's digits are 28 × 28 pixels, white on black, scaled to "
            "fit a 20 × 20 box and centred. Your drawing is prepared the same way; this is "
            "exactly what the network reads, pixel by pixel.")
    with right:
        st.markdown(
            "**The bars.** How strongly each output neuron fires. The answer is the digit "
            "whose neuron fires most. They are not probabilities and need not add up to 1: "
            "two high bars mean the network hesitates, all low bars that it recognises "
            "nothing.")
        st.markdown(
            "**The squares.** The hidden neurons' activations: patterns the network learned "
            "to look for. One by one they mean little; the output neurons weigh them all.")


def main() -> None:
    setup_page()
    init_state()
    header_ui()
    model_picker_ui()
    drawing_ui()
    explanation_ui()


main()
