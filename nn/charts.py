"""The training charts: accuracy and cost curves of a tab's runs, as plotly figures.

Plain functions of the runs' views (`RunHandle.view()`), so the page only places the
figures and tests can read the data without a browser. Each run keeps one colour across
both charts; validation accuracy is dashed, test accuracy solid. An eta change is a dotted
vertical line on the run's curve, labelled with the new eta. Reference lines: chance (10 %),
the "average darkness" baseline, and the book's result for the chosen preset.
"""

from __future__ import annotations

import plotly.graph_objects as go

COLOURS = ("#4cc9f0", "#f77f00", "#90be6d", "#f94144", "#b5179e", "#f9c74f", "#577590")
LAYOUT = dict(template="plotly_dark", height=320, margin=dict(l=10, r=10, t=40, b=10),
              legend=dict(orientation="h", yanchor="top", y=-0.2, x=0),
              paper_bgcolor="rgba(0,0,0,0)", plot_bgcolor="rgba(0,0,0,0)")


def colour(index: int) -> str:
    return COLOURS[index % len(COLOURS)]


def accuracy_figure(views: list[dict], references: dict[str, float]) -> go.Figure:
    """Validation and test accuracy (%) against epochs, one colour per run."""
    traces, shapes, notes = [], [], []
    for i, view in enumerate(views):
        points, label, id_ = view["history"], view["label"], view["id"]
        x = [p["epoch"] for p in points]
        traces.append(dict(type="scatter", x=x, y=[100 * p["test_accuracy"] for p in points],
                           name=f"{label}: test", mode="lines+markers",
                           line=dict(color=colour(i), width=2), marker=dict(size=4),
                           meta={"run": id_, "series": "test"}))
        traces.append(dict(type="scatter", x=x, y=[100 * p["val_accuracy"] for p in points],
                           name=f"{label}: validation", mode="lines",
                           line=dict(color=colour(i), width=1, dash="dash"),
                           meta={"run": id_, "series": "validation"}))
        for epoch, eta in view["eta_changes"]:
            shapes.append(dict(type="line", x0=epoch, x1=epoch, xref="x", y0=0, y1=1,
                               yref="paper", line=dict(color=colour(i), dash="dot", width=1)))
            notes.append(dict(text=f"eta {eta:g}", x=epoch, xref="x", y=1, yref="paper",
                              xanchor="right", yanchor="top", showarrow=False,
                              font=dict(color=colour(i))))
    for name, value in references.items():
        shapes.append(dict(type="line", x0=0, x1=1, xref="paper", y0=100 * value,
                           y1=100 * value, yref="y", line=dict(color="#888", dash="dot", width=1)))
        notes.append(dict(text=f"{name} {100 * value:.2f} %", x=1, xref="paper", y=100 * value,
                          yref="y", xanchor="right", yanchor="top", showarrow=False,
                          font=dict(color="#aaa")))
    # One Figure built from plain dicts: plotly's add_hline/add_vline cost tens of ms each,
    # and this figure is redrawn twice a second for every visitor who trains.
    return go.Figure(data=traces, layout=dict(
        title="Accuracy (%)", xaxis_title="epoch", yaxis_range=[0, 100], shapes=shapes,
        annotations=notes, **LAYOUT))


def cost_figure(views: list[dict]) -> go.Figure:
    """The training cost (on a fixed sample of training images) against epochs."""
    traces = [dict(type="scatter", x=[p["epoch"] for p in view["history"]],
                   y=[p["train_cost"] for p in view["history"]], name=view["label"],
                   mode="lines", line=dict(color=colour(i), width=2),
                   meta={"run": view["id"], "series": "cost"})
              for i, view in enumerate(views)]
    return go.Figure(data=traces, layout=dict(title="Training cost", xaxis_title="epoch",
                                              yaxis_type="log", showlegend=False, **LAYOUT))
