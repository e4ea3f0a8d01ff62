"""The drawing's and the training's charts, as plain plotly figure dicts, and the images'
pixel helpers.

Plain functions of plain data (a reading's activations, the runs' `runs.view.RunView`s),
so the page only places the figures and tests read the data without a browser. Figures
are built as dicts, never through plotly's graph objects: `show()` hands a dict to Streamlit
without plotly checking it again (`ui.compat.unvalidated_figure`; plotly's validation of a
figure cost more than everything else a stroke does). The insight panels (`ui.neurons`,
`ui.mistakes`) build their few figures as plotly graph objects.

Training charts: each run keeps one colour across both; validation accuracy is dashed, test
accuracy solid. Under each run's training cost, every mini-batch's cost, thinned by the
run's worker (`cost_figure`). An eta change is a dotted vertical line on the run's curve,
labelled with the new eta. Reference lines: chance (10 %), the "average darkness" baseline,
and the book's result for the chosen preset.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import plotly.io as pio
import streamlit as st
from plotly.colors import get_colorscale

from nn.trainer import BAND, COST_SAMPLE

from .compat import unvalidated_figure

CONFIG = {"displayModeBar": False, "displaylogo": False}
ACCENT = "#ff4b4b"  # the answer's bar; the theme's primary colour
MUTED = "#5c6b80"  # the other bars
COLOURS = ("#4cc9f0", "#f77f00", "#90be6d", "#f94144", "#b5179e", "#f9c74f", "#577590")
LAYOUT = dict(
    height=320,
    margin=dict(l=10, r=10, t=40, b=10),
    legend=dict(orientation="h", yanchor="top", y=-0.28, x=0),  # under the axis's title
    paper_bgcolor="rgba(0,0,0,0)",
    plot_bgcolor="rgba(0,0,0,0)",
)
DIGITS = [str(d) for d in range(10)]
VIRIDIS = get_colorscale("Viridis")  # plotly's stops (plotly.js's own "Viridis" differs)


def show(spec: dict, key: str, on_select=None):
    """Place a figure dict on the page, full width, without plotly's mode bar.

    With `on_select` ("rerun" or a callback) a click on a point selects it: the chart is
    then a widget and its selection (`selection.points`, each with its `customdata`) is in
    st.session_state[key]; returned too."""
    if on_select is None:
        return st.plotly_chart(unvalidated_figure(spec), width="stretch", config=CONFIG, key=key)
    return st.plotly_chart(
        unvalidated_figure(spec),
        width="stretch",
        config=CONFIG,
        key=key,
        on_select=on_select,
        selection_mode="points",
    )


def picked(selection) -> list | None:
    """The customdata of the point a click selected on a `show(..., on_select=...)` chart
    (its widget value or return value), or None."""
    try:
        points = selection["selection"]["points"]
    except (KeyError, TypeError, AttributeError):
        return None
    for point in points or ():
        data = point.get("customdata") if isinstance(point, dict) else None
        if data is not None:
            return list(data) if isinstance(data, (list, tuple)) else [data]
    return None


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
    """One hidden layer's activations as a near-square heatmap, neuron 0 at the top left,
    row by row. Over each square an invisible point carries the neuron's number (hover: "neuron
    #i", click: selects it; a heatmap's own squares cannot be selected in plotly)."""
    grid = as_grid(layer)
    z = [[None if np.isnan(v) else float(v) for v in row] for row in grid]
    cols = grid.shape[1]
    n = len(layer)
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
                "hoverinfo": "skip",
            },
            {
                "type": "scatter",
                "mode": "markers",
                "x": [i % cols for i in range(n)],
                "y": [i // cols for i in range(n)],
                "customdata": list(range(n)),
                "text": [f"{float(a):.2f}" for a in layer],
                "marker": {"symbol": "square", "size": 12, "color": "rgba(0,0,0,0)"},
                "selected": {"marker": {"opacity": 1}},
                "unselected": {"marker": {"opacity": 1}},
                "hovertemplate": "neuron #%{customdata}: activation %{text}<extra></extra>",
                "showlegend": False,
            },
        ],
        "layout": {
            "title": {
                "text": name,
                "subtitle": {"text": f"activations of its {n} neurons; click one to open it"},
            },
            "template": template("streamlit"),
            "height": 240,
            "margin": {"l": 10, "r": 10, "t": 60, "b": 10},
            "xaxis": {"visible": False, "range": [-0.5, cols - 0.5]},
            "yaxis": {"visible": False, "range": [len(z) - 0.5, -0.5], "scaleanchor": "x"},
            "hoverdistance": -1,  # the nearest square answers wherever the pointer is
        },
    }


def image_grid_figure(
    png: bytes,
    size: tuple[int, int],
    centres: list[tuple[float, float]],
    neurons: list[int],
    hover: list[str],
) -> dict:
    """A picture (PNG bytes, (width, height) px) of a grid of neurons, with an invisible point
    over each tile carrying its neuron's number: hover names it, a click selects it."""
    import base64

    width, height = size
    source = "data:image/png;base64," + base64.b64encode(png).decode("ascii")
    return {
        "data": [
            {
                "type": "scatter",
                "mode": "markers",
                "x": [x for x, _ in centres],
                "y": [y for _, y in centres],
                "customdata": [int(i) for i in neurons],
                "text": hover,
                "marker": {"symbol": "square", "size": 24, "color": "rgba(0,0,0,0)"},
                "selected": {"marker": {"opacity": 1}},
                "unselected": {"marker": {"opacity": 1}},
                "hovertemplate": "%{text}<extra></extra>",
                "showlegend": False,
            }
        ],
        "layout": {
            "images": [
                {
                    "source": source,
                    "xref": "x",
                    "yref": "y",
                    "x": 0,
                    "y": 0,
                    "sizex": width,
                    "sizey": height,
                    "sizing": "stretch",
                    "layer": "below",
                    "xanchor": "left",
                    "yanchor": "top",
                }
            ],
            "height": height,
            "margin": {"l": 0, "r": 0, "t": 0, "b": 0},
            "paper_bgcolor": "rgba(0,0,0,0)",
            "plot_bgcolor": "rgba(0,0,0,0)",
            "xaxis": {
                "range": [0, width],
                "visible": False,
                "fixedrange": True,
                "constrain": "domain",
                "constraintoward": "left",
            },
            "yaxis": {
                "range": [height, 0],
                "visible": False,
                "fixedrange": True,
                "scaleanchor": "x",
                "constrain": "domain",
                "constraintoward": "top",
            },
            "hovermode": "closest",
            "hoverdistance": -1,  # the nearest tile answers wherever the pointer is
        },
    }


PLOT_HEIGHT_PX = 200  # the training charts' plot area, at least (320 px less title, axes, legend)
PLOT_WIDTH_PX = 300  # ... and its width on a phone: label sizes are judged against these
LABEL_PX = (14, 7)  # one line of annotation text: height, width per character


def place_labels(
    values: list[float], span: float, taken_already: dict | None = None, top: float = 100.0
) -> list[tuple[str, str]]:
    """For reference lines at `values` (data units, `span` the axis's visible range, `top`
    its upper end), where to write each one's label so that no two overprint: (xanchor,
    yanchor) each, "right" or "left" of the chart, "bottom" (over its line) or "top" (under
    it). Over the line first, where at least half of it is inside the chart: a run that
    nears a reference from below (the book's 95.42 %) then ends under its label, not behind
    it. Only on the right may a label rise above the plot: on the left the subtitle is there
    (seen in chromium: "the book 95.42 %" over "solid: test digits"). `taken_already`: side -> (low,
    high) ranges other labels hold there (the eta changes' rows at the top)."""
    height = span * LABEL_PX[0] / PLOT_HEIGHT_PX
    taken: dict[str, list[tuple[float, float]]] = {"right": [], "left": []}
    for side, ranges in (taken_already or {}).items():
        taken[side] += list(ranges)
    over = (("right", "bottom"), ("right", "top"), ("left", "bottom"), ("left", "top"))
    under = (("right", "top"), ("right", "bottom"), ("left", "top"), ("left", "bottom"))
    placed: dict[int, tuple[str, str]] = {}
    for i in sorted(range(len(values)), key=lambda i: -values[i]):  # from the top down
        v = values[i]
        slots = over if v + height / 2 <= top else under  # (half of it may rise above)
        for side, anchor in slots:
            low, high = (v - height, v) if anchor == "top" else (v, v + height)
            if side == "left" and high > top:
                continue  # the title's subtitle is over the plot's left end: no rising there
            if all(high <= a or low >= b for a, b in taken[side]):
                break
        else:  # four labels within one line's height: the last slot, as good as any
            side, anchor = slots[len(placed) % 4]
            low, high = (v - height, v) if anchor == "top" else (v, v + height)
        taken[side].append((low, high))
        placed[i] = (side, anchor)
    return [placed[i] for i in range(len(values))]


def label_rows(starts: list[float], widths: list[float]) -> list[int]:
    """Rows for labels that each cover [start - width, start] on one axis (written to the
    left of their x): the first row where no earlier label in it overlaps, 0 = top."""
    ends: list[float] = []  # per row, the right end of the last label placed in it
    rows = [0] * len(starts)
    for i in sorted(range(len(starts)), key=lambda i: starts[i]):
        left = starts[i] - widths[i]
        row = next((r for r, end in enumerate(ends) if left > end), len(ends))
        if row == len(ends):
            ends.append(starts[i])
        else:
            ends[row] = starts[i]
        rows[i] = row
    return rows


def accuracy_figure(views: list, references: dict[str, float], zoom: bool = False) -> dict:
    """Validation and test accuracy (%) against epochs, one colour per run.

    `zoom` shows 80-100 %, where good runs differ. Labels never overprint: reference lines'
    labels go under or over their line, right or left (`place_labels`); eta changes' labels
    stack in rows at the top when they are close (`label_rows`).
    """
    low, high = (80, 100) if zoom else (0, 100)
    traces, shapes, notes = [], [], []
    changes = []  # (epoch, eta, colour)
    x_max = 1.0
    for i, view in enumerate(views):
        points, label, id_ = view.history, view.label, view.id
        x = [p.epoch for p in points]
        x_max = max([x_max, *x, *(epoch for epoch, _ in view.eta_changes)])
        traces.append(
            dict(
                type="scatter",
                x=x,
                y=[100 * p.test_accuracy for p in points],
                name=label,  # the legend names runs; the subtitle says which line is which
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
                y=[100 * p.val_accuracy for p in points],
                name=f"{label}: validation",
                mode="lines",
                showlegend=False,  # one legend line per run: a phone has room for few
                line=dict(color=colour(i), width=1, dash="dash"),
                meta={"run": id_, "series": "validation"},
            )
        )
        changes += [(epoch, eta, colour(i)) for epoch, eta in view.eta_changes]
    texts = [f"eta {eta:g}" for _, eta, _ in changes]
    per_px = x_max / PLOT_WIDTH_PX
    rows = label_rows(
        [epoch for epoch, _, _ in changes], [(len(t) + 1) * LABEL_PX[1] * per_px for t in texts]
    )
    row_height = LABEL_PX[0] / PLOT_HEIGHT_PX
    for (epoch, _, line_colour), text, row in zip(changes, texts, rows):
        shapes.append(
            dict(
                type="line",
                x0=epoch,
                x1=epoch,
                xref="x",
                y0=0,
                y1=1,
                yref="paper",
                line=dict(color=line_colour, dash="dot", width=1),
            )
        )
        notes.append(
            dict(
                text=text,
                x=epoch,
                xref="x",
                y=1 - row * row_height,
                yref="paper",
                xanchor="right",
                yanchor="top",
                showarrow=False,
                font=dict(color=line_colour),
                bgcolor="rgba(17,17,17,0.75)",  # legible where it crosses a curve
            )
        )
    shown = {name: 100 * value for name, value in references.items() if low <= 100 * value <= high}
    # The eta labels' rows at the top hold the chart's right or left side where they reach
    # into it (a reference label is written at most ~20 characters from its side)
    widest = max((len(f"{name} {v:.2f} %") for name, v in shown.items()), default=0)
    zone = widest * LABEL_PX[1] * per_px
    eta_rows: dict[str, list[tuple[float, float]]] = {"right": [], "left": []}
    for (epoch, _, _), text, row in zip(changes, texts, rows):
        top = high - row * (high - low) * row_height
        band = (top - (high - low) * row_height, top)
        if epoch > x_max - zone:
            eta_rows["right"].append(band)
        if epoch - (len(text) + 1) * LABEL_PX[1] * per_px < zone:
            eta_rows["left"].append(band)
    places = place_labels(list(shown.values()), high - low, eta_rows, top=high)
    for (name, value), (side, anchor) in zip(shown.items(), places):
        shapes.append(
            dict(
                type="line",
                x0=0,
                x1=1,
                xref="paper",
                y0=value,
                y1=value,
                yref="y",
                line=dict(color="#888", dash="dot", width=1),
            )
        )
        notes.append(
            dict(
                text=f"{name} {value:.2f} %",
                x=1 if side == "right" else 0,
                xref="paper",
                y=value,
                yref="y",
                xanchor=side,
                yanchor=anchor,
                showarrow=False,
                font=dict(color="#aaa"),
                bgcolor="rgba(17,17,17,0.75)",
            )
        )
    return {
        "data": traces,
        "layout": dict(
            title={
                "text": "Accuracy (%)",
                "subtitle": {"text": "solid: test digits · dashed: validation digits"},
            },
            xaxis={"title": {"text": "epoch"}},
            yaxis={"range": [low, high]},
            shapes=shapes,
            annotations=notes,
            template=template("plotly_dark"),
            **{**LAYOUT, "margin": dict(l=10, r=10, t=60, b=10)},  # room for the subtitle
        ),
    }


def value_axis(values, room: float = 0.12) -> dict:
    """A linear axis (range and ticks) for bars of `values` and 0, whose ticks all lie inside
    the bars' own extent and whose range reaches `room` of the extent beyond it on both
    sides: no tick label sits on the plot's edge, where it would print over a subtitle above
    the plot. Ticks are 1, 2 or 5 times a power of ten apart, about four of them."""
    finite = [float(v) for v in np.asarray(values, dtype=float).ravel() if np.isfinite(v)]
    low, high = min([0.0, *finite]), max([0.0, *finite])
    if high - low < 1e-12:  # nothing to show (a neuron switched off): a plain -1..1 axis
        low, high = -1.0, 1.0
    span = high - low
    magnitude = 10 ** math.floor(math.log10(span / 4))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= span / 4)
    first = math.ceil(low / step - 1e-9)
    ticks = []
    for k in range(first, first + 12):
        tick = k * step
        if tick > high + 1e-9 * span:
            break
        ticks.append(round(tick, 12))
    return {"range": [low - room * span, high + room * span], "tickvals": ticks}


def log_ticks(values) -> list[float]:
    """Tick values for a log axis over `values`: 1, 2 and 5 times powers of ten inside their
    range (at least two; the range's ends when it holds fewer)."""
    values = [v for v in values if v > 0 and np.isfinite(v)]
    if not values:
        return []
    low, high = min(values), max(values)
    ticks = [
        m * 10.0**k
        for k in range(int(np.floor(np.log10(low))), int(np.ceil(np.log10(high))) + 1)
        for m in (1, 2, 5)
        if low <= m * 10.0**k <= high
    ]
    if len(ticks) < 2:
        ticks = sorted({float(f"{low:.2g}"), *ticks, float(f"{high:.2g}")})
    decades = np.log10(high / low)
    if decades > 3:  # 1-2-5 would crowd the axis: powers of ten, every other one past 6
        every = 2 if decades > 6 else 1
        tens = [t for t in ticks if f"{t:.0e}".startswith("1e")]
        ticks = tens[::every] if len(tens) >= 2 else ticks
    return ticks


def cost_figure(views: list) -> dict:
    """The training cost against epochs, on a log axis with a title and plain-number ticks
    (1-2-5 steps): for each run its cost on a fixed sample of training images at each point
    (a bold line) and, under it, every mini-batch's own cost as the run's worker saw it
    (`RunView.cost_bins`: a thin line through each bin's mean and a light band over the
    middle 80 % of its mini-batches), so SGD's noise shows around the curve it follows."""
    traces: list[dict] = []
    for i, view in enumerate(views):
        traces += batch_cost_traces(view, colour(i), legend=i == len(views) - 1)
    traces += [
        dict(
            type="scatter",
            x=[p.epoch for p in view.history],
            y=[p.train_cost for p in view.history],
            name=f"cost on {COST_SAMPLE:,} training images",
            legendgroup="sample",
            showlegend=i == len(views) - 1,  # one entry for the kind of line, not per run
            mode="lines",
            line=dict(color=colour(i), width=2),
            meta={"run": view.id, "series": "cost"},
        )
        for i, view in enumerate(views)
    ]
    ys = np.concatenate([np.asarray(t["y"], dtype=float) for t in traces] or [np.empty(0)])
    ys = ys[np.isfinite(ys) & (ys > 0)]  # (None becomes NaN)
    ticks = log_ticks([ys.min(), ys.max()] if len(ys) else [])  # (the ends decide them)
    yaxis: dict = {"type": "log", "title": {"text": "cost (log scale)"}}
    if ticks:
        yaxis.update(tickvals=ticks, ticktext=[f"{t:g}" for t in ticks])
    return {
        "data": traces,
        "layout": dict(
            title={"text": "Training cost"},
            xaxis={"title": {"text": "epoch"}},
            yaxis=yaxis,
            template=template("plotly_dark"),
            **{**LAYOUT, "height": 340},  # the legend's two entries under the axis title
        ),
    }


def batch_cost_traces(view, line_colour: str, legend: bool) -> list[dict]:
    """A run's mini-batch costs (`nn.trainer.CostBin`s) as three traces: the band's lower
    edge, its upper edge filled down to it, and the thin line of the means; [] if none."""
    bins = getattr(view, "cost_bins", ())
    if not bins:
        return []
    columns = np.asarray(bins, dtype=np.float64)  # (n, 5): epoch, mean, low, high, batches
    x, mean, low, high = short(columns[:, :4].T)
    per = int(columns[:, 4].max())
    name = (
        "each mini-batch's cost"
        if per == 1
        else f"mini-batch cost: mean of {per}, middle {BAND[1] - BAND[0]} % shaded"
    )
    band = dict(type="scatter", x=x, mode="lines", line=dict(width=0), hoverinfo="skip")
    meta = {"run": view.id, "series": "batch cost"}
    return [
        {**band, "y": low, "showlegend": False, "legendgroup": "batches", "meta": meta},
        {
            **band,
            "y": high,
            "fill": "tonexty",
            "fillcolor": translucent(line_colour, 0.18),
            "showlegend": False,
            "legendgroup": "batches",
            "meta": meta,
        },
        dict(
            type="scatter",
            x=x,
            y=mean,
            name=name,
            legendgroup="batches",
            showlegend=legend,
            mode="lines",
            line=dict(color=translucent(line_colour, 0.55), width=1),
            hovertemplate="epoch %{x:.3f}: mini-batch cost %{y:.3g}<extra></extra>",
            meta=meta,
        ),
    ]


def translucent(hex_colour: str, alpha: float) -> str:
    """'#4cc9f0' -> 'rgba(76,201,240,0.18)'."""
    r, g, b = (int(hex_colour[k : k + 2], 16) for k in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


def short(values, digits: int = 4) -> list:
    """Values rounded to `digits` significant digits (at least to whole numbers), as floats
    whose JSON is short: a chart of 1,000 points sent twice a second costs half the bytes.
    A list for a 1-d array, a list of lists for 2-d (one per row)."""
    v = np.asarray(values, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        places = digits - 1 - np.floor(np.log10(np.abs(v)))
    scale = 10.0 ** np.clip(np.nan_to_num(places, posinf=0.0, neginf=0.0), 0, 15)
    rounded = np.rint(v * scale) / scale
    if np.isfinite(v).all():
        return rounded.tolist()
    # JSON has no NaN: a gap in the line
    gaps = rounded.astype(object)
    gaps[~np.isfinite(rounded)] = None
    return gaps.tolist()


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


# --- the lab's figures -----------------------------------------------------------------------

DIGIT_COLOURS = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
)  # one per digit, 0-9 (a common qualitative palette)


def map_traces(points: np.ndarray, labels: np.ndarray, answers: np.ndarray) -> list[dict]:
    """The map's digits: one trace per true digit (its legend entry), each point's
    customdata [test index, digit read]. Built once per map: a stroke only adds its point."""
    traces = []
    for d in range(10):
        where = np.flatnonzero(labels == d)
        traces.append(
            {
                "type": "scatter",
                "mode": "markers",
                "name": str(d),
                "x": np.round(points[where, 0], 3).tolist(),
                "y": np.round(points[where, 1], 3).tolist(),
                "customdata": [[int(i), int(answers[i])] for i in where],
                "marker": {"color": DIGIT_COLOURS[d], "size": 6, "opacity": 0.9},
                "hovertemplate": f"test digit #%{{customdata[0]}}: a {d}, read as "
                "%{customdata[1]}<extra></extra>",
            }
        )
    return traces


def map_figure(traces: list[dict], drawing: tuple[float, float] | None, explained) -> dict:
    """The hidden layer's map: the digits' traces and, if any, the drawing as a star."""
    data = list(traces)
    if drawing is not None:
        data.append(
            {
                "type": "scatter",
                "mode": "markers+text",
                "name": "your drawing",
                "x": [drawing[0]],
                "y": [drawing[1]],
                "text": ["you"],
                "textposition": "top center",
                "textfont": {"size": 13},
                "cliponaxis": False,
                "marker": {
                    "symbol": "star",
                    "size": 20,
                    "color": ACCENT,
                    "line": {"color": "#ffffff", "width": 1.5},
                },
                "hovertemplate": "your drawing<extra></extra>",
                # a clicked dot dims every other point, the star too (seen in chromium):
                # the drawing stays in full colour, and its label with it
                "selected": {"marker": {"opacity": 1}},
                "unselected": {"marker": {"opacity": 1}, "textfont": {"color": "#ffffff"}},
            }
        )
    return {
        "data": data,
        "layout": {
            "template": template("streamlit"),
            "height": 460,
            "margin": {"l": 10, "r": 10, "t": 10, "b": 10},
            "legend": {
                "orientation": "h",
                "y": -0.12,
                "x": 0,
                "itemsizing": "constant",
                "entrywidth": 30,  # narrow entries: the ten digits fit a phone's width
                "entrywidthmode": "pixels",
            },
            "xaxis": {
                "title": {"text": f"1st direction ({100 * explained[0]:.0f} % of the variance)"},
                "zeroline": False,
                "showticklabels": False,
            },
            "yaxis": {
                "title": {"text": f"2nd ({100 * explained[1]:.0f} %)"},
                "zeroline": False,
                "showticklabels": False,
            },
        },
    }
