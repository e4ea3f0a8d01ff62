"""The panel "The data, and your drawing's neighbours": what the network learned from, before
any training (examples of each digit, the average digit of each class), and the training
digits nearest to the visitor's drawing by plain pixel distance, with their labels, beside
the network's answer. Where the nearest digits would vote for another answer (a template
matcher, no learning at all), the panel says so.

What the server holds for it, once per server: the first `TRAIN_POOL` (10,000) of the
book's 50,000 training digits as float32 with their squared lengths (31 MB), and the ten
average digits (over all 50,000; the rest of the training file is let go after reading).
A stroke costs one (10,000 x 784) matrix-vector product and a small picture (docs/lab.md).
The panel runs only while its expander is open; then a stroke reruns it (`ui.follow`).
"""

from __future__ import annotations

import io

import numpy as np
import streamlit as st
from PIL import Image

from nn import insight
from nn.lab import NEIGHBOURS, Neighbours, examples, vote
from nn.mnist import TRAIN_POOL, MnistError, shared_train_sample
from nn.models import read
from nn.verdict import CLOSE_CALL, DIGIT, judge

from .follow import following_panel, mnist_here
from .state import DATA_OPEN, current, tab
from .state import NEIGHBOURS as NEIGHBOURS_KEY  # the fragment's key

EXAMPLES_PER_DIGIT = 12


@st.cache_resource(show_spinner=False)
def _pool() -> Neighbours:
    sample = shared_train_sample(TRAIN_POOL)
    return Neighbours.of(sample.images, sample.labels)


def _png(rgb: np.ndarray) -> bytes:
    out = io.BytesIO()
    Image.fromarray(rgb).save(out, format="PNG", compress_level=1)
    return out.getvalue()


def _ink(images: np.ndarray, scale: int) -> np.ndarray:
    """uint8 digits (n, 784), 0-255 ink, as dark ink on white RGB tiles (n, 28s, 28s, 3)."""
    grey = 255 - np.asarray(images, dtype=np.uint8).reshape(-1, 28, 28)
    tiles = np.repeat(grey[..., None], 3, axis=3)
    return tiles.repeat(scale, axis=1).repeat(scale, axis=2)


@st.cache_data(show_spinner=False)
def _examples_png() -> bytes:
    sample = shared_train_sample(TRAIN_POOL)
    chosen = examples(sample.labels, EXAMPLES_PER_DIGIT).reshape(-1)
    chosen = chosen[chosen >= 0]
    tiles = _ink(sample.images[chosen], 1)
    return _png(insight.tile_grid(tiles, columns=EXAMPLES_PER_DIGIT, scale=2, gap=3))


@st.cache_data(show_spinner=False)
def _averages_png() -> bytes:
    means = shared_train_sample(TRAIN_POOL).means
    tiles = _ink(np.rint(means).astype(np.uint8), 1)
    labels = [f"average {d}" for d in range(10)]
    return _png(insight.tile_grid(tiles, labels, columns=10, scale=3, gap=6, label_height=16))


def neighbours_ui(net, image: np.ndarray | None, drawn=None) -> None:
    panel = following_panel(
        "The data, and your drawing's neighbours",
        DATA_OPEN,
        ":material/dataset:",
        NEIGHBOURS_KEY,
    )
    if panel is None:
        return
    with panel:
        if not mnist_here("training digits"):
            return
        try:
            nearest, per_digit, average = st.tabs(
                ["Your drawing's nearest", "Examples of each digit", "The average digit"]
            )
            with nearest:
                _nearest_ui(net, image, drawn)
            with per_digit:
                st.caption(
                    f"The first {EXAMPLES_PER_DIGIT} training digits of each class, 0 at the "
                    "top: 50,000 of these, each with its label, are all a network here learns "
                    "from. Note how differently people write the same digit."
                )
                st.image(_examples_png(), output_format="PNG")
            with average:
                st.caption(
                    "Each class's 5,000 or so training digits averaged pixel by pixel: the "
                    "blur of every way people write it. Chapter 1's simplest baseline reads "
                    "a digit by how much ink it has compared with these (22 % right); a "
                    "network does far better by learning which strokes matter."
                )
                st.image(_averages_png(), output_format="PNG")
        except MnistError as e:
            st.error(f"The MNIST files on this server cannot be read: {e}")


def how_it_reads(net, image: np.ndarray, drawn=None, as_: str = "") -> tuple[int, str]:
    """The network's strongest output for a prepared drawing, and the words for it that agree
    with the page's verdict (nn.verdict): "reads **7**" for a digit it names, else "hesitates
    between **4** and **9**" or "is not sure it is a digit (its strongest output: **6**)".
    A panel saying "reads 6" where the answer box said "?" was not true (chromium). `as_`:
    words between "reads" and the digit ("it as "). `drawn`: what the canvas says about the
    drawing (nn.preprocess.Drawn), as the answer box judges with it."""
    reading = read(net, image)
    verdict = judge(np.asarray(image).reshape(28, 28), reading.output, drawn)
    top = reading.answer
    if verdict.kind == DIGIT:
        return top, f"reads {as_}**{top}**"
    if verdict.kind == CLOSE_CALL:
        first, second = verdict.digits
        return top, f"hesitates between **{first}** and **{second}**"
    return top, f"is not sure it is a digit (its strongest output: **{top}**)"


def _nearest_ui(net, image: np.ndarray | None, drawn=None) -> None:
    if image is None:
        st.caption(
            "Draw a digit above: its nearest training digits (plain pixel distance) appear "
            "here, with their labels, beside the network's answer."
        )
        return
    pool = _pool()
    near, distances = pool.nearest(image, NEIGHBOURS)
    labels = pool.labels[near]
    sample = shared_train_sample(TRAIN_POOL)
    tiles = _ink(sample.images[near], 1)
    names = [f"a {int(d)} · {r:.1f}" for d, r in zip(labels, distances)]
    answer, reads = how_it_reads(net, image, drawn)
    guess = vote(labels)
    st.image(
        _png(insight.tile_grid(tiles, names, columns=NEIGHBOURS, scale=3, gap=8)),
        output_format="PNG",  # as it is: "auto" would decode it and encode a JPEG
    )
    st.caption(
        f"The {NEIGHBOURS} training digits nearest to your drawing (among {len(pool.labels):,}), "
        "nearest first: its label and its distance (the square root of the summed squared "
        "differences of the 784 pixels, each 0 to 1)."
    )
    if guess == answer:
        st.success(
            f"They agree with the network: their vote is **{guess}**, and the network {reads}.",
            icon=":material/handshake:",
        )
    else:
        st.warning(
            f"A template matcher would answer differently: the {NEIGHBOURS} nearest vote "
            f"**{guess}** (most of them, ties to the nearest), but the network {reads}. Pixel "
            "distance only compares where the ink is; the network has learned which strokes "
            "matter.",
            icon=":material/call_split:",
        )


@st.fragment(key=NEIGHBOURS_KEY)
def neighbours_section_ui() -> None:
    """The panel for the network that answers, as a fragment a stroke reruns by key while
    the panel is open."""
    neighbours_ui(current().net, tab().drawing, tab().drawn)
