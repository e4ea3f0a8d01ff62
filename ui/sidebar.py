"""The sidebar: which network answers (the picker, its facts, download and upload).

Its widgets rerun the whole page (a new network changes every reading). Everything that
comes from a file (its name, its metadata) is shown through `ui.text.plain`, never as
Markdown. An uploaded network's test accuracy is measured here on MNIST's test digits
(ui.analysis, within its CPU bound), never taken from the file: the file's own claim is
kept in its metadata as `claimed_test_accuracy` and not shown.
"""

from __future__ import annotations

import functools

import streamlit as st

from nn.modelfile import (
    MAX_FILE_BYTES,
    MAX_PARAMS,
    ModelFileError,
    load_model,
    model_bytes,
    too_big,
)
from nn.network import Network

from .analysis import measured_accuracy, not_measured_text
from .bounds import LEDGER
from .compat import forget_upload_bytes, too_large_size
from .state import (
    DOWNLOAD,
    PICKER,
    UPLOAD,
    Choice,
    add_network,
    describe,
    selected,
    tab,
    upload_title,
    value_of,
)
from .text import plain


def model_picker_ui(
    labels: list[str],
    choice: Choice,
    network_note: str | None,
    upload_note: tuple[str, str] | None,
) -> None:
    """The picker offering `labels` (its value is ui.state's `selected`), `choice` the network
    that answers, the notes of the last network dropped and of the last upload. A new pick
    or upload reruns the whole page (the upload through `take_upload`, which adds it)."""
    with st.sidebar:
        st.header("Which network answers")
        st.selectbox(
            "Network",
            labels,
            key=PICKER,
            help="The shipped networks come first; uploaded ones are added below.",
        )
        st.caption(network_facts(choice.net, choice.meta))
        if network_note:
            st.caption(network_note)
        st.download_button(
            "Download this network",
            key=DOWNLOAD,
            data=functools.partial(model_bytes, choice.net, choice.meta),
            file_name=choice.file_name,
            mime="application/octet-stream",
            on_click="ignore",
            icon=":material/download:",
            width="stretch",
        )
        st.file_uploader(
            "Upload a network (.npz model file)",
            key=UPLOAD,  # any type: a wrong one gets this page's message, naming it
            on_change=take_upload,
            help=f"A file downloaded from this page or saved by `python -m "
            f"nn.train --save`; at most {MAX_FILE_BYTES // 2**20} MB and "
            f"{MAX_PARAMS:,} weights and biases.",
        )
        if upload_note and value_of(UPLOAD) is not None:
            (st.error if upload_note[0] == "error" else st.success)(upload_note[1])


def network_facts(net: Network, meta: dict) -> str:
    """One line (Markdown) about a network: its layers, test accuracy and how it was trained.

    The metadata is the file's: any value in it is shown as literal text.
    """
    settings = meta.get("settings") if isinstance(meta.get("settings"), dict) else {}
    facts = [f"Layers {plain(describe(net, meta))}."]
    if settings:  # only what the file says: a missing setting is left out, not shown as "?"
        epochs = f" {plain(epochs_text(meta, settings))}" if "epochs" in settings else ""
        eta = etas_text(meta) or settings.get("eta")
        how = ([f"η = {plain(eta)}"] if eta is not None else []) + [f"{net.cost} cost"]
        how += [f"L2 λ = {net.l2:g}"] if net.l2 else []
        facts.append(f"Trained{epochs} with {', '.join(how)}.")
    return " ".join(facts)


def epochs_text(meta: dict, settings: dict) -> str:
    """'30 epochs', or '16.2 of 30 epochs' for a run stopped early (its metadata's "epochs"
    is how far it got, its settings' how far it was to go)."""
    planned, done = settings.get("epochs", "?"), meta.get("epochs")

    def number(x) -> bool:
        return isinstance(x, (int, float)) and not isinstance(x, bool)

    if isinstance(done, (int, float)) and number(done) and number(planned) and 0 <= done < planned:
        return f"{round(done, 1):g} of {planned:g} epochs"
    return f"{planned} epochs"


def etas_text(meta: dict) -> str | None:
    """'3 → 1' for a run whose eta changed (its metadata's "etas"), else None."""
    etas = meta.get("etas")
    if not isinstance(etas, list) or len(etas) < 2 or len(etas) > 20:
        return None
    if not all(isinstance(e, (int, float)) and not isinstance(e, bool) for e in etas):
        return None
    shown = [f"{e:.3g}" for e in etas]
    if len(shown) > 4:  # a decayed schedule: where it started and ended, and how often it moved
        return f"{shown[0]} → {shown[1]} → … → {shown[-1]} ({len(shown) - 1} changes)"
    return " → ".join(shown)


def take_upload() -> None:
    """The uploader changed: validate the file; a good one is added and selected.

    The file is read once: then neither the tab's widget value nor Streamlit's store keeps
    its bytes (ui.compat.forget_upload_bytes); the uploader still shows the file's name."""
    uploaded = value_of(UPLOAD)
    tab().upload_note = upload_outcome(uploaded)
    if uploaded is not None:
        forget_upload_bytes(uploaded)


def upload_outcome(uploaded) -> tuple[str, str] | None:
    """Load an uploaded file (or None); add it if good. Returns (kind, Markdown) to show."""
    if uploaded is None:
        return None
    size = too_large_size(uploaded)  # kept by name only: ui.compat.bound_upload_store
    if size is not None:
        return refused(uploaded.name, too_big(size))
    try:
        net, meta = load_model(uploaded.getvalue())
    except ModelFileError as e:
        return refused(uploaded.name, str(e))
    if not LEDGER.fits(net):
        return refused(
            uploaded.name,
            "this server holds as many visitors' networks as it has room for right now; "
            "try again in a few minutes (the shipped networks work as usual)",
        )
    accuracy, why = measured_accuracy(net)
    meta = dict(meta)
    claim = meta.pop("test_accuracy", None)
    meta.pop("accuracy_measured_on", None)  # the file's word, like its accuracy
    if claim is not None:
        meta["claimed_test_accuracy"] = claim
    if accuracy is not None:
        meta["test_accuracy"] = accuracy
    label = add_network(
        upload_title(uploaded.name), net, meta, accuracy_note=not_measured_text(why)
    )
    return "success", f"Added **{plain(uploaded.name)}**, now answering: *{plain(label)}*."


def refused(name: str, why: str) -> tuple[str, str]:
    return "error", (
        f"**{plain(name)}** cannot be used: {plain(why, 400)}. "
        f"The network that answers is still *{plain(selected())}*."
    )
