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
    runs          this tab's training runs (nn.run_manager.RunHandle), oldest first; the last one
                  is the current run. Each trains in a worker process of the server.
    used_runs     ids of runs already added to the picker ("Use this network for drawing").
    t_*           the training settings' widgets.
"""

from __future__ import annotations

import functools

import plotly.graph_objects as go
import streamlit as st
from streamlit_drawable_canvas import st_canvas

from nn.charts import accuracy_figure, cost_figure
from nn.mnist import MnistError
from nn.modelfile import MAX_FILE_BYTES, ModelFileError, model_bytes
from nn.models import (as_grid, describe, download_name, load_shipped, load_upload, pixelated,
                       read, unique_label)
from nn.network import Network
from nn.preprocess import canvas_to_mnist
from nn.presets import PRESETS, matching_preset, preset_named
from nn.run_manager import RunManager
from nn.settings import Settings, SettingsError
from ui.download import BackgroundDownload
from ui.mistakes import mistakes_ui
from ui.neurons import neurons_ui
from ui.share import apply_link, share_ui
from ui.teach import teach_ui

CANVAS_SIZE = 280  # px; the drawing is cropped and scaled anyway, so any fixed size works
PEN_WIDTH = 22  # px: a digit ~200 px tall shrinks 10x to MNIST's 20 px box -> ~2.2 px strokes
PREVIEW_SCALE = 7  # the 28x28 image is shown 196 px wide, one network input = 7x7 px
CHART_CONFIG = {"displayModeBar": False, "displaylogo": False}
ACCENT = "#ff4b4b"  # the answer's bar; the theme's primary colour
MUTED = "#5c6b80"  # the other bars
ETA_STEPS = (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 1.0, 2.0, 3.0, 5.0,
             10.0, 20.0, 50.0, 100.0)  # a logarithmic slider: the book's runs span 0.001-100
BATCH_SIZES = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000)
TRAIN_SIZES = (1_000, 2_000, 5_000, 10_000, 20_000, 50_000)
LIVE_EVERY = 0.5  # s between redraws of the live charts while a run is under way
PAGE_STYLE = """<style>
.st-key-answer [data-testid="stMetricValue"] { font-size: 4.5rem; line-height: 1.1;
                                               color: #ff4b4b; }
@media (max-width: 700px) { div:has(> .st-key-drawing_charts) { min-width: 100% !important; } }
</style>"""  # the answer in large type, in the answer bar's colour; on a phone the charts
# take a line of their own instead of being squeezed beside the 28x28 image


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
    state.setdefault("runs", [])
    state.setdefault("used_runs", set())
    if "t_hidden" not in state:
        apply_settings(PRESETS[0].settings)
        state.t_preset = PRESETS[0].name


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
    st.html(PAGE_STYLE)  # a style-only st.html takes no space on the page


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
    charts_col = row.container(width="stretch", key="drawing_charts")
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


# streamlit-drawable-canvas 0.13.0 floats its toolbar, invisible until hovered, over the top
# right of the canvas (x 139-280, y 0-30), where it swallowed the strokes that started there:
# every one by touch, and by mouse any press before the hover had slid it up (then still the
# top 4 px). st_canvas has no option to hide or move it, and the page's CSS cannot reach into
# the component's shadow root; so the component is registered again under its own name, with
# its own files plus this style: the toolbar goes below the canvas, always visible, with only
# Undo and Redo, sized for a finger. ("Clear canvas" is the page's own button.)
CANVAS_TOOLBAR_STYLE = """
.dc-toolbar { position: static !important; opacity: 1 !important; transition: none !important;
              padding: 0.25rem 0 0 !important; justify-content: flex-end; }
.dc-toolbar-card { box-shadow: none; }
.dc-icon-button:not([aria-label="Undo"]):not([aria-label="Redo"]), .dc-toolbar-separator,
.dc-toolbar-contextual { display: none !important; }
.dc-toolbar .dc-icon-button { padding: 0.5rem; }
.dc-toolbar .dc-icon-button svg { width: 1.25rem; height: 1.25rem; }
"""  # the component's own sheet comes after this one: equal selectors would lose to it


def restyle_canvas_toolbar() -> None:
    """Register the canvas component again with CANVAS_TOOLBAR_STYLE; the name, files and
    root element are the ones streamlit_drawable_canvas/__init__.py registers."""
    st.components.v2.component(
        "streamlit-drawable-canvas.streamlit_drawable_canvas",
        js="index-*.js", css="index-*.css", isolate_styles=True,
        html=f'<div class="canvas-root"></div><style>{CANVAS_TOOLBAR_STYLE}</style>')


def canvas_ui() -> None:
    st.subheader("Your drawing")
    st.space("small")  # level with the prompt beside it, which has the same space
    restyle_canvas_toolbar()
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
    with st.container(key="answer"):  # first: on a phone, just below the canvas
        st.metric("The network's answer", str(answer))
    st.image(pixelated(image, PREVIEW_SCALE), width=28 * PREVIEW_SCALE,
             caption="28 × 28 pixels, cropped, scaled and centred like MNIST's digits")


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


# --- training ------------------------------------------------------------------------------


def run_manager() -> RunManager:
    """The server's one run manager: every visitor's runs, the slot limit and the queue."""
    return RunManager.shared()


def current_run():
    """This tab's latest run (a RunHandle), or None."""
    return st.session_state.runs[-1] if st.session_state.runs else None


def apply_settings(settings: Settings) -> None:
    state = st.session_state
    state.t_hidden, state.t_eta, state.t_batch = settings.hidden, settings.eta, settings.batch_size
    state.t_epochs, state.t_train_size, state.t_seed = (settings.epochs, settings.train_size,
                                                        settings.seed)
    state.t_init, state.t_cost, state.t_l2 = settings.init, settings.cost, settings.l2


def widget_settings() -> Settings:
    state = st.session_state
    return Settings(hidden=int(state.t_hidden), eta=float(state.t_eta),
                    batch_size=int(state.t_batch), epochs=int(state.t_epochs),
                    train_size=int(state.t_train_size), seed=int(state.t_seed),
                    init=state.t_init, cost=state.t_cost, l2=float(state.t_l2))


def choose_preset() -> None:
    preset = preset_named(st.session_state.t_preset)
    if preset is not None:
        apply_settings(preset.settings.replace(seed=int(st.session_state.t_seed)))


def eta_moved() -> None:
    """The eta slider moved: a run under way takes the new eta from its next mini-batch."""
    run = current_run()
    if run is not None and not run.over:
        run.set_eta(float(st.session_state.t_eta))


def start_run() -> None:
    try:
        handle = run_manager().submit(widget_settings())
    except (SettingsError, MnistError) as e:
        st.session_state.train_error = str(e)
        return
    st.session_state.train_error = None
    st.session_state.runs.append(handle)


def reset_runs() -> None:
    """Stop this tab's run and clear its curves."""
    for handle in st.session_state.runs:
        if not handle.over:
            handle.stop("reset")
    st.session_state.runs = []
    st.session_state.used_runs = set()


def use_run_network(handle) -> None:
    net = handle.network()
    if net is not None:
        add_network(f"Trained here: {handle.settings.label()}", net, handle.metadata())
        st.session_state.used_runs.add(handle.id)


def training_ui() -> None:
    st.divider()
    st.header("Train your own network")
    try:
        manager = run_manager()
    except SettingsError as e:  # a mistyped DIGITLAB_* variable: say which, keep drawing
        st.error(f"Training is switched off on this server: {e}.")
        return
    limits = manager.limits
    st.caption(f"Pick one of the book's experiments or set up a [784, N, 10] network, press "
               f"Train and watch it learn; your drawing above is re-read as it improves. "
               f"Limits on this server: up to {limits.max_hidden} hidden neurons, "
               f"{limits.max_epochs} epochs and {limits.max_seconds:g} s of training per run; "
               f"{limits.max_concurrent} runs train at once, others wait their turn.")
    if not manager.data_available():
        mnist_missing_ui()
        return
    try:
        manager.prepare_data()  # once per server: the workers' shared copy and the baseline
    except MnistError as e:
        st.error(f"The MNIST files on this server cannot be read: {e}")
        return
    controls, live = st.columns([1, 2], gap="large")
    with controls:
        preset_ui()
        settings_ui(limits)
    with live:
        run_buttons_ui()  # above the curves, so they stay in sight during a run
        live_ui()


def mnist_missing_ui() -> None:
    """No MNIST here: offer the download; drawing keeps working meanwhile."""
    job = BackgroundDownload.current()
    status = job.status() if job else None
    if status is None or (status["finished"] and status["error"]):
        st.warning("Training needs the MNIST handwritten digits (11 MB), which are not on this "
                   "server yet. Drawing works without them.", icon=":material/download:")
        if status is not None:
            st.error(f"The last download failed: {status['error']}")
        st.button("Download MNIST", on_click=BackgroundDownload.start, type="primary")
        return
    download_progress_ui()


@st.fragment(run_every=LIVE_EVERY)
def download_progress_ui() -> None:
    status = BackgroundDownload.current().status()
    if status["finished"]:
        st.rerun()
    st.progress(status["done"] / status["total"],
                text=f"Downloading MNIST: {status['done'] / 2**20:.1f} of "
                     f"{status['total'] / 2**20:.1f} MB ({status['file']})")


def preset_ui() -> None:
    st.selectbox("The book's experiments", [p.name for p in PRESETS], key="t_preset",
                 on_change=choose_preset, help="Sets every control below to that run.")
    share_ui(widget_settings(), st.session_state.selected, list(shipped_networks()))
    preset = matching_preset(widget_settings())
    if preset is not None:
        st.info(f"**What to expect.** {preset.expect}", icon=":material/lightbulb:")
    else:
        st.caption("Your own settings: no book result to compare with.")


def settings_ui(limits) -> None:
    run = current_run()
    locked = run is not None and not run.over  # a run's settings are fixed, except eta
    st.slider("Hidden neurons N", 1, limits.max_hidden, key="t_hidden", disabled=locked)
    st.select_slider("Learning rate η (also during a run)", ETA_STEPS, key="t_eta",
                     on_change=eta_moved,
                     help="Moving it during a run changes η from the next mini-batch on; the "
                          "change is marked on the curves.")
    left, right = st.columns(2)
    left.select_slider("Mini-batch size", BATCH_SIZES, key="t_batch", disabled=locked)
    right.slider("Epochs", 1, limits.max_epochs, key="t_epochs", disabled=locked)
    left.select_slider("Training images", TRAIN_SIZES, key="t_train_size", disabled=locked,
                       format_func=lambda n: f"{n:,}",
                       help="Fewer images make a run take seconds (and learn less).")
    right.number_input("Seed", 0, 2**32 - 1, step=1, key="t_seed", disabled=locked,
                       help="The same seed gives the same run.")
    with st.expander("Later chapters' options"):
        st.radio("Initial weights", ("normal", "scaled"), key="t_init", disabled=locked,
                 horizontal=True, format_func={"normal": "N(0, 1): chapter 1",
                                               "scaled": "N(0, 1/n): chapter 3"}.get)
        st.radio("Cost", ("quadratic", "cross-entropy"), key="t_cost", disabled=locked,
                 horizontal=True)
        st.number_input("L2 regularisation λ", 0.0, 100.0, step=0.5, key="t_l2",
                        disabled=locked, help="0 for none; chapter 3 uses 5.0.")


def buttons_for(run) -> str:
    """Which buttons the run's state calls for: 'train', 'resume', 'pause' or 'wait'."""
    if run is None or run.over:
        return "train"
    return {"paused": "resume", "running": "pause", "starting": "pause"}.get(
        run.view()["state"], "wait")


def run_buttons_ui() -> None:
    run = current_run()
    mode = st.session_state.t_buttons = buttons_for(run)  # the live section watches it
    row = st.container(horizontal=True)
    if mode == "train":
        row.button("Train", type="primary", on_click=start_run, icon=":material/play_arrow:")
    elif mode == "resume":
        row.button("Resume", type="primary", on_click=run.resume, icon=":material/play_arrow:")
    elif mode == "pause":
        row.button("Pause", on_click=run.pause, icon=":material/pause:")
    if run is not None and not run.over:
        row.button("Stop", on_click=run.stop, icon=":material/stop:")
    row.button("Reset", on_click=reset_runs, icon=":material/restart_alt:",
               help="Stop the current run and clear this tab's curves.",
               disabled=run is None)
    if st.session_state.get("train_error"):
        st.error(st.session_state.train_error)


def live_ui() -> None:
    """The curves and the run's progress, redrawn twice a second while a run is under way."""
    run = current_run()
    active = run is not None and not run.over

    @st.fragment(run_every=LIVE_EVERY if active else None)
    def live() -> None:
        views = [h.view() for h in st.session_state.runs]
        for handle in st.session_state.runs:
            if not handle.over:
                handle.touch()
        if active and buttons_for(current_run()) != st.session_state.t_buttons:
            st.rerun()  # paused, resumed, started or ended: redraw the buttons with the page
        if not views:
            st.info("No run yet. Press **Train**: the curves grow here, one point every "
                    "half second.", icon=":material/monitoring:")
            return
        run_status_ui(views[-1])
        if current_run().over:
            run_result_ui(current_run(), views[-1])
        relearned_drawing_ui(current_run())
        accuracy_chart_ui(views)
        st.plotly_chart(cost_figure(views), width="stretch", config=CHART_CONFIG,
                        key="cost_chart")
    live()


def run_status_ui(view: dict) -> None:
    state, settings = view["state"], view["settings"]
    if state == "queued":
        counts = run_manager().counts()
        st.info(f"Waiting for a free slot: you are number {view['queue_position']} in the "
                f"queue ({counts['slots']} runs train at once on this server). It starts by "
                f"itself.", icon=":material/hourglass_top:")
        return
    done = min(view["progress"] / settings.epochs, 1.0)
    text = f"Epoch {view['progress']:.1f} of {settings.epochs}"
    if view["images_per_second"]:
        text += f" · {view['images_per_second']:,.0f} images/s"
    if state in ("running", "starting") and view["seconds_left"] is not None:
        text += f" · about {view['seconds_left']:.0f} s left"
    elif state == "paused":
        text += " · paused"
    elif state in ("stopped", "failed"):
        text += f" · {state}: {view['reason']}"
    st.progress(done, text=text)


def relearned_drawing_ui(handle) -> None:
    """The visitor's drawing read by the network as it is right now, beside the curves."""
    image, net = st.session_state.drawing, handle.network()
    if image is None or net is None:
        st.caption("Draw a digit above and watch this network's answer change as it learns.")
        return
    reading = read(net, image)
    row = st.container(horizontal=True, vertical_alignment="center")
    row.image(pixelated(image, 2), width=56)
    row.markdown(f"Your drawing, read by this network now: **{reading.answer}** "
                 f"(its neuron fires at {reading.output[reading.answer]:.2f})")


def accuracy_chart_ui(views: list[dict]) -> None:
    zoom = st.toggle("Zoom in on the top of the chart", key="t_zoom",
                     help="Shows 80-100 %, where good runs differ.")
    references = {"chance": 0.10}
    baseline = run_manager().darkness_baseline
    if baseline is not None:
        references["average darkness"] = baseline
    preset = matching_preset(views[-1]["settings"])
    if preset is not None and preset.book_result is not None:
        references["the book"] = preset.book_result
    fig = accuracy_figure(views, references)
    if zoom:
        fig.update_yaxes(range=[80, 100])
    st.plotly_chart(fig, width="stretch", config=CHART_CONFIG, key="accuracy_chart")


def run_result_ui(handle, view: dict) -> None:
    if not view["history"]:
        if view["state"] == "failed":
            st.error(f"The run failed: {view['reason']}")
        return
    last = view["history"][-1]
    left, right, actions = st.columns([1, 1, 2])
    left.metric("Validation accuracy", f"{100 * last['val_accuracy']:.2f} %")
    right.metric("Test accuracy", f"{100 * last['test_accuracy']:.2f} %")
    with actions:
        st.button("Use this network for drawing", on_click=use_run_network, args=(handle,),
                  disabled=handle.id in st.session_state.used_runs, type="primary",
                  icon=":material/draw:")
        net = handle.network()
        st.download_button("Download this network", data=functools.partial(
                               model_bytes, net, handle.metadata()),
                           file_name=f"digitlab-run-{handle.id}.npz", on_click="ignore",
                           mime="application/octet-stream", icon=":material/download:",
                           key=f"download_run_{handle.id}")


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
    apply_link(apply_settings, widget_settings, list(shipped_networks()),
               {"eta": ETA_STEPS, "batch": BATCH_SIZES, "images": TRAIN_SIZES})
    header_ui()
    model_picker_ui()
    drawing_ui()
    teach_ui(current_network()[0], st.session_state.selected, st.session_state.drawing,
             st.session_state.networks, add_network)
    neurons_ui(current_network()[0], st.session_state.selected, st.session_state.drawing,
               current_run())
    mistakes_ui(current_network()[0], st.session_state.selected, current_run())
    training_ui()
    explanation_ui()


main()
