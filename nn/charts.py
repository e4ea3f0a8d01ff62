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
    fig = go.Figure()
    for i, view in enumerate(views):
        points = view["history"]
        x = [p["epoch"] for p in points]
        label = view["label"]
        fig.add_trace(go.Scatter(x=x, y=[100 * p["test_accuracy"] for p in points],
                                 name=f"{label}: test", mode="lines+markers",
                                 line=dict(color=colour(i), width=2), marker=dict(size=4),
                                 meta={"run": view["id"], "series": "test"}))
        fig.add_trace(go.Scatter(x=x, y=[100 * p["val_accuracy"] for p in points],
                                 name=f"{label}: validation", mode="lines",
                                 line=dict(color=colour(i), width=1, dash="dash"),
                                 meta={"run": view["id"], "series": "validation"}))
        for epoch, eta in view["eta_changes"]:
            fig.add_vline(x=epoch, line=dict(color=colour(i), dash="dot", width=1),
                          annotation_text=f"eta {eta:g}", annotation_position="top left",
                          annotation_font_color=colour(i))
    for name, value in references.items():
        fig.add_hline(y=100 * value, line=dict(color="#888", dash="dot", width=1),
                      annotation_text=f"{name} {100 * value:.2f} %",
                      annotation_position="bottom right", annotation_font_color="#aaa")
    fig.update_layout(title="Accuracy (%)", xaxis_title="epoch", yaxis_range=[0, 100],
                      **LAYOUT)
    return fig


def cost_figure(views: list[dict]) -> go.Figure:
    """The training cost (on a fixed sample of training images) against epochs."""
    fig = go.Figure()
    for i, view in enumerate(views):
        points = view["history"]
        fig.add_trace(go.Scatter(x=[p["epoch"] for p in points],
                                 y=[p["train_cost"] for p in points], name=view["label"],
                                 mode="lines", line=dict(color=colour(i), width=2),
                                 meta={"run": view["id"], "series": "cost"}))
    fig.update_layout(title="Training cost", xaxis_title="epoch", yaxis_type="log",
                      showlegend=False, **LAYOUT)
    return fig
