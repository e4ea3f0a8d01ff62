"""The page's training section (AppTest): presets, controls, limits, live chart data.

Runs train for real, in worker processes of a run manager set up for each test, on the
real MNIST (small settings, so a run takes a second or two).
"""

from __future__ import annotations

import json
import time

import pytest
from streamlit.testing.v1 import AppTest

from nn import mnist
from nn.protocol import State
from nn.settings import Settings, SettingsError
from runs.manager import RunManager
from tests.helpers import APP, SEVEN, canvas_image
from ui.download import BackgroundDownload
from ui.presets import PRESETS
from ui.state import SETTING_WIDGETS, widget_key

# Each test trains for real in worker processes on the real MNIST: seconds each.
pytestmark = pytest.mark.slow


@pytest.fixture
def manager(mnist_dir, monkeypatch):
    """A fresh server-wide run manager for each test (the page asks RunManager.shared())."""
    monkeypatch.setenv("MNIST_DIR", str(mnist_dir))
    monkeypatch.setattr(RunManager, "_shared", None)
    yield RunManager.shared()
    RunManager.shared().close()


@pytest.fixture
def page(canvas, manager) -> AppTest:
    app = AppTest.from_file(APP, default_timeout=30)
    run(app)
    return app


def run(app: AppTest) -> AppTest:
    app.run()
    assert not app.exception, app.exception
    return app


def button(app: AppTest, label: str):
    return next(b for b in app.button if b.label == label)


def labels(app: AppTest) -> list[str]:
    return [b.label for b in app.button]


def wait_for(app: AppTest, condition, timeout=60.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        run(app)
        if condition(app):
            return app
        time.sleep(0.2)
    raise AssertionError("the page never reached the expected state")


def current(app: AppTest):
    return app.session_state["runs"][-1]


def ended(app: AppTest) -> bool:
    """The run is over and this rerun of the page shows it (not only the engine)."""
    return current(app).over and "Train" in labels(app)


def accuracy_chart(app: AppTest) -> dict | None:
    for chart in app.get("plotly_chart"):
        spec = json.loads(chart.proto.spec)
        if "Accuracy" in json.dumps(spec["layout"].get("title", "")):
            return spec
    return None


def quick(app: AppTest, epochs=2, train_size=1_000) -> None:
    app.select_slider(key=widget_key(app.session_state, "t_train_size")).set_value(train_size)
    app.slider(key=widget_key(app.session_state, "t_epochs")).set_value(epochs)


def test_presets_set_every_control_and_say_what_to_expect(page):
    assert page.selectbox(key=widget_key(page.session_state, "t_preset")).value == PRESETS[0].name
    assert any("95.42\u00a0%" in i.value for i in page.info)  # unit kept with its number
    page.selectbox(key=widget_key(page.session_state, "t_preset")).select("eta too large: 100")
    run(page)
    assert page.select_slider(key=widget_key(page.session_state, "t_eta")).value == 100.0
    assert page.slider(key=widget_key(page.session_state, "t_hidden")).value == 30
    assert any("Stuck near chance" in i.value for i in page.info)
    page.slider(key=widget_key(page.session_state, "t_hidden")).set_value(31)
    run(page)
    assert any("no book result" in c.value for c in page.caption)


def test_limits_are_stated_on_the_page(page, manager):
    text = " ".join(c.value for c in page.caption)
    assert f"up to {manager.limits.max_hidden} hidden neurons" in text
    assert f"{manager.limits.max_concurrent} runs train at once" in text


def test_train_grows_the_curves_and_ends_with_results(page):
    quick(page, epochs=3)
    button(page, "Train").click()
    run(page)
    assert len(page.session_state["runs"]) == 1
    assert "Stop" in labels(page) and "Train" not in labels(page)
    # a run's settings are fixed, except eta
    assert page.slider(key=widget_key(page.session_state, "t_hidden")).disabled
    assert not page.select_slider(key=widget_key(page.session_state, "t_eta")).disabled
    wait_for(page, ended)
    chart = accuracy_chart(page)
    test_trace = next(t for t in chart["data"] if t["meta"]["series"] == "test")
    assert test_trace["x"][0] == 0 and test_trace["x"][-1] == 3
    assert len(test_trace["x"]) >= 4 and test_trace["y"][-1] > 40
    notes = [a["text"] for a in chart["layout"]["annotations"]]
    assert any(n.startswith("chance 10.00 %") for n in notes)
    assert any(n.startswith("average darkness 22.25 %") for n in notes)
    assert not any(n.startswith("the book") for n in notes)  # 1,000 images: not the book's run
    assert [m.label for m in page.metric][-2:] == ["Validation accuracy", "Test accuracy"]
    assert "Train" in labels(page)


def test_use_this_network_for_drawing_adds_it_to_the_picker(page, canvas):
    quick(page, epochs=1)
    button(page, "Train").click()
    wait_for(page, ended)
    button(page, "Use this network for drawing").click()
    canvas.image = canvas_image(SEVEN)
    run(page)
    selected = page.selectbox(key="selected").value
    assert selected.startswith("Trained here: eta 3 batch 10 1,000 images: [784, 30, 10]")
    assert selected.count("784") == 1  # the layers once, not in the title and the label
    assert selected in page.selectbox(key="selected").options
    assert button(page, "Use this network for drawing").disabled


def test_pause_resume_stop_and_reset(page):
    quick(page, epochs=50, train_size=50_000)
    button(page, "Train").click()
    wait_for(page, lambda a: "Pause" in labels(a))  # drawn once the run trains
    button(page, "Pause").click()
    wait_for(page, lambda a: "Resume" in labels(a))
    assert current(page).view().state is State.PAUSED
    button(page, "Resume").click()
    wait_for(page, lambda a: "Pause" in labels(a))
    assert current(page).view().state is State.RUNNING
    button(page, "Stop").click()
    wait_for(page, ended)
    assert current(page).view().state is State.STOPPED
    button(page, "Reset").click()
    run(page)
    assert page.session_state["runs"] == []


def test_step_while_paused_and_slow_motion_while_running(page):
    quick(page, epochs=50, train_size=50_000)  # 5,000 mini-batches an epoch
    button(page, "Train").click()
    wait_for(page, lambda a: "Slow motion" in labels(a))  # beside Pause while it trains
    button(page, "Slow motion").click()
    run(page)
    assert "Full speed" in labels(page) and current(page).view().speed == "slow"
    wait_for(page, lambda a: "slow motion" in a.get("progress")[0].proto.text)
    button(page, "Pause").click()
    wait_for(page, lambda a: "Step" in labels(a) and current(a).view().state is State.PAUSED)
    before = current(page).view().progress
    button(page, "Step").click()
    wait_for(page, lambda a: current(a).view().progress > before)
    view = current(page).view()
    assert view.state is State.PAUSED and view.progress * 5000 == pytest.approx(before * 5000 + 1)
    # the panel shows that mini-batch, looked at in the worker; a neuron picked for BP4 is
    # the one the next step keeps
    wait_for(page, lambda a: any("mini-batch just done" in m.value for m in a.markdown))
    page.selectbox(key="step_neuron").set_value(5)
    run(page)
    button(page, "Step").click()
    wait_for(page, lambda a: (s := current(a).view().last_step) is not None and s.neuron == 5)
    button(page, "Resume").click()
    wait_for(page, lambda a: "Full speed" in labels(a))  # still slow after the pause
    button(page, "Full speed").click()
    run(page)
    assert "Slow motion" in labels(page) and current(page).view().speed == "full"
    button(page, "Stop").click()
    wait_for(page, ended)


def test_moving_eta_during_a_run_changes_it_and_marks_the_chart(page):
    quick(page, epochs=50, train_size=50_000)
    button(page, "Train").click()
    wait_for(page, lambda a: len(current(a).view().history) >= 2)
    page.select_slider(key=widget_key(page.session_state, "t_eta")).set_value(0.5)
    wait_for(page, lambda a: current(a).view().eta_changes)
    handle = current(page)
    changed_at, eta = handle.view().eta_changes[0]
    assert eta == 0.5 and handle.view().state is State.RUNNING  # no restart
    wait_for(page, lambda a: any(p.epoch > changed_at for p in current(a).view().history))
    notes = [a["text"] for a in accuracy_chart(page)["layout"]["annotations"]]
    assert "eta 0.5" in notes
    assert "the book 95.42 %" in notes  # the book's preset, run as the book did
    button(page, "Stop").click()
    run(page)


def test_every_setting_has_one_widget_and_a_preset_fills_them_all(page):
    """The one table between the widgets and Settings covers every field the page sets."""
    page_fields = {f for f in Settings.__dataclass_fields__ if f != "augment"}
    assert set(SETTING_WIDGETS.values()) == page_fields
    page.selectbox(key=widget_key(page.session_state, "t_preset")).select(PRESETS[-1].name)
    run(page)
    for key, field in SETTING_WIDGETS.items():
        if field != "seed":  # a preset keeps the visitor's seed
            assert page.session_state[key] == getattr(PRESETS[-1].settings, field), key


@pytest.mark.parametrize(
    "key, value",
    [
        ("t_hidden", 10_000),
        ("t_hidden", 0),
        ("t_epochs", 10_000),
        ("t_eta", 1e9),
        ("t_batch", 0),
        ("t_l2", 1e12),
        ("t_train_size", 10**9),
        ("t_seed", -1),
    ],
)
def test_a_tampered_widget_value_starts_no_run(page, key, value):
    """A value no widget offers, as a tampered session could send it: Streamlit puts the
    widget back within its range or the engine refuses the run; either way no run starts
    with it, and the page says so or shows the widget's own value."""
    page.session_state[widget_key(page.session_state, key)] = value  # as a browser sends it
    run(page)
    button(page, "Train").click()
    run(page)
    runs = page.session_state["runs"]
    try:
        assert len(runs) <= 1
        if runs:  # started: with the value the widget shows, never the tampered one
            field = SETTING_WIDGETS[key]
            assert getattr(runs[0].settings, field) != value
            assert getattr(runs[0].settings, field) == page.session_state[key]
        else:  # refused: the engine's message is on the page
            assert any("must" in e.value for e in page.error), [e.value for e in page.error]
    finally:
        for handle in runs:
            handle.stop()


def test_widgets_at_their_bounds_are_accepted(page, manager):
    page.slider(key=widget_key(page.session_state, "t_hidden")).set_value(manager.limits.max_hidden)
    page.slider(key=widget_key(page.session_state, "t_epochs")).set_value(1)
    page.select_slider(key=widget_key(page.session_state, "t_eta")).set_value(100.0)
    page.select_slider(key=widget_key(page.session_state, "t_batch")).set_value(1000)
    page.select_slider(key=widget_key(page.session_state, "t_train_size")).set_value(1_000)
    run(page)
    button(page, "Train").click()
    wait_for(page, ended)
    assert current(page).view().state is State.FINISHED


def test_without_mnist_the_page_offers_the_download_and_drawing_works(
    canvas, monkeypatch, tmp_path
):
    monkeypatch.delenv("MNIST_DIR", raising=False)
    monkeypatch.setattr(mnist, "DATA_DIR", tmp_path)
    monkeypatch.setattr(RunManager, "_shared", None)
    try:
        app = run(AppTest.from_file(APP, default_timeout=30))
        assert any("MNIST" in w.value for w in app.warning)
        assert "Download MNIST" in labels(app)
        canvas.image = canvas_image(SEVEN)
        run(app)
        assert app.metric[0].value == "7"
        started = []  # the button starts the server's one background download
        monkeypatch.setattr(BackgroundDownload, "start", classmethod(lambda cls: started.append(1)))
        button(app, "Download MNIST").click()
        run(app)
        assert started == [1]
    finally:
        RunManager.shared().close()


def test_settings_survive_a_page_run_that_could_not_draw_them(page, monkeypatch):
    """While the server cannot train for a moment the section draws no settings; when it can
    again, they are the visitor's, not each widget's default (the first option: eta 0.001)."""
    page.select_slider(key=widget_key(page.session_state, "t_eta")).set_value(0.5)
    page.select_slider(key=widget_key(page.session_state, "t_train_size")).set_value(2_000)
    page.slider(key=widget_key(page.session_state, "t_hidden")).set_value(42)
    run(page)

    def broken():
        raise SettingsError("environment variable DIGITLAB_MAX_RUNS='x' is not a number")

    with monkeypatch.context() as m:
        m.setattr(RunManager, "shared", broken)
        run(page)
        assert not page.select_slider  # nothing of the section was drawn in that run
    run(page)
    assert page.select_slider(key=widget_key(page.session_state, "t_eta")).value == 0.5
    assert page.select_slider(key=widget_key(page.session_state, "t_train_size")).value == 2_000
    assert page.slider(key=widget_key(page.session_state, "t_hidden")).value == 42


def test_a_mistyped_limit_switches_training_off_with_its_name(canvas, monkeypatch):
    monkeypatch.setenv("DIGITLAB_MAX_RUNS", "abc")
    monkeypatch.setattr(RunManager, "_shared", None)
    app = run(AppTest.from_file(APP, default_timeout=30))
    assert any("DIGITLAB_MAX_RUNS" in e.value and "switched off" in e.value for e in app.error)
    canvas.image = canvas_image(SEVEN)
    run(app)
    assert app.metric[0].value == "7"


def test_a_reloaded_page_finds_its_run_by_the_token_in_its_url(page, manager):
    quick(page, epochs=50, train_size=50_000)
    button(page, "Train").click()
    run(page)
    handle = current(page)
    token = page.query_params["run"]
    token = token[0] if isinstance(token, list) else token
    assert token == handle.token
    reloaded = AppTest.from_file(APP, default_timeout=30)  # a new session: the reload
    reloaded.query_params["run"] = token
    run(reloaded)
    assert current(reloaded).id == handle.id and "Stop" in labels(reloaded)
    # the run's settings, not the preset's
    assert reloaded.slider(key=widget_key(reloaded.session_state, "t_epochs")).value == 50
    # eta moved mid-run: a reload (here a second one) shows the eta the run trains with now
    reloaded.select_slider(key=widget_key(reloaded.session_state, "t_eta")).set_value(0.5)
    wait_for(reloaded, lambda a: current(a).view().eta_changes)
    again = AppTest.from_file(APP, default_timeout=30)
    again.query_params["run"] = token
    run(again)
    assert current(again).id == handle.id
    assert again.select_slider(key=widget_key(again.session_state, "t_eta")).value == 0.5
    assert again.selectbox(key=widget_key(again.session_state, "t_preset")).value == (
        "Your own settings"
    )
    handle.stop()


def test_a_page_naming_a_run_of_a_restarted_server_says_it_was_lost(canvas, manager):
    app = AppTest.from_file(APP, default_timeout=30)
    app.query_params["run"] = "0badb00t.1.abc"  # a token of another server process
    run(app)
    assert any("lost when the server restarted" in e.value for e in app.error)
    assert "Train" in labels(app) and app.session_state["runs"] == []
