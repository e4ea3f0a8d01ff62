"""Presets and the training charts' data."""

import pytest

from nn.charts import accuracy_figure, cost_figure
from nn.presets import PRESETS, matching_preset, preset_named
from nn.settings import Limits, Settings


def view(run_id, points, eta_changes=()):
    history = [{"epoch": e, "test_accuracy": t, "val_accuracy": v, "train_cost": c}
               for e, t, v, c in points]
    return {"id": run_id, "label": f"run {run_id}", "history": history,
            "eta_changes": list(eta_changes)}


def test_every_preset_is_allowed_on_the_public_page():
    for preset in PRESETS:
        preset.settings.check(Limits())
        assert preset.expect and preset_named(preset.name) is preset
        assert matching_preset(preset.settings.replace(seed=7, epochs=3)) is preset
    assert matching_preset(Settings(hidden=31)) is None
    assert matching_preset(Settings(train_size=1_000)) is None  # the book used all 50,000


def test_accuracy_figure_has_both_series_per_run_and_reference_lines():
    views = [view(1, [(0.5, 0.8, 0.81, 0.2), (1, 0.9, 0.91, 0.1)], [(0.5, 0.25)]),
             view(2, [(1, 0.1, 0.11, 0.5)])]
    fig = accuracy_figure(views, {"chance": 0.1, "average darkness": 0.2225})
    traces = [(t.meta["run"], t.meta["series"], list(t.x), list(t.y)) for t in fig.data]
    assert traces[0] == (1, "test", [0.5, 1], [80.0, 90.0])
    assert traces[1] == (1, "validation", [0.5, 1], [81.0, 91.0])
    assert traces[2][:2] == (2, "test") and len(traces) == 4
    assert fig.data[0].line.color == fig.data[1].line.color != fig.data[2].line.color
    lines = [(s.type, s.x0, s.y0) for s in fig.layout.shapes]
    assert ("line", 0.5, 0) in lines                                 # the eta change
    assert {s.y0 for s in fig.layout.shapes if s.x0 == 0} >= {10.0, 22.25}
    notes = [a.text for a in fig.layout.annotations]
    assert "eta 0.25" in notes and "average darkness 22.25 %" in notes


def test_cost_figure_follows_the_history():
    fig = cost_figure([view(3, [(0.5, 0.8, 0.8, 0.2), (1, 0.9, 0.9, 0.1)])])
    assert list(fig.data[0].y) == pytest.approx([0.2, 0.1])
