"""The training section: presets, settings, the run's buttons and the live part.

The settings' widgets map to `nn.settings.Settings` through one table,
`ui.state.SETTING_WIDGETS`.
The live part (progress, results, the re-read drawing, the curves) is a fragment that
reruns itself twice a second while a run is under way, and only itself: the drawing row,
the sidebar and the rest of this section stay as they are. The re-read drawing is a small
fragment inside it, which a stroke on the canvas reruns by key (`ui.drawing`). A tick that
finds the drawing changed since the previous tick also reruns the drawing row once: if the
stroke's answer was lost (Streamlit drops a finished run's undelivered messages when a tick
starts the next run), it comes back by itself.

A run belongs to the browser, not to the tab (docs/runs.md): it is submitted with the
browser's identity (`ui.compat.browser_id`) and its token goes into the page's URL
(`?run=...`), so a reload or a second tab finds it again (`reattach`), and a page whose run
was lost with a restart of the server says so.
"""

from __future__ import annotations

import dataclasses
import functools
import logging

import streamlit as st

from nn.mnist import MnistError
from nn.modelfile import model_bytes
from nn.models import read
from nn.protocol import SLOW_BATCHES_PER_SECOND, State
from nn.settings import Settings, SettingsError
from runs.manager import QueueFull, RunManager, ServiceError
from runs.view import PARTIAL_SAMPLE, RunView

from . import compat
from .charts import accuracy_figure, cost_figure, pixelated, show
from .download import BackgroundDownload
from .hints import hints_ui, series
from .presets import BATCH_SIZES, ETA_STEPS, PRESETS, TRAIN_SIZES, matching_preset, preset_named
from .share import share_ui
from .state import (
    ACCURACY_CHART,
    COST_CHART,
    DRAWING,
    LIVE,
    REREAD,
    T_BATCH,
    T_COST,
    T_EPOCHS,
    T_ETA,
    T_HIDDEN,
    T_INIT,
    T_L2,
    T_PRESET,
    T_SEED,
    T_TRAIN_SIZE,
    T_ZOOM,
    add_network,
    apply_settings,
    current_run,
    owned,
    run_download_key,
    selected,
    set_value,
    shipped_networks,
    tab,
    tab_id,
    value_of,
    widget_settings,
)
from .step import step_panel_ui
from .text import MNIST_UNREADABLE, unbroken

LIVE_EVERY = 0.5  # s between redraws of the live part while a run is under way
RUN_PARAM = "run"  # the query parameter that names this browser's run


def run_manager() -> RunManager:
    """The server's one run manager: every visitor's runs, the slot limit and the queue. The
    server's health check reports a broken one (and replaces it)."""
    manager = RunManager.shared()
    compat.install_health_check(RunManager.health)
    compat.track_dropped_messages()  # the live part redraws a dropped answer (live_ui)
    return manager


def owner() -> str:
    """Whose runs these are: the browser's identity, or this tab's if it sent no cookie."""
    return compat.browser_id() or f"tab-{tab_id()}"


def reattach(manager: RunManager) -> None:
    """A tab with no run finds the browser's run: the one its URL names, else the browser's
    latest (a second tab). A URL naming a run of a server that has restarted since says so."""
    if tab().runs:
        return
    token = st.query_params.get(RUN_PARAM)
    handle, why = manager.lookup(token) if token else (None, "")
    if handle is None:
        handle = manager.owned_by(compat.browser_id())
    if handle is not None and handle.kind == "train" and handle.settings is not None:
        tab().runs.append(handle)
        st.query_params[RUN_PARAM] = handle.token
        # The widgets show the run's settings with the eta it trains with now (moved mid-run,
        # perhaps in the tab that was reloaded), so the slider moves on from the true value.
        settings = handle.settings
        eta_now = handle.view().eta
        if eta_now is not None and eta_now != settings.eta:
            settings = dataclasses.replace(settings, eta=eta_now)
        apply_settings(settings)
        preset = matching_preset(settings)
        set_value(T_PRESET, preset.name if preset else OWN_SETTINGS)
    elif why:
        tab().train_error = (
            "Your run was lost when the server restarted. Press Train to start it again."
            if why == "restarted"
            else "Your run is no longer on this server. Press Train to start a new one."
        )
        del st.query_params[RUN_PARAM]


# --- callbacks ---------------------------------------------------------------------------


def choose_preset() -> None:
    """Every setting of the chosen preset but the seed (which of its runs: the visitor's)."""
    preset = preset_named(value_of(T_PRESET))
    if preset is not None:
        apply_settings(preset.settings.replace(seed=int(value_of(T_SEED))))


OWN_SETTINGS = "Your own settings"  # the preset box once a setting differs from its preset


def sync_preset_box(settings: Settings) -> None:
    """Before the box is drawn: it names a preset only while the settings are that preset's
    (seed aside), so that picking the preset again is a change that restores it."""
    chosen = preset_named(value_of(T_PRESET))
    if chosen is not None and chosen.settings.replace(seed=settings.seed) == settings:
        return
    same = next((p for p in PRESETS if p.settings.replace(seed=settings.seed) == settings), None)
    set_value(T_PRESET, same.name if same is not None else OWN_SETTINGS)


def eta_moved() -> None:
    """The eta slider moved: a run under way takes the new eta from its next mini-batch."""
    run = current_run()
    if run is not None and not run.over:
        run.set_eta(float(value_of(T_ETA)))


def start_run() -> None:
    try:
        handle = run_manager().submit(widget_settings(), owner=owner())
    except SettingsError as e:
        tab().train_error = str(e)
        return
    except MnistError:  # its text names server folders: for the log, not the page
        logging.getLogger("digitlab.training").exception("MNIST")
        tab().train_error = MNIST_UNREADABLE
        return
    except (QueueFull, ServiceError) as e:
        tab().train_error = f"Training could not start: {e}."
        return
    tab().train_error = None
    tab().runs.append(handle)
    st.query_params[RUN_PARAM] = handle.token


def reset_runs() -> None:
    """Stop this tab's run and clear its curves."""
    for handle in tab().runs:
        if not handle.over:
            handle.stop("reset")
    tab().runs = []
    tab().used_runs = set()
    if RUN_PARAM in st.query_params:
        del st.query_params[RUN_PARAM]


def use_run_network(handle) -> None:
    """Add a finished run's network to the picker; the whole page reruns to show it."""
    net, view = handle.network(), handle.view()
    if net is not None:
        add_network(f"Trained here: {view.title}", net, view.metadata())
        tab().used_runs.add(handle.id)
    st.rerun()  # the button is in the live part; the picker and the drawing row change too


# --- the section ---------------------------------------------------------------------------


def training_ui() -> None:
    st.divider()
    st.header("Train your own network")
    try:
        manager = run_manager()
    except SettingsError as e:  # a mistyped DIGITLAB_* variable: say which, keep drawing
        st.error(f"Training is switched off on this server: {e}.")
        return
    limits = manager.limits
    st.caption(
        f"Pick one of the book's experiments or set up a [784, N, 10] network, press "
        f"Train and watch it learn; your drawing above is re-read as it improves. "
        f"Limits on this server: up to {limits.max_hidden} hidden neurons, "
        f"{limits.max_epochs} epochs and {limits.max_seconds:g} s of training per run; "
        f"{limits.max_concurrent} runs train at once, others wait their turn."
    )
    if not manager.data_available():
        mnist_missing_ui()
        return
    try:
        manager.prepare_data()  # once per server: the workers' shared copy and the baseline
    except MnistError:  # its text names server folders: for the log, not the page
        logging.getLogger("digitlab.training").exception("MNIST")
        st.error(MNIST_UNREADABLE)
        return
    except ServiceError as e:
        st.error(f"Training is not possible right now: {e}.")
        return
    reattach(manager)
    controls, live = st.columns([1, 2], gap="large")
    with controls:
        preset_ui()
        settings_ui(limits)
    with live:
        run = current_run()
        mode = buttons_for(run)
        run_buttons_ui(run, mode)  # above the curves, so they stay in sight during a run
        live_ui(every=None if mode == "train" else LIVE_EVERY)


def mnist_missing_ui() -> None:
    """No MNIST here: offer the download; drawing keeps working meanwhile."""
    job = BackgroundDownload.current()
    status = job.status() if job else None
    if status is None or (status["finished"] and status["error"]):
        st.warning(
            "Training needs the MNIST handwritten digits (11 MB), which are not on this "
            "server yet. Drawing works without them.",
            icon=":material/download:",
        )
        if status is not None:
            st.error(f"The last download failed: {status['error']}")
        st.button("Download MNIST", on_click=start_download, type="primary")
        return
    download_progress_ui()


def start_download() -> None:
    BackgroundDownload.start()


@st.fragment(run_every=LIVE_EVERY)
def download_progress_ui() -> None:
    job = BackgroundDownload.current()
    status = job.status() if job is not None else None
    if status is None or status["finished"]:
        st.rerun()
    st.progress(
        status["done"] / status["total"],
        text=f"Downloading MNIST: {status['done'] / 2**20:.1f} of "
        f"{status['total'] / 2**20:.1f} MB ({status['file']})",
    )


def preset_ui() -> None:
    sync_preset_box(widget_settings())
    st.selectbox(
        "The book's experiments",
        [p.name for p in PRESETS] + [OWN_SETTINGS],
        help="Sets every control below to that run.",
        **owned(T_PRESET, then=choose_preset),  # the page sets it too: a stale one is ignored
    )
    preset = matching_preset(widget_settings())
    if preset is not None:
        st.info(f"**What to expect.** {unbroken(preset.expect)}", icon=":material/lightbulb:")
    else:
        st.caption("Your own settings: no book result to compare with.")
    share_ui(widget_settings(), selected(), list(shipped_networks()), tab().link_notice)


def settings_ui(limits) -> None:
    run = current_run()
    locked = run is not None and not run.over  # a run's settings are fixed, except eta
    st.slider("Hidden neurons N", 1, limits.max_hidden, disabled=locked, **owned(T_HIDDEN))
    st.select_slider(
        "Learning rate η (also during a run)",
        ETA_STEPS,
        help="Moving it during a run changes η from the next mini-batch on; the "
        "change is marked on the curves.",
        **owned(T_ETA, then=eta_moved),
    )
    left, right = st.columns(2)
    left.select_slider("Mini-batch size", BATCH_SIZES, disabled=locked, **owned(T_BATCH))
    right.slider("Epochs", 1, limits.max_epochs, disabled=locked, **owned(T_EPOCHS))
    left.select_slider(
        "Training images",
        TRAIN_SIZES,
        **owned(T_TRAIN_SIZE),
        disabled=locked,
        format_func=lambda n: f"{n:,}",
        help="Fewer images make a run take seconds (and learn less).",
    )
    right.number_input(
        "Seed",
        0,
        2**32 - 1,
        step=1,
        **owned(T_SEED),
        disabled=locked,
        help="The same seed gives the same run.",
    )
    with st.expander("Later chapters' options"):
        st.radio(
            "Initial weights",
            ("normal", "scaled"),
            **owned(T_INIT),
            disabled=locked,
            horizontal=True,
            format_func={"normal": "N(0, 1): chapter 1", "scaled": "N(0, 1/n): chapter 3"}.get,
        )
        st.radio(
            "Cost",
            ("quadratic", "cross-entropy"),
            **owned(T_COST),
            disabled=locked,
            horizontal=True,
        )
        st.number_input(
            "L2 regularisation λ",
            0.0,
            100.0,
            step=0.5,
            **owned(T_L2),
            disabled=locked,
            help="0 for none; chapter 3 uses 5.0.",
        )


def buttons_for(run) -> str:
    """Which buttons the run's state calls for: 'train', 'resume', 'pause' or 'wait'.

    One read of the run's state: the buttons and the live part's timer must agree on it, or a
    run that ends between two reads leaves the page with Pause and no timer to fix it."""
    state = None if run is None else run.view().state
    modes: dict[State | None, str] = {
        State.PAUSED: "resume",
        State.RUNNING: "pause",
        State.STARTING: "pause",
        State.QUEUED: "wait",
    }
    return modes.get(state, "train")


def run_buttons_ui(run, mode: str) -> None:
    tab().t_buttons = mode  # the live part watches it
    row = st.container(horizontal=True)
    if mode == "train":
        row.button("Train", type="primary", on_click=start_run, icon=":material/play_arrow:")
    elif mode == "resume":
        row.button("Resume", type="primary", on_click=run.resume, icon=":material/play_arrow:")
        row.button(
            "Step",
            on_click=run.step,
            icon=":material/skip_next:",
            help="Train on one mini-batch, then pause again.",
        )
    elif mode == "pause":
        row.button("Pause", on_click=run.pause, icon=":material/pause:")
        speed_button_ui(row, run)
    if mode != "train":
        row.button("Stop", on_click=run.stop, icon=":material/stop:")
    row.button(
        "Reset",
        on_click=reset_runs,
        icon=":material/restart_alt:",
        help="Stop the current run and clear this tab's curves.",
        disabled=run is None,
    )
    if tab().train_error:
        st.error(tab().train_error)


def speed_button_ui(row, run) -> None:
    """Slow motion (a few mini-batches a second) while at full speed, and back."""
    if run.view().speed == "slow":
        row.button(
            "Full speed",
            on_click=run.set_speed,
            args=("full",),
            icon=":material/fast_forward:",
            help="Train as fast as the server can again.",
        )
    else:
        row.button(
            "Slow motion",
            on_click=run.set_speed,
            args=("slow",),
            icon=":material/slow_motion_video:",
            help=f"Train {SLOW_BATCHES_PER_SECOND:g} mini-batches a second, to watch each one.",
        )


def repair_after_tick(*, dropped: bool, stroke_since: bool, fragment_run: bool) -> str | None:
    """What a live tick redraws after itself so that nothing Streamlit dropped stays lost:
    'page', 'drawing' or None.

    Streamlit drops the undelivered end of a finished run when a tick starts the next one
    (docs/runs.md, "A stroke's answer lost by Streamlit"). If it marked this session as
    having dropped messages, they may be a whole-page run's (the run buttons after Slow
    motion or Pause, the sidebar): the whole page reruns. A stroke since the last tick may
    have lost its answer: the drawing row reruns. A whole-page run has just drawn everything
    itself.
    """
    if not fragment_run:
        return None
    if dropped:
        return "page"
    return "drawing" if stroke_since else None


def live_ui(every: float | None) -> None:
    """The curves and the run's progress; redrawn every `every` seconds (None: not at all)."""

    @st.fragment(run_every=every, key=LIVE)
    def live() -> None:
        runs = tab().runs
        views = [h.view() for h in runs]
        for handle in runs:
            if not handle.over:
                handle.touch()
        if every and buttons_for(current_run()) != tab().t_buttons:
            st.rerun()  # paused, resumed, started or ended: redraw the buttons with the page
        if every:
            repair = repair_after_tick(
                dropped=compat.messages_were_dropped(),
                stroke_since=tab().drawing_gen != tab().live_drawing_gen,
                fragment_run=compat.reruns_only_fragments(),
            )
            tab().live_drawing_gen = tab().drawing_gen
            if repair == "page":
                st.rerun()
            elif repair == "drawing":
                compat.request_fragment_rerun([DRAWING])
        if not views:
            st.info(
                "No run yet. Press **Train**: the curves grow here, one point every half second.",
                icon=":material/monitoring:",
            )
            return
        run_status_ui(views[-1])
        hints_ui(views[-1].settings, *series(views[-1].history))  # ui.hints
        step_panel_ui(views[-1], current_run())
        if views[-1].over:
            run_result_ui(current_run(), views[-1])
        relearned_drawing_ui()
        accuracy_chart_ui(views)
        show(cost_figure(views), key=COST_CHART)

    live()


def run_status_ui(view: RunView) -> None:
    st.progress(min(view.progress / _epochs(view), 1.0), text=status_text(view))


def _epochs(view: RunView) -> int:
    """The epochs a training run's view asks for (1 for a view without settings)."""
    return view.settings.epochs if view.settings is not None else 1


def status_text(view: RunView) -> str:
    """One line on where the run is, in the visitor's words."""
    epochs = _epochs(view)
    if view.state is State.QUEUED:
        wait = f", about {duration(view.wait_seconds)} to wait" if view.wait_seconds else ""
        slots = run_manager().limits.max_concurrent
        at_once = "1 run trains" if slots == 1 else f"{slots} runs train"
        return (
            f"Waiting for a free slot: number {view.queue_position} in the queue{wait} "
            f"({at_once} at once on this server). It starts by itself."
        )
    text = f"Epoch {view.progress:.1f} of {epochs}"
    # The run's mean speed over its training time: true at full speed and once it is over;
    # beside "slow motion" (4 mini-batches a second) or "paused" it read as the speed now
    # ("18,906 images/s · slow motion", seen in chromium) and fell as the run went slowly.
    slow_or_paused = view.state is State.PAUSED or (
        view.state is State.RUNNING and view.speed == "slow"
    )
    if view.images_per_second and not slow_or_paused:
        text += f" · {view.images_per_second:,.0f} images/s"
    if view.state is State.RUNNING and view.speed == "slow":
        text += f" · slow motion, {SLOW_BATCHES_PER_SECOND:g} mini-batches a second"
    elif view.state in (State.RUNNING, State.STARTING) and view.seconds_left is not None:
        text += f" · about {duration(view.seconds_left)} left"
    elif view.state is State.PAUSED:
        text += " · paused"
    elif view.state is State.STOPPED:
        why = "" if view.reason in ("", "stopped") else f" ({view.reason})"
        text = f"Stopped at epoch {view.progress:.1f} of {epochs}{why}"
    elif view.state is State.FAILED:
        text = f"Failed at epoch {view.progress:.1f} of {epochs}: {view.reason}"
    return text


def duration(seconds: float) -> str:
    """'40 s', '3 min'."""
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.0f} min"


@st.fragment(key=REREAD)
def relearned_drawing_ui() -> None:
    """The visitor's drawing read by the current run's network as it is right now.

    Rerun with the live part at each tick, and alone after each stroke (by its key).
    """
    handle = current_run()
    image, net = tab().drawing, handle.network() if handle is not None else None
    if image is None or net is None:
        st.caption("Draw a digit above and watch this network's answer change as it learns.")
        return
    reading = read(net, image)
    row = st.container(horizontal=True, vertical_alignment="center")
    row.image(pixelated(image, 2), width=56)
    row.markdown(
        f"Your drawing, read by this network now: **{reading.answer}** "
        f"(its neuron fires at {reading.output[reading.answer]:.2f})"
    )


def accuracy_chart_ui(views: list[RunView]) -> None:
    zoom = st.toggle(
        "Zoom in on the top of the chart",
        key=T_ZOOM,
        help="Shows 80-100 %, where good runs differ.",
    )
    references = {"chance": 0.10}
    baseline = run_manager().darkness_baseline
    if baseline is not None:
        references["average darkness"] = baseline
    settings = views[-1].settings
    preset = matching_preset(settings) if settings is not None else None
    if preset is not None and preset.book_result is not None:
        references["the book"] = preset.book_result
    show(accuracy_figure(views, references, zoom=zoom), key=ACCURACY_CHART)


def run_result_ui(handle, view: RunView) -> None:
    last = view.final  # None while it has no history
    if last is None:
        if view.state is State.FAILED:
            st.error(f"The run failed: {view.reason}")
        return
    subset = f"on the first {PARTIAL_SAMPLE:,} images" if view.on_subset else None
    left, right, actions = st.columns([1, 1, 2])
    left.metric("Validation accuracy", f"{100 * last.val_accuracy:.2f} %", help=subset)
    right.metric("Test accuracy", f"{100 * last.test_accuracy:.2f} %", help=subset)
    if subset:
        left.caption(f"Measured {subset} of each set (stopped mid-epoch).")
    with actions:
        st.button(
            "Use this network for drawing",
            on_click=use_run_network,
            args=(handle,),
            disabled=handle.id in tab().used_runs,
            type="primary",
            icon=":material/draw:",
        )
        net = handle.network()
        st.download_button(
            "Download this network",
            data=functools.partial(model_bytes, net, view.metadata()),
            file_name=f"digitlab-run-{handle.id}.npz",
            on_click="ignore",
            mime="application/octet-stream",
            icon=":material/download:",
            key=run_download_key(handle.id),
        )
