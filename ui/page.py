"""The page's frame: its configuration, style and title, the server's bounds, and the guard
around each section.

`setup_page()` installs the bounds of issue 18 once per server (ui.compat.install_bounds:
the upload store's budget, `clear_cache` limited to the sender, closed sessions shut down
and collected). The heap is no longer frozen (`gc.freeze()`): it only helped Streamlit's
per-run full collection, which is off (.streamlit/config.toml), and a freeze made whatever
was alive at that moment (a visitor's session and networks) immortal; run again after any
client's `clear_cache`, it froze every session alive. docs/bounds.md has the measurement.

`section(part, *args)` runs one part of the page: an exception in it is logged with its traceback
and the visitor sees a short message in its place; the rest of the page works.
"""

from __future__ import annotations

import logging
from pathlib import Path

import PIL.Image
import streamlit as st
from streamlit.errors import FragmentHandledException

from . import compat
from .bounds import (
    COPY_UPLOAD_BYTES,
    MAX_IMAGE_PIXELS,
    SESSION_UPLOAD_BYTES,
    SESSION_UPLOAD_FILES,
    SWEEP_SECONDS,
)

_LOG = logging.getLogger("digitlab.page")

# Served by the page's own server: the page makes no request to any other host.
FAVICON = Path(__file__).resolve().parent.parent / "assets" / "favicon.png"

PAGE_STYLE = """<style>
.st-key-answer [data-testid="stMetricValue"] { font-size: 4.5rem; line-height: 1.1;
                                               color: #ff4b4b; }
.st-key-answer_close [data-testid="stMetricValue"] { font-size: 2.6rem; white-space: nowrap; }
.st-key-answer_none [data-testid="stMetricValue"] { color: #a3a8b8; }
div:has(> .st-key-tap_script) { display: none; }  /* its wrapper too: no flex gap */
@media (max-width: 700px) {
  div:has(> .st-key-drawing_charts) { min-width: 100% !important; }
  .stMainBlockContainer { padding-top: 3.75rem; padding-bottom: 6rem; }
  .stMainBlockContainer h1 { font-size: 2rem; padding: 0.25rem 0; }
  .stMainBlockContainer h3 { font-size: 1.3rem; padding: 0.25rem 0; }
  .st-key-answer { position: fixed; left: 0; right: 0; bottom: 0; z-index: 99;
                   flex-direction: row; align-items: center; gap: 0.75rem;
                   padding: 0.3rem 1rem 0.4rem; background: rgb(23, 22, 20);
                   border-top: 2px solid #ff4b4b; }
  .st-key-answer [data-testid="stMetricValue"] { font-size: 2.2rem; }
  .st-key-answer_digit, .st-key-answer_close, .st-key-answer_none {
      flex-direction: row; align-items: center; gap: 0.75rem; }
  .st-key-answer [data-testid="stMetricLabel"] p { font-size: 0.8rem; }
  .st-key-answer [data-testid="stMetric"] { width: auto; flex: none; }
}
</style>"""  # the answer in large type, in the answer bar's colour ("4 or 9?" smaller, "?"
# grey). On a phone the charts take a line of their own instead of being squeezed beside the
# 28x28 image; the title is smaller; and the answer is pinned to the bottom of the screen (the
# page keeps room for it below), in sight with the canvas right after every stroke, not a
# scroll away below it.

SECTION_FAILED = (
    "This part of the page could not be shown: something went wrong on the server. "
    "The rest of the page works; reloading the page may help."
)


def setup_page() -> None:
    st.set_page_config(page_title="Digit Lab", page_icon=str(FAVICON), layout="wide")
    st.html(PAGE_STYLE)  # a style-only st.html takes no space on the page
    with st.container(key="tap_script"):  # hidden (PAGE_STYLE): no gap at the page's top
        st.html(compat.TAP_SCRIPT, unsafe_allow_javascript=True)
    compat.install_bounds(
        SESSION_UPLOAD_BYTES, SESSION_UPLOAD_FILES, COPY_UPLOAD_BYTES, SWEEP_SECONDS
    )
    PIL.Image.MAX_IMAGE_PIXELS = MAX_IMAGE_PIXELS  # a client's PNG: see ui.bounds


def section(part, *args) -> None:
    """Run `part(*args)` (one section of the page); if it raises, log the traceback and show
    a short message instead, so that the other sections still work."""
    try:
        part(*args)
    except FragmentHandledException:
        pass  # a fragment already showed its own error in its place
    except Exception:
        _LOG.exception("page section %s failed", getattr(part, "__name__", part))
        st.error(SECTION_FAILED, icon=":material/error:")


def header_ui() -> None:
    st.title("Digit Lab")
    st.caption(
        "Draw a digit from 0 to 9. A small neural network, the one from chapter 1 of "
        "Michael Nielsen's *Neural Networks and Deep Learning*, reads it as you draw."
    )
