"""The Streamlit internals the run service's page code leans on (ui/compat.py): each test
fails when the internal it checks changes, before the page quietly loses what it gives.
Plus the freeze's cause, pinned: a canvas callback in a whole-page run reruns nothing by key.
"""

from __future__ import annotations

import asyncio
import dataclasses
import inspect

from streamlit.testing.v1 import AppTest

from ui import compat


def test_a_fragment_run_is_known_by_its_fragment_ids():
    from streamlit.runtime.scriptrunner import ScriptRunContext

    assert "fragment_ids_this_run" in {f.name for f in dataclasses.fields(ScriptRunContext)}
    assert compat.fragment_run() is False  # no script run here at all


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
        assert asyncio.run(ask(Running())) == (False, "the run service's loop died")
        verdict[0] = (True, "ok")
        assert asyncio.run(ask(Running())) == (True, "ok")

        class Stopping:
            _state = RuntimeState.STOPPING

        assert asyncio.run(ask(Stopping())) == (False, "unavailable")  # Streamlit's own
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
