"""Operating on hidden neurons: switch one off, or scale its say in the answer, and see at
once what the network now answers for the drawing and how many of MNIST's 10,000 test
digits it still reads right. Part of the hidden neurons' panel (`ui.neurons`), under the
neuron the visitor opened.

The operated network is a copy (`nn.lab.operate`: each factor multiplies the neuron's
outgoing weights, 0 switches it off). It joins the picker as "Operated: <title> (#3 off,
#7 × 2)" and answers from then on (`ui.state.add_network`), so the drawing row, the other
panels, teaching and "Download this network" all use it; its metadata records what was done
(`operated`, `operated_from`) and its measured test accuracy. "Restore" removes it and gives
the answer back to the original. Operating on the operated copy again adds to the same
operation, always applied to the original's weights.

Cost: one copy of the network and one pass over the 10,000 test digits per click (the
original's accuracy is cached by fingerprint); nothing per stroke.

Its keys are TabState's `op_*` (ui.state): the original's label, the factors applied to
it, the operated copy's label, and a flag that reruns the whole page once after a click.
"""

from __future__ import annotations

import streamlit as st

from nn import insight
from nn.lab import describe_factors, operate
from nn.mnist import MnistError, find_mnist_dir, shared_test_set

from .state import (
    OP_FACTOR,
    OP_RESTORE,
    add_network,
    networks,
    remove_network,
    selected,
    set_value,
    tab,
    value_of,
)

FACTORS = (0.0, 0.5, 1.0, 2.0, 4.0)  # "off" and scalings offered


def _factor_name(factor: float) -> str:
    return {0.0: "off", 1.0: "as trained"}.get(factor, f"× {factor:g}")


@st.cache_data(max_entries=32, show_spinner=False)
def test_accuracy(key: str, _net) -> float | None:
    """The network's accuracy on MNIST's 10,000 test digits (key: its fingerprint), or None
    without MNIST."""
    if find_mnist_dir() is None:
        return None
    try:
        images, labels = shared_test_set()
    except MnistError:
        return None
    return insight.accuracy(_net, images, labels)


def operating() -> bool:
    """Whether the network that answers is an operated copy."""
    return bool(tab().op_label) and selected() == tab().op_label


def operate_ui(index: int, n: int, image) -> None:
    """The controls for neuron `index` of the answering network (`n` hidden neurons);
    `image` the drawing or None."""
    state = tab()
    rerun, state.op_rerun = state.op_rerun, False
    if rerun:
        st.rerun()  # a click in the panel's fragment: redraw the picker and the row too
    factors = state.op_factors if operating() else {}
    set_value(OP_FACTOR, factors.get(index, 1.0))
    box = st.container(key="operate", border=True)
    box.segmented_control(
        f"Operate on neuron #{index}: its say in the answer",
        FACTORS,
        key=OP_FACTOR,
        format_func=_factor_name,
        on_change=_set_factor,
        args=(index,),
        help="Off: its outgoing weights become 0, as if it never fired. × 2: its votes for "
        "and against each digit count twice. The network is copied; the original stays.",
    )
    if operating():
        _outcome_ui(box, image)


def _outcome_ui(box, drawing) -> None:
    state = tab()
    base, operated = networks().get(str(state.op_base)), networks().get(str(state.op_label))
    if base is None or operated is None:
        return
    before = test_accuracy(insight.fingerprint_once(base.net), base.net)
    after = operated.meta.get("test_accuracy")
    text = f"Operated: {describe_factors(state.op_factors)}."
    if before is not None and isinstance(after, float):
        text += (
            f" On MNIST's 10,000 test digits: {100 * before:.2f} % → {100 * after:.2f} % "
            f"({100 * (after - before):+.2f} points)."
        )
    if drawing is not None:
        was, now = base.net.predict(drawing.reshape(-1)), operated.net.predict(drawing.reshape(-1))
        text += f" Your drawing: read as **{was}** before, **{now}** now."
    row = box.container(horizontal=True, vertical_alignment="center")
    row.markdown(text)
    row.button("Restore", on_click=restore, icon=":material/undo:", key=OP_RESTORE)


def _set_factor(index: int) -> None:
    state = tab()
    factor = value_of(OP_FACTOR)
    if factor is None:  # the selected option clicked again: leave it as it is
        return
    if not operating():  # a new operation, on the network that answers now
        state.op_base, state.op_factors = selected(), {}
    factors = dict(state.op_factors)
    if float(factor) == 1.0:
        factors.pop(index, None)
    else:
        factors[index] = float(factor)
    if not factors:
        restore()
        return
    apply(factors)


def apply(factors: dict[int, float]) -> str:
    """Offer op_base operated with `factors` in the picker, answering; returns its label."""
    state = tab()
    base = networks()[str(state.op_base)]
    net = operate(base.net, factors)
    kept = ("settings", "seed", "epochs", "etas", "eta_changes")  # how it was trained
    meta = {key: value for key, value in base.meta.items() if key in kept}
    meta.update(
        name="operated on in the Digit Lab page",
        operated=describe_factors(factors),
        operated_factors={str(i): f for i, f in sorted(factors.items())},
        operated_from=str(state.op_base),
        test_accuracy=test_accuracy(insight.fingerprint_once(net), net),
    )
    title = str(state.op_base).split(":", 1)[0]
    state.op_factors = factors
    state.op_label = add_network(
        f"Operated: {title} ({describe_factors(factors)})", net, meta, replacing=state.op_label
    )
    state.op_rerun = True
    return state.op_label


def restore() -> None:
    """Remove the operated copy; the original answers again."""
    state = tab()
    remove_network(state.op_label, then_select=state.op_base)
    state.op_label, state.op_factors = None, {}
    state.op_rerun = True
