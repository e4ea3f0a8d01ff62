"""Every place the page relies on Streamlit's or the canvas component's internals.

The page otherwise uses only public API. Each function here leans on something a library does
not promise (a name, a private attribute, a hidden option), pinned in requirements.txt today;
tests/test_compat.py checks each one against the installed libraries in a fraction of a second,
so an upgrade that changes one fails the fast loop, not only a browser test or a visitor.

- `canvas_with_toolbar_style`: the canvas component's registration name and files.
- `unvalidated_figure`: how `st.plotly_chart` treats a plotly Figure (`to_dict()`, trusted).
- `reruns_only_fragments`: `ScriptRunContext.fragment_ids_this_run`.
- `POST_SCRIPT_GC`: the hidden option `runner.postScriptGC`, set in .streamlit/config.toml.

Run service (docs/runs.md):

- `request_fragment_rerun(keys)`: from a fragment's body, ask for a rerun of other fragments by
  key once this run ends, as a widget in those fragments would. (`st.rerun(keys)` allows that
  only from a widget callback.)
- `install_health_check(check)`: make `/_stcore/health` answer 503 while `check()` says the
  server is broken, so systemd and nginx notice.
- `browser_id()`: an identity of the browser (not of the tab or the websocket), from a cookie
  every request of the browser carries: nginx's `digitlab_route` behind the deploy's proxy,
  else the XSRF cookie Streamlit sets on the browser's first visit.
"""

from __future__ import annotations

import hashlib
import importlib
import sys
from collections.abc import Callable, Sequence
from typing import Any

import streamlit as st
import streamlit.components.v2 as components_v2
from plotly.graph_objects import Figure

# The name streamlit_drawable_canvas 0.13.0 registers its v2 component under
# ("<distribution>.<component in its pyproject.toml>"), and what it registers.
CANVAS_COMPONENT = "streamlit-drawable-canvas.streamlit_drawable_canvas"
CANVAS_ROOT_HTML = '<div class="canvas-root"></div>'

# Streamlit's hidden option for its full garbage collection after every script run;
# .streamlit/config.toml switches it off (see docs/measuring.md for why).
POST_SCRIPT_GC = "runner.postScriptGC"

ROUTE_COOKIE = "digitlab_route"  # deploy/nginx.conf's sticky-routing cookie
XSRF_COOKIE = "_streamlit_xsrf"  # streamlit/web/server/starlette/starlette_server_config.py


def canvas_with_toolbar_style(style: str) -> Callable[..., Any]:
    """`st_canvas`, with `style` (CSS) added inside the component's shadow root.

    The component's toolbar floats over the canvas and has no option to move it, and the
    page's own CSS cannot reach into the shadow root. A v2 component's inline HTML is placed
    inside that root, so the style goes into the HTML the component is registered with. It is
    registered once: `streamlit_drawable_canvas` registers itself when imported, so it is
    imported here with `st.components.v2.component` wrapped for that one call, adding the
    style to its HTML. (Registering it a second time under its name, as the page once did,
    makes Streamlit log "already registered ... may lead to unexpected behavior".)

    The canvas module must not have been imported before (the page imports it only through
    here); if it was, its own `st_canvas` is returned and the toolbar keeps its own look.
    A stand-in module that tests put in sys.modules is returned as it is.
    """
    if "streamlit_drawable_canvas" not in sys.modules:
        register = components_v2.component

        def register_with_style(name: str, **kwargs: Any) -> Any:
            if name == CANVAS_COMPONENT and kwargs.get("html") == CANVAS_ROOT_HTML:
                kwargs["html"] = f"{CANVAS_ROOT_HTML}<style>{style}</style>"
            return register(name, **kwargs)

        components_v2.component = register_with_style
        try:
            importlib.import_module("streamlit_drawable_canvas")
        finally:
            components_v2.component = register
    return sys.modules["streamlit_drawable_canvas"].st_canvas


class _Unvalidated(Figure):
    """A figure dict passed to st.plotly_chart as it is.

    `st.plotly_chart` runs a dict through plotly's validators (`Figure(**spec)`, slow: it cost
    more than the rest of a stroke), but takes a `Figure`'s `to_dict()` as already checked.
    """

    def __init__(self, spec: dict):  # deliberately not Figure.__init__: nothing to validate
        self._spec = spec

    def to_dict(self) -> dict:
        return self._spec


def unvalidated_figure(spec: dict) -> Figure:
    """`spec`, for `st.plotly_chart`, which then sends it to the browser unchecked.

    Only for dicts whose shape tests check (ui/charts.py's, tests/test_charts.py)."""
    return _Unvalidated(spec)


def reruns_only_fragments() -> bool:
    """Whether the current script run reruns only fragments (not the whole page).

    Streamlit keeps this in its script run context (`fragment_ids_this_run`, empty or None for
    a whole-page run). If that ever cannot be read, True: the caller then reruns the page,
    which is safe, only slower.
    """
    try:
        from streamlit.runtime.scriptrunner import get_script_run_ctx

        ctx = get_script_run_ctx()
        return bool(ctx is not None and ctx.fragment_ids_this_run)
    except (ImportError, AttributeError):
        return True


def request_fragment_rerun(keys: Sequence[str]) -> bool:
    """Queue a rerun of the fragments with these keys, to run once this run ends (it does
    not cut this run short). False if it could not be asked (no such fragment, no context,
    a Streamlit whose internals moved)."""
    try:
        from streamlit.runtime.scriptrunner import get_script_run_ctx
        from streamlit.runtime.scriptrunner_utils.script_requests import RerunData

        ctx = get_script_run_ctx()
        if ctx is None or ctx.script_requests is None:
            return False
        ids = ctx.fragment_storage.resolve_target(list(keys))
        return bool(
            ctx.script_requests.request_rerun(
                RerunData(
                    query_string=ctx.query_string,
                    page_script_hash=ctx.page_script_hash,
                    fragment_id_queue=ids,
                    is_fragment_scoped_rerun=False,  # like a widget's: does not preempt
                    cached_message_hashes=ctx.cached_message_hashes,
                    context_info=ctx.context_info,
                )
            )
        )
    except Exception:  # noqa: BLE001 - an optimisation only: the page works without it
        return False


_health_checks: list[Callable[[], tuple[bool, str]]] = []


def install_health_check(check: Callable[[], tuple[bool, str]]) -> bool:
    """Add `check() -> (ok, message)` to the server's health endpoint (once per server).
    Returns whether the hook is in place."""
    try:
        from streamlit.runtime.runtime import Runtime
    except ImportError:
        return False
    original = Runtime.__dict__.get("is_ready_for_browser_connection")
    if not isinstance(original, property):
        return False
    if check not in _health_checks:
        _health_checks.append(check)
    if getattr(original.fget, "_digitlab", False):
        return True

    async def ready(self) -> tuple[bool, str]:
        ok, message = await original.fget(self)  # type: ignore[misc]
        if not ok:
            return ok, message
        for each in list(_health_checks):
            try:
                ok, message = each()
            except Exception as e:  # noqa: BLE001 - a failing check is an unhealthy server
                ok, message = False, f"health check failed: {e}"
            if not ok:
                return False, message
        return True, "ok"

    ready._digitlab = True  # type: ignore[attr-defined]
    ready._original = original  # type: ignore[attr-defined]
    Runtime.is_ready_for_browser_connection = property(ready)  # type: ignore[method-assign,assignment]
    return True


def browser_id() -> str | None:
    """A stable, opaque identity of this browser (the same for its tabs and across reloads),
    or None if it sent no cookie to know it by (a script, cookies off)."""
    try:
        cookies = st.context.cookies
        value = cookies.get(ROUTE_COOKIE) or cookies.get(XSRF_COOKIE)
    except Exception:  # noqa: BLE001 - no context (a test harness): unknown
        return None
    if not isinstance(value, str) or not value:
        return None
    if value.startswith("2|"):  # Streamlit's XSRF cookie: "2|mask|masked token|time"
        value = _xsrf_token(value) or value
    return hashlib.sha256(value.encode()).hexdigest()[:24]


def _xsrf_token(cookie: str) -> str | None:
    """The raw token inside a version-2 XSRF cookie (its mask can differ between copies)."""
    try:
        _, mask, masked, _ = cookie.split("|")
        mask_bytes, masked_bytes = bytes.fromhex(mask), bytes.fromhex(masked)
    except ValueError:
        return None
    token = bytes(b ^ mask_bytes[i % len(mask_bytes)] for i, b in enumerate(masked_bytes))
    return token.hex()
