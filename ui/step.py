"""The step panel: the mini-batch a run just did, shown under the live curves while the run is
paused (after a Step) or in slow motion.

Everything shown was computed in the run's worker (`nn.lookstep.StepLook`, in the run's view
as `last_step`); this module only draws it: the batch's images with the network's outputs and
the desired ones, the output error (BP1) and the hidden layer's error (BP2) as heatmaps, the
change the step made to one hidden neuron's 784 weights as a 28x28 picture (BP4), and the
batch's cost before and after. The figures are plain dicts, like `ui.charts`'.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from nn.lookstep import StepLook
from nn.protocol import State

from .charts import DIGITS, VIRIDIS, pixelated, show, template
from .state import STEP_BP1, STEP_BP2, STEP_BP4, STEP_NEURON, STEP_OUTPUTS, tab

MOST = "the one that changed most"
DIVERGING = "RdBu"  # plotly.js's: blue below zero, red above, grey at zero (with zmid=0)


def shown(view) -> bool:
    """Whether the panel belongs on the page: a looked-at step, and a run a person follows."""
    if view.last_step is None or view.over:
        return False
    return view.state is State.PAUSED or view.speed == "slow"


def step_panel_ui(view, handle) -> None:
    if not shown(view):
        return
    look: StepLook = view.last_step
    with st.container(border=True):
        st.markdown(f"**The mini-batch just done** (number {look.number + 1:,})")
        st.caption(summary(look))
        st.image(strip(look.images), caption=answers(look))
        left, right = st.columns(2)
        with left:
            show(outputs_figure(look), key=STEP_OUTPUTS)
            show(delta_out_figure(look), key=STEP_BP1)
        with right:
            show(delta_hidden_figure(look), key=STEP_BP2)
            neuron_picker_ui(look, handle)
            show(weight_change_figure(look), key=STEP_BP4)


def summary(look: StepLook) -> str:
    change = look.cost_after - look.cost_before
    return (
        f"At epoch {look.epoch:.3f}: m = {look.size} training images, eta = {look.eta:g}. "
        f"Cost C of this mini-batch: {look.cost_before:.4f} before the step, "
        f"{look.cost_after:.4f} after ({_signed(change)}). Below, its first {len(look.labels)}."
    )


def answers(look: StepLook) -> str:
    read = np.argmax(look.outputs, axis=1)
    pairs = ", ".join(f"{y}→{a}" for y, a in zip(look.labels.tolist(), read.tolist()))
    return f"desired digit → the network's answer before the step: {pairs}"


def strip(images: np.ndarray, scale: int = 3, gap: int = 4) -> np.ndarray:
    """The images side by side, enlarged with square pixels, on a dark gap."""
    size = 28 * scale
    out = np.full((size, len(images) * (size + gap) - gap), 40, dtype=np.uint8)
    for k, image in enumerate(images):
        x = k * (size + gap)
        out[:, x : x + size] = pixelated(image.reshape(28, 28) / 255.0, scale)
    return out


def rows(look: StepLook) -> list[str]:
    """'x1 (7)': the batch's images (the book's training inputs x) with their desired digits;
    "#12" names a neuron, on this panel as everywhere on the page. ("image 1 (7)" took a
    third of the outputs heatmap's width on a laptop.)"""
    return [f"x{k + 1} ({y})" for k, y in enumerate(look.labels.tolist())]


def _heatmap(z, x, y, title, subtitle, *, diverging=True, height=260) -> dict:
    values = np.asarray(z, dtype=np.float64)
    top = float(np.max(np.abs(values))) or 1.0
    digits = max(0, 3 - int(np.floor(np.log10(top))))  # 4 significant digits of the largest
    trace = {
        "type": "heatmap",
        "z": values.round(digits).tolist(),
        "x": x,
        "y": y,
        "xgap": 1,
        "ygap": 1,
        "colorbar": {"thickness": 10},
        "hovertemplate": "%{y}, %{x}: %{z:.4f}<extra></extra>",
    }
    if diverging:
        trace.update(colorscale=DIVERGING, zmid=0, zmin=-top, zmax=top)
    else:
        trace.update(colorscale=VIRIDIS, zmin=0, zmax=1)
    return {
        "data": [trace],
        "layout": {
            "title": {"text": title, "subtitle": {"text": subtitle}},
            "template": template("streamlit"),
            "height": height,
            "margin": {"l": 10, "r": 10, "t": 70, "b": 10},
            "xaxis": {"type": "category"},
            "yaxis": {"type": "category", "autorange": "reversed"},
        },
    }


def outputs_figure(look: StepLook) -> dict:
    """a^L per image, with the desired output (y = 1 for the image's digit) circled."""
    figure = _heatmap(
        look.outputs,
        DIGITS,
        rows(look),
        "Outputs a<sup>L</sup> and desired y",
        "one row per image x; ○ marks y = 1",
        diverging=False,
    )
    figure["data"].append(
        {
            "type": "scatter",
            "mode": "markers",
            "x": [str(d) for d in look.labels.tolist()],
            "y": rows(look),
            "marker": {
                "symbol": "circle-open",
                "size": 14,
                "color": "#ff4b4b",
                "line": {"width": 2},
            },
            "hovertemplate": "desired: %{x}<extra></extra>",
            "showlegend": False,
        }
    )
    return figure


def delta_out_figure(look: StepLook) -> dict:
    return _heatmap(
        look.delta_out,
        DIGITS,
        rows(look),
        "BP1: output error δ<sup>L</sup>",
        "= ∇<sub>a</sub>C ⊙ σ′(z<sup>L</sup>); red: output too high, blue: too low",
    )


def delta_hidden_figure(look: StepLook) -> dict:
    neurons = [str(j) for j in range(look.delta_hidden.shape[1])]
    figure = _heatmap(
        look.delta_hidden,
        neurons,
        rows(look),
        "BP2: hidden error δ<sup>l</sup>",
        "= ((w<sup>l+1</sup>)<sup>T</sup>δ<sup>l+1</sup>) ⊙ σ′(z<sup>l</sup>); a column per neuron",
    )
    figure["data"][0]["hovertemplate"] = "%{y}, neuron #%{x}: %{z:.4f}<extra></extra>"
    return figure


def _signed(change: float) -> str:
    """A cost change to four decimals, and one too small for them said so (never '-0.0000')."""
    if abs(change) < 5e-5:
        return "under 0.0001 either way"
    return f"{change:+.4f}"


def weight_change_figure(look: StepLook) -> dict:
    figure = _heatmap(
        look.weight_change.reshape(28, 28),
        None,
        None,
        f"BP4: neuron #{look.neuron}'s weight change",
        "Δw = −(η/m) Σ<sub>x</sub> δ<sub>j</sub> a<sup>l−1</sup><br>what this batch taught it"
        " (red: grew)",
        height=320,
    )
    figure["data"][0].pop("x")
    figure["data"][0].pop("y")
    figure["data"][0]["hovertemplate"] = "pixel (%{x}, %{y}): Δw %{z:.5f}<extra></extra>"
    figure["layout"]["xaxis"] = {"visible": False}
    figure["layout"]["yaxis"] = {"visible": False, "autorange": "reversed", "scaleanchor": "x"}
    figure["layout"]["margin"]["t"] = 90  # the subtitle's two lines
    return figure


def neuron_picker_ui(look: StepLook, handle) -> None:
    """Which hidden neuron's weight change the next steps keep (asked of the worker)."""
    options = [MOST, *range(len(look.changes))]
    choice = st.selectbox(
        "Hidden neuron for BP4",
        options,
        key=STEP_NEURON,
        format_func=lambda option: option if option == MOST else f"#{option}",
        help="The worker keeps one neuron's weight change per step; by default the one whose "
        "weights this mini-batch changed most. Your choice applies from the next step.",
    )
    wanted = None if choice == MOST else int(choice)
    sent = tab().step_neuron_sent  # what each run was told (a new run: nothing yet)
    if sent.get(handle.id, MOST) != choice:
        sent[handle.id] = choice
        handle.watch(wanted)
