"""A class drawing at once: simulated visitors speaking Streamlit's own websocket protocol.

    # One command: a fresh server (a snapshot of HEAD) per level, 10/20/40 visitors drawing:
    MNIST_DIR=../shared/mnist python benchmarks/bench_load.py --start --levels 10,20,40
    # 30 visitors of whom 6 press Train, move eta, pause, resume and stop:
    MNIST_DIR=../shared/mnist python benchmarks/bench_load.py --start --levels 30 \
        --train-fraction 0.2
    # A page that is already running (on this machine), e.g. a teacher's copy behind nginx:
    MNIST_DIR=... python benchmarks/bench_load.py --url http://127.0.0.1:80 \
        --server-pid 1234,1240 --levels 30

No browser: each visitor is one websocket session (tests/stclient.py, shared with the hostile
clients test) in one asyncio process, sending exactly the
binary protobuf messages (`BackMsg`) a browser sends to `/_stcore/stream` and reading the
server's `ForwardMsg`s, with Streamlit's own generated classes. A visitor:

- loads the page like a browser: `GET /_stcore/health` (sets the `_streamlit_xsrf` cookie, and
  behind deploy/nginx.conf the `digitlab_route` cookie), `GET /_stcore/host-config`, then the
  websocket with those cookies, a same-origin `Origin` and `Sec-WebSocket-Protocol: streamlit,
  <xsrf token>`; it sends a first `rerun_script` and waits for `script_finished`;
- keeps a model of the page from the `delta` messages (element by delta path, stale elements
  dropped when a run finishes), and the state of every widget as a browser's widget manager
  holds it (a widget's default, or the value the script set); every rerun carries ALL of them;
- draws MNIST test digits at a human pace: a digit rendered white on black, at a random size
  and position, on the 280x280 RGBA canvas, sent as the canvas widget's `json_value`
  `{"drawing": {"raw": <fabric.js scene>, "data": "data:image/png;base64,..."}}` (what
  streamlit-drawable-canvas 0.13.0's frontend sends on each mouse-up, 200 ms debounced); the
  whole digit is one stroke. The next digit comes 2-3 s after the previous was sent, and not
  before its answer (or its time-out): a visitor reads the answer before drawing again;
- stroke -> answer: from sending the rerun to the `metric` delta "The network's answer" of a
  run that started after it; its value is compared with the MNIST label;
- lost answers: before each drawing (and on leaving), the last answer that reached the page
  since the previous drawing was sent is compared with that drawing's answer, computed here
  the way the page does with a new tab's network; a mismatch is a lost answer (the page kept
  showing another one). Runs whose end never reached the page (their `script_finished` was
  dropped: "Ignoring event from non-current ScriptRunner") are counted beside;
- follows fragments: a widget inside an `@st.fragment` is sent with that `fragment_id`;
  `auto_rerun` messages start a timer that sends `is_auto_rerun` reruns of that fragment at its
  interval (what keeps the live training curves moving), stopped by `stop_auto_rerun` or a full
  run's start, like the browser does;
- with `--train-fraction F`, round(F * N) visitors also press Train (the book's preset, default
  settings), 1.5 s apart; once their run trains: move eta, Pause, Resume, Stop, a few seconds
  apart (with `--keep-training`, instead, they keep a run live all along: Train again when
  one is over). A command is "acted on" when the session's messages show it: Train -> a progress bar
  "Epoch ..." or the queue note; eta -> the curves' mark "eta <new value>"; Pause -> a Resume
  button; Resume -> a Pause button; Stop -> a Train button or "stopped". Queued runs' start
  order is checked against the click order.

Per level it measures the server from /proc (only on this machine: `--start`, or
`--server-pid`): CPU of the server's interpreter (utime+stime) per answered drawing, its
training workers' CPU separately, RSS/PSS of the server and of the workers (sampled every
second); the event loop's responsiveness (`GET /_stcore/health` once a second); the machine's
load average; this client's own CPU. With `--start` each level gets a fresh server; with
`--copies 2` two servers behind a temporary copy of deploy/nginx.conf (ports adapted; the
committed file is only read). `--session-life A,B` makes visitors come and go (each session
lives A-B s, then closes and a new visitor arrives): memory over a long run.

Every loop is bounded in time; only loopback addresses are used. Prints a markdown section per
level and a summary table. No assertions: a measuring script.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import ipaddress
import itertools
import json
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

import numpy as np
from PIL import Image

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))
from bench_memory import (  # noqa: E402
    MB,
    REPO,
    Server,
    children,
    cmdline,
    cpu_seconds,
    machine_cpu,
    memory,
)

from nn.mnist import find_mnist_dir, load_mnist  # noqa: E402
from nn.models import SHIPPED, read  # noqa: E402
from nn.preprocess import prepare  # noqa: E402
from nn.verdict import judge  # noqa: E402
from tests.stclient import (  # noqa: E402
    ANSWER_LABEL,
    PageSession,
    SessionStats,
    drawing_value,
    http_get,
    quantile,
)

CANVAS = 280  # px, the page's canvas
STROKE_TIMEOUT = 30.0  # s: a drawing with no answer by then counts as unanswered
COMMAND_TIMEOUT = 30.0  # s: a command not acted on by then counts as not acted on
ARRIVE_AT_ONCE = 5  # visitors loading the page at the same time
CLICK_GAP = 1.5  # s between two training visitors' clicks on Train
POOL = 300  # drawings rendered before a level, drawn at random
NGINX_MAIN = """\
{user}worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 2048; }}
http {{
    client_body_temp_path {prefix}/client_body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    access_log off;
    include {prefix}/digitlab.conf;
}}
"""


# --- drawings ------------------------------------------------------------------------------


def fabric_scene(ink: np.ndarray, rng: random.Random) -> dict:
    """A fabric.js scene like the canvas's `raw` (one freehand Path through the ink).

    The page only reads the PNG; this gives the message the size and shape of a browser's.
    """
    ys, xs = np.nonzero(ink)
    idx = sorted(rng.sample(range(len(xs)), min(len(xs), 60)))
    points = [(float(xs[i]), float(ys[i])) for i in idx] or [(140.0, 140.0)]
    path = [["M", *points[0]]] + [["Q", *a, *b] for a, b in itertools.pairwise(points)]
    left, top = min(p[0] for p in points), min(p[1] for p in points)
    return {
        "version": "7.4.0",
        "objects": [
            {
                "lockMovementX": False,
                "lockMovementY": False,
                "lockRotation": False,
                "lockScalingX": False,
                "lockScalingY": False,
                "lockSkewingX": False,
                "lockSkewingY": False,
                "lockScalingFlip": False,
                "type": "Path",
                "version": "7.4.0",
                "originX": "center",
                "originY": "center",
                "left": left,
                "top": top,
                "width": max(p[0] for p in points) - left,
                "height": max(p[1] for p in points) - top,
                "fill": None,
                "stroke": "#FFFFFF",
                "strokeWidth": 22,
                "strokeDashArray": None,
                "strokeLineCap": "round",
                "strokeDashOffset": 0,
                "strokeLineJoin": "round",
                "strokeUniform": False,
                "strokeMiterLimit": 10,
                "scaleX": 1,
                "scaleY": 1,
                "angle": 0,
                "flipX": False,
                "flipY": False,
                "opacity": 1,
                "shadow": None,
                "visible": True,
                "backgroundColor": "",
                "fillRule": "nonzero",
                "paintFirst": "fill",
                "globalCompositeOperation": "source-over",
                "skewX": 0,
                "skewY": 0,
                "path": path,
            }
        ],
        "background": "#000000",
    }


def render_drawing(digit: np.ndarray, rng: random.Random) -> tuple[np.ndarray, str]:
    """One MNIST digit as the canvas would send it: the RGBA image and the widget's json_value.

    The 28x28 digit is scaled to a random size (its 20x20 ink box 86-180 px) and placed at a
    random position, white on opaque black, on a 280x280 RGBA image, encoded as a PNG data URL.
    """
    size = rng.randint(120, 252)
    margin = size * 4 // 28  # MNIST's empty border around the ink
    grey = Image.fromarray(digit.reshape(28, 28)).resize((size, size), Image.BILINEAR)
    x = rng.randint(-margin, CANVAS - size + margin)
    y = rng.randint(-margin, CANVAS - size + margin)
    field = Image.new("L", (CANVAS, CANVAS), 0)
    field.paste(grey, (x, y))
    alpha = Image.new("L", (CANVAS, CANVAS), 255)
    rgba = np.asarray(Image.merge("RGBA", (field, field, field, alpha)))
    return rgba, drawing_value(rgba, fabric_scene(np.asarray(field) > 127, rng))


def page_answer(rgba: np.ndarray) -> str:
    """What the page answers for this canvas image with a new tab's network (the shipped
    default, `nn.models.SHIPPED[0]`), as ui/drawing.py shows it."""
    prepared = prepare(rgba)
    if prepared is None:
        return ""
    image, drawn = prepared
    net, _ = default_network()
    return judge(image, read(net, image).output, drawn).answer


@functools.cache
def default_network():
    return SHIPPED[0].load()


def drawing_pool(n: int, seed: int) -> list[tuple[int, str, str]]:
    """n (label, json_value, the page's answer) triples from MNIST's test set."""
    folder = find_mnist_dir()
    if folder is None:
        sys.exit("MNIST not found: set MNIST_DIR (the test digits are what the visitors draw)")
    data = load_mnist(folder)
    images, labels = data.test_images.reshape(-1, 28, 28), data.test_labels
    rng = random.Random(seed)
    picks = rng.sample(range(len(images)), n)
    pool = []
    for i in picks:
        rgba, value = render_drawing(images[i], rng)
        pool.append((int(labels[i]), value, page_answer(rgba)))
    return pool


# --- one visitor ---------------------------------------------------------------------------


class Visitor(PageSession):
    """One browser tab (tests/stclient.PageSession) that draws at a human pace and, as a
    training visitor, presses Train and the run's buttons."""

    def __init__(
        self,
        index: int,
        url: str,
        pool,
        rng: random.Random,
        stats: LevelStats,
        trainer_rank: int | None = None,
    ):
        super().__init__(url, stats, index)
        self.pool, self.rng = pool, rng
        self.trainer_rank = trainer_rank
        self.progress, self.progress_at = "", None  # the training progress text last seen
        self.expected: str | None = None  # the page's answer to the last drawing sent
        self.shown_since: str | None = None  # the last answer delivered since it was sent
        self.run_open = False  # a run started whose end has not been delivered

    def handle(self, msg) -> None:
        kind = msg.WhichOneof("type")
        if kind == "new_session":
            if self.run_open:  # the previous run's end (and what it still had) never came
                self.stats.runs_cut += 1
            self.run_open = True
        elif kind == "script_finished":
            self.run_open = False
        super().handle(msg)

    def on_element(self, kind: str, proto) -> None:
        if kind == "metric" and proto.label == ANSWER_LABEL:
            self.shown_since = proto.body.strip()
        if kind == "progress" and proto.text.startswith("Epoch") and proto.text != self.progress:
            now = time.monotonic()  # the live section moved: a new text on the progress bar
            if self.progress_at is not None:
                self.stats.live_gaps.append(now - self.progress_at)
            self.progress, self.progress_at = proto.text, now

    # -- what the page shows

    def progress_text(self) -> str:
        proto, _ = self.find("progress", lambda p: p.text.startswith("Epoch"))
        return proto.text if proto else ""

    def queue_note(self) -> str:
        """A queued run's status: the progress bar's text (an alert on older pages)."""
        proto, _ = self.find("progress", lambda p: "Waiting for a free slot" in p.text)
        if proto is not None:
            return proto.text
        proto, _ = self.find("alert", lambda a: "Waiting for a free slot" in a.body)
        return proto.body if proto else ""

    # -- a visitor's actions

    async def draw(self) -> None:
        if self.find("bidi_component", lambda c: "canvas" in c.component_name)[0] is None:
            self.stats.errors.append(f"visitor {self.index}: no canvas on the page")
            await asyncio.sleep(2)
            return
        label, value, expected = self.rng.choice(self.pool)
        self.check_answer_shown()
        self.expected, self.shown_since = expected, None
        self.stats.sent += 1
        body = await self.stroke(value, STROKE_TIMEOUT)
        if body is None:
            self.stats.unanswered += 1
            return
        self.stats.answers += 1
        if body != str(label):
            self.stats.wrong.append((label, body))

    def check_answer_shown(self) -> None:
        """Before the next drawing (or leaving): whether the last answer that reached the page
        since the last drawing was sent is that drawing's. If not, its answer was lost: the
        page went on showing another one until the visitor drew again."""
        if self.expected is None:
            return
        self.stats.checked += 1
        if self.shown_since != self.expected:
            who = "training" if self.trainer_rank is not None else "drawing"
            self.stats.lost.append((self.index, who, self.expected, self.shown_since))
        self.expected = None

    async def close(self) -> None:
        self.check_answer_shown()
        await super().close()

    async def press(self, label: str, acted, name: str, extra_of=None) -> bool:
        """Press a button (or, with extra_of, change a widget) and time until `acted()` holds."""
        if extra_of is not None:
            extra, fid = extra_of
            trigger = None
        else:
            proto, fid = self.button(label)
            if proto is None:
                self.stats.commands.append((name, None, f"no {label} button"))
                return False
            extra, trigger = None, proto.id
        t0 = time.monotonic()
        self.stats.command_times[self.index, name] = time.time()
        await self.rerun(trigger=trigger, extra=extra, fragment_id=fid or "")
        if await self.wait_for(acted, COMMAND_TIMEOUT):
            self.stats.commands.append((name, time.monotonic() - t0, ""))
            return True
        self.stats.commands.append((name, None, "not acted on"))
        return False

    async def draw_until(self, end: float) -> None:
        while time.monotonic() < end and not self.closed:
            t0 = time.monotonic()
            await self.draw()
            pause = t0 + self.rng.uniform(2.0, 3.0) - time.monotonic()
            await asyncio.sleep(max(0.3, pause))

    async def train_session(self, start: float, end: float) -> None:
        """Train (book preset, defaults) at its turn, then eta, Pause, Resume, Stop."""
        await self.draw_until(min(end, start + CLICK_GAP * self.trainer_rank))
        st = self.stats
        ok = await self.press(
            "Train", lambda: bool(self.progress_text() or self.queue_note()), "train"
        )
        click = st.command_times.get((self.index, "train"))
        record = st.runs.setdefault(self.index, {"click": click, "queue": [], "start": None})
        if not ok:
            return
        if self.queue_note():
            record["queue"].append(self.queue_note())

        # Wait (drawing meanwhile, as a visitor would) for the run to train: a Pause button.
        def running() -> bool:
            return self.button("Pause")[0] is not None

        while time.monotonic() < end and not running():
            if self.train_over():
                record["ended"] = "over before it ran"
                return
            await self.draw()
            q = self.queue_note()
            if q and q not in record["queue"]:
                record["queue"].append(q)
            await self.wait_for(running, self.rng.uniform(1.0, 2.0))
        if not running():
            record["ended"] = "still queued at the end"
            return
        record["start"] = time.time()
        eta = self.find("slider", lambda s: "η" in s.label or "Learning rate" in s.label)[0]
        steps = [
            ("eta", None),
            ("pause", lambda: self.button("Resume")[0] is not None),
            (
                "resume",
                lambda: (
                    self.button("Pause")[0] is not None and "paused" not in self.progress_text()
                ),
            ),
            (
                "stop",
                lambda: self.button("Train")[0] is not None or "stopped" in self.progress_text(),
            ),
        ]
        for name, acted in steps:
            await self.draw()
            await asyncio.sleep(self.rng.uniform(1.0, 2.0))
            if self.train_over():
                record["ended"] = f"finished before {name}"
                return
            if name == "eta":
                if eta is None:
                    st.commands.append(("eta", None, "no eta slider"))
                    continue
                current = self.held.get(eta.id, ("", [eta.options[int(eta.default[0])]]))[1][0]
                options = list(eta.options)
                i = options.index(current) if current in options else len(options) // 2
                new = options[i - 2] if i >= 2 else options[i + 2]
                mark = f"eta {float(new):g}"
                _, fid = self.find("slider", lambda s: s.id == eta.id)
                await self.press(
                    "",
                    functools.partial(self.shows, mark),
                    "eta",
                    extra_of=({eta.id: ("string_array_value", [new])}, fid),
                )
            else:
                label = {"pause": "Pause", "resume": "Resume", "stop": "Stop"}[name]
                await self.press(label, acted, name)
        record["ended"] = "stopped"

    async def keep_training(self, start: float, end: float) -> None:
        """Train (book preset, defaults) at its turn and keep a run live until the end: Train
        again whenever one is over. The live part ticks all the time, drawing meanwhile."""
        await self.draw_until(min(end, start + CLICK_GAP * self.trainer_rank))
        while time.monotonic() < end and not self.closed:
            if self.train_over():
                await self.press(
                    "Train", lambda: bool(self.progress_text() or self.queue_note()), "train"
                )
            t0 = time.monotonic()
            await self.draw()
            await asyncio.sleep(max(0.3, t0 + self.rng.uniform(2.0, 3.0) - time.monotonic()))

    def train_over(self) -> bool:
        """The run is over (finished or stopped): the Train button is back."""
        return self.button("Train")[0] is not None


# --- measuring the server ------------------------------------------------------------------


class LevelStats(SessionStats):
    def __init__(self, max_seconds: float):
        super().__init__(max_seconds)
        self.sent = self.answers = self.unanswered = 0
        self.checked = 0  # drawings whose answer on the page was checked before the next one
        self.lost: list[tuple[int, str, str, str | None]] = []  # visitor, kind, expected, shown
        self.runs_cut = 0  # runs whose end never reached the page (dropped by Streamlit)
        self.wrong: list[tuple[int, str]] = []
        self.commands: list[tuple[str, float | None, str]] = []
        self.command_times: dict = {}
        self.runs: dict[int, dict] = {}
        self.load_times: list[float] = []
        self.live_gaps: list[float] = []  # s between two changes of a progress bar's text
        self.sessions = 0


class ServerMeter:
    """CPU, memory and worker processes of the servers (by PID), sampled in the background."""

    def __init__(self, pids: list[int]):
        self.pids = pids
        self.samples: list[dict] = []
        self.worker_cpu: dict[int, tuple[float, float]] = {}  # pid -> (first, last) seen

    def workers(self) -> list[int]:
        return [c for pid in self.pids for c in children(pid) if "runs.worker" in cmdline(c)]

    def cpu(self) -> dict:
        per = [cpu_seconds(p) for p in self.pids]
        return {
            "server": sum(per),
            "per_copy": per,
            "reaped": sum(cpu_seconds(p, True) - cpu_seconds(p) for p in self.pids),
        }

    def sample(self) -> dict:
        s_rss = s_pss = w_rss = w_pss = 0
        for pid in self.pids:
            r, p = memory(pid)
            s_rss, s_pss = s_rss + r, s_pss + p
        workers = self.workers()
        for pid in workers:
            r, p = memory(pid)
            w_rss, w_pss = w_rss + r, w_pss + p
            c = cpu_seconds(pid)
            first = self.worker_cpu.get(pid, (None, 0))[0]
            self.worker_cpu[pid] = (c if first is None else first, c)
        m = {
            "t": time.monotonic(),
            "server_rss": s_rss,
            "server_pss": s_pss,
            "workers_rss": w_rss,
            "workers_pss": w_pss,
            "workers": len(workers),
        }
        self.samples.append(m)
        return m


async def probe_loop(host: str, port: int, base: str, end: float, out: list[float]) -> None:
    """GET /_stcore/health once a second until `end`: the server's event loop latency."""
    while time.monotonic() < end:
        t0 = time.monotonic()
        try:
            await http_get(host, port, f"{base}/_stcore/health", timeout=10)
            out.append(time.monotonic() - t0)
        except Exception:  # noqa: BLE001 - a probe that fails counts as 10 s
            out.append(10.0)
        await asyncio.sleep(max(0.0, 1.0 - (time.monotonic() - t0)))


async def sample_loop(meter: ServerMeter | None, end: float) -> None:
    while meter is not None and time.monotonic() < end:
        await asyncio.to_thread(meter.sample)
        await asyncio.sleep(1.0)


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


# --- servers -------------------------------------------------------------------------------


class Deployment:
    """With --start: fresh server copies (and nginx in front of several); else the given URL."""

    def __init__(self, args, level: int):
        self.servers: list[Server] = []
        self.nginx = None
        self.prefix = None
        if not args.start:
            self.url = args.url
            self.pids = [int(p) for p in args.server_pid.split(",")] if args.server_pid else []
            return
        extra = tuple(args.server_arg or ())
        try:
            for i in range(args.copies):
                port = args.port + i if args.port else None
                self.servers.append(
                    Server(f"bench-load-server-{level}-{i}.log", port=port, args=extra)
                )
            self.pids = [s.pid for s in self.servers]
            if args.copies == 1:
                self.url = self.servers[0].url
            else:
                self.url = self.start_nginx(args.nginx_port)
        except BaseException:
            self.stop()
            raise

    def start_nginx(self, listen: int) -> str:
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        site = (REPO / "deploy" / "nginx.conf").read_text()
        upstream = "".join(
            f"    server 127.0.0.1:{s.port} max_fails=1 fail_timeout=10s;\n" for s in self.servers
        )
        old = (
            "    server 127.0.0.1:8501 max_fails=1 fail_timeout=10s;\n"
            "    server 127.0.0.1:8502 max_fails=1 fail_timeout=10s;\n"
        )
        listen_old = "    listen 80;\n    listen [::]:80;\n"
        for text in (old, listen_old):
            if site.count(text) != 1:
                raise RuntimeError(f"deploy/nginx.conf no longer has {text!r} once")
        site = site.replace(old, upstream).replace(listen_old, f"    listen 127.0.0.1:{listen};\n")
        self.prefix = Path(tempfile.mkdtemp(prefix="digitlab-bench-nginx-"))
        (self.prefix / "digitlab.conf").write_text(site)
        user = "user root;\n" if os.geteuid() == 0 else ""
        (self.prefix / "nginx.conf").write_text(NGINX_MAIN.format(prefix=self.prefix, user=user))
        self.nginx = subprocess.Popen(
            [
                nginx,
                "-c",
                str(self.prefix / "nginx.conf"),
                "-p",
                str(self.prefix),
                "-g",
                "daemon off;",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        url = f"http://127.0.0.1:{listen}"
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                status, _ = asyncio.run(http_get("127.0.0.1", listen, "/_stcore/health"))
                if status == 200:
                    return url
            except Exception:  # noqa: BLE001 - not up yet
                pass
            if self.nginx.poll() is not None:
                break
            time.sleep(0.2)
        raise RuntimeError(f"nginx did not come up; see {self.prefix}/error.log")

    def log_problems(self) -> list[str]:
        return [line for s in self.servers for line in s.log_problems()]

    def stop(self) -> None:
        if self.nginx is not None:
            try:
                os.killpg(self.nginx.pid, signal.SIGTERM)
                self.nginx.wait(10)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                os.killpg(self.nginx.pid, signal.SIGKILL)
            self.nginx = None
        for s in self.servers:
            s.stop()
        self.servers = []
        if self.prefix is not None:
            shutil.rmtree(self.prefix, ignore_errors=True)


def check_loopback(url: str) -> None:
    host = urllib.parse.urlsplit(url).hostname or ""
    try:
        ok = ipaddress.ip_address(host).is_loopback
    except ValueError:
        ok = host == "localhost"
    if not ok or not url.startswith("http://"):
        sys.exit(
            f"--url must be http:// on a loopback address (run the benchmark on the "
            f"server itself), got {url}"
        )


# --- one level -----------------------------------------------------------------------------


async def run_level(
    url: str, n: int, trainers: int, args, pool, meter: ServerMeter | None, seed: int
) -> dict:
    life = args.session_life
    stats = LevelStats(args.duration + STROKE_TIMEOUT + 120)
    parts = urllib.parse.urlsplit(url)
    host, port, base = parts.hostname, parts.port or 80, parts.path.rstrip("/")
    rng = random.Random(seed)

    # Warm-up: one visitor loads the page and draws once (imports, first figures).
    warm = Visitor(-1, url, pool, random.Random(seed - 1), LevelStats(60))
    try:
        await warm.open()
        await warm.draw()
    finally:
        await warm.close()

    gate = asyncio.Semaphore(ARRIVE_AT_ONCE)
    visitors: list[Visitor] = []

    async def arrive(i: int, rank: int | None) -> Visitor | None:
        v = Visitor(i, url, pool, random.Random(rng.random()), stats, rank)
        visitors.append(v)
        async with gate:
            t0 = time.monotonic()
            try:
                await v.open()
            except Exception as e:  # noqa: BLE001 - recorded
                stats.errors.append(f"visitor {i} load: {type(e).__name__}: {e}"[:200])
                await v.close()
                return None
            stats.load_times.append(time.monotonic() - t0)
            stats.sessions += 1
        return v

    ranks = {i: r for r, i in enumerate(sorted(rng.sample(range(n), trainers)))}
    t_arrive = time.monotonic()
    first = await asyncio.gather(*(arrive(i, ranks.get(i)) for i in range(n)))
    arrive_seconds = time.monotonic() - t_arrive

    cpu0, own0, la0 = meter.cpu() if meter else None, os.times(), loadavg()
    machine0 = machine_cpu()
    if meter:
        meter.worker_cpu.clear()
        meter.samples.clear()
    start = time.monotonic()
    end = start + args.duration
    probes: list[float] = []
    background = [
        asyncio.create_task(probe_loop(host, port, base, end, probes)),
        asyncio.create_task(sample_loop(meter, end + STROKE_TIMEOUT + 5)),
    ]

    phases = [0.0 if args.together else rng.uniform(0.0, 2.5) for _ in range(n)]

    async def visitor_slot(v: Visitor | None, i: int) -> None:
        rank = ranks.get(i)
        # Each visitor keeps a 2-3 s rhythm from a random phase, as a class does once it has
        # started; --together makes every first drawing land at once (a "draw now!" burst).
        await asyncio.sleep(phases[i])
        for _generation in range(10_000):
            if v is not None:
                try:
                    if life is None:
                        if rank is not None and args.keep_training:
                            await v.keep_training(start, end)
                        elif rank is not None:
                            await v.train_session(start, end)
                        await v.draw_until(end)
                    else:
                        await v.draw_until(min(end, time.monotonic() + rng.uniform(*life)))
                finally:
                    await v.close()
            if life is None or time.monotonic() >= end:
                return
            v = Visitor(i, url, pool, random.Random(rng.random()), stats)
            try:
                t0 = time.monotonic()
                await v.open()
                stats.load_times.append(time.monotonic() - t0)
                stats.sessions += 1
            except Exception as e:  # noqa: BLE001
                stats.errors.append(f"visitor {i} reload: {type(e).__name__}: {e}"[:200])
                await v.close()
                v = None
                await asyncio.sleep(1)

    await asyncio.gather(*(visitor_slot(v, i) for i, v in enumerate(first)))
    drained = time.monotonic()
    cpu1, own1, la1 = meter.cpu() if meter else None, os.times(), loadavg()
    machine1 = machine_cpu()
    for task in background:
        task.cancel()
    wall = drained - start

    busy, total = machine1[0] - machine0[0], machine1[1] - machine0[1]
    idle_cores = (total - busy) / total * (os.cpu_count() or 1) if total else float("nan")
    result = {
        "visitors": n,
        "trainers": trainers,
        "arrive_s": arrive_seconds,
        "idle_cores": idle_cores,
        "wall_s": wall,
        "loadavg": (la0, la1),
        "stats": stats,
        "probes": probes,
    }
    if meter:
        worker_cpu = sum(last - first for first, last in meter.worker_cpu.values())
        result["cpu"] = {
            "server": cpu1["server"] - cpu0["server"],
            "per_copy": [b - a for a, b in zip(cpu0["per_copy"], cpu1["per_copy"])],
            "workers": worker_cpu + cpu1["reaped"] - cpu0["reaped"],
        }
        result["memory"] = list(meter.samples)
    result["client_cpu"] = (own1.user + own1.system) - (own0.user + own0.system)

    # After the visitors left: are the workers gone?
    if meter and trainers:
        deadline = time.monotonic() + args.worker_wait
        while meter.workers() and time.monotonic() < deadline:
            await asyncio.sleep(1)
        result["workers_left"] = len(meter.workers())
    if meter and args.settle:
        await asyncio.sleep(args.settle)
        result["after"] = meter.sample()
    return result


# --- reporting -----------------------------------------------------------------------------


def queue_order(stats: LevelStats) -> tuple[str, int]:
    runs = [r for r in stats.runs.values() if r.get("click")]
    runs.sort(key=lambda r: r["click"])
    started = [r for r in runs if r.get("start")]
    overtakes = sum(
        1 for i, a in enumerate(started) for b in started[i + 1 :] if b["start"] < a["start"] - 1.0
    )
    t0 = runs[0]["click"] if runs else 0
    rows = [
        f"click +{r['click'] - t0:.1f} s -> "
        + (f"trains +{r['start'] - t0:.1f} s" if r.get("start") else "never trained")
        + (f", queue note: {len(r['queue'])}" if r["queue"] else "")
        + f" ({r.get('ended', '?')})"
        for r in runs
    ]
    return "; ".join(rows), overtakes


def summarise(r: dict) -> dict:
    s: LevelStats = r["stats"]
    lat = s.latencies
    acted = [t for _, t, _ in s.commands if t is not None]
    within2 = sum(1 for t in acted if t <= 2.0)
    mem = r.get("memory") or []

    def peak(k):
        return max((m[k] for m in mem), default=0) / MB

    cpu = r.get("cpu")
    return {
        "level": f"{r['visitors']} ({r['trainers']})",
        "load": r["loadavg"][1].split()[0] if r["loadavg"] else "",
        "idle": r.get("idle_cores", float("nan")),
        "sent": s.sent,
        "answered": s.answers,
        "unanswered": s.unanswered,
        "median": statistics.median(lat) if lat else float("nan"),
        "p95": quantile(lat, 0.95),
        "max": max(lat) if lat else float("nan"),
        "correct": s.answers - len(s.wrong),
        "commands": len(s.commands),
        "acted": len(acted),
        "within2": within2,
        "cmd_median": statistics.median(acted) if acted else float("nan"),
        "cmd_max": max(acted) if acted else float("nan"),
        "cpu_ms": 1000 * cpu["server"] / s.answers if cpu and s.answers else float("nan"),
        "server_cores": cpu["server"] / r["wall_s"] if cpu else float("nan"),
        "workers_cpu": cpu["workers"] if cpu else float("nan"),
        "server_rss": peak("server_rss"),
        "server_pss": peak("server_pss"),
        "workers_pss": peak("workers_pss"),
        "probe_median": 1000 * statistics.median(r["probes"]) if r["probes"] else float("nan"),
        "probe_p95": 1000 * quantile(r["probes"], 0.95),
        "probe_max": 1000 * max(r["probes"]) if r["probes"] else float("nan"),
    }


def report(r: dict, problems: list[str]) -> str:
    s: LevelStats = r["stats"]
    m = summarise(r)
    out = [
        f"## {r['visitors']} visitors, {r['trainers']} training",
        f"- load average (1/5/15 min) at the start {r['loadavg'][0]}, at the end "
        f"{r['loadavg'][1]}; {os.cpu_count()} cores, of which {r['idle_cores']:.2f} "
        f"idle on average during the level (all processes of the machine)",
        f"- {s.sessions} sessions opened; arrival of the first {r['visitors']} took "
        f"{r['arrive_s']:.1f} s (page load median "
        f"{statistics.median(s.load_times) if s.load_times else float('nan'):.2f} s, max "
        f"{max(s.load_times, default=float('nan')):.2f} s); measured for {r['wall_s']:.0f} s",
        f"- drawings: {s.sent} sent, {s.answers} answered, {s.unanswered} unanswered within "
        f"{STROKE_TIMEOUT:.0f} s; stroke -> answer median {m['median']:.3f} s, p95 "
        f"{m['p95']:.3f} s, max {m['max']:.3f} s",
        f"- lost answers (the page showed another answer until the next drawing): "
        f"{len(s.lost)} of {s.checked} drawings checked"
        + (f" {s.lost[:5]}" if s.lost else "")
        + f"; runs whose end never reached the page: {s.runs_cut}",
        f"- answers matching the MNIST label: {m['correct']}/{s.answers}"
        + (f" ({100 * m['correct'] / s.answers:.1f} %)" if s.answers else ""),
        f"- script runs finished: {dict(s.finished)} ('early for rerun' also marks a run "
        f"whose unsent messages a newer run replaced); auto reruns sent {s.auto_reruns}; "
        f"{s.received_bytes / MB:.1f} MB received",
    ]
    if s.commands:
        by: dict[str, list] = {}
        for name, t, why in s.commands:
            by.setdefault(name, []).append((t, why))
        parts = []
        for name, items in by.items():
            ts = [t for t, _ in items if t is not None]
            parts.append(
                f"{name} {len(ts)}/{len(items)}"
                + (f" (median {statistics.median(ts):.2f} s, max {max(ts):.2f} s)" if ts else "")
                + "".join(f" [{why}]" for t, why in items if t is None)[:120]
            )
        out.append("- commands acted on: " + "; ".join(parts))
        if s.live_gaps:
            out.append(
                f"- live training section: {len(s.live_gaps)} progress updates seen; "
                f"time between two updates median {statistics.median(s.live_gaps):.2f} s, "
                f"p95 {quantile(s.live_gaps, 0.95):.2f} s (the page asks for 0.5 s; "
                f"pauses included)"
            )
        rows, overtakes = queue_order(s)
        out.append(
            f"- runs, by click order: {rows}; overtakes (a later click training more "
            f"than 1 s earlier): {overtakes}"
        )
        if "workers_left" in r:
            out.append(f"- training workers left after the sessions closed: {r['workers_left']}")
    if "cpu" in r:
        out.append(
            f"- server CPU: {r['cpu']['server']:.1f} s = {m['cpu_ms']:.0f} ms per "
            f"answered drawing ({m['server_cores']:.2f} cores); training workers "
            f"{r['cpu']['workers']:.1f} s; this client {r['client_cpu']:.1f} s"
            + (
                f"; per copy {', '.join(f'{c:.1f} s' for c in r['cpu']['per_copy'])}"
                if len(r["cpu"]["per_copy"]) > 1
                else ""
            )
        )
        mem = r["memory"]
        if mem:
            out.append(
                f"- memory peak: server RSS {m['server_rss']:.0f} MB, PSS "
                f"{m['server_pss']:.0f} MB; workers PSS {m['workers_pss']:.0f} MB"
            )
        if len(mem) > 120:  # a long run: the server's memory over time
            step = max(1, len(mem) // 10)
            out.append(
                "- server memory over time (s: RSS/PSS MB): "
                + ", ".join(
                    f"{x['t'] - mem[0]['t']:.0f}: {x['server_rss'] / MB:.0f}/"
                    f"{x['server_pss'] / MB:.0f}"
                    for x in mem[::step] + [mem[-1]]
                )
            )
        if "after" in r:
            a = r["after"]
            out.append(
                f"- {args_settle_text(r)} after the last visitor left: server RSS "
                f"{a['server_rss'] / MB:.0f} MB, PSS {a['server_pss'] / MB:.0f} MB"
            )
    out.append(
        f"- /_stcore/health once a second: median {m['probe_median']:.0f} ms, p95 "
        f"{m['probe_p95']:.0f} ms, max {m['probe_max']:.0f} ms"
    )
    if s.wrong:
        out.append(f"- wrong answers (label, answer), first 10: {s.wrong[:10]}")
    if s.unknown_widgets:
        out.append(f"- widgets whose state this client cannot hold: {sorted(s.unknown_widgets)}")
    if s.errors or s.dropped:
        out.append(
            f"- {len(s.errors)} visitor errors, {s.dropped} connections dropped; "
            f"first: {s.errors[:3]}"
        )
    if s.ref_hashes:
        out.append(f"- {s.ref_hashes} cached-message references (not expected)")
    if problems:
        out.append(
            f"- server log lines that look like errors: {len(problems)}; first: {problems[:3]}"
        )
    return "\n".join(out)


def args_settle_text(r: dict) -> str:
    return f"{r.get('settle', '')} s".strip() if r.get("settle") else "Some time"


def summary_table(results: list[dict]) -> str:
    lines = [
        "| visitors (training) | load avg (idle cores) | drawings sent / answered "
        "| stroke -> answer "
        "median / p95 / max | correct | commands acted on (<= 2 s) | server CPU per "
        "answered drawing | server cores | workers CPU | server RSS / PSS peak "
        "| workers PSS peak | health probe median / p95 |",
        "|" + " --- |" * 12,
    ]
    for r in results:
        m = summarise(r)
        cmds = (
            f"{m['acted']}/{m['commands']} ({m['within2']}), median {m['cmd_median']:.2f} s"
            if m["commands"]
            else ""
        )
        lines.append(
            f"| {m['level']} | {m['load']} ({m['idle']:.2f}) | {m['sent']} / {m['answered']} | "
            f"{m['median']:.2f} / {m['p95']:.2f} / {m['max']:.2f} s | "
            f"{m['correct']}/{m['answered']} | {cmds} | {m['cpu_ms']:.0f} ms | "
            f"{m['server_cores']:.2f} | {m['workers_cpu']:.1f} s | "
            f"{m['server_rss']:.0f} / {m['server_pss']:.0f} MB | {m['workers_pss']:.0f} MB | "
            f"{m['probe_median']:.0f} / {m['probe_p95']:.0f} ms |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument(
        "--start",
        action="store_true",
        help="start a fresh server (snapshot of HEAD, file watcher off) per level",
    )
    where.add_argument("--url", help="a running page on this machine, e.g. http://127.0.0.1:8501")
    parser.add_argument(
        "--server-pid",
        default=None,
        help="with --url: the server PID(s), comma-separated, for CPU/memory",
    )
    parser.add_argument("--levels", default="10,20,40", help="visitor counts (default 10,20,40)")
    parser.add_argument(
        "--train-fraction",
        type=float,
        default=0.0,
        help="share of visitors who train (0.2 of 30 = 6)",
    )
    parser.add_argument("--duration", type=float, default=60, help="s of drawing per level")
    parser.add_argument(
        "--keep-training",
        action="store_true",
        help="training visitors keep a run live all along (Train again when one ends) "
        "instead of eta, Pause, Resume, Stop",
    )
    parser.add_argument(
        "--session-life",
        default=None,
        help="A,B: each session lives A-B s, then a new visitor arrives",
    )
    parser.add_argument(
        "--settle",
        type=float,
        default=0,
        help="s to wait after the last visitor left before a last memory sample",
    )
    parser.add_argument(
        "--worker-wait",
        type=float,
        default=40,
        help="s to wait for training workers to end after the visitors left",
    )
    parser.add_argument(
        "--copies",
        type=int,
        default=1,
        help="with --start: server copies; >1 puts deploy/nginx.conf in front",
    )
    parser.add_argument(
        "--port",
        type=int,
        default=None,
        help="with --start: first server port (default: free ports)",
    )
    parser.add_argument("--nginx-port", type=int, default=8640)
    parser.add_argument(
        "--server-arg",
        action="append",
        default=None,
        help="extra streamlit flag for --start, e.g. "
        "--server-arg=--runner.postScriptGC --server-arg=false",
    )
    parser.add_argument(
        "--together",
        action="store_true",
        help="every visitor's first drawing at the same moment (default: a random phase in "
        "the first 2.5 s, then each one's own 2-3 s rhythm)",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, default=None, help="also write a summary here")
    args = parser.parse_args()
    if args.url:
        check_loopback(args.url)
    if args.session_life:
        a, b = (float(x) for x in args.session_life.split(","))
        args.session_life = (a, b)
    levels = [int(x) for x in args.levels.split(",")]
    pool = drawing_pool(POOL, args.seed)
    print(
        f"{os.cpu_count()} cores; load average {loadavg()}; "
        f"{'fresh server per level' if args.start else args.url}"
        f"{' x' + str(args.copies) + ' behind nginx' if args.copies > 1 else ''}; "
        f"server flags {args.server_arg or 'none'}; {args.duration:.0f} s per level\n",
        flush=True,
    )
    results = []
    for n in levels:
        trainers = round(args.train_fraction * n)
        deployment = Deployment(args, n)
        try:
            meter = ServerMeter(deployment.pids) if deployment.pids else None
            limit = args.duration + STROKE_TIMEOUT + 200 + args.worker_wait + args.settle
            r = asyncio.run(
                asyncio.wait_for(
                    run_level(deployment.url, n, trainers, args, pool, meter, args.seed + n), limit
                )
            )
            r["settle"] = args.settle
            results.append(r)
            print(report(r, deployment.log_problems()) + "\n", flush=True)
        except TimeoutError:
            print(f"## {n} visitors: cut off\n", flush=True)
        finally:
            deployment.stop()
    print(summary_table(results))
    if args.json:
        args.json.write_text(json.dumps([summarise(r) for r in results], indent=1))


if __name__ == "__main__":
    main()
