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
- `track_dropped_messages()` and `messages_were_dropped()`: Streamlit drops the messages a
  finished run has not yet sent when a rerun request comes in between (`AppSession.
  _handle_scriptrunner_event_on_event_loop` ignores events from a ScriptRunner that is no
  longer the session's: "Ignoring event from non-current ScriptRunner"). Wrapped so that the
  session is marked when that happens to a message for the browser; the page's next run
  asks, and redraws what may be missing (ui.training's live part: the drawing row).
- `install_health_check(check)`: make `/_stcore/health` answer 503 while `check()` says the
  server is broken, so systemd and nginx notice.
- `browser_id()`: an identity of the browser (not of the tab or the websocket), from a cookie
  every request of the browser carries: nginx's `digitlab_route` behind the deploy's proxy,
  else the XSRF cookie Streamlit sets on the browser's first visit.

Bounds (issue 18; the numbers are in ui.bounds and docs/bounds.md; their tests are in
tests/test_compat_bounds.py; the page calls `install_bounds()` once per server):

- `bound_upload_store`: Streamlit keeps the bytes of every PUT to
  `/_stcore/upload_file/<session>/<id>` in `MemoryUploadedFileManager.file_storage` until
  the session shuts down, with no limit on how many. Wrapped so that a session keeps at
  most its newest files within a byte and count budget, the whole copy keeps at most a
  byte budget (the oldest files go first), and files of sessions that no longer exist are
  dropped. The page reads an upload once (ui.sidebar.take_upload), so an evicted file
  costs nobody their network.
- `ignore_clear_cache`: any websocket client can send the `clear_cache` message, which
  clears `st.cache_data`/`st.cache_resource` for every visitor of the server (and cleared
  the sender's session state under its running callbacks). It is now ignored.
- `drop_undeserialisable_widget_values`: a client can send any value for any widget (NaN
  for an integer number_input, a string for a slider). Streamlit deserialises every
  widget's value before the script runs, to find changed widgets, and one that raises
  (`int(nan)`), or a value of another type than the widget's, failed every run of that tab
  from then on. Such a value is now replaced (and logged) by what the deserialiser gives
  when the client sent nothing: the widget's default.
- `start_session_sweeper`: a closed tab's session waits `disconnectedSessionTTL` in
  Streamlit's session storage (a TTLCache), whose expired entries are dropped without
  `AppSession.shutdown()` (so their uploads stayed in the store) and only when the storage
  is next touched. The sweeper expires them on time, shuts them down, and runs a garbage
  collection when sessions have come or gone (cycles in a session's objects are not freed
  otherwise: Streamlit's per-run collection is off, .streamlit/config.toml): at most one
  per `every` seconds, measured in benchmarks/RESULTS.md.
"""

from __future__ import annotations

import collections
import functools
import gc
import hashlib
import importlib
import logging
import sys
import threading
import time
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

# On a touch screen one tap must open what it lands on (a hidden-layer square, a neuron's
# picture, a dot of the map, a confusion cell), as one click does with a mouse. plotly.js
# selects a clicked point from its hover data, which a mouse's moves have made before the
# click but a tap has not: the first tap only showed the hover label, the second opened it
# (plotly/plotly.js#2639 describes the same on phones). So this script of the page
# (ui.page.setup_page) gives plotly a mouse move where a touch starts on a chart's plot
# area: the element with plotly.js's class PLOTLY_DRAG_LAYER, in Streamlit's bundle of
# plotly.js (tests/test_compat.py checks it is still there). Once per tab (a flag on window).
PLOTLY_DRAG_LAYER = "nsewdrag"
TAP_SCRIPT = """<script>
if (!window.digitLabTaps) {
  window.digitLabTaps = true;
  document.addEventListener("touchstart", (event) => {
    const touch = event.touches && event.touches[0];
    const area = event.target.closest && event.target.closest(".js-plotly-plot .DRAG_LAYER");
    if (!touch || !area) return;
    area.dispatchEvent(new MouseEvent("mousemove", {
      clientX: touch.clientX, clientY: touch.clientY, bubbles: true }));
  }, { capture: true, passive: true });
}
</script>""".replace("DRAG_LAYER", PLOTLY_DRAG_LAYER)

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


DROPPED_SESSIONS_KEPT = 4096  # sessions marked at once, at most (the oldest mark goes first)
_dropped: collections.OrderedDict[str, None] = collections.OrderedDict()
_dropped_lock = threading.Lock()


def track_dropped_messages() -> bool:
    """Mark a session whenever Streamlit drops a message of one of its runs for the browser
    (once per server; see the module docstring). Returns whether the hook is in place."""
    try:
        from streamlit.runtime.app_session import AppSession
        from streamlit.runtime.scriptrunner import ScriptRunnerEvent
    except ImportError:
        return False
    original = AppSession.__dict__.get("_handle_scriptrunner_event_on_event_loop")
    if not callable(original):
        return False
    if getattr(original, "_digitlab", False):
        return True

    @functools.wraps(original)
    def handle(self, sender, event, *args, **kwargs):
        if (
            sender is not None
            and sender is not getattr(self, "_scriptrunner", sender)
            and event == ScriptRunnerEvent.ENQUEUE_FORWARD_MSG
        ):
            with _dropped_lock:
                _dropped[self.id] = None
                _dropped.move_to_end(self.id)
                while len(_dropped) > DROPPED_SESSIONS_KEPT:
                    _dropped.popitem(last=False)
        return original(self, sender, event, *args, **kwargs)

    handle._digitlab = True  # type: ignore[attr-defined]
    AppSession._handle_scriptrunner_event_on_event_loop = handle  # type: ignore[method-assign]
    return True


def messages_were_dropped() -> bool:
    """Whether a message of this session's runs was dropped since the last call (which
    clears the mark). False outside a script run, or without the hook."""
    try:
        from streamlit.runtime.scriptrunner import get_script_run_ctx

        ctx = get_script_run_ctx()
    except ImportError:
        return False
    if ctx is None:
        return False
    with _dropped_lock:
        return _dropped.pop(ctx.session_id, False) is None


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


# --- issue 18: bounds on what a visitor can make the server hold ----------------------------

_LOG = logging.getLogger("digitlab.compat")
_INSTALLED = threading.Lock()
_installed = False


def _runtime():
    from streamlit.runtime import Runtime

    return Runtime.instance()


def install_bounds(session_bytes: int, session_files: int, copy_bytes: int, sweep_every: float):
    """Once per process: every bound below on the running server. Returns True the first
    time, False afterwards (and without a running Streamlit server, e.g. under AppTest)."""
    global _installed
    with _INSTALLED:
        if _installed:
            return False
        from streamlit.runtime import Runtime

        if not Runtime.exists():
            return False
        runtime = Runtime.instance()
        bound_upload_store(
            runtime.uploaded_file_mgr,
            session_bytes,
            session_files,
            copy_bytes,
            alive=lambda sid: session_exists(runtime, sid),
        )
        ignore_clear_cache()
        drop_undeserialisable_widget_values()
        start_session_sweeper(runtime, sweep_every)
        _installed = True
        return True


# --- uploads --------------------------------------------------------------------------------


def upload_store_bytes(manager) -> int:
    """Bytes the upload store holds now (all sessions)."""
    with manager._lock:
        return sum(len(f.data) for files in manager.file_storage.values() for f in files.values())


TOO_LARGE_TYPE = "application/x-digitlab-too-large"


def too_large_size(uploaded) -> int | None:
    """The size of an uploaded file the store kept without its bytes (see
    bound_upload_store), or None for a file that is there in full."""
    kind = str(getattr(uploaded, "type", ""))
    if not kind.startswith(TOO_LARGE_TYPE + "; size="):
        return None
    return int(kind.rsplit("=", 1)[1])


def forget_upload_bytes(uploaded) -> None:
    """Once the page has read an uploaded file: drop its bytes from the widget's value (an
    UploadedFile, a BytesIO) and from Streamlit's store, keeping the record (same file id,
    name and type: the uploader's value stays the same file, so no change is seen)."""
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    uploaded.seek(0)
    uploaded.truncate()
    ctx = get_script_run_ctx()
    manager = getattr(ctx, "uploaded_file_mgr", None)
    if ctx is None or manager is None or not hasattr(manager, "file_storage"):
        return
    with manager._lock:
        files = manager.file_storage.get(ctx.session_id, {})
        record = files.get(uploaded.file_id)
        if record is not None and record.data:
            files[uploaded.file_id] = record._replace(data=b"")
            manager._total_bytes -= len(record.data)  # the store's own statistics


def bound_upload_store(
    manager, session_bytes: int, session_files: int, copy_bytes: int, alive=None
) -> None:
    """Wrap `manager.add_file` (a MemoryUploadedFileManager) with the budgets above.

    A file over `session_bytes` is stored without its bytes (its type says its size, see
    `too_large_size`). After a file is added: files of sessions `alive(session_id)` says
    are gone are removed; the adding session's oldest files go until it holds at most
    `session_files` files and `session_bytes` bytes (its newest file always stays); then
    the copy's oldest files (of any session) go until the store holds at most
    `copy_bytes`, never the file just added.
    """
    if getattr(manager, "_digitlab_bounded", False):
        return
    add_file = manager.add_file
    order: collections.OrderedDict[tuple[str, str], None] = collections.OrderedDict()
    guard = threading.Lock()

    def bounded_add_file(session_id, file) -> None:
        if len(file.data) > session_bytes:
            file = file._replace(data=b"", type=f"{TOO_LARGE_TYPE}; size={len(file.data)}")
        add_file(session_id=session_id, file=file)
        newest = (session_id, file.file_id)
        with guard:
            order.pop(newest, None)
            order[newest] = None
            if alive is not None:
                for sid in list(manager.file_storage):
                    if sid != session_id and not alive(sid):
                        manager.remove_session_files(sid)
            own = [key for key in order if key[0] == session_id]
            while len(own) > 1 and (
                len(own) > session_files or _session_bytes(manager, session_id) > session_bytes
            ):
                manager.remove_file(*own.pop(0))
            for key in list(order):
                if upload_store_bytes(manager) <= copy_bytes:
                    break
                if key != newest:
                    manager.remove_file(*key)
            live = {(sid, fid) for sid, files in manager.file_storage.items() for fid in files}
            for key in [k for k in order if k not in live]:
                del order[key]

    manager.add_file = bounded_add_file
    manager._digitlab_bounded = True


def _session_bytes(manager, session_id: str) -> int:
    with manager._lock:
        return sum(len(f.data) for f in manager.file_storage.get(session_id, {}).values())


def session_exists(runtime, session_id: str) -> bool:
    """Whether a session is connected or waiting in storage for its tab to reconnect."""
    if runtime.is_active_session(session_id):
        return True
    return runtime._session_mgr._session_storage.get(session_id) is not None


# --- widget values -------------------------------------------------------------------------


def drop_undeserialisable_widget_values() -> None:
    """A widget value from the client of another type than the widget's (a string for a
    slider), or one the widget's own deserialiser refuses (NaN for an integer), becomes the
    widget's default (its deserialiser given no value) instead of failing the run."""
    from streamlit.runtime.state.session_state import Serialized, Value, WStates

    if getattr(WStates.__getitem__, "_digitlab", False):
        return
    original = WStates.__getitem__

    def refuse(self, k, why: str):
        _LOG.warning("refused a client's value for widget %s: %s", k[-40:], why)
        try:
            default = self.widget_metadata[k].deserializer(None)
        except Exception:
            raise KeyError(k) from None
        self.states[k] = Value(default)  # same key: safe while the states are iterated
        return default

    def getitem(self, k):
        state, metadata = self.states.get(k), self.widget_metadata.get(k)
        if isinstance(state, Serialized) and metadata is not None:
            sent = state.value.WhichOneof("value")
            if _kind(sent) != _kind(metadata.value_type):
                return refuse(self, k, f"{sent} for a {metadata.value_type} widget")
        try:
            return original(self, k)
        except KeyError:
            raise
        except Exception as e:
            if not isinstance(self.states.get(k), Serialized):
                raise
            return refuse(self, k, type(e).__name__)

    setattr(getitem, "_digitlab", True)  # noqa: B010 - marks the wrapper (idempotence)
    setattr(getitem, "_original", original)  # noqa: B010 - the unwrapped one, for tests
    setattr(WStates, "__getitem__", getitem)  # noqa: B010 - replaces a method on purpose


# WidgetState fields a browser sends interchangeably for one widget (an integer number_input
# is registered as "double_value" and sent as "int_value"); any other field is its own kind.
_KINDS = {
    "int_value": "number",
    "double_value": "number",
    "int_array_value": "numbers",
    "double_array_value": "numbers",
    "json_value": "json",
    "json_trigger_value": "json",
}


def _kind(field: str | None) -> str | None:
    return _KINDS.get(field or "", field)


def ignore_clear_cache() -> None:
    """A client's `clear_cache` message does nothing (logged): it would clear the caches
    every visitor shares, and the page offers no such command."""
    from streamlit.runtime.app_session import AppSession

    def ignore(self) -> None:
        _LOG.info("ignored clear_cache from session %s", self.id)

    setattr(AppSession, "_handle_clear_cache_request", ignore)  # noqa: B010 - on purpose


# --- closed sessions ------------------------------------------------------------------------


class SweepStats:
    """What the sweeper has done (read by tests and logs)."""

    def __init__(self) -> None:
        self.sweeps = self.shut_down = self.collections = 0
        self.last_collect_seconds = 0.0


SWEEP = SweepStats()


def sweep_sessions(runtime, stats: SweepStats = SWEEP, previous: list | None = None) -> int:
    """Expire stored sessions whose TTL has passed and shut them down; a gc.collect() on
    this sweep and the next whenever sessions ended or arrived. Must run on the server's
    event loop (Streamlit touches its session storage only there). Returns the number shut
    down now.

    Why also on arrivals and on the next sweep: Streamlit's runtime loop keeps the list of
    sessions it last served in a local variable until it serves again, so the last sessions
    to close stay referenced while nobody is connected, and are released only when a new
    visitor arrives or the loop runs again; their cycles then need a collection of their
    own. `previous` carries [session count, collections still due] between sweeps.
    """
    manager = runtime._session_mgr
    expired = manager._session_storage._cache.expire()
    for _, info in expired:
        try:
            info.session.shutdown()
        except Exception:  # one broken session must not stop the sweep
            _LOG.exception("shutting down an expired session")
    count = len(manager.list_active_sessions()) + len(manager._session_storage.list())
    before, due = previous if previous else (count, 0)
    if expired or count != before:
        due = 2
    if previous is not None:
        previous[:] = [count, max(due - 1, 0)]
    stats.sweeps += 1
    stats.shut_down += len(expired)
    if due:
        t0 = time.perf_counter()
        gc.collect()
        stats.last_collect_seconds = time.perf_counter() - t0
        stats.collections += 1
    return len(expired)


def start_session_sweeper(runtime, every: float) -> None:
    """Run `sweep_sessions` every `every` seconds on the server's event loop."""
    loop = runtime._get_async_objs().eventloop
    previous: list[int] = []

    def tick() -> None:
        try:
            sweep_sessions(runtime, SWEEP, previous)
        except Exception:
            _LOG.exception("session sweep failed")
        loop.call_later(every, tick)

    loop.call_soon_threadsafe(lambda: loop.call_later(every, tick))
