"""The page's frame: its configuration, style and title."""

from __future__ import annotations

import streamlit as st

PAGE_STYLE = """<style>
.st-key-answer [data-testid="stMetricValue"] { font-size: 4.5rem; line-height: 1.1;
                                               color: #ff4b4b; }
@media (max-width: 700px) { div:has(> .st-key-drawing_charts) { min-width: 100% !important; } }
</style>"""  # the answer in large type, in the answer bar's colour; on a phone the charts
# take a line of their own instead of being squeezed beside the 28x28 image


def setup_page() -> None:
    st.set_page_config(page_title="Digit Lab", page_icon=":material/draw:", layout="wide")
    st.html(PAGE_STYLE)  # a style-only st.html takes no space on the page


def header_ui() -> None:
    st.title("Digit Lab")
    st.caption("Draw a digit from 0 to 9. A small neural network, the one from chapter 1 of "
               "Michael Nielsen's *Neural Networks and Deep Learning*, reads it as you draw.")
