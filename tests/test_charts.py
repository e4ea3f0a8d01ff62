"""Presets and the page's charts (ui.charts): what each figure dict shows."""

import json
from dataclasses import replace

import numpy as np
import plotly.graph_objects as go
import pytest

from nn.protocol import State
from nn.settings import Limits, Settings
from nn.trainer import Point
from runs.view import RunView
from ui.charts import accuracy_figure, as_grid, cost_figure, hidden_figure, output_figure, pixelated
from ui.presets import PRESETS, matching_preset, preset_named


def view(run_id, points, eta_changes=()) -> RunView:
    history = tuple(
        Point(e, v, t, int(10_000 * t), c, e, 3.0, e == int(e)) for e, t, v, c in points
    )
    return RunView(
        id=run_id,
        kind="train",
        token="",
        state=State.RUNNING,
        reason="",
        settings=Settings(hidden=run_id),
        progress=history[-1].epoch,
        elapsed=1.0,
        history=history,
        eta_changes=tuple(eta_changes),
        queue_position=None,
        seconds_left=None,
        wait_seconds=None,
        images_per_second=0.0,
    )


def valid(spec: dict) -> dict:
    """The figure as plotly reads it: raises if plotly would refuse any part of the dict."""
    return go.Figure(spec).to_plotly_json()


def test_every_preset_is_allowed_on_the_public_page():
    for preset in PRESETS:
        preset.settings.check(Limits())
        assert preset.expect and preset_named(preset.name) is preset
        assert matching_preset(preset.settings.replace(seed=7, epochs=3)) is preset
    assert matching_preset(Settings(hidden=31)) is None
    assert matching_preset(Settings(train_size=1_000)) is None  # the book used all 50,000


def test_accuracy_figure_has_both_series_per_run_and_reference_lines():
    views = [
        view(1, [(0.5, 0.8, 0.81, 0.2), (1, 0.9, 0.91, 0.1)], [(0.5, 0.25)]),
        view(2, [(1, 0.1, 0.11, 0.5)]),
    ]
    fig = accuracy_figure(views, {"chance": 0.1, "average darkness": 0.2225})
    valid(fig)
    traces = [
        (t["meta"]["run"], t["meta"]["series"], list(t["x"]), list(t["y"])) for t in fig["data"]
    ]
    assert traces[0] == (1, "test", [0.5, 1], [80.0, 90.0])
    assert traces[1] == (1, "validation", [0.5, 1], [81.0, 91.0])
    assert traces[2][:2] == (2, "test") and len(traces) == 4
    colours = [t["line"]["color"] for t in fig["data"]]
    assert colours[0] == colours[1] != colours[2]
    shapes = fig["layout"]["shapes"]
    assert ("line", 0.5, 0) in [(s["type"], s["x0"], s["y0"]) for s in shapes]  # eta change
    assert {s["y0"] for s in shapes if s["x0"] == 0} >= {10.0, 22.25}
    notes = [a["text"] for a in fig["layout"]["annotations"]]
    assert "eta 0.25" in notes and "average darkness 22.25 %" in notes
    assert fig["layout"]["yaxis"]["range"] == [0, 100]
    assert accuracy_figure(views, {}, zoom=True)["layout"]["yaxis"]["range"] == [80, 100]


def test_cost_figure_follows_the_history():
    fig = cost_figure([view(3, [(0.5, 0.8, 0.8, 0.2), (1, 0.9, 0.9, 0.1)])])
    valid(fig)
    assert list(fig["data"][0]["y"]) == pytest.approx([0.2, 0.1])
    assert fig["layout"]["yaxis"]["type"] == "log"


def test_output_and_hidden_figures_hold_the_activations():
    output = np.linspace(0, 0.9, 10, dtype=np.float32)
    bars = output_figure(output, answer=9)
    valid(bars)
    assert bars["data"][0]["y"] == pytest.approx(output.tolist())
    assert bars["data"][0]["marker"]["color"].count(bars["data"][0]["marker"]["color"][9]) == 1
    assert "not probabilities" in json.dumps(bars["layout"]["title"])
    heat = hidden_figure(np.arange(7) / 7, "Hidden layer")
    valid(heat)
    z = heat["data"][0]["z"]
    assert [len(row) for row in z] == [3, 3, 3] and z[2][1:] == [None, None]
    assert "its 7 neurons" in json.dumps(heat["layout"]["title"])
    json.dumps(bars), json.dumps(heat)  # plain JSON: no numpy values left


def test_figures_carry_their_template():
    """plotly.js knows no template names: a dict must carry the template itself."""
    assert output_figure(np.zeros(10), 0)["layout"]["template"]["layout"]
    assert cost_figure([])["layout"]["template"]["layout"]["paper_bgcolor"]


def test_pixelated_and_grid():
    image = np.zeros((28, 28), dtype=np.float32)
    image[3, 5] = 1.0
    big = pixelated(image, 8)
    assert big.shape == (224, 224) and big.dtype == np.uint8
    assert (big[24:32, 40:48] == 255).all() and big.sum() == 255 * 64
    assert as_grid(np.arange(30)).shape == (5, 6)
    assert as_grid(np.arange(100)).shape == (10, 10)
    grid = as_grid(np.arange(7))
    assert grid.shape == (3, 3) and np.isnan(grid).sum() == 2
    np.testing.assert_array_equal(grid.reshape(-1)[:7], np.arange(7))


# --- labels that never overprint, the cost axis ------------------------------------------


def label_boxes(fig) -> list[tuple[str, float, float]]:
    """Each reference label's (side, low, high) in % on the y axis, as place_labels sized it."""
    from ui.charts import LABEL_PX, PLOT_HEIGHT_PX

    low, high = fig["layout"]["yaxis"]["range"]
    height = (high - low) * LABEL_PX[0] / PLOT_HEIGHT_PX
    boxes = []
    for note in fig["layout"]["annotations"]:
        if note["yref"] != "y":
            continue
        y = note["y"]
        span = (y - height, y) if note["yanchor"] == "top" else (y, y + height)
        boxes.append((note["xanchor"], *span))
    return boxes


@pytest.mark.parametrize(
    "references",
    [
        {"chance": 0.10, "the book": 0.0982},  # the eta 100 preset: 0.18 points apart
        {"chance": 0.10, "average darkness": 0.2225, "the book": 0.2142},  # eta 0.001
        {"a": 0.50, "b": 0.505, "c": 0.51, "d": 0.515},  # four in one line's height
    ],
)
def test_reference_labels_never_overprint(references):
    fig = accuracy_figure([view(1, [(1, 0.1, 0.1, 0.5)])], references)
    valid(fig)
    boxes = label_boxes(fig)
    assert len(boxes) == len(references)
    for i, (side, low, high) in enumerate(boxes):
        for other_side, other_low, other_high in boxes[i + 1 :]:
            assert side != other_side or high <= other_low or low >= other_high


def test_references_off_the_zoomed_chart_are_left_out():
    fig = accuracy_figure([], {"chance": 0.10, "the book": 0.9542}, zoom=True)
    assert [a["text"] for a in fig["layout"]["annotations"]] == ["the book 95.42 %"]


def test_close_eta_changes_stack_their_labels():
    views = [
        view(1, [(0, 0.1, 0.1, 0.5), (30, 0.9, 0.9, 0.1)], [(10.0, 1.0), (10.5, 0.5)]),
        view(2, [(0, 0.1, 0.1, 0.5), (30, 0.9, 0.9, 0.1)], [(10.2, 2.0), (25.0, 0.3)]),
    ]
    fig = accuracy_figure(views, {})
    valid(fig)
    notes = {a["text"]: a["y"] for a in fig["layout"]["annotations"] if a["yref"] == "paper"}
    assert len({notes["eta 1"], notes["eta 0.5"], notes["eta 2"]}) == 3  # three rows
    assert notes["eta 0.3"] == 1  # far from the others: the top row


@pytest.mark.parametrize("at", [29.0, 1.0, 15.0])
def test_a_reference_label_near_the_top_keeps_clear_of_an_eta_label(at):
    """The book's 95.42 % is under the eta labels' top row: where an eta change's label
    reaches into a side of the chart, the book's label goes to the other side or elsewhere."""
    from ui.charts import LABEL_PX, PLOT_HEIGHT_PX, PLOT_WIDTH_PX

    run = view(1, [(0, 0.1, 0.1, 0.5), (30, 0.9, 0.9, 0.1)], [(at, 1.0)])
    fig = valid(accuracy_figure([run], {"chance": 0.10, "the book": 0.9542}))
    notes = fig["layout"]["annotations"]
    eta = next(a for a in notes if a["text"] == "eta 1")
    book = next(a for a in notes if a["text"].startswith("the book"))
    per_px = 30 / PLOT_WIDTH_PX  # the x axis's data units per pixel on a phone
    eta_x = (at - (len("eta 1") + 1) * LABEL_PX[1] * per_px, at)
    book_w = (len(book["text"]) + 1) * LABEL_PX[1] * per_px
    book_x = (30 - book_w, 30) if book["xanchor"] == "right" else (0, book_w)
    eta_y = (100 * (1 - LABEL_PX[0] / PLOT_HEIGHT_PX), 100)  # (the top row, in % here)
    height = 100 * LABEL_PX[0] / PLOT_HEIGHT_PX
    y = book["y"]
    book_y = (y - height, y) if book["yanchor"] == "top" else (y, y + height)
    apart_x = eta_x[1] <= book_x[0] or eta_x[0] >= book_x[1]
    apart_y = eta_y[1] <= book_y[0] or eta_y[0] >= book_y[1]
    assert eta["y"] == 1 and (apart_x or apart_y)


def test_label_rows_reuse_a_row_once_it_is_free():
    from ui.charts import label_rows

    assert label_rows([1.0, 1.1, 5.0, 5.05], [0.5, 0.5, 0.5, 0.5]) == [0, 1, 0, 1]


def test_the_cost_axis_has_a_title_and_plain_ticks():
    fig = cost_figure([view(3, [(0, 0.1, 0.1, 0.45), (5, 0.9, 0.9, 0.031)])])
    valid(fig)
    yaxis = fig["layout"]["yaxis"]
    assert "cost" in yaxis["title"]["text"]
    assert yaxis["tickvals"] == pytest.approx([0.05, 0.1, 0.2])
    assert yaxis["ticktext"] == ["0.05", "0.1", "0.2"]


def test_log_ticks_within_one_step():
    from ui.charts import log_ticks

    assert log_ticks([0.061, 0.083]) == pytest.approx([0.061, 0.083])  # the ends, at least
    assert log_ticks([]) == []
    # many decades (a band reaching far down): powers of ten only, fewer past six decades
    assert log_ticks([0.0004, 2.0]) == pytest.approx([0.001, 0.01, 0.1, 1.0])
    assert log_ticks([2e-8, 2.0]) == pytest.approx([1e-7, 1e-5, 1e-3, 0.1])


def test_the_mini_batches_cost_is_a_light_band_under_the_epoch_curve():
    from nn.trainer import CostBin

    bins = tuple(
        CostBin((k + 0.5) / 10, 0.5 / (k + 1), 0.3 / (k + 1), 0.9 / (k + 1), 25) for k in range(20)
    )
    run = replace(view(3, [(0, 0.1, 0.1, 0.45), (2, 0.9, 0.9, 0.04)]), cost_bins=bins)
    other = view(4, [(0, 0.1, 0.1, 0.5), (1, 0.5, 0.5, 0.2)])  # no mini-batch costs (yet)
    fig = valid(cost_figure([other, run]))
    traces = fig["data"]
    kinds = [(t["meta"]["run"], t["meta"]["series"]) for t in traces]
    # under (before) both epoch curves: low edge, high edge filled to it, the means' line
    assert kinds == [(3, "batch cost")] * 3 + [(4, "cost"), (3, "cost")]
    low, high, mean = traces[:3]
    assert low["x"] == mean["x"] == pytest.approx([b.epoch for b in bins])
    assert mean["y"] == pytest.approx([b.mean for b in bins], rel=1e-3)
    assert low["y"] == pytest.approx([b.low for b in bins], rel=1e-3)
    assert high["y"] == pytest.approx([b.high for b in bins], rel=1e-3)
    assert high["fill"] == "tonexty" and "rgba" in high["fillcolor"]
    # light and thin beside the run's own curve, in the run's colour
    curve = traces[4]
    assert mean["line"]["width"] < curve["line"]["width"]
    assert mean["line"]["color"].startswith("rgba(247,127,0,")  # colour(1) = #f77f00
    # the legend says what each kind of line is, once
    legend = [t["name"] for t in traces if t.get("showlegend", True)]
    assert legend == [
        "mini-batch cost: mean of 25, middle 80 % shaded",
        "cost on 1,000 training images",
    ]
    # the axis's ticks reach the lowest mini-batch
    assert min(fig["layout"]["yaxis"]["tickvals"]) <= 0.3 / 20 * 2


def test_one_mini_batch_a_bin_is_named_so_and_a_short_number_is_sent():
    from nn.trainer import CostBin

    bins = (CostBin(0.0005, 2.123456789, 2.123456789, 2.123456789, 1),)
    fig = cost_figure([replace(view(3, [(0, 0.1, 0.1, 0.45)]), cost_bins=bins)])
    mean = fig["data"][2]
    assert mean["name"] == "each mini-batch's cost" and mean["y"] == [2.123]
    assert json.dumps(mean["x"]) == "[0.0005]"


@pytest.mark.parametrize("zoom", [False, True])
def test_the_book_s_label_sits_over_its_line_where_a_run_ends_under_it(zoom):
    # a run of the book's network ends just under 95.42 %: a label under the line (with its
    # background) hid the curve's end on a phone
    run = view(1, [(0, 0.1, 0.1, 0.5), (30, 0.95, 0.95, 0.1)])
    fig = valid(accuracy_figure([run], {"the book": 0.9542}, zoom=zoom))
    book = next(a for a in fig["layout"]["annotations"] if a["text"].startswith("the book"))
    assert book["yanchor"] == "bottom"
    # a reference at the very top has no room over it
    fig = valid(accuracy_figure([run], {"best": 0.995}, zoom=zoom))
    assert fig["layout"]["annotations"][0]["yanchor"] == "top"


@pytest.mark.parametrize(
    "votes",
    [
        np.zeros(10),  # a neuron switched off: plotly's own range put a "1" over the subtitle
        np.array([1.0, -0.5, 0.2, 0, 0, 0, 0, 0, -1.0, 0.3]),  # a round number at the top
        np.array([0.4, -0.1, -0.95, 0.0, 0.1, -0.9, 0.7, -0.1, -1.3, -1.0]),
        np.array([-0.002, -0.004, 0, 0, 0, 0, 0, 0, 0, -0.001]),  # all against
    ],
)
def test_a_neurons_votes_keep_their_top_tick_clear_of_the_subtitle(votes):
    from ui.neurons import outgoing_figure

    fig = valid(outgoing_figure(votes, [784, 30, 10]))
    axis = fig["layout"]["yaxis"]
    low, high = axis["range"]
    ticks = axis["tickvals"]
    # the plot is ~115 px high, a tick label ~14: each tick 8 % of it below the top is clear
    assert ticks and max(ticks) <= high - 0.08 * (high - low)
    assert min(ticks) >= low + 0.08 * (high - low)
    assert 0 in ticks and low <= min(votes) and max(votes) <= high  # every bar is shown


@pytest.mark.parametrize("at", [29.0, 15.0, 1.0])
@pytest.mark.parametrize("book", [0.9542, 0.975, 0.99])
def test_no_reference_label_rises_over_the_subtitle_on_the_left(at, book):
    """The subtitle ("solid: test digits · dashed: validation digits") is over the plot's left
    end: a reference label written on the left stays inside the plot (an eta change near the
    end of the run pushed "the book 95.42 %" to the left, over the subtitle)."""
    run = view(1, [(0, 0.1, 0.1, 0.5), (30, 0.9, 0.9, 0.1)], [(at, 1.0)])
    for zoom in (False, True):
        fig = valid(accuracy_figure([run], {"chance": 0.10, "the book": book}, zoom=zoom))
        top = fig["layout"]["yaxis"]["range"][1]
        for side, low, high in label_boxes(fig):
            assert side == "right" or high <= top + 1e-9, (side, low, high)


def test_the_drawings_star_stays_in_full_colour_when_a_dot_is_clicked():
    """A click on a dot selects it, and plotly dims every unselected point: the star of the
    visitor's drawing faded to a fifth with the rest (seen in chromium)."""
    from ui.charts import map_figure

    dots = [{"type": "scatter", "mode": "markers", "name": "0", "x": [0.0], "y": [1.0]}]
    fig = valid(map_figure(dots, (0.5, 0.5), (0.14, 0.11)))
    star = next(t for t in fig["data"] if t["name"] == "your drawing")
    assert star["unselected"]["marker"]["opacity"] == 1
    assert star["selected"]["marker"]["opacity"] == 1
