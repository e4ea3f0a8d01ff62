"""The drawing's and the training's charts, as plain plotly figure dicts, and the images'
pixel helpers.

Plain functions of plain data (a reading's activations, the runs' views from
`RunHandle.view()`), so the page only places the figures and tests read the data without a
browser. These figures are built as dicts, never through plotly's graph objects: `show()`
hands a dict to Streamlit without plotly checking it again (`ui.compat.unvalidated_figure`;
plotly's validation of a figure cost more than everything else a stroke does). The insight
panels (`ui.neurons`, `ui.mistakes`) build their few figures as plotly graph objects.

Training charts: each run keeps one colour across both; validation accuracy is dashed, test
accuracy solid. An eta change is a dotted vertical line on the run's curve, labelled with the
new eta. Reference lines: chance (10 %), the "average darkness" baseline, and the book's result
for the chosen preset.
"""

from __future__ import annotations

import functools

import numpy as np
import plotly.io as pio
import streamlit as st
from plotly.colors import get_colorscale

from .compat import unvalidated_figure

CONFIG = {"displayModeBar": False, "displaylogo": False}
ACCENT = "#ff4b4b"  # the answer's bar; the theme's primary colour
MUTED = "#5c6b80"  # the other bars
COLOURS = ("#4cc9f0", "#f77f00", "#90be6d", "#f94144", "#b5179e", "#f9c74f", "#577590")
LAYOUT = dict(
    height=320,
    margin=dict(l=10, r=10, t=40, b=10),
    legend=dict(orientation="h", yanchor="top", y=-0.2, x=0),
    paper_bgcolor="rgba(0,0,0,0)",
    plot_bgcolor="rgba(0,0,0,0)",
)
DIGITS = [str(d) for d in range(10)]
VIRIDIS = get_colorscale("Viridis")  # plotly's stops (plotly.js's own "Viridis" differs)


def show(spec: dict, key: str) -> None:
    """Place a figure dict on the page, full width, without plotly's mode bar."""
    st.plotly_chart(unvalidated_figure(spec), width="stretch", config=CONFIG, key=key)


@functools.cache
def template(name: str) -> dict:
    """A named plotly template as the dict plotly.js needs (it knows no names), built once.

    "streamlit" is the one Streamlit registers as plotly's default (what a go.Figure gets).
    """
    return pio.templates[name].to_plotly_json()


def colour(index: int) -> str:
    return COLOURS[index % len(COLOURS)]


def output_figure(output: np.ndarray, answer: int) -> dict:
    """The ten output activations as bars, the answer's in the accent colour."""
    values = [float(a) for a in output]
    return {
        "data": [
            {
                "type": "bar",
                "x": DIGITS,
                "y": values,
                "textposition": "outside",
                "text": [f"{a:.2f}" if a >= 0.05 else "" for a in values],  # label the bars you see
                "marker": {"color": [ACCENT if d == answer else MUTED for d in range(10)]},
                "hovertemplate": "digit %{x}: activation %{y:.3f}<extra></extra>",
            }
        ],
        "layout": {
            "title": {
                "text": "Output activations",
                "subtitle": {"text": "one neuron per digit; not probabilities"},
            },
            "template": template("streamlit"),
            "height": 280,
            "margin": {"l": 10, "r": 10, "t": 60, "b": 10},
            "xaxis": {"type": "category", "dtick": 1},
            "yaxis": {"title": {"text": "activation"}, "range": [0, 1.15], "tickvals": [0, 0.5, 1]},
        },
    }


def hidden_figure(layer: np.ndarray, name: str) -> dict:
    """One hidden layer's activations as a near-square heatmap."""
    grid = as_grid(layer)
    z = [[None if np.isnan(v) else float(v) for v in row] for row in grid]
    return {
        "data": [
            {
                "type": "heatmap",
                "z": z,
                "zmin": 0,
                "zmax": 1,
                "colorscale": VIRIDIS,
                "xgap": 2,
                "ygap": 2,
                "colorbar": {"thickness": 10, "tickvals": [0, 0.5, 1]},
                "hovertemplate": "activation %{z:.2f}<extra></extra>",
            }
        ],
        "layout": {
            "title": {
                "text": name,
                "subtitle": {"text": f"activations of its {len(layer)} neurons"},
            },
            "template": template("streamlit"),
            "height": 240,
            "margin": {"l": 10, "r": 10, "t": 60, "b": 10},
            "xaxis": {"visible": False},
            "yaxis": {"visible": False, "autorange": "reversed", "scaleanchor": "x"},
        },
    }


def accuracy_figure(views: list[dict], references: dict[str, float], zoom: bool = False) -> dict:
    """Validation and test accuracy (%) against epochs, one colour per run.

    `zoom` shows 80-100 %, where good runs differ.
    """
    traces, shapes, notes = [], [], []
    for i, view in enumerate(views):
        points, label, id_ = view["history"], view["label"], view["id"]
        x = [p["epoch"] for p in points]
        traces.append(
            dict(
                type="scatter",
                x=x,
                y=[100 * p["test_accuracy"] for p in points],
                name=f"{label}: test",
                mode="lines+markers",
                line=dict(color=colour(i), width=2),
                marker=dict(size=4),
                meta={"run": id_, "series": "test"},
            )
        )
        traces.append(
            dict(
                type="scatter",
                x=x,
                y=[100 * p["val_accuracy"] for p in points],
                name=f"{label}: validation",
                mode="lines",
                line=dict(color=colour(i), width=1, dash="dash"),
                meta={"run": id_, "series": "validation"},
            )
        )
        for epoch, eta in view["eta_changes"]:
            shapes.append(
                dict(
                    type="line",
                    x0=epoch,
                    x1=epoch,
                    xref="x",
                    y0=0,
                    y1=1,
                    yref="paper",
                    line=dict(color=colour(i), dash="dot", width=1),
                )
            )
            notes.append(
                dict(
                    text=f"eta {eta:g}",
                    x=epoch,
                    xref="x",
                    y=1,
                    yref="paper",
                    xanchor="right",
                    yanchor="top",
                    showarrow=False,
                    font=dict(color=colour(i)),
                )
            )
    for name, value in references.items():
        shapes.append(
            dict(
                type="line",
                x0=0,
                x1=1,
                xref="paper",
                y0=100 * value,
                y1=100 * value,
                yref="y",
                line=dict(color="#888", dash="dot", width=1),
            )
        )
        notes.append(
            dict(
                text=f"{name} {100 * value:.2f} %",
                x=1,
                xref="paper",
                y=100 * value,
                yref="y",
                xanchor="right",
                yanchor="top",
                showarrow=False,
                font=dict(color="#aaa"),
            )
        )
    return {
        "data": traces,
        "layout": dict(
            title={"text": "Accuracy (%)"},
            xaxis={"title": {"text": "epoch"}},
            yaxis={"range": [80, 100] if zoom else [0, 100]},
            shapes=shapes,
            annotations=notes,
            template=template("plotly_dark"),
            **LAYOUT,
        ),
    }


def cost_figure(views: list[dict]) -> dict:
    """The training cost (on a fixed sample of training images) against epochs."""
    traces = [
        dict(
            type="scatter",
            x=[p["epoch"] for p in view["history"]],
            y=[p["train_cost"] for p in view["history"]],
            name=view["label"],
            mode="lines",
            line=dict(color=colour(i), width=2),
            meta={"run": view["id"], "series": "cost"},
        )
        for i, view in enumerate(views)
    ]
    return {
        "data": traces,
        "layout": dict(
            title={"text": "Training cost"},
            xaxis={"title": {"text": "epoch"}},
            yaxis={"type": "log"},
            showlegend=False,
            template=template("plotly_dark"),
            **LAYOUT,
        ),
    }


def pixelated(image: np.ndarray, scale: int = 8) -> np.ndarray:
    """A (28, 28) [0, 1] image enlarged `scale` times with square pixels, as uint8 grey.

    Enlarging here (not in the browser) keeps the pixels crisp whatever the browser's
    smoothing, so a visitor sees the 28x28 grid the network reads.
    """
    grey = np.rint(np.clip(image, 0.0, 1.0) * 255).astype(np.uint8)
    return np.repeat(np.repeat(grey, scale, axis=0), scale, axis=1)


def as_grid(values: np.ndarray) -> np.ndarray:
    """N values laid out row by row in a near-square grid (ceil(sqrt N) columns), NaN-padded.

    30 hidden neurons become 5 rows of 6, 100 become 10 rows of 10.
    """
    values = np.asarray(values, dtype=np.float64).reshape(-1)
    cols = max(1, int(np.ceil(np.sqrt(values.size))))
    rows = max(1, -(-values.size // cols))
    grid = np.full(rows * cols, np.nan)
    grid[: values.size] = values
    return grid.reshape(rows, cols)
