"""Measuring a network on MNIST's test digits in the page server, within a CPU bound.

Reading 10,000 digits costs the server about 0.25 us of CPU per parameter (one BLAS thread,
measured: [784, 200, 10] 0.05 s, [784, 1000, 10] 0.2 s, [784, 2000, 10] 0.4 s on an idle
core, twice that on a busy one). Networks up to `ANALYSE_MAX_PARAMS` are measured here
(the accuracy an upload is labelled with, the confusion matrix of "What it gets wrong");
larger ones are not measured, and the page says so. Each network is measured once per
server (by its weights' fingerprint) and only MNIST's test split is loaded (7.7 MB).

A file's own claim about its accuracy is never shown as a fact: `measured_accuracy` is.
"""

from __future__ import annotations

import logging

import streamlit as st

from nn import insight
from nn.mnist import MnistError, find_mnist_dir, shared_test_set
from nn.modelfile import parameter_count

from .bounds import ANALYSE_MAX_PARAMS

_LOG = logging.getLogger("digitlab.analysis")

NO_MNIST = "no_mnist"  # why a network was not measured: MNIST is not on this server
TOO_LARGE = "too_large"  # ... it is larger than the server measures
UNREADABLE = "unreadable"  # ... the MNIST files could not be read (logged)


def test_set():
    """MNIST's test digits (images, labels), or None when the files are not on the server.

    Raises MnistError when they are there but cannot be read."""
    if find_mnist_dir() is None:
        return None
    return shared_test_set()


def analysable(net) -> bool:
    """Whether the server measures this network itself (its parameter count is small
    enough for a fraction of a second of CPU)."""
    return parameter_count(net.sizes) <= ANALYSE_MAX_PARAMS and net.sizes[-1] == 10


@st.cache_resource(max_entries=12, show_spinner=False)
def _mistakes(key: str, _net) -> insight.Mistakes:
    images, labels = test_set()
    return insight.Mistakes.of(_net, images, labels)


def mistakes_of(net) -> insight.Mistakes:
    """The network's answers on the test digits (cached by fingerprint). Only for an
    `analysable` network, with MNIST on the server."""
    if not analysable(net):
        raise ValueError(f"{parameter_count(net.sizes):,} parameters: too large to measure here")
    return _mistakes(insight.fingerprint(net), net)


def measured_accuracy(net) -> tuple[float | None, str | None]:
    """(test accuracy measured now, None) or (None, why it was not measured)."""
    if not analysable(net):
        return None, TOO_LARGE
    try:
        if test_set() is None:
            return None, NO_MNIST
        mistakes = mistakes_of(net)
    except MnistError:
        _LOG.exception("MNIST's test files could not be read")
        return None, UNREADABLE
    return mistakes.correct / mistakes.total, None


def not_measured_text(why: str | None) -> str:
    """What a picker label says instead of an accuracy."""
    return {
        TOO_LARGE: "too large to measure here",
        NO_MNIST: "test accuracy not measured",
        UNREADABLE: "test accuracy not measured",
    }.get(why or "", "test accuracy not measured")
