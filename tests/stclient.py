"""A browser tab without a browser: one Streamlit session spoken to over its websocket.

Used by benchmarks/bench_load.py (many honest visitors) and tests/test_hostile_clients.py
(hostile ones beside an honest one). It sends exactly the binary protobuf messages
(`BackMsg`) chromium sends to `/_stcore/stream` and reads the server's `ForwardMsg`s with
Streamlit's own generated classes (see /work/shared/notes/streamlit-protocol.md):

- `open()` loads the page like a browser: `GET /_stcore/health` (sets the `_streamlit_xsrf`
  cookie, and behind deploy/nginx.conf the `digitlab_route` cookie), `GET
  /_stcore/host-config`, the websocket with those cookies, a same-origin `Origin` and
  `Sec-WebSocket-Protocol: streamlit, <xsrf token>`, a first `rerun_script`, and waits for
  `script_finished`;
- it keeps a model of the page from the `delta` messages (element by delta path, stale
  elements dropped when a run finishes) and the state of every widget as a browser's widget
  manager holds it; every rerun carries ALL of them (`rerun(extra={id: (field, value)})`
  changes some, `rerun(trigger=id)` presses a button);
- `stroke(json_value)` sends a drawing as the canvas widget's value and waits for the
  answer's metric from a run that started after it;
- it follows fragments (a widget inside one is sent with its `fragment_id`) and
  `auto_rerun` timers, like the browser;
- `upload(name, data)` does what the file uploader does: a PUT of the file to
  `/_stcore/upload_file/<session>/<file id>`, then a rerun with the uploader's state.

Every wait is bounded. Loopback addresses only (the callers check).
"""

from __future__ import annotations

import asyncio
import base64
import io
import json
import math
import time
import urllib.parse
import uuid
from collections import Counter
from http.cookies import SimpleCookie

import numpy as np
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from websockets.asyncio.client import connect

ANSWER_LABEL = "The network's answer"
LOAD_TIMEOUT = 90.0  # s for a page to load
FINISHED = {0: "ok", 1: "compile error", 2: "early for rerun", 3: "fragment ok"}
CONTEXT = {
    "timezone": "UTC",
    "timezone_offset": 0,
    "locale": "en-US",
    "is_embedded": False,
    "color_scheme": "dark",
}


def quantile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, max(0, math.ceil(q * len(values)) - 1))]


def drawing_value(rgba: np.ndarray, scene: dict | None = None) -> str:
    """The canvas widget's json_value for a (280, 280, 4) uint8 image: what
    streamlit-drawable-canvas 0.13.0 sends on a mouse-up (`raw` is the fabric.js scene)."""
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(np.asarray(rgba, dtype=np.uint8), "RGBA").save(buf, format="PNG")
    url = "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")
    raw = scene if scene is not None else {"version": "7.4.0", "objects": []}
    return json.dumps({"drawing": {"raw": raw, "data": url}}, separators=(",", ":"))


# --- HTTP ----------------------------------------------------------------------------------


async def http_request(
    host: str,
    port: int,
    method: str,
    path: str,
    cookie: str = "",
    headers: dict | None = None,
    body: bytes = b"",
    timeout: float = 10.0,
) -> tuple[int, list[tuple[str, str]], bytes]:
    """A minimal HTTP/1.1 request over asyncio: (status, headers, body up to 1 MB)."""

    async def go():
        reader, writer = await asyncio.open_connection(host, port)
        try:
            lines = [
                f"{method} {path} HTTP/1.1",
                f"Host: {host}:{port}",
                "Connection: close",
                "User-Agent: digitlab-stclient",
            ]
            if cookie:
                lines.append(f"Cookie: {cookie}")
            for name, value in (headers or {}).items():
                lines.append(f"{name}: {value}")
            if body or method in ("PUT", "POST"):
                lines.append(f"Content-Length: {len(body)}")
            writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
            await writer.drain()
            head = await reader.readuntil(b"\r\n\r\n")
            rest = await reader.read(1 << 20)
        finally:
            writer.close()
        first, *more = head.decode("latin-1").split("\r\n")
        found = [tuple(x.strip() for x in line.split(":", 1)) for line in more if ":" in line]
        return int(first.split()[1]), found, rest

    return await asyncio.wait_for(go(), timeout)


async def http_get(
    host: str, port: int, path: str, cookie: str = "", timeout: float = 10.0
) -> tuple[int, list[tuple[str, str]]]:
    """A minimal GET: (status, headers). The body is read and dropped."""
    status, headers, _ = await http_request(host, port, "GET", path, cookie, timeout=timeout)
    return status, headers


def multipart(name: str, data: bytes, boundary: str) -> bytes:
    """A multipart/form-data body holding one file, as the browser's uploader sends it."""
    safe = name.replace('"', "%22").replace("\r", " ").replace("\n", " ")
    return (
        (
            f"--{boundary}\r\n"
            f'Content-Disposition: form-data; name="file"; filename="{safe}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )


# --- widget states -------------------------------------------------------------------------


def held_value(kind: str, w) -> tuple[str, object] | None:
    """The state a browser's widget manager holds for a widget it has just been sent.

    (WidgetState field, value), or None for widgets that hold no state (buttons) or have
    none yet (the canvas before a stroke).
    """
    if kind in ("selectbox", "radio"):
        if w.set_value and w.HasField("raw_value"):
            return "string_value", w.raw_value
        return "string_value", (w.options[w.default] if len(w.options) else "")
    if kind == "slider":
        if w.type == w.SELECT_SLIDER:
            if w.set_value and len(w.raw_value):
                return "string_array_value", list(w.raw_value)
            picks = w.value if w.set_value else w.default
            return "string_array_value", [w.options[int(i)] for i in picks]
        return "double_array_value", list(w.value if w.set_value else w.default)
    if kind == "number_input":
        value = w.value if (w.set_value and w.HasField("value")) else w.default
        if w.data_type == w.INT:
            return "int_value", int(value)
        return "double_value", float(value)
    if kind == "checkbox":
        return "bool_value", bool(w.value if w.set_value else w.default)
    if kind == "file_uploader":
        return "file_uploader_state_value", None
    if kind in ("text_input", "text_area"):
        return "string_value", (w.value if w.set_value else w.default)
    return None


STATELESS = {"button", "download_button", "bidi_component", "link_button"}
WIDGETS = STATELESS | {
    "selectbox",
    "radio",
    "slider",
    "number_input",
    "checkbox",
    "file_uploader",
    "text_input",
    "text_area",
    "multiselect",
    "color_picker",
    "date_input",
    "time_input",
    "button_group",
    "chat_input",
    "camera_input",
    "audio_input",
}


def put_state(msg, field: str, value) -> None:
    """Set one WidgetState's value (`field` is the proto's oneof field name)."""
    if field == "file_uploader_state_value":
        msg.file_uploader_state_value.SetInParent()
        for info in value or ():
            msg.file_uploader_state_value.uploaded_file_info.add(**info)
    elif field in ("double_array_value", "string_array_value", "int_array_value"):
        getattr(msg, field).data.extend(value)
    else:
        setattr(msg, field, value)


# --- one session ---------------------------------------------------------------------------


class SessionStats:
    """Counters a session keeps (several sessions may share one)."""

    def __init__(self, max_seconds: float = 600.0):
        self.max_seconds = max_seconds  # bounds each auto-rerun timer
        self.sent_messages = self.auto_reruns = self.ref_hashes = self.received_bytes = 0
        self.dropped = 0
        self.finished: Counter = Counter()
        self.errors: list[str] = []
        self.unknown_widgets: set[str] = set()
        self.latencies: list[float] = []  # stroke -> answer, s


class PageSession:
    """One browser tab: a websocket session, its page model and widget states."""

    def __init__(self, url: str, stats: SessionStats | None = None, index: int = 0):
        self.url, self.index = url, index
        self.stats = stats if stats is not None else SessionStats()
        parts = urllib.parse.urlsplit(url)
        self.host, self.port = parts.hostname, parts.port or 80
        self.base = parts.path.rstrip("/")
        self.ws = None
        self.cookie = ""
        self.xsrf = ""
        self.session_id = ""
        self.page_hash = ""
        self.query = ""
        self.elements: dict[tuple, tuple] = {}  # delta path -> (kind, proto, fragment id, run)
        self.held: dict[str, tuple[str, object]] = {}  # widget id -> (field, value)
        self.run_no = 0
        self.run_fragments: set[str] = set()
        self.loaded = asyncio.Event()
        self.changed = asyncio.Event()  # set on every delta / finished run
        self.timers: dict[str, asyncio.Task] = {}
        self.receiver: asyncio.Task | None = None
        self.pending = None  # the drawing awaiting its answer: [sent at, run at send]
        self.answered = asyncio.Event()
        self.answer: str | None = None
        self.closed = False
        self.exceptions: list[str] = []  # exception elements the page showed

    # -- connection

    async def open(self, query: str = "") -> None:
        """Load the page (with `query`, e.g. "?preset=x", in its URL)."""
        self.query = query
        _, headers = await http_get(self.host, self.port, f"{self.base}/_stcore/health")
        jar = SimpleCookie()
        for name, value in headers:
            if name.lower() == "set-cookie":
                jar.load(value)
        self.cookie = "; ".join(f"{k}={m.value}" for k, m in jar.items())
        await http_get(self.host, self.port, f"{self.base}/_stcore/host-config", self.cookie)
        protocols = ["streamlit"]
        if "_streamlit_xsrf" in jar:
            self.xsrf = jar["_streamlit_xsrf"].value
            protocols.append(urllib.parse.unquote(self.xsrf))
        self.ws = await connect(
            f"ws://{self.host}:{self.port}{self.base}/_stcore/stream",
            subprotocols=protocols,
            origin=f"http://{self.host}:{self.port}",
            additional_headers={"Cookie": self.cookie} if self.cookie else None,
            max_size=2**26,
            ping_interval=None,
            open_timeout=30,
            close_timeout=5,
        )
        self.receiver = asyncio.create_task(self.receive())
        await self.rerun()  # the first run: no widget states, no page hash
        await asyncio.wait_for(self.loaded.wait(), LOAD_TIMEOUT)

    async def close(self) -> None:
        self.closed = True
        for task in self.timers.values():
            task.cancel()
        self.timers.clear()
        if self.ws is not None:
            try:
                await asyncio.wait_for(self.ws.close(), 10)
            except Exception:  # noqa: BLE001 - closing anyway
                pass
        if self.receiver is not None:
            self.receiver.cancel()

    # -- sending

    def widget_states(self, trigger: str | None = None, extra: dict | None = None):
        """Every widget on the page with the state the browser holds for it, in page order."""
        out = []
        for path in sorted(self.elements):
            kind, w, _, _ = self.elements[path]
            wid = getattr(w, "id", "") if kind in WIDGETS else ""
            if not wid:
                continue
            if extra and wid in extra:
                self.held[wid] = extra[wid]
            if wid == trigger:
                out.append((wid, "trigger_value", True))
            elif wid in self.held:
                out.append((wid, *self.held[wid]))
        return out

    async def send(self, msg: BackMsg) -> None:
        await self.ws.send(msg.SerializeToString())
        self.stats.sent_messages += 1

    async def rerun(
        self,
        trigger: str | None = None,
        extra: dict | None = None,
        fragment_id: str = "",
        auto: bool = False,
    ) -> None:
        msg = BackMsg()
        rs = msg.rerun_script
        if self.page_hash:
            rs.page_script_hash = self.page_hash
        for wid, field, value in self.widget_states(trigger, extra) if self.page_hash else []:
            state = rs.widget_states.widgets.add()
            state.id = wid
            put_state(state, field, value)
        if fragment_id:
            rs.fragment_id = fragment_id
        if auto:
            rs.is_auto_rerun = True
        if self.query:
            rs.query_string = self.query.lstrip("?")
        info = rs.context_info
        for key, value in CONTEXT.items():
            setattr(info, key, value)
        info.url = self.url.rstrip("/") + "/" + self.query
        await self.send(msg)

    async def auto_rerun(self, fragment_id: str, interval: float) -> None:
        """A browser's timer for a `run_every` fragment: bounded by the session's life."""
        for _ in range(int(self.stats.max_seconds / max(interval, 0.05)) + 1):
            await asyncio.sleep(interval)
            if self.closed:
                return
            try:
                await self.rerun(fragment_id=fragment_id, auto=True)
                self.stats.auto_reruns += 1
            except Exception:  # noqa: BLE001 - the connection went away
                return

    # -- receiving

    async def receive(self) -> None:
        try:
            async for raw in self.ws:
                msg = ForwardMsg()
                msg.ParseFromString(raw)
                self.stats.received_bytes += len(raw)
                self.handle(msg)
        except asyncio.CancelledError:
            raise
        except Exception as e:  # noqa: BLE001 - recorded; the session counts as gone
            if not self.closed:
                self.stats.errors.append(f"session {self.index}: {type(e).__name__}: {e}"[:200])
        finally:
            if not self.closed:
                self.stats.dropped += 1

    def handle(self, msg: ForwardMsg) -> None:
        kind = msg.WhichOneof("type")
        if kind == "new_session":
            self.page_hash = msg.new_session.page_script_hash or self.page_hash
            self.session_id = msg.new_session.initialize.session_id or self.session_id
            self.run_no += 1
            self.run_fragments = set(msg.metadata.run.fragment_ids)
            if not msg.metadata.run.fragment_ids:  # a full run: the browser drops its timers
                for task in self.timers.values():
                    task.cancel()
                self.timers.clear()
        elif kind == "delta":
            self.on_delta(msg)
        elif kind == "script_finished":
            status = msg.script_finished
            self.stats.finished[FINISHED.get(status, str(status))] += 1
            # Like the browser: elements a finished run did not send again are stale and go;
            # a fragment's run only clears that fragment's elements; an interrupted run
            # clears nothing (the page keeps showing the previous elements).
            if status == 0:
                self.elements = {p: e for p, e in self.elements.items() if e[3] == self.run_no}
                self.loaded.set()
            elif status == 3:
                self.elements = {
                    p: e
                    for p, e in self.elements.items()
                    if e[3] == self.run_no or e[2] not in self.run_fragments
                }
            self.changed.set()
        elif kind == "auto_rerun":
            fid, interval = msg.auto_rerun.fragment_id, msg.auto_rerun.interval
            if fid not in self.timers and interval > 0 and not self.closed:
                self.timers[fid] = asyncio.create_task(self.auto_rerun(fid, interval))
        elif kind == "stop_auto_rerun":
            for fid in msg.stop_auto_rerun.fragment_ids:
                task = self.timers.pop(fid, None)
                if task:
                    task.cancel()
        elif kind == "ref_hash":
            self.stats.ref_hashes += 1

    def on_delta(self, msg: ForwardMsg) -> None:
        path = tuple(msg.metadata.delta_path)
        delta = msg.delta
        if delta.WhichOneof("type") != "new_element":  # a container: children stay till the end
            return
        element = delta.new_element
        kind = element.WhichOneof("type")
        proto = getattr(element, kind)
        self.elements[path] = (kind, proto, delta.fragment_id, self.run_no)
        wid = getattr(proto, "id", "") if kind in WIDGETS else ""
        if wid and (wid not in self.held or getattr(proto, "set_value", False)):
            value = held_value(kind, proto)
            if value is not None:
                self.held[wid] = value
            elif kind not in STATELESS:
                self.stats.unknown_widgets.add(kind)
        if kind == "exception":
            self.exceptions.append(f"{proto.type}: {proto.message}"[:300])
        if kind == "metric" and proto.label == ANSWER_LABEL and self.pending is not None:
            sent, run_at_send = self.pending
            if self.run_no > run_at_send:  # a run that started after the drawing was sent
                self.pending = None
                self.stats.latencies.append(time.monotonic() - sent)
                self.answer = proto.body.strip()
                self.answered.set()
        self.on_element(kind, proto)
        self.changed.set()

    def on_element(self, kind: str, proto) -> None:
        """Called for each new element (after the page model took it); for subclasses."""

    # -- what the page shows

    def find(self, kind: str, test=lambda p: True):
        for path in sorted(self.elements):
            k, proto, fid, _ = self.elements[path]
            if k == kind and test(proto):
                return proto, fid
        return None, None

    def button(self, label: str):
        return self.find("button", lambda b: b.label == label and not b.disabled)

    def widget(self, kind: str, label: str):
        """(proto, fragment id) of the first widget of this kind whose label contains `label`."""
        return self.find(kind, lambda w: label in getattr(w, "label", ""))

    def texts(self, kinds=("markdown", "alert", "progress", "caption")) -> list[str]:
        out = []
        for kind, proto, _, _ in self.elements.values():
            if kind in kinds:
                out.append(getattr(proto, "body", "") + getattr(proto, "text", ""))
        return out

    def shows(self, text: str) -> bool:
        for kind, proto, _, _ in self.elements.values():
            if kind == "plotly_chart" and text in proto.spec:
                return True
            if kind in ("markdown", "progress", "alert") and text in getattr(
                proto, "body", ""
            ) + getattr(proto, "text", ""):
                return True
        return False

    # -- actions

    async def stroke(self, value: str, timeout: float = 30.0) -> str | None:
        """Send a drawing (the canvas's json_value); the answer's text, or None if no answer
        came within `timeout` s (its latency goes to stats.latencies)."""
        canvas, fid = self.find("bidi_component", lambda c: "canvas" in c.component_name)
        if canvas is None:
            self.stats.errors.append(f"session {self.index}: no canvas on the page")
            return None
        self.answered.clear()
        self.answer = None
        self.pending = [time.monotonic(), self.run_no]
        await self.rerun(extra={canvas.id: ("json_value", value)}, fragment_id=fid or "")
        try:
            await asyncio.wait_for(self.answered.wait(), timeout)
        except TimeoutError:
            self.pending = None
            return None
        return self.answer

    async def wait_for(self, test, seconds: float) -> bool:
        """Wait (at most `seconds`) until `test()` holds on the page model."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if test():
                return True
            self.changed.clear()
            try:
                await asyncio.wait_for(self.changed.wait(), max(0.01, deadline - time.monotonic()))
            except TimeoutError:
                break
        return test()

    async def put_file(self, name: str, data: bytes, file_id: str | None = None) -> int:
        """PUT a file to this session's upload URL (as the uploader does); the HTTP status."""
        file_id = file_id or str(uuid.uuid4())
        boundary = uuid.uuid4().hex
        status, _, _ = await http_request(
            self.host,
            self.port,
            "PUT",
            f"{self.base}/_stcore/upload_file/{self.session_id}/{file_id}",
            self.cookie,
            headers={
                "Content-Type": f"multipart/form-data; boundary={boundary}",
                "X-Xsrftoken": urllib.parse.unquote(self.xsrf),
                "Origin": f"http://{self.host}:{self.port}",
            },
            body=multipart(name, data, boundary),
            timeout=60,
        )
        return status

    async def upload(self, name: str, data: bytes) -> int:
        """Upload a file through the page's uploader: the PUT, then a rerun whose uploader
        state names it (what the browser does). Returns the PUT's status."""
        uploader, fid = self.find("file_uploader")
        file_id = str(uuid.uuid4())
        status = await self.put_file(name, data, file_id)
        if uploader is not None and status == 204:
            url = f"{self.base}/_stcore/upload_file/{self.session_id}/{file_id}"
            info = {
                "name": name,
                "size": len(data),
                "file_id": file_id,
                "file_urls": {"file_id": file_id, "upload_url": url, "delete_url": url},
            }
            run = self.run_no
            self.loaded.clear()
            await self.rerun(
                extra={uploader.id: ("file_uploader_state_value", [info])}, fragment_id=fid or ""
            )
            await self.wait_for(lambda: self.run_no > run and self.loaded.is_set(), 60)
        return status

    async def rerun_and_wait(self, seconds: float = 60, **rerun) -> bool:
        """`rerun(**rerun)` and wait (at most `seconds`) until a whole run that started
        after it has finished."""
        run = self.run_no
        self.loaded.clear()
        await self.rerun(**rerun)
        return await self.wait_for(lambda: self.run_no > run and self.loaded.is_set(), seconds)
