"""The sidebar: which network answers (the picker, its facts, download and upload).

Its widgets rerun the whole page (a new network changes every reading). Everything that
comes from a file (its name, its metadata) is shown through `ui.text.plain`, never as
Markdown.
"""

from __future__ import annotations

import functools

import streamlit as st

from nn.modelfile import MAX_FILE_BYTES, ModelFileError, load_model, model_bytes
from nn.network import Network

from .state import add_network, current, describe, tab, upload_title
from .text import plain


def model_picker_ui() -> None:
    with st.sidebar:
        st.header("Which network answers")
        st.selectbox(
            "Network",
            list(tab().networks),
            key="selected",
            help="The shipped networks come first; uploaded ones are added below.",
        )
        choice = current()
        st.caption(network_facts(choice.net, choice.meta))
        st.download_button(
            "Download this network",
            key="download",
            data=functools.partial(model_bytes, choice.net, choice.meta),
            file_name=choice.file_name,
            mime="application/octet-stream",
            on_click="ignore",
            icon=":material/download:",
            width="stretch",
        )
        st.file_uploader(
            "Upload a network (.npz model file)",
            type=["npz"],
            key="upload",
            on_change=take_upload,
            help=f"A file downloaded from this page or saved by `python -m "
            f"nn.train --save`; at most {MAX_FILE_BYTES // 2**20} MB.",
        )
        note = tab().upload_note
        if note and st.session_state.get("upload") is not None:
            (st.error if note[0] == "error" else st.success)(note[1])


def network_facts(net: Network, meta: dict) -> str:
    """One line (Markdown) about a network: its layers, test accuracy and how it was trained.

    The metadata is the file's: any value in it is shown as literal text.
    """
    settings = meta.get("settings") if isinstance(meta.get("settings"), dict) else {}
    facts = [f"Layers {plain(describe(net, meta))}."]
    if settings:
        facts.append(
            f"Trained {plain(settings.get('epochs', '?'))} epochs with "
            f"η = {plain(etas_text(meta) or settings.get('eta', '?'))}, {net.cost} cost"
            + (f", L2 λ = {net.l2:g}" if net.l2 else "")
            + "."
        )
    return " ".join(facts)


def etas_text(meta: dict) -> str | None:
    """'3 → 1' for a run whose eta changed (its metadata's "etas"), else None."""
    etas = meta.get("etas")
    if not isinstance(etas, list) or len(etas) < 2 or len(etas) > 20:
        return None
    if not all(isinstance(e, (int, float)) and not isinstance(e, bool) for e in etas):
        return None
    return " → ".join(f"{e:g}" for e in etas)


def take_upload() -> None:
    """The uploader changed: validate the file; a good one is added and selected."""
    tab().upload_note = upload_outcome(st.session_state.get("upload"))


def upload_outcome(uploaded) -> tuple[str, str] | None:
    """Load an uploaded file (or None); add it if good. Returns (kind, Markdown) to show."""
    if uploaded is None:
        return None
    try:
        net, meta = load_model(uploaded.getvalue())
    except ModelFileError as e:
        return "error", (
            f"**{plain(uploaded.name)}** cannot be used: {plain(e, 400)}. "
            f"The network that answers is still *{plain(tab().selected)}*."
        )
    label = add_network(upload_title(uploaded.name), net, meta)
    return "success", f"Added and now answering: *{plain(label)}*."
