"""What the tests (and the benchmarks) share, in one place: the real MNIST, drawings as the
canvas makes them, waiting with a deadline, free ports, the page's server process, chromium's
flags, browser gestures, and a local mirror server for the MNIST downloader.

Test modules import from here, never from each other.
"""

from __future__ import annotations

import asyncio
import contextlib
import http.server
import math
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections import Counter
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
APP = str(REPO / "app.py")
ARTIFACTS = REPO / "artifacts"  # screenshots and server logs (git-ignored), to be looked at
MNIST_NAMES = (
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
)


def missing(message: str):
    """Something a test needs is not there: a failure on CI (CI=true), a skip elsewhere."""
    import pytest  # here, not at the top: the benchmarks use this module without pytest

    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def find_real_mnist() -> Path:
    """$MNIST_DIR, else ../shared/mnist beside the repo; `missing` if the files are not there."""
    env = os.environ.get("MNIST_DIR")
    # resolved: a test links to these files from a temporary folder, where a relative
    # $MNIST_DIR (the docs say `MNIST_DIR=../shared/mnist`) would point nowhere
    directory = (Path(env) if env else REPO.parent / "shared" / "mnist").resolve()
    if not all((directory / name).is_file() for name in MNIST_NAMES):
        missing(f"real MNIST files not found in {directory} (set MNIST_DIR)")
    return directory


def run_coroutine(coro, timeout: float = 240):
    """Run `coro` to its end on an event loop of its own, in a thread of its own, and return
    its result (or raise what it raised); fail if it has not ended after `timeout` seconds.

    `asyncio.run` refuses to start while this thread already runs a loop, and in a whole test
    session one does: Playwright's sync API (the browser tests' session fixture) keeps its loop
    running in the main thread from the first browser test on."""
    outcome: dict = {}

    def target() -> None:
        try:
            outcome["value"] = asyncio.run(asyncio.wait_for(coro, timeout))
        except BaseException as e:  # noqa: BLE001 - handed to the caller below
            outcome["error"] = e

    thread = threading.Thread(target=target, name="test-coroutine", daemon=True)
    thread.start()
    thread.join(timeout + 5)
    if thread.is_alive():
        raise AssertionError(f"a coroutine still ran after {timeout} s")
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


def wait_until(condition, timeout: float, what: str, every: float = 0.05):
    """Call `condition()` until it returns something true, and return that; after `timeout`
    seconds fail with an AssertionError saying `what` never happened."""
    deadline = time.monotonic() + timeout
    while time.monotonic() <= deadline:
        result = condition()
        if result:
            return result
        time.sleep(every)
    result = condition()  # one last look at the deadline itself
    if result:
        return result
    raise AssertionError(f"{what}: not within {timeout:g} s")


# --- drawings: strokes in canvas pixels (280 x 280), each a mouse-down..up ----------------

SIZE, PEN = 280, 22
ONE = [[(140, 45 + 5 * i) for i in range(39)]]  # one vertical stroke, 45 -> 235
SEVEN = [
    [(75 + 5 * i, 55) for i in range(28)]  # the top bar, left to right ...
    + [(210 - 3 * i, 55 + 6 * i) for i in range(31)]
]  # ... then down to the left
ZERO = [
    [
        (140 + 62 * math.sin(2 * math.pi * i / 72), 140 - 92 * math.cos(2 * math.pi * i / 72))
        for i in range(76)
    ]
]  # an ellipse of many small moves, closed with a little overlap
STROKES = {0: ZERO, 1: ONE, 7: SEVEN}


def ring(cx: float, cy: float, r: float, steps: int = 40) -> list:
    """A closed circle of small moves, as a hand draws a face's outline."""
    return [
        (cx + r * math.cos(2 * math.pi * i / steps), cy + r * math.sin(2 * math.pi * i / steps))
        for i in range(steps + 2)
    ]


# Drawings that are no digit, each with the reason the page gives (nn.verdict).
NOT_DIGITS = {
    "tap": ([[(140, 140), (141, 140)]], "dot"),
    "line": ([[(50 + 5 * i, 150) for i in range(37)]], "straight line"),
    "dash": ([[(140, 125 + 3 * i) for i in range(11)]], "short dash"),
    "face": (
        [
            ring(140, 140, 105),
            [(105, 110), (107, 111)],  # the eyes: two taps
            [(175, 110), (177, 111)],
            [(95 + 5 * i, 175 + 2 * min(i, 18 - i)) for i in range(19)],  # the smile
        ],
        "face",
    ),
}


def canvas_image(strokes, pen: int = PEN) -> np.ndarray:
    """The strokes as the canvas returns them: (280, 280, 4) uint8, white ink on opaque black,
    round pen ends."""
    from PIL import Image, ImageDraw

    image = Image.new("RGBA", (SIZE, SIZE), (0, 0, 0, 255))
    draw = ImageDraw.Draw(image)
    for stroke in strokes:
        draw.line(stroke, fill=(255, 255, 255, 255), width=pen, joint="curve")
        for x, y in (stroke[0], stroke[-1]):
            draw.ellipse(
                (x - pen / 2, y - pen / 2, x + pen / 2, y + pen / 2), fill=(255, 255, 255, 255)
            )
    return np.asarray(image)


# --- the page in a real browser ------------------------------------------------------------

CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1366, "height": 900}  # a common laptop screen
PROMPT = "Draw a digit on the black square"


def playwright_expect():
    """Playwright's `expect` for a browser test module; without playwright the module fails
    on CI and is skipped elsewhere."""
    try:
        from playwright.sync_api import expect
    except ImportError:
        if os.environ.get("CI") == "true":
            raise
        import pytest

        pytest.skip(
            "playwright is not installed (pip install -r requirements-dev.txt)",
            allow_module_level=True,
        )
    return expect


def draw(page, strokes) -> None:
    """Draw strokes on the page's canvas with the mouse, as a visitor would."""
    from playwright.sync_api import expect

    canvas = page.locator("canvas.upper-canvas")
    expect(canvas).to_have_count(1)  # just after "Clear canvas" the old one may linger
    canvas.scroll_into_view_if_needed()  # the mouse only reaches what is on screen
    box = canvas.bounding_box()
    for stroke in strokes:
        (x, y), rest = stroke[0], stroke[1:]
        page.mouse.move(box["x"] + x, box["y"] + y)
        page.mouse.down()
        for x, y in rest:
            page.mouse.move(box["x"] + x, box["y"] + y, steps=2)
        page.mouse.up()


def picker(page):
    """The sidebar's network picker."""
    return page.get_by_test_id("stSidebar").get_by_role("combobox")


def answer(page):
    """The answer's metric (a finished run shows metrics of its own further down)."""
    return page.locator(".st-key-answer").get_by_test_id("stMetricValue")


# --- processes and ports -------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_page(
    port: int, log, env: dict | None = None, cwd: Path = REPO, extra: tuple[str, ...] = ()
) -> subprocess.Popen:
    """`streamlit run app.py` on 127.0.0.1:port in its own session (so `stop` reaches its
    training workers too), output to the open file `log`; `env` adds to this environment."""
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            "app.py",
            "--server.port",
            str(port),
            "--server.address",
            "127.0.0.1",
            "--server.headless",
            "true",
            "--browser.gatherUsageStats",
            "false",
            *extra,
        ],
        cwd=cwd,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        env={**os.environ, **(env or {})},
    )


def wait_healthy(url: str, proc: subprocess.Popen, log: Path, timeout: float = 60) -> None:
    """Wait until `url`/_stcore/health answers 200; AssertionError if the process dies first
    or `timeout` seconds pass."""

    def healthy() -> bool:
        if proc.poll() is not None:
            raise AssertionError(f"{proc.args[0]} exited with {proc.returncode}; see {log}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                return r.status == 200
        except OSError:
            return False

    wait_until(healthy, timeout, f"{url} healthy (see {log})", every=0.2)


@contextlib.contextmanager
def page_server(name: str, env: dict | None = None, extra: tuple[str, ...] = ()):
    """A healthy `streamlit run app.py` with the real MNIST on a free port, its output in
    artifacts/<name>-server.log: yields (url, process); stopped at the end."""
    mnist = find_real_mnist()
    ARTIFACTS.mkdir(exist_ok=True)
    log_path = ARTIFACTS / f"{name}-server.log"
    port = free_port()
    with open(log_path, "wb") as log:
        proc = start_page(port, log, env={"MNIST_DIR": str(mnist), **(env or {})}, extra=extra)
        try:
            url = f"http://127.0.0.1:{port}"
            wait_healthy(url, proc, log_path)
            yield url, proc
        finally:
            stop(proc)


def children_of(pid: int) -> list[int]:
    """PIDs whose parent is `pid`, from /proc."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue  # the process ended while we looked
        if parent == pid:
            found.append(int(entry.name))
    return found


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def workers_of(pid: int) -> list[int]:
    """PIDs of the training workers (`python -m runs.worker_main`, the spare included) a page
    server has started."""
    return [child for child in children_of(pid) if "runs.worker" in cmdline(child)]


def stop(proc: subprocess.Popen) -> None:
    """SIGTERM the process's own session (it and its children), SIGKILL what is left."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=15)
    with contextlib.suppress(ProcessLookupError):  # a child that outlived its parent (a worker)
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=15)


# --- a local MNIST mirror ------------------------------------------------------------------


class MirrorServer:
    """A local HTTP server for the MNIST downloader; the first path segment says how to
    misbehave.

    /good/<f>   the real file          /missing/<f>  404
    /short/<f>  first half, honestly announced as such
    /wrong/<f>  right length, wrong bytes
    /big/<f>    the file plus extra bytes, no Content-Length
    /cut/<f>    announces the full length, sends half, closes the connection
    /flaky/<f>  like /cut for the very first /flaky request, then good
    """

    def __init__(self, source: Path, names=MNIST_NAMES):
        self.files = {name: (source / name).read_bytes() for name in names}
        self.requests: list[str] = []
        self.seen: Counter = Counter()
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def url(self, mode: str) -> str:
        return f"{self.base}/{mode}/"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def _handler(self):
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                server.requests.append(self.path)
                _, mode, name = self.path.split("/", 2)
                body = server.files.get(name)
                if mode == "missing" or body is None:
                    self.send_error(404)
                    return
                server.seen[mode] += 1
                if mode == "flaky":
                    mode = "cut" if server.seen["flaky"] == 1 else "good"
                half = body[: len(body) // 2]
                sends = {
                    "good": (body, len(body)),
                    "short": (half, len(half)),
                    "wrong": (bytes(len(body)), len(body)),
                    "big": (body + b"x" * 100_000, None),
                    "cut": (half, len(body)),
                }
                if mode not in sends:
                    self.send_error(400)
                    return
                content, length = sends[mode]
                self.send_response(200)
                if length is not None:
                    self.send_header("Content-Length", str(length))
                self.end_headers()
                with contextlib.suppress(OSError):  # the client may give up first
                    self.wfile.write(content)
                self.close_connection = True

        return Handler


class FakeData:
    """A tiny stand-in for MNIST: random images, enough to exercise a run's control flow."""

    def __init__(self, n=400):
        rng = np.random.default_rng(0)
        self.train_images = rng.integers(0, 256, size=(n, 784), dtype=np.uint8)
        self.train_labels = rng.integers(0, 10, size=n).astype(np.uint8)
        self.val_images, self.val_labels = self.train_images[:50], self.train_labels[:50]
        self.test_images, self.test_labels = self.train_images[50:100], self.train_labels[50:100]


# -- phones -------------------------------------------------------------------------------
WAIT = 30_000  # ms; generous for a busy machine, no timing is asserted

# Playwright's "Pixel 7" descriptor (playwright 1.65 `p.devices["Pixel 7"]`), written out
# because the session's `browser` fixture does not hand out the Playwright object.
PIXEL_7 = {
    "user_agent": "Mozilla/5.0 (Linux; Android 14; Pixel 7) AppleWebKit/537.36 (KHTML, like "
    "Gecko) Chrome/159.0.8154.6 Mobile Safari/537.36",
    "viewport": {"width": 412, "height": 839},
    "screen": {"width": 412, "height": 915},
    "device_scale_factor": 2.625,
    "is_mobile": True,
    "has_touch": True,
}


def touch_draw(page, strokes) -> None:
    """Draw strokes (canvas pixels) with one finger: touchStart, touchMoves, touchEnd."""
    canvas = page.locator("canvas.upper-canvas")
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()  # CSS pixels in the viewport, what touch points use
    cdp = page.context.new_cdp_session(page)
    try:
        for stroke in strokes:
            points = [{"x": box["x"] + x, "y": box["y"] + y} for x, y in stroke]
            cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [points[0]]})
            for point in points[1:]:
                cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [point]})
            cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    finally:
        cdp.detach()


# -- shipped networks ----------------------------------------------------------------------


def shipped_models() -> dict:
    """The shipped networks as the page's picker labels them: label -> (network, metadata)."""
    from nn.models import SHIPPED
    from ui.state import label_for

    models = {}
    for model in SHIPPED:
        net, meta = model.load()
        models[label_for(model.title, net, meta)] = (net, meta)
    return models


# -- property tests (Hypothesis) ------------------------------------------------------------

FAST_PROFILE = "fast-loop"  # Hypothesis's profile in the fast loop (tests/conftest.py loads it)
FAST_EXAMPLES = 10  # a property test's examples there, unless it asks for a tenth of more


def examples(full: int) -> int:
    """How many examples a property test draws: `full` in the whole run (`pytest`, as CI runs
    it), a tenth of it but at least FAST_EXAMPLES in the fast loop (`pytest -m "not slow"`).
    The same properties are checked either way; the whole run tries more inputs."""
    from hypothesis import settings

    if settings.get_current_profile_name() == FAST_PROFILE:
        return max(FAST_EXAMPLES, full // 10)
    return full


# -- AppTest ---------------------------------------------------------------------------------


def rerun_app(app):
    """Run an AppTest page once more and fail on any exception it shows; returns it."""
    app.run()
    assert not app.exception, app.exception
    return app


def app_texts(app) -> str:
    """All the text an AppTest page shows: Markdown, captions, and info/warning/success/error
    boxes, one per line."""
    parts = [m.value for m in app.markdown] + [c.value for c in app.caption]
    parts += [
        e.value for kind in ("info", "warning", "success", "error") for e in getattr(app, kind)
    ]
    return "\n".join(str(p) for p in parts)


# -- hostile model files (tests/test_hostile_clients.py, benchmarks/bench_bounds.py) ------


def meta_file(text: str, sizes=(784, 3, 10)) -> bytes:
    """A model file of a small random network whose metadata entry is `text` as it is."""
    import io

    from nn.network import Network

    net = Network(list(sizes), seed=0)
    arrays = {"sizes": np.array(net.sizes), "meta": np.frombuffer(text.encode(), np.uint8)}
    for i, (w, b) in enumerate(zip(net.weights, net.biases)):
        arrays[f"W{i}"], arrays[f"b{i}"] = w, b
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def zeros_declaring(sizes) -> bytes:
    """The issue 18 file: 55 KB of compressed zeros declaring a 54 MB network."""
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, array in [("sizes", np.array(sizes))] + [
            (f"{p}{i}", np.zeros((n_out, n_in) if p == "W" else n_out, np.float32))
            for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:]))
            for p in "Wb"
        ]:
            member = io.BytesIO()
            np.save(member, array)
            archive.writestr(f"{name}.npy", member.getvalue())
    return buf.getvalue()
