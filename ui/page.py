"""The page's frame: its configuration, style and title."""

from __future__ import annotations

import gc

import streamlit as st

PAGE_STYLE = """<style>
.st-key-answer [data-testid="stMetricValue"] { font-size: 4.5rem; line-height: 1.1;
                                               color: #ff4b4b; }
.st-key-answer_close [data-testid="stMetricValue"] { font-size: 2.6rem; white-space: nowrap; }
.st-key-answer_none [data-testid="stMetricValue"] { color: #a3a8b8; }
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


def setup_page() -> None:
    st.set_page_config(page_title="Digit Lab", page_icon=":material/draw:", layout="wide")
    st.html(PAGE_STYLE)  # a style-only st.html takes no space on the page
    freeze_heap("startup")


@st.cache_resource(show_spinner=False)
def freeze_heap(stage: str) -> str:
    """Once per server and stage: exempt every object that exists now from the cyclic GC.

    Streamlit runs a full collection (gc.collect(2)) after every script run, including each
    stroke's rerun of the drawing row. Its cost grows with every object on the heap, and
    nearly all of those are modules, plotly's templates and the shipped networks, which live
    as long as the server. `gc.freeze()` moves them to a permanent generation that
    collections skip; objects made later (sessions, readings) are collected as before.
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
