"""The four "inside the network" panels on the page, with AppTest and a stand-in canvas:
hidden neurons, mistakes, teaching, sharing a set-up by link.

The panels live in expanders that run only while open; a test opens one by setting the
expander's state (its key) as the browser would.
"""

from __future__ import annotations

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from nn.preprocess import canvas_to_mnist
from nn.settings import Limits, Settings
from tests.helpers import APP, STROKES, canvas_image
from tests.helpers import app_texts as texts
from tests.helpers import rerun_app as rerun
from tests.helpers import shipped_models as load_shipped
from ui.presets import PRESETS
from ui.share import link_query, parse_link, shipped_slugs
from ui.state import widget_key

SEVEN, ZERO = canvas_image(STROKES[7]), canvas_image(STROKES[0])

SHIPPED = list(load_shipped())
DEFAULT, BOOK = SHIPPED
CHOICES = {"eta": (0.5, 1.0, 3.0), "batch": (10, 20), "images": (1_000, 10_000, 50_000)}


def page(canvas, query: dict | None = None, **state) -> AppTest:
    app = AppTest.from_file(APP, default_timeout=60)
    for name, value in (query or {}).items():
        app.query_params[name] = value
    for name, value in state.items():
        app.session_state[name] = value
    app.run()
    assert not app.exception, app.exception
    return app


# --- 4. share a set-up by link: the rules ----------------------------------------------


def parse(query, defaults=Settings()):
    return parse_link(
        query, defaults=defaults, choices=CHOICES, limits=Limits(), shipped=shipped_slugs(SHIPPED)
    )


def test_a_preset_and_a_shipped_network_by_link():
    settings, preset, label, ignored = parse({"preset": "5", "net": "book"})
    assert settings == PRESETS[4].settings and preset == PRESETS[4].name
    assert label == BOOK and ignored == []


def test_own_settings_by_link():
    settings, preset, label, ignored = parse(
        {
            "hidden": "60",
            "eta": "0.5",
            "batch": "20",
            "epochs": "5",
            "images": "10000",
            "seed": "7",
            "init": "scaled",
            "cost": "cross-entropy",
            "l2": "5",
        }
    )
    assert settings == Settings(
        hidden=60,
        eta=0.5,
        batch_size=20,
        epochs=5,
        train_size=10_000,
        seed=7,
        init="scaled",
        cost="cross-entropy",
        l2=5.0,
    )
    assert preset is None and label is None and ignored == []


@pytest.mark.parametrize(
    "query, bad",
    [
        ({"hidden": "100000"}, "hidden"),  # beyond the server's limit
        ({"hidden": "3.5"}, "hidden"),
        ({"eta": "0.7"}, "eta"),  # not one of the slider's values
        ({"eta": "nan"}, "eta"),
        ({"eta": "inf"}, "eta"),
        ({"batch": "-1"}, "batch"),
        ({"epochs": "1e9"}, "epochs"),
        ({"init": "<script>alert(1)</script>"}, "init"),
        ({"cost": "'; DROP TABLE"}, "cost"),
        ({"net": "../../etc/passwd"}, "net"),
        ({"preset": "0"}, "preset"),
        ({"preset": "9" * 5000}, "preset"),  # long values are not even parsed
        ({"seed": "-5"}, "seed"),
    ],
)
def test_bad_values_are_ignored_and_named(query, bad):
    settings, preset, label, ignored = parse(query)
    assert ignored == [bad]
    assert settings is None and preset is None and label is None


def test_values_fine_alone_but_not_together_are_all_ignored():
    settings, _, _, ignored = parse(
        {"batch": "20", "images": "1000", "hidden": "30"}, defaults=Settings(train_size=10)
    )
    # batch 20 > 10 images alone; with 1,000 images all three are fine together
    assert settings is not None and settings.batch_size == 20 and ignored == []
    settings, _, _, ignored = parse(
        {"batch": "20", "epochs": "2"}, defaults=Settings(train_size=10)
    )
    assert "batch" in ignored and settings.epochs == 2


@pytest.mark.parametrize(
    "settings",
    [
        PRESETS[1].settings,
        PRESETS[4].settings.replace(seed=9),
        Settings(
            hidden=60,
            eta=0.5,
            batch_size=20,
            epochs=5,
            train_size=10_000,
            seed=7,
            init="scaled",
            cost="cross-entropy",
            l2=5.0,
        ),
    ],
)
def test_a_link_gives_back_its_settings(settings):
    shipped = shipped_slugs(SHIPPED)
    query = link_query(settings, BOOK, shipped)
    assert query["net"] == "book"
    back, _, label, ignored = parse(query)
    assert back == settings and label == BOOK and ignored == []


# --- 4. ... on the page ------------------------------------------------------------------


def test_opening_a_link_sets_up_the_experiment(canvas, mnist_dir, monkeypatch):
    monkeypatch.setenv("MNIST_DIR", str(mnist_dir))  # else no settings: a download offer
    app = page(canvas, {"preset": "2", "net": "book", "seed": "4"})
    assert app.session_state.selected == BOOK
    assert app.session_state.t_hidden == 100 and app.session_state.t_eta == 3.0
    assert app.session_state.t_seed == 4
    assert app.selectbox(key=widget_key(app.session_state, "t_preset")).value == PRESETS[1].name
    assert any("press **Train**" in t.value for t in app.toast)
    code = [c.value for c in app.code]
    assert any("preset=2" in c and "seed=4" in c and "net=book" in c for c in code)


def test_a_hostile_link_gives_a_notice_not_an_error(canvas, mnist_dir, monkeypatch):
    monkeypatch.setenv("MNIST_DIR", str(mnist_dir))  # else no settings: a download offer
    app = page(
        canvas,
        {
            "eta": "<img src=x onerror=alert(1)>",
            "hidden": "-3",
            "net": "x" * 10_000,
            "utm_source": "mail",
        },
    )
    assert app.session_state.t_hidden == PRESETS[0].settings.hidden
    assert app.session_state.selected == DEFAULT
    notice = app.toast[0].value
    assert "eta" in notice and "hidden" in notice and "net" in notice
    assert "utm_source" not in notice and "<img" not in notice
    app.slider(key=widget_key(app.session_state, "t_hidden")).set_value(50)
    rerun(app)  # the link is read once: the visitor's changes stay
    assert app.session_state.t_hidden == 50
    assert any("hidden=50" in c.value for c in app.code)


# --- 1. the hidden neurons ---------------------------------------------------------------


def test_neuron_panel_picks_the_most_active_neuron(canvas):
    app = page(canvas, neurons_open=True)
    canvas.image = ZERO
    rerun(app)
    net, _ = load_shipped()[DEFAULT]
    hidden = net.activations(canvas_to_mnist(ZERO).reshape(-1))[1]
    top = int(np.argmax(hidden))
    metric = next(m for m in app.metric if "fires at" in m.label)
    assert metric.label == f"Neuron #{top} fires at"
    assert metric.value == f"{hidden[top]:.2f}"
    assert f"{net.sizes[1]} hidden neurons" in texts(app)
    app.number_input(key="neuron_pick").set_value(7)
    rerun(app)
    metric = next(m for m in app.metric if "fires at" in m.label)
    assert metric.label == "Neuron #7 fires at" and metric.value == f"{hidden[7]:.2f}"


def test_closed_panels_cost_nothing(canvas):
    app = page(canvas)
    canvas.image = SEVEN
    rerun(app)
    assert not any("fires at" in m.label for m in app.metric)
    assert "Confusion matrix" not in str([c.proto.spec for c in app.get("plotly_chart")])


# --- 2. mistakes -------------------------------------------------------------------------


@pytest.mark.slow
def test_mistakes_panel_counts_the_test_digits(canvas, mnist_dir, mnist_data, monkeypatch):
    monkeypatch.setenv("MNIST_DIR", str(mnist_dir))
    app = page(canvas, mistakes_open=True, selected=BOOK)
    net, _ = load_shipped()[BOOK]
    right = net.evaluate(mnist_data.test_images, mnist_data.test_labels)
    assert f"{right:,} right" in texts(app)
    app.segmented_control(key="mix_common").set_value("9-4")
    rerun(app)
    assert app.session_state.mix_true == 9 and app.session_state.mix_read == 4
    wrong = int(np.sum((net.predict(mnist_data.test_images) == 4) & (mnist_data.test_labels == 9)))
    assert f"{wrong:,} test digits 9 read as 4" in texts(app)


def test_mistakes_panel_without_mnist_says_so(canvas, monkeypatch):
    import ui.analysis

    monkeypatch.setattr(ui.analysis, "find_mnist_dir", lambda: None)  # ui.mistakes reads it there
    app = page(canvas, mistakes_open=True)
    assert "not on this server" in texts(app)
    canvas.image = SEVEN
    rerun(app)
    assert app.metric[0].value == "7"  # drawing still works


# --- 3. teaching -------------------------------------------------------------------------


@pytest.mark.slow
def test_teaching_adds_a_taught_network_and_forgetting_removes_it(canvas, mnist_dir, monkeypatch):
    monkeypatch.setenv("MNIST_DIR", str(mnist_dir))
    app = page(canvas, selected=BOOK)
    canvas.image = ZERO
    rerun(app)
    assert app.metric[0].value == "0"
    app.segmented_control(key="teach_digit").set_value("6")
    rerun(app)
    selected = app.session_state.selected
    assert selected.startswith("Taught: The book's + 1 drawing: [784, 30, 10]")
    # the taught copy answers 6 now (first, or with the digit it read before as a close second)
    answer = app.metric[0].value
    assert answer.split()[0] == "6"
    doubt = ", with **0** close behind (the answer says 6 or 0?)" if answer == "6 or 0?" else ""
    assert (
        f"now reads your last drawing as **6**{doubt} (*{BOOK}* was answering and read it as **0**)"
        in texts(app)
    )
    assert app.session_state.teach_digit is None  # one click, one lesson
    assert BOOK in app.session_state.networks  # the original is still offered
    app.button(key="untaught_0").click()
    rerun(app)
    assert app.session_state.selected == BOOK
    assert not any(label.startswith("Taught:") for label in app.session_state.networks)


@pytest.mark.slow
def test_the_same_drawing_taught_as_another_digit_replaces_the_earlier_lesson(
    canvas, mnist_dir, monkeypatch
):
    """A visitor who taught a drawing as 6 and then clicks 5 for it has changed their mind.
    Kept side by side, one image with two labels cannot both take: the copy went on reading 6
    and the page said "the lesson did not take ... draw it more like MNIST's 5s"."""
    monkeypatch.setenv("MNIST_DIR", str(mnist_dir))
    app = page(canvas, selected=BOOK)
    canvas.image = ZERO
    rerun(app)
    app.segmented_control(key="teach_digit").set_value("6")
    rerun(app)
    app.segmented_control(key="teach_digit").set_value("5")
    rerun(app)
    assert [digit for _, digit in app.session_state.taught] == [5]
    assert app.metric[0].value.split()[0] == "5"
    assert "now reads your last drawing as **5**" in texts(app)
    assert "It replaces your lesson of this drawing as **6**." in texts(app)
    assert "did not take" not in texts(app)
    app.segmented_control(key="teach_digit").set_value("5")  # once more: more weight
    rerun(app)
    assert [digit for _, digit in app.session_state.taught] == [5, 5]
    assert "It replaces" not in texts(app)


def test_teaching_without_mnist_says_so(canvas, monkeypatch):
    import ui.teach

    monkeypatch.setattr(ui.teach, "find_mnist_dir", lambda: None)
    app = page(canvas)
    canvas.image = SEVEN
    rerun(app)
    app.segmented_control(key="teach_digit").set_value("1")
    rerun(app)
    assert "not on this server" in texts(app)
    assert app.session_state.selected == DEFAULT


class NoFreeSlot:
    """A stand-in run manager whose every slot stays taken: a teach job never leaves the
    queue."""

    def __init__(self):
        self.stopped = []

    def shared(self):
        return self

    def submit_teach(self, net, drawings, digits, **options):
        manager = self

        class Queued:
            def result(self, timeout):
                return None

            def queue_position(self):
                return 1

            def stop(self, reason="stopped"):
                manager.stopped.append(reason)

        return Queued()


def test_teaching_without_a_free_slot_says_so_and_keeps_the_drawing(canvas, mnist_dir, monkeypatch):
    import ui.teach

    monkeypatch.setenv("MNIST_DIR", str(mnist_dir))
    manager = NoFreeSlot()
    monkeypatch.setattr(ui.teach, "RunManager", manager)
    app = page(canvas)
    canvas.image = SEVEN
    rerun(app)
    app.segmented_control(key="teach_digit").set_value("1")
    rerun(app)
    assert "Every training slot is taken" in texts(app)
    assert manager.stopped == ["no free training slot in time"]  # it leaves the queue
    assert [digit for _, digit in app.session_state.taught] == [1]  # nothing lost
    assert app.session_state.selected == DEFAULT


# --- the panels for a network in training (a stand-in run: the real ones need workers) --


def panels_with_a_run():
    """A page holding only the two panels, given a stand-in run whose network is the book's."""
    import types

    import streamlit as st

    from tests.helpers import shipped_models as load_shipped
    from ui.mistakes import mistakes_ui
    from ui.neurons import neurons_ui
    from ui.state import init_state

    init_state()

    shipped = list(load_shipped().items())
    (label, (net, _)), (_, (trained, _)) = shipped
    run = types.SimpleNamespace(
        network=lambda: trained,
        over=st.session_state.run_over,
        settings=types.SimpleNamespace(label=lambda: "[784, 30, 10] eta 3"),
    )
    neurons_ui(net, label, None, run)
    mistakes_ui(net, label, run)


def test_panels_show_the_network_being_trained(mnist_dir, monkeypatch):
    monkeypatch.setenv("MNIST_DIR", str(mnist_dir))
    app = AppTest.from_function(panels_with_a_run, default_timeout=60)
    app.session_state["run_over"] = False
    app.session_state["neurons_open"] = app.session_state["mistakes_open"] = True
    rerun(app)
    hidden = load_shipped()[DEFAULT][0].sizes[1]
    assert f"{hidden} hidden neurons" in texts(app)  # the network that answers, first
    assert not any(r.key == "mistakes_source" for r in app.radio)  # not while it trains
    app.radio(key="neurons_source").set_value("The network being trained")
    rerun(app)
    assert "30 hidden neurons of *the run [784, 30, 10] eta 3*" in texts(app)
    assert "from noise to strokes" in texts(app)  # it refreshes while training
    app.session_state["run_over"] = True
    rerun(app)
    app.radio(key="mistakes_source").set_value("The network just trained")
    rerun(app)
    assert "*the run [784, 30, 10] eta 3* read all 10,000 test digits" in texts(app)
