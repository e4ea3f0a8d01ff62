"""Each library internal the page relies on (ui/compat.py) still behaves as the page expects,
checked against the installed Streamlit, plotly and canvas component: an upgrade that changes
one fails here, in the fast loop, not only in a browser test. Plus the freeze's cause, pinned:
a canvas callback in a whole-page run reruns nothing by key."""

from __future__ import annotations

import ast
import dataclasses
import importlib
import inspect
import json
import re
import sys
import threading
import tomllib
from pathlib import Path
from types import SimpleNamespace

import pytest
import streamlit.components.v2 as components_v2
from streamlit.testing.v1 import AppTest

from tests.helpers import REPO, run_coroutine
from ui import compat


def canvas_package() -> Path:
    spec = importlib.util.find_spec("streamlit_drawable_canvas")
    assert spec is not None and spec.origin is not None
    return Path(spec.origin).parent


def toolbar_style() -> str:
    """ui/drawing.py's CANVAS_TOOLBAR_STYLE, read from the source (importing ui.drawing
    outside a running page would import the real canvas, which needs one)."""
    tree = ast.parse((REPO / "ui" / "drawing.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == (
            "CANVAS_TOOLBAR_STYLE"
        ):
            return ast.literal_eval(node.value)
    raise AssertionError("CANVAS_TOOLBAR_STYLE not found in ui/drawing.py")


# --- the canvas component: registered once, with the toolbar's style -----------------------


@pytest.fixture
def registrations(monkeypatch) -> list[tuple[str, dict]]:
    """The canvas module imported afresh, with Streamlit's component registration recorded
    (and nothing registered for real)."""
    calls: list[tuple[str, dict]] = []

    def record(name, **kwargs):
        calls.append((name, kwargs))
        return lambda **_mount: None

    monkeypatch.setattr(components_v2, "component", record)
    monkeypatch.delitem(sys.modules, "streamlit_drawable_canvas", raising=False)
    return calls


def test_the_canvas_registers_once_under_its_name_with_the_style_in_its_html(registrations):
    compat.canvas_with_toolbar_style(".x { color: red; }")
    assert registrations == [
        (
            compat.CANVAS_COMPONENT,
            {
                "js": "index-*.js",
                "css": "index-*.css",
                "html": f"{compat.CANVAS_ROOT_HTML}<style>.x {{ color: red; }}</style>",
                "isolate_styles": True,
            },
        )
    ]
    assert components_v2.component.__name__ == "record"  # the wrapper is gone again


def test_the_canvas_name_and_files_are_the_ones_its_package_declares():
    package = canvas_package()
    manifest = tomllib.loads((package / "pyproject.toml").read_text())
    (declared,) = manifest["tool"]["streamlit"]["component"]["components"]
    assert f"{manifest['project']['name']}.{declared['name']}" == compat.CANVAS_COMPONENT
    assets = package / declared["asset_dir"]
    assert len(list(assets.glob("index-*.js"))) == 1
    assert len(list(assets.glob("index-*.css"))) == 1


def test_the_toolbar_style_names_classes_and_buttons_the_canvas_has():
    assets = canvas_package() / "frontend" / "build"
    css = next(assets.glob("index-*.css")).read_text()
    js = next(assets.glob("index-*.js")).read_text()
    style = toolbar_style()
    classes = set(re.findall(r"\.(dc-[a-z-]+)", style))
    assert {"dc-toolbar", "dc-icon-button"} <= classes
    for name in classes:
        assert f".{name}" in css or f'"{name}' in js or f" {name}" in js, name
    for label in re.findall(r'aria-label="(\w+)"', style):  # Undo, Redo
        assert f'"{label}"' in js, label


# --- plotly figures passed to Streamlit unchecked ------------------------------------------


def plotly_script():
    import streamlit as st

    from ui.compat import unvalidated_figure

    # "digitlab_mark" is no plotly property: plotly's validation would refuse it
    spec = {"data": [{"type": "bar", "y": [1, 2]}], "layout": {"digitlab_mark": 1}}
    st.plotly_chart(unvalidated_figure(spec), key="unchecked")
    try:
        st.plotly_chart(spec, key="checked")
    except ValueError:
        st.session_state.validated = True


def test_a_figure_dict_reaches_the_browser_unchecked_and_unchanged():
    at = AppTest.from_function(plotly_script, default_timeout=30).run()
    assert not at.exception
    sent = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert sent == {"data": [{"type": "bar", "y": [1, 2]}], "layout": {"digitlab_mark": 1}}
    assert at.session_state.validated  # the same dict given as a dict is checked (and refused)


# --- which part of the page a run reruns ---------------------------------------------------


def fragment_script():
    import streamlit as st

    from ui.compat import reruns_only_fragments

    st.session_state.setdefault("seen", [])
    st.session_state.seen.append(("page", reruns_only_fragments()))

    @st.fragment(key="part")
    def part():
        st.session_state.seen.append(("fragment", reruns_only_fragments()))

    part()
    st.button("rerun the fragment", key="go", on_click=lambda: st.rerun(["part"]))


def test_a_fragments_own_rerun_is_told_from_a_whole_page_run():
    at = AppTest.from_function(fragment_script, default_timeout=30).run()
    assert at.session_state.seen == [("page", False), ("fragment", False)]
    at.button(key="go").click().run()
    assert not at.exception
    assert at.session_state.seen[2:] == [("fragment", True)]


# --- the hidden option that switches off Streamlit's collection after every run ------------


@pytest.mark.parametrize("on", [True, False])
def test_post_script_gc_decides_the_full_collection_after_a_run(on, monkeypatch):
    """Streamlit's server-side runner (not AppTest's, which skips it) ends each script run in
    `ScriptRunner._on_script_finished`; called here with stand-ins for what it touches."""
    from streamlit import config
    from streamlit.runtime.scriptrunner import script_runner
    from streamlit.runtime.scriptrunner.script_runner import ScriptRunner, ScriptRunnerEvent

    full = []
    monkeypatch.setattr(script_runner.gc, "collect", lambda generation=2: full.append(generation))
    runner = SimpleNamespace(
        on_event=SimpleNamespace(send=lambda *a, **k: None), _join_wake_lock=threading.Lock()
    )
    ctx = SimpleNamespace(has_script_started=False)
    before = config.get_option(compat.POST_SCRIPT_GC)
    config.set_option(compat.POST_SCRIPT_GC, on)
    try:
        ScriptRunner._on_script_finished(
            runner, ctx, ScriptRunnerEvent.SCRIPT_STOPPED_WITH_SUCCESS, True, None
        )
    finally:
        config.set_option(compat.POST_SCRIPT_GC, before)
    assert full == ([2] if on else [])


def test_the_page_switches_post_script_gc_off():
    settings = tomllib.loads((REPO / ".streamlit" / "config.toml").read_text())
    section, key = compat.POST_SCRIPT_GC.split(".")
    assert settings[section][key] is False


# -- the run service's internals ------------------------------------------------------------


def test_a_fragment_run_is_known_by_its_fragment_ids():
    from streamlit.runtime.scriptrunner import ScriptRunContext

    assert "fragment_ids_this_run" in {f.name for f in dataclasses.fields(ScriptRunContext)}
    assert compat.reruns_only_fragments() is False  # no script run here at all


def test_a_fragment_rerun_can_be_requested_as_a_widget_would():
    from streamlit.runtime.fragment import MemoryFragmentStorage
    from streamlit.runtime.scriptrunner import ScriptRunContext
    from streamlit.runtime.scriptrunner_utils import script_requests
    from streamlit.runtime.scriptrunner_utils.script_requests import RerunData, ScriptRequests

    fields = {f.name for f in dataclasses.fields(ScriptRunContext)}
    assert {
        "script_requests",
        "fragment_storage",
        "query_string",
        "cached_message_hashes",
        "context_info",
    } <= fields
    assert isinstance(ScriptRunContext.page_script_hash, property)
    rerun = {f.name for f in dataclasses.fields(RerunData)}
    assert {"fragment_id_queue", "is_fragment_scoped_rerun", "context_info"} <= rerun
    assert callable(MemoryFragmentStorage.resolve_target)
    assert callable(ScriptRequests.request_rerun)
    # such a request waits for the current run to end instead of cutting it short
    assert script_requests._fragment_run_should_not_preempt_script(["id"], False)
    assert compat.request_fragment_rerun(["drawing"]) is False  # no script run here


def test_the_health_check_can_be_made_to_fail():
    from streamlit.runtime.runtime import Runtime, RuntimeState
    from streamlit.web.server.starlette import starlette_routes

    assert "is_ready_for_browser_connection" in inspect.getsource(
        starlette_routes.create_health_routes
    )
    verdict = [(False, "the run service's loop died")]
    check = lambda: verdict[0]  # noqa: E731
    assert compat.install_health_check(check)
    try:

        class Running:
            _state = RuntimeState.ONE_OR_MORE_SESSIONS_CONNECTED

        ask = Runtime.is_ready_for_browser_connection.fget
        assert run_coroutine(ask(Running())) == (False, "the run service's loop died")
        verdict[0] = (True, "ok")
        assert run_coroutine(ask(Running())) == (True, "ok")

        class Stopping:
            _state = RuntimeState.STOPPING

        assert run_coroutine(ask(Stopping())) == (False, "unavailable")  # Streamlit's own
    finally:
        compat._health_checks.remove(check)


def test_the_browser_is_known_by_its_xsrf_token_whatever_the_mask():
    from streamlit.web.server.starlette import starlette_app_utils, starlette_server_config

    assert starlette_server_config.XSRF_COOKIE_NAME == compat.XSRF_COOKIE
    token = bytes(range(16))
    one = starlette_app_utils.generate_xsrf_token_string(token, 1700000000)
    two = starlette_app_utils.generate_xsrf_token_string(token, 1700000000)
    other = starlette_app_utils.generate_xsrf_token_string(bytes(16), 1700000000)
    assert one != two  # a fresh mask on every response ...
    assert compat._xsrf_token(one) == compat._xsrf_token(two) == token.hex()  # ... one token
    assert compat._xsrf_token(other) != token.hex()


def stroke_page():
    """A page with the fragments the canvas's callback reruns, and a button standing in for
    the canvas, outside them (as in a stroke merged with a picker change)."""
    import streamlit as st

    from ui import drawing

    st.session_state.setdefault("runs", ["a run"])
    st.session_state["neurons_open"] = True
    st.session_state["page_runs"] = st.session_state.get("page_runs", 0) + 1
    for key in ("drawing", "neurons", "reread"):
        st.fragment(key=key)(lambda: st.caption("a fragment"))()
    st.button("stroke", on_click=drawing.rerun_readers)


def test_a_stroke_in_a_whole_page_run_does_not_replace_it_with_a_keyed_rerun():
    app = AppTest.from_function(stroke_page, default_timeout=30)
    app.run()
    assert app.session_state["page_runs"] == 1
    app.button[0].click()
    app.run()
    assert not app.exception
    # the whole page ran (the body outside the fragments too): nothing cut it short, so the
    # browser gets the live part's timer back at its end
    assert app.session_state["page_runs"] == 2


def test_a_message_streamlit_drops_marks_its_session_for_the_next_run(monkeypatch):
    """An event of a ScriptRunner that is no longer the session's is ignored by Streamlit
    (the lost-answer race); the hook marks the session, the session's next run reads the
    mark once. The event of the session's own runner marks nothing."""
    import asyncio

    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
    from streamlit.runtime.app_session import AppSession
    from streamlit.runtime.scriptrunner import ScriptRunnerEvent

    source = inspect.getsource(inspect.unwrap(AppSession._handle_scriptrunner_event_on_event_loop))
    assert "sender is not self._scriptrunner" in source and "return" in source
    assert compat.track_dropped_messages()
    assert compat.track_dropped_messages()  # once: not wrapped twice
    handle = AppSession._handle_scriptrunner_event_on_event_loop
    assert handle._digitlab

    async def events() -> None:
        session = SimpleNamespace(
            id="s-1", _scriptrunner=object(), _event_loop=asyncio.get_running_loop()
        )
        old_runner = object()
        handle(session, old_runner, ScriptRunnerEvent.ENQUEUE_FORWARD_MSG, ForwardMsg())
        other = SimpleNamespace(id="s-2", _scriptrunner=old_runner)
        other._event_loop = session._event_loop
        handle(other, object(), ScriptRunnerEvent.SHUTDOWN)  # not a message for the browser

    run_coroutine(events(), 30)
    ctx = SimpleNamespace(session_id="s-1")
    monkeypatch.setattr("streamlit.runtime.scriptrunner.get_script_run_ctx", lambda *a, **k: ctx)
    assert compat.messages_were_dropped() is True
    assert compat.messages_were_dropped() is False  # read once
    ctx.session_id = "s-2"
    assert compat.messages_were_dropped() is False


def test_plotly_still_has_the_drag_layer_the_tap_script_finds():
    """ui.compat.TAP_SCRIPT looks for plotly.js's drag layer by its class: the plotly.js that
    Streamlit ships in its frontend bundle must still create elements of that class."""
    import streamlit

    bundle = Path(streamlit.__file__).parent / "static" / "static" / "js"
    plotly_js = [p for p in bundle.glob("*.js") if "Plotly" in p.name]
    assert plotly_js, "Streamlit's bundle has no plotly chart file any more"
    text = "".join(p.read_text(encoding="utf-8", errors="replace") for p in plotly_js)
    # plotly.js builds the class from its drag directions ("ns" + "ew" + "drag") and selects
    # its own plot areas by it: that selector is what says the class is still made
    assert f"`.{compat.PLOTLY_DRAG_LAYER}`" in text or f'".{compat.PLOTLY_DRAG_LAYER}"' in text
    assert f".{compat.PLOTLY_DRAG_LAYER}" in compat.TAP_SCRIPT
