"""The page's uses of Streamlit internals (streamlit 1.67), each in one named function, each
covered by tests/test_compat.py, which fails when the internal it leans on changes.

Run service (docs/runs.md):

- `fragment_run()`: whether this script run reruns fragments only (not the whole page).
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
from collections.abc import Callable, Sequence

import streamlit as st

ROUTE_COOKIE = "digitlab_route"  # deploy/nginx.conf's sticky-routing cookie
XSRF_COOKIE = "_streamlit_xsrf"  # streamlit/web/server/starlette/starlette_server_config.py


def fragment_run() -> bool:
    """Whether this run reruns only fragments (then the sidebar and the widgets outside them
    are not redrawn). Unknown (a future Streamlit): True, the safe answer for callers."""
    try:
        from streamlit.runtime.scriptrunner import get_script_run_ctx

        ctx = get_script_run_ctx()
        return bool(ctx is not None and getattr(ctx, "fragment_ids_this_run", None))
    except ImportError:
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
        ok, message = await original.fget(self)
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
    Runtime.is_ready_for_browser_connection = property(ready)  # type: ignore[method-assign]
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
