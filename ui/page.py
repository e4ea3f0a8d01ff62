"""The page's frame: its configuration, style and title."""

from __future__ import annotations

import gc
from pathlib import Path

import streamlit as st

# Served by the page's own server: the page makes no request to any other host.
FAVICON = Path(__file__).resolve().parent.parent / "assets" / "favicon.png"

PAGE_STYLE = """<style>
.st-key-answer [data-testid="stMetricValue"] { font-size: 4.5rem; line-height: 1.1;
                                               color: #ff4b4b; }
@media (max-width: 700px) { div:has(> .st-key-drawing_charts) { min-width: 100% !important; } }
</style>"""  # the answer in large type, in the answer bar's colour; on a phone the charts
# take a line of their own instead of being squeezed beside the 28x28 image


def setup_page() -> None:
    st.set_page_config(page_title="Digit Lab", page_icon=str(FAVICON), layout="wide")
    st.html(PAGE_STYLE)  # a style-only st.html takes no space on the page
    freeze_heap("startup")


@st.cache_resource(show_spinner=False)
def freeze_heap(stage: str) -> str:
    """Once per server and stage: exempt every object that exists now from the cyclic GC.

    Python's own collector still runs full (oldest-generation) collections now and then, as
    allocations pile up (Streamlit's extra one after every script run is switched off in
    .streamlit/config.toml, `runner.postScriptGC`). A full collection's cost grows with every
    object on the heap, and nearly all of those are modules, plotly's templates and the
    shipped networks, which live as long as the server. `gc.freeze()` moves them to a
    permanent generation that collections skip; objects made later (sessions, readings) are
    collected as before.
    Called after the first run's imports ("startup") and after the first reading of a
    drawing ("drawing"), which imports more (image encoding, the canvas's data handling).
    """
    gc.collect()
    gc.freeze()
    return stage


def header_ui() -> None:
    st.title("Digit Lab")
    st.caption(
        "Draw a digit from 0 to 9. A small neural network, the one from chapter 1 of "
        "Michael Nielsen's *Neural Networks and Deep Learning*, reads it as you draw."
    )
