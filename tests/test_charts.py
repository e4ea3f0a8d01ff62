"""Presets and the page's charts (ui.charts): what each figure dict shows."""

import json

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
