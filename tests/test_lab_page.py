"""The learner's lab on the page (AppTest, a stand-in canvas): where a drawing lands,
operating on neurons, the data and a drawing's neighbours, the book's hints, the preset box,
and the teaching message. The clicks themselves (on a chart) are in tests/browser."""

from __future__ import annotations

import io
import json
import math
import types

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from nn.lab import HiddenMap, Neighbours, operate, vote
from nn.models import read
from nn.preprocess import canvas_to_mnist
from tests.helpers import APP, STROKES, canvas_image
from tests.helpers import app_texts as texts
from tests.helpers import rerun_app as rerun
from tests.helpers import shipped_models as load_shipped
from ui.presets import PRESETS
from ui.state import widget_key

SEVEN, ZERO = canvas_image(STROKES[7]), canvas_image(STROKES[0])
DEFAULT, BOOK = list(load_shipped())


def page(**state) -> AppTest:
    app = AppTest.from_file(APP, default_timeout=60)
    for name, value in state.items():
        app.session_state[name] = value
    return rerun(app)


def figures(app: AppTest) -> list[dict]:
    return [json.loads(c.proto.spec) for c in app.get("plotly_chart")]


def the_map(app: AppTest) -> dict:
    return next(f for f in figures(app) if any(t.get("name") == "0" for t in f["data"]))


# --- 2. where the drawing lands ---------------------------------------------------------------


def test_the_map_places_the_drawing_where_the_engine_does(canvas, mnist_dir, monkeypatch):
    monkeypatch.setenv("MNIST_DIR", str(mnist_dir))
    app = page(map_open=True)
    assert "Each dot is one of 2,000 test digits" in texts(app)
    assert "appears here as a star" in texts(app)
    assert not any(t.get("name") == "your drawing" for t in the_map(app)["data"])
    from nn.mnist import shared_test_set

    net, _ = load_shipped()[DEFAULT]
    hidden_map = HiddenMap.of(net, *shared_test_set())
    stars = []
    for drawing in (SEVEN, ZERO):  # the star moves with the drawing
        canvas.image = drawing
        rerun(app)
        spec = the_map(app)
        assert sum(len(t["x"]) for t in spec["data"] if t["name"] != "your drawing") == 2000
        star = next(t for t in spec["data"] if t["name"] == "your drawing")
        expected = hidden_map.place(net, canvas_to_mnist(drawing))
        assert (star["x"][0], star["y"][0]) == pytest.approx(expected, abs=1e-4)
        stars.append(expected)
    assert stars[0] != stars[1]
    assert "lands among the **0s**" in texts(app)


def test_the_map_is_drawn_only_while_open(canvas, mnist_dir, monkeypatch):
    monkeypatch.setenv("MNIST_DIR", str(mnist_dir))
    app = page()
    canvas.image = SEVEN
    rerun(app)
    assert not any(any(t.get("name") == "0" for t in f["data"]) for f in figures(app))
    assert "landing" not in app.session_state["stroke_followers"]  # a stroke skips it
    app.session_state["map_open"] = True
    rerun(app)
    assert "landing" in app.session_state["stroke_followers"]


def test_the_map_without_mnist_says_so(canvas, monkeypatch):
    import ui.follow

    monkeypatch.setattr(ui.follow, "find_mnist_dir", lambda: None)
    app = page(map_open=True)
    assert "not on this server yet" in texts(app)
    canvas.image = SEVEN
    rerun(app)
    assert app.metric[0].value == "7"  # drawing still works


# --- 3. operating on neurons ------------------------------------------------------------------


def operated_page(canvas, neuron: int, factor: float) -> AppTest:
    app = page(neurons_open=True, selected=BOOK)
    canvas.image = SEVEN
    rerun(app)
    app.number_input(key="neuron_pick").set_value(neuron)
    rerun(app)
    app.segmented_control(key="op_factor").set_value(factor)
    return rerun(app)


def test_switching_a_neuron_off_changes_the_network_that_answers(canvas, mnist_dir, monkeypatch):
    monkeypatch.setenv("MNIST_DIR", str(mnist_dir))
    from nn.mnist import shared_test_set

    app = operated_page(canvas, 5, 0.0)
    selected = app.session_state.selected
    assert selected.startswith("Operated: The book's (#5 off): [784, 30, 10]")
    original, _ = load_shipped()[BOOK]
    expected = operate(original, {5: 0.0})
    choice = app.session_state.networks[selected]
    assert np.array_equal(choice.net.params[1], expected.params[1])
    images, labels = shared_test_set()
    before = original.evaluate(images, labels) / 100
    after = expected.evaluate(images, labels) / 100
    assert f"{before:.2f} % → {after:.2f} %" in texts(app)
    assert choice.meta["operated"] == "#5 off" and choice.meta["operated_from"] == BOOK
    assert choice.meta["etas"] == [3.0]  # how the original was trained is kept (the sidebar's note)
    assert choice.meta["test_accuracy"] == pytest.approx(after / 100)
    drawing = canvas_to_mnist(SEVEN)
    assert app.metric[0].value == str(read(expected, drawing).answer)  # the row uses it
    was, now = read(original, drawing).answer, read(expected, drawing).answer
    assert f"Your drawing: read as **{was}** before, **{now}** now." in texts(app)
    # it downloads like any other network, its metadata saying what was done
    from nn.modelfile import load_model, model_bytes

    net, meta = load_model(io.BytesIO(model_bytes(choice.net, choice.meta)))
    assert meta["operated"] == "#5 off" and np.array_equal(net.params[1], expected.params[1])


def test_operations_add_up_and_restore_undoes_them(canvas, mnist_dir, monkeypatch):
    monkeypatch.setenv("MNIST_DIR", str(mnist_dir))
    app = operated_page(canvas, 5, 0.0)
    app.number_input(key="neuron_pick").set_value(7)
    rerun(app)
    assert app.segmented_control(key="op_factor").value == 1.0  # #7 is as trained
    app.segmented_control(key="op_factor").set_value(2.0)
    rerun(app)
    selected = app.session_state.selected
    assert selected.startswith("Operated: The book's (#5 off, #7 × 2)")
    original, _ = load_shipped()[BOOK]
    expected = operate(original, {5: 0.0, 7: 2.0})  # both, on the original's weights
    assert np.array_equal(app.session_state.networks[selected].net.params[1], expected.params[1])
    assert sum(label.startswith("Operated:") for label in app.session_state.networks) == 1
    app.button(key="op_restore").click()
    rerun(app)
    assert app.session_state.selected == BOOK
    assert not any(label.startswith("Operated:") for label in app.session_state.networks)


# --- 4. the data and the drawing's neighbours -------------------------------------------------


def test_the_nearest_training_digits_and_their_vote(canvas, mnist_dir, monkeypatch):
    monkeypatch.setenv("MNIST_DIR", str(mnist_dir))
    from nn.mnist import TRAIN_POOL, shared_train_sample

    app = page(data_open=True)
    assert "its nearest training digits" in texts(app)
    canvas.image = SEVEN
    rerun(app)
    sample = shared_train_sample(TRAIN_POOL)
    near, _ = Neighbours.of(sample.images, sample.labels).nearest(canvas_to_mnist(SEVEN))
    guess = vote(sample.labels[near])
    net, _ = load_shipped()[DEFAULT]
    answer = read(net, canvas_to_mnist(SEVEN)).answer
    if guess == answer:
        assert f"their vote is **{guess}**, and the network reads **{answer}**" in texts(app)
    else:
        assert "A template matcher would answer differently" in texts(app)
    assert "among 10,000" in texts(app)
    assert len(app.get("image")) >= 3  # the nearest, the examples, the averages


def test_a_template_matcher_that_disagrees_is_named(canvas, mnist_dir, monkeypatch):
    monkeypatch.setenv("MNIST_DIR", str(mnist_dir))
    import ui.neighbours

    net, _ = load_shipped()[DEFAULT]
    answer = read(net, canvas_to_mnist(SEVEN)).answer
    monkeypatch.setattr(ui.neighbours, "vote", lambda labels: (answer + 1) % 10)
    app = page(data_open=True)
    canvas.image = SEVEN
    rerun(app)
    assert (
        f"the 5 nearest vote **{(answer + 1) % 10}** (most of them, ties to the nearest), "
        f"but the network reads **{answer}**" in texts(app)
    )


def test_the_data_panel_without_mnist_says_so(canvas, monkeypatch):
    import ui.follow

    monkeypatch.setattr(ui.follow, "find_mnist_dir", lambda: None)
    app = page(data_open=True)
    assert "not on this server yet" in texts(app)


# --- 5. hints ---------------------------------------------------------------------------------


def hints_page():
    import streamlit as st

    from nn.settings import Settings
    from ui.hints import hints_ui
    from ui.state import init_state

    init_state()
    points = st.session_state.points
    hints_ui(Settings(eta=100.0), *zip(*points))


def test_a_hint_offers_a_one_click_change_for_the_next_run():
    app = AppTest.from_function(hints_page, default_timeout=30)
    app.session_state["points"] = [(0.0, 0.1, 0.45), (1.0, 0.098, 0.45), (2.0, 0.101, 0.45)]
    rerun(app)
    assert "about what guessing gets" in texts(app) and "chapter 1" in texts(app)
    button = app.button(key="hint_button_eta-large")
    assert button.label == "Next run: eta 10" and not button.disabled
    button.click()
    rerun(app)
    assert app.session_state.t_eta == 10.0  # the slider's own step
    assert app.button(key="hint_button_eta-large").disabled  # done already
    assert "Set for your next run: *Learning rate η*" in texts(app)


def test_a_hint_that_was_taken_says_where_its_control_is():
    """A hint's change can land in a collapsed expander ("Initial weights"): the visitor saw
    nothing change but a greyed button (chromium). Each kind's change says where it went, by
    the label of a control the settings column has."""
    from pathlib import Path

    from nn.hints import book_hints
    from nn.settings import Settings
    from ui.hints import _where

    stalled = [(0.0, 0.1, 0.9), (1.0, 0.49, 0.3), (2.0, 0.492, 0.29), (3.0, 0.493, 0.29)]
    overfit = [(0.0, 0.1, 0.9)] + [
        (float(e), min(0.90 + 0.01 * e, 0.95), 0.1 * 0.85**e) for e in range(1, 12)
    ]
    runs = [
        (Settings(eta=100.0), [(0.0, 0.1, 0.45), (1.0, 0.098, 0.45), (2.0, 0.101, 0.45)]),
        (Settings(eta=0.001), [(0.0, 0.1, 1.2), (1.0, 0.11, 1.15), (2.0, 0.13, 1.1)]),
        (Settings(hidden=100), stalled),
        (Settings(train_size=1000), overfit),
        (Settings(), overfit),
    ]
    source = Path("ui/training.py").read_text()
    changed = set()
    for settings, points in runs:
        for hint in book_hints(settings, *zip(*points)):
            changed |= set(hint.change)
            for place in _where(hint.change).split(", under "):
                label = place.strip("*")
                assert f'"{label}' in source, (hint.kind, label)  # a control's own label
    assert changed == {"eta", "init", "train_size", "l2"}  # every kind of change was seen


def hint_beside_settings_page():
    import streamlit as st

    from nn.settings import Limits, Settings
    from ui.hints import hints_ui
    from ui.state import init_state
    from ui.training import preset_ui, settings_ui

    init_state()
    preset_ui()
    settings_ui(Limits())
    hints_ui(Settings(eta=100.0), *zip(*st.session_state.points))


def test_a_stale_slider_value_cannot_undo_a_hints_change():
    """The browser sends every widget's value with each live tick; one it sent before it saw
    the hint's change carries the slider's old value. It is for the old widget and ignored."""
    app = AppTest.from_function(hint_beside_settings_page, default_timeout=30)
    app.session_state["points"] = [(0.0, 0.1, 0.45), (1.0, 0.098, 0.45), (2.0, 0.101, 0.45)]
    rerun(app)
    app.selectbox(key=widget_key(app.session_state, "t_preset")).set_value("eta too large: 100")
    rerun(app)  # the visitor's own choice: taken
    before = widget_key(app.session_state, "t_eta")
    assert app.session_state.t_eta == 100.0 and app.select_slider(key=before).value == 100.0
    in_browser = app.select_slider(key=before)  # the slider as the browser has it
    box = app.selectbox(key=widget_key(app.session_state, "t_preset"))  # and the preset box
    app.button(key="hint_button_eta-large").click()
    rerun(app)
    shown = widget_key(app.session_state, "t_eta")
    assert shown != before and app.select_slider(key=shown).value == 10.0
    # A tick the browser sent before it saw the change: every widget's value as it had them,
    # the slider's old value with them (AppTest sends what its element tree holds: the tree
    # has the new slider, the browser still the old one).
    assert app.selectbox(key=widget_key(app.session_state, "t_preset")).value == (
        "Your own settings"
    )
    states = app._tree.get_widget_states()
    new_ids = {
        app.select_slider(key=shown).id,
        app.selectbox(key=widget_key(app.session_state, "t_preset")).id,
    }
    in_browser.set_value(100.0)  # (pinned: else they read the server's values)
    box.set_value("eta too large: 100")
    old = [in_browser._widget_state, box._widget_state]
    stale = [w for w in states.widgets if w.id not in new_ids] + old
    del states.widgets[:]
    states.widgets.extend(stale)
    app._run(states)
    assert not app.exception
    assert app.session_state.t_eta == 10.0
    assert app.select_slider(key=shown).value == 10.0
    app.select_slider(key=shown).set_value(5.0)  # and the new slider is the visitor's
    rerun(app)
    assert app.session_state.t_eta == 5.0 and widget_key(app.session_state, "t_eta") == shown


def test_hints_read_a_runs_points_as_dicts_or_objects():
    from ui.hints import series

    as_dicts = [{"epoch": 1, "val_accuracy": 0.9, "train_cost": 0.1, "other": 3}]
    as_objects = [types.SimpleNamespace(epoch=1, val_accuracy=0.9, train_cost=0.1)]
    assert series(as_dicts) == series(as_objects) == ([1.0], [0.9], [0.1])


# --- 6. the preset box, the teaching message --------------------------------------------------


def test_the_preset_box_says_own_settings_and_picking_a_preset_restores_it(
    canvas, mnist_dir, monkeypatch
):
    monkeypatch.setenv("MNIST_DIR", str(mnist_dir))  # else no settings: a download offer
    app = page()
    assert app.selectbox(key=widget_key(app.session_state, "t_preset")).value == PRESETS[0].name
    app.slider(key=widget_key(app.session_state, "t_hidden")).set_value(55)
    rerun(app)
    assert app.selectbox(key=widget_key(app.session_state, "t_preset")).value == "Your own settings"
    app.selectbox(key=widget_key(app.session_state, "t_preset")).set_value(PRESETS[0].name)
    rerun(app)
    assert app.session_state.t_hidden == PRESETS[0].settings.hidden
    app.slider(key=widget_key(app.session_state, "t_epochs")).set_value(5)
    rerun(app)
    assert (
        app.selectbox(key=widget_key(app.session_state, "t_preset")).value == "Your own settings"
    )  # epochs count too
    app.slider(key=widget_key(app.session_state, "t_epochs")).set_value(PRESETS[0].settings.epochs)
    rerun(app)
    assert (
        app.selectbox(key=widget_key(app.session_state, "t_preset")).value == PRESETS[0].name
    )  # back to the preset's


def test_the_expectation_never_breaks_a_number_from_its_unit(canvas, mnist_dir, monkeypatch):
    """'About 91 %' wrapped as 'About 91' / '% after the first epoch' in a narrow box."""
    from ui.text import unbroken

    monkeypatch.setenv("MNIST_DIR", str(mnist_dir))  # the presets show where MNIST is

    assert unbroken("About 91 % after 1 epoch, 12 s left, 3 steps") == (
        "About 91\u00a0% after 1 epoch, 12\u00a0s left, 3 steps"
    )
    box = [i.value for i in page().info if "What to expect" in i.value]
    assert box and "%" in box[0], box
    assert " %" not in box[0] and "\u00a0%" in box[0], box


class LessonThatDoesNotTake:
    """A stand-in run manager: the fine-tune "finishes" at once, reading the drawing as 3."""

    def shared(self):
        return self

    def submit_teach(self, net, drawings, digits, **options):
        from nn.teach import TeachResult

        class Done:
            def result(self, timeout):
                return TeachResult(net, [3], [9], 0.95, 0.949, 1, 10, 0.1)

            def queue_position(self):
                return None

        return Done()


def test_the_teaching_message_names_the_answering_reading_and_a_lesson_that_did_not_take(
    canvas, mnist_dir, monkeypatch
):
    import ui.teach

    monkeypatch.setenv("MNIST_DIR", str(mnist_dir))
    monkeypatch.setattr(ui.teach, "RunManager", LessonThatDoesNotTake())
    app = page(selected=BOOK)
    canvas.image = SEVEN
    rerun(app)
    shown = app.metric[0].value
    app.segmented_control(key="teach_digit").set_value("6")
    rerun(app)
    message = texts(app)
    assert "The lesson did not take" in message
    assert "still reads your last drawing as **3**, not **6**" in message
    assert f"*{BOOK}* was answering and read it as **{shown}**" in message


def test_the_panels_say_what_the_answer_box_says(canvas, mnist_dir, monkeypatch):
    """The map and the neighbours said "the network reads 6" for a drawing the answer box
    gave as "?" (the network's strongest output, which the page did not name: chromium). They
    now say what the page's verdict says."""
    from nn.verdict import NO_DIGIT, judge
    from ui.neighbours import how_it_reads

    net, _ = load_shipped()[DEFAULT]
    seven = canvas_to_mnist(canvas_image(STROKES[7]))
    assert how_it_reads(net, seven) == (7, "reads **7**")
    assert how_it_reads(net, seven, as_="it as ") == (7, "reads it as **7**")
    dot = canvas_to_mnist(canvas_image([[(140, 140), (141, 141)]]))
    assert judge(dot, read(net, dot).output).kind == NO_DIGIT  # the answer box says "?"
    top, words = how_it_reads(net, dot)
    assert words == f"is not sure it is a digit (its strongest output: **{top}**)"
    # in the page: the map and the neighbours, with the dot on the canvas
    monkeypatch.setenv("MNIST_DIR", str(mnist_dir))
    app = page(data_open=True, map_open=True)
    canvas.image = canvas_image([[(140, 140), (141, 141)]])
    rerun(app)
    shown = texts(app)
    assert f"the network is not sure it is a digit (its strongest output: **{top}**)" in shown
    assert f"reads **{top}**" not in shown and f"reads it as **{top}**" not in shown
    # a face: only what the canvas says (nn.preprocess.prepare) makes it "?"; the panels
    # judge with it too
    face = canvas_image(
        [  # a face the network, from the 28x28 image alone, reads as a plain 0
            [(140 + 94 * math.cos(a / 10), 140 + 90 * math.sin(a / 10)) for a in range(64)],
            [(108, 90), (108, 92)],
            [(172, 113), (172, 115)],
            [(140 + 90 * math.cos(a / 10), 140 + 67 * math.sin(a / 10)) for a in range(3, 29)],
        ]
    )
    top = read(net, canvas_to_mnist(face)).answer
    assert judge(canvas_to_mnist(face), read(net, canvas_to_mnist(face)).output).kind != NO_DIGIT
    canvas.image = face
    rerun(app)
    shown = texts(app)
    assert f"the network is not sure it is a digit (its strongest output: **{top}**)" in shown
    assert f"reads **{top}**" not in shown and f"reads it as **{top}**" not in shown
