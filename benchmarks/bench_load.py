"""Thirty visitors: many real browser pages drawing digits on one server, some training.

    MNIST_DIR=/work/shared/mnist python benchmarks/bench_load.py [--visitors 30] [--duration 60]
    MNIST_DIR=/work/shared/mnist python benchmarks/bench_load.py --sweep 1,5,10,20,30 --duration 40

For each level (a number of visitors) a fresh `streamlit run app.py` is started on a free port
of 127.0.0.1 and one headless chromium (Playwright, /usr/bin/chromium) opens one browser
context (its own Streamlit session) per visitor, a few pages at a time. Once every page shows
the canvas, all visitors draw for --duration seconds: a 1, a 7 or a 0 (the strokes of
tests/browser/test_drawing.py, shifted by up to 25 px at random), wait for the answer, check
it, press "Clear canvas", pause 0.3-1 s, and again. Every --train-every-th visitor (default 5)
first sets "Training images" to 1,000 and "Epochs" to a number of its own (2, 3, 4, ...: a
visitor shown another visitor's run would see the wrong "of N"), then presses Train, one
visitor every 1.5 s.

Measured:
- stroke-to-answer: inside the page, from the mouse-up (a pointerup listener) to the moment the
  metric "The network's answer" shows a digit (a MutationObserver, performance.now()).
  Median, 95th percentile, maximum; strokes with no answer within 30 s; wrong answers.
- queue: for each training visitor the wall-clock time its page first shows "Epoch x of N"
  and the queue position it was shown; checked against the order of the clicks on Train
  (an "overtake" is a visitor whose first epoch shows more than 1 s before that of a
  visitor who clicked earlier), and the run's last status line (finished / stopped ...).
  Pages that never pressed Train must never show a progress bar or a queue note.
- memory: server and workers' RSS/PSS sampled every second (/proc/PID/smaps_rollup; peak
  of the PSS total), and chromium's PSS total at the end of the drawing phase.
- CPU during the drawing phase, in cores (CPU seconds / wall seconds, from /proc/PID/stat
  utime+stime): the server (its own threads), its training workers (finished ones through
  the server's cutime+cstime), chromium (all its processes), the benchmark's driver (this
  script and Playwright's node), other processes on the machine (/proc/stat minus those),
  and the machine's idle share. The machine has os.cpu_count() cores in all.

Everything listens on 127.0.0.1 only; the server, its workers and chromium are stopped in
`finally` blocks. A level is cut off after duration + 240 s. Defaults take about 3 minutes;
the sweep above about 6. Server logs: artifacts/bench-load-server-N.log. No assertions.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import random
import re
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_memory import (  # noqa: E402
    CHROMIUM,
    CHROMIUM_FLAGS,
    MB,
    VIEWPORT,
    Server,
    cmdline,
    cpu_seconds,
    descendants,
    machine_cpu,
    memory,
    server_memory,
)

CLK_TCK = os.sysconf("SC_CLK_TCK")
STROKE_TIMEOUT = 30  # s: a stroke with no answer by then counts as unanswered
OPEN_AT_ONCE = 4     # pages loading at the same time while the visitors arrive
CLICK_GAP = 1.5      # s between two visitors' clicks on Train

# Strokes in canvas pixels (280 x 280), as in tests/browser/test_drawing.py.
ONE = [[(140, 45 + 5 * i) for i in range(39)]]
SEVEN = [[(75 + 5 * i, 55) for i in range(28)] + [(210 - 3 * i, 55 + 6 * i) for i in range(31)]]
ZERO = [[(140 + 62 * math.sin(2 * math.pi * i / 72), 140 - 92 * math.cos(2 * math.pi * i / 72))
         for i in range(76)]]
DIGITS = {1: ONE, 7: SEVEN, 0: ZERO}

# Runs in every page before its own scripts: records mouse-ups, the answer's changes and the
# training status (progress bar or queue note) with their times.
OBSERVER = r"""
window.__up = null; window.__answers = []; window.__status = [];
window.addEventListener('pointerup', () => { window.__up = performance.now(); }, true);
const answerText = () => {
  for (const m of document.querySelectorAll('[data-testid="stMetric"]')) {
    const label = m.querySelector('[data-testid="stMetricLabel"]');
    if (label && label.textContent.includes("answer")) {
      const v = m.querySelector('[data-testid="stMetricValue"]');
      return v ? v.textContent.trim() : null;
    }
  }
  return null;
};
const statusText = () => {
  const bar = document.querySelector('[data-testid="stProgress"]');
  if (bar && /Epoch/.test(bar.textContent)) return bar.textContent.trim();
  for (const a of document.querySelectorAll('[data-testid="stAlert"]'))
    if (a.textContent.includes("Waiting for a free slot")) return a.textContent.trim();
  return null;
};
const check = () => {
  const t = performance.now(), wall = Date.now();
  const a = answerText(), answers = window.__answers;
  if (a !== (answers.length ? answers[answers.length - 1].text : null))
    answers.push({t: t, text: a});
  const s = statusText(), st = window.__status;
  if (s !== null && (!st.length || st[st.length - 1].text !== s))
    st.push({wall: wall, text: s});
};
new MutationObserver(check).observe(document, {subtree: true, childList: true,
                                              characterData: true});
"""


def quantile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, max(0, math.ceil(q * len(values)) - 1))]


# --- one visitor ---------------------------------------------------------------------------


class Visitor:
    def __init__(self, index: int, trainer_rank: int | None, seed: int):
        self.index, self.trainer_rank = index, trainer_rank   # rank among trainers, or None
        self.epochs = None if trainer_rank is None else 2 + trainer_rank
        self.rng = random.Random(seed)
        self.latencies: list[float] = []  # ms
        self.answers = 0
        self.wrong: list[tuple[int, str]] = []
        self.unanswered = 0
        self.errors: list[str] = []
        self.clicked_at: float | None = None  # wall clock, s
        self.status: list[dict] = []
        self.ready = False
        self.double_canvas = 0  # 0.1 s waits for a page showing two canvases

    async def open(self, browser, url: str) -> None:
        from playwright.async_api import expect
        self.context = await browser.new_context(viewport=VIEWPORT)
        await self.context.add_init_script(OBSERVER)
        self.page = page = await self.context.new_page()
        page.set_default_timeout(60_000)
        await page.goto(url)
        await expect(page.locator("canvas.upper-canvas")).to_be_visible(timeout=120_000)
        if self.epochs is not None:
            await self.set_slider("Training images", "Home", 0)
            await self.set_slider("Epochs", "Home", self.epochs - 1)
        self.ready = True

    async def set_slider(self, name: str, first_key: str, rights: int) -> None:
        slider = self.page.get_by_test_id("stSlider").filter(has_text=name).get_by_role("slider")
        await slider.focus()
        await self.page.keyboard.press(first_key)
        for _ in range(rights):
            await self.page.keyboard.press("ArrowRight")
        await self.page.wait_for_timeout(300)
        await self.page.keyboard.press("Tab")  # leave the slider: its value is sent

    async def train(self) -> None:
        await self.page.get_by_role("button", name="Train", exact=True).click()
        self.clicked_at = time.time()

    async def draw(self, strokes) -> None:
        dx, dy = self.rng.uniform(-25, 25), self.rng.uniform(-25, 25)
        canvas = self.page.locator("canvas.upper-canvas")
        for _ in range(50):  # after "Clear canvas" the old canvas lingers a moment
            if await canvas.count() == 1:
                break
            self.double_canvas += 1
            await asyncio.sleep(0.1)
        await canvas.scroll_into_view_if_needed()  # clicking Train scrolled the page
        mouse, box = self.page.mouse, await canvas.bounding_box()
        for stroke in strokes:
            (x, y), rest = stroke[0], stroke[1:]
            await mouse.move(box["x"] + x + dx, box["y"] + y + dy)
            await mouse.down()
            for x, y in rest:
                await mouse.move(box["x"] + x + dx, box["y"] + y + dy)
            await mouse.up()

    async def draw_until(self, deadline: float) -> None:
        page = self.page
        digits = list(DIGITS)
        k = self.rng.randrange(3)
        while time.monotonic() < deadline:
            digit = digits[k % 3]
            k += 1
            n = await page.evaluate("window.__answers.length")
            try:
                await self.draw(DIGITS[digit])
            except Exception as e:  # noqa: BLE001 - recorded; the visitor goes on
                self.errors.append(f"draw: {type(e).__name__}: {e}"[:160])
                await asyncio.sleep(1)
                continue
            try:
                await page.wait_for_function(
                    "n => window.__answers.length > n && "
                    "window.__answers[window.__answers.length - 1].text !== null",
                    arg=n, polling=100, timeout=STROKE_TIMEOUT * 1000)
            except Exception:  # noqa: BLE001 - counted, and the visitor goes on
                self.unanswered += 1
            else:
                got = await page.evaluate(
                    "({a: window.__answers[window.__answers.length - 1], up: window.__up})")
                self.answers += 1
                self.latencies.append(got["a"]["t"] - got["up"])
                if got["a"]["text"] != str(digit):
                    self.wrong.append((digit, got["a"]["text"]))
            try:
                await page.get_by_role("button", name=re.compile("Clear canvas")).click()
                await page.wait_for_function(
                    "() => !window.__answers.length || "
                    "window.__answers[window.__answers.length - 1].text === null",
                    polling=100, timeout=STROKE_TIMEOUT * 1000)
            except Exception as e:  # noqa: BLE001
                self.errors.append(f"clear: {type(e).__name__}")
                await page.reload()
                await page.locator("canvas.upper-canvas").wait_for(timeout=120_000)
            await asyncio.sleep(self.rng.uniform(0.3, 1.0))

    async def collect(self) -> None:
        try:
            self.status = await self.page.evaluate("window.__status")
        except Exception as e:  # noqa: BLE001
            self.errors.append(f"collect: {type(e).__name__}")

    def first_epoch(self) -> tuple[float, int] | None:
        for s in self.status:
            m = re.match(r"Epoch [\d.]+ of (\d+)", s["text"])
            if m:
                return s["wall"] / 1000, int(m.group(1))
        return None

    def queue_positions(self) -> list[int]:
        return [int(m.group(1)) for s in self.status
                if (m := re.search(r"you are number (\d+)", s["text"]))]


# --- measuring the machine -----------------------------------------------------------------


class CpuMeter:
    """CPU seconds of the server, its workers, chromium and this benchmark, and the machine."""

    def __init__(self, server: Server):
        self.server = server

    def read(self) -> dict:
        me = os.getpid()
        mine = descendants(me)
        chromium = [p for p in mine if "chromium" in cmdline(p)]
        server_tree = set([self.server.pid] + descendants(self.server.pid))
        driver = [p for p in mine if p not in chromium and p not in server_tree] + [me]
        workers = [p for p in server_tree if p != self.server.pid]
        busy, total = machine_cpu()
        return {
            "wall": time.monotonic(),
            "server": cpu_seconds(self.server.pid),
            "workers": (cpu_seconds(self.server.pid, True) - cpu_seconds(self.server.pid))
            + sum(cpu_seconds(p) for p in workers),
            "chromium": {p: cpu_seconds(p) for p in chromium},
            "driver": {p: cpu_seconds(p) for p in driver},
            "busy": busy / CLK_TCK, "total": total / CLK_TCK,
        }

    @staticmethod
    def cores(a: dict, b: dict) -> dict:
        wall = b["wall"] - a["wall"]

        def used(key):
            if isinstance(b[key], dict):  # processes that started later had 0 at `a`
                return sum(v - a[key].get(p, 0.0) for p, v in b[key].items())
            return b[key] - a[key]
        out = {k: used(k) / wall for k in ("server", "workers", "chromium", "driver")}
        busy = (b["busy"] - a["busy"]) / wall
        ncores = (b["total"] - a["total"]) / wall
        out["others"] = max(0.0, busy - sum(out.values()))
        out["idle"] = ncores - busy
        out["cores"] = ncores
        return out


class MemorySampler(threading.Thread):
    def __init__(self, server: Server, every: float = 1.0):
        super().__init__(daemon=True)
        self.server, self.every = server, every
        self.samples: list[dict] = []
        self._halt = threading.Event()

    def run(self) -> None:
        while not self._halt.is_set():
            self.samples.append(server_memory(self.server))
            self._halt.wait(self.every)

    def stop(self) -> dict:
        self._halt.set()
        self.join(5)
        return max(self.samples, key=lambda m: m["total_pss"]) if self.samples else {}


def chromium_pss() -> int:
    return sum(memory(p)[1] for p in descendants(os.getpid()) if "chromium" in cmdline(p))


# --- one level -----------------------------------------------------------------------------


async def level(n: int, duration: float, train_every: int, seed: int) -> dict:
    from playwright.async_api import async_playwright

    server = Server(f"bench-load-server-{n}.log")
    result: dict = {"visitors": n}
    try:
        async with async_playwright() as p:
            browser = await p.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                              args=CHROMIUM_FLAGS)
            try:
                trainers = [i for i in range(n)
                            if train_every and i % train_every == train_every - 1]
                if n == 1 and train_every:
                    trainers = []  # a lone visitor only draws: the level measures the page
                visitors = [Visitor(i, trainers.index(i) if i in trainers else None, seed + i)
                            for i in range(n)]
                t_open = time.monotonic()
                gate = asyncio.Semaphore(OPEN_AT_ONCE)

                async def arrive(v):
                    async with gate:
                        try:
                            await v.open(browser, server.url)
                        except Exception as e:  # noqa: BLE001
                            v.errors.append(f"open: {type(e).__name__}: {e}"[:200])
                await asyncio.gather(*(arrive(v) for v in visitors))
                result["open_seconds"] = time.monotonic() - t_open
                ready = [v for v in visitors if v.ready]
                result["opened"] = len(ready)

                meter = CpuMeter(server)
                sampler = MemorySampler(server)
                sampler.start()
                cpu_a = meter.read()
                deadline = time.monotonic() + duration

                async def drawing(v):
                    try:
                        if v.trainer_rank is not None:  # click first: a click mid-stroke
                            await asyncio.sleep(v.trainer_rank * CLICK_GAP)  # breaks it
                            await v.train()
                        await v.draw_until(deadline)
                    except Exception as e:  # noqa: BLE001
                        v.errors.append(f"draw: {type(e).__name__}: {e}"[:200])
                await asyncio.gather(*(drawing(v) for v in ready))
                cpu_b = meter.read()
                result["chromium_pss"] = chromium_pss()
                result["memory_peak"] = sampler.stop()
                result["memory_end"] = server_memory(server)
                result["cpu"] = CpuMeter.cores(cpu_a, cpu_b)
                result["phase_seconds"] = cpu_b["wall"] - cpu_a["wall"]
                await asyncio.gather(*(v.collect() for v in ready))
            finally:
                await browser.close()
    finally:
        result["log_problems"] = server.log_problems()
        server.stop()
    result["left_workers"] = len(server.workers())
    summarise(result, visitors)
    return result


def summarise(result: dict, visitors: list[Visitor]) -> None:
    lat = [x for v in visitors for x in v.latencies]
    result.update({
        "strokes": len(lat), "median_ms": statistics.median(lat) if lat else float("nan"),
        "p95_ms": quantile(lat, 0.95), "max_ms": max(lat) if lat else float("nan"),
        "answers": sum(v.answers for v in visitors),
        "wrong": [(v.index, d, a) for v in visitors for d, a in v.wrong],
        "unanswered": sum(v.unanswered for v in visitors),
        "visitors_without_answer": [v.index for v in visitors if v.ready and not v.answers],
        "errors": [(v.index, e) for v in visitors for e in v.errors],
        "per_visitor_strokes": sorted(len(v.latencies) for v in visitors),
        "double_canvas_waits": sum(v.double_canvas for v in visitors),
    })
    trainers = sorted((v for v in visitors if v.trainer_rank is not None and v.clicked_at),
                      key=lambda v: v.clicked_at)
    queue = []
    for v in trainers:
        first = v.first_epoch()
        queue.append({"visitor": v.index, "epochs": v.epochs,
                      "clicked": v.clicked_at - trainers[0].clicked_at,
                      "first_epoch": None if first is None else first[0] - trainers[0].clicked_at,
                      "shown_of": None if first is None else first[1],
                      "queue_positions": sorted(set(v.queue_positions())),
                      "last_status": v.status[-1]["text"] if v.status else None})
    result["queue"] = queue
    overtakes = []
    for i, a in enumerate(queue):
        for b in queue[i + 1:]:  # b clicked after a
            if a["first_epoch"] is not None and b["first_epoch"] is not None \
                    and b["first_epoch"] < a["first_epoch"] - 1.0:
                overtakes.append((b["visitor"], a["visitor"]))
    result["overtakes"] = overtakes
    result["never_started"] = [q["visitor"] for q in queue if q["first_epoch"] is None]
    result["wrong_run_shown"] = [q["visitor"] for q in queue
                                 if q["shown_of"] is not None and q["shown_of"] != q["epochs"]]
    result["status_on_non_trainers"] = [v.index for v in visitors
                                        if v.trainer_rank is None and v.status]


def report(r: dict) -> str:
    out = [f"## {r['visitors']} visitors ({r.get('opened', 0)} pages opened in "
           f"{r.get('open_seconds', float('nan')):.0f} s; drawing phase "
           f"{r.get('phase_seconds', float('nan')):.0f} s)"]
    out.append(f"stroke-to-answer: {r['strokes']} strokes, median {r['median_ms']:.0f} ms, "
               f"p95 {r['p95_ms']:.0f} ms, max {r['max_ms']:.0f} ms; answers "
               f"{r['answers'] - len(r['wrong'])}/{r['answers']} correct, "
               f"{r['unanswered']} strokes unanswered after {STROKE_TIMEOUT} s; strokes per "
               f"visitor {min(r['per_visitor_strokes'], default=0)}-"
               f"{max(r['per_visitor_strokes'], default=0)}")
    if r["wrong"]:
        out.append(f"wrong answers (visitor, drawn, read): {r['wrong'][:10]}")
    if r["visitors_without_answer"]:
        out.append(f"visitors with no answer at all: {r['visitors_without_answer']}")
    if r.get("double_canvas_waits"):
        out.append(f"0.1 s waits for a page showing two canvases after Clear: "
                   f"{r['double_canvas_waits']}")
    if r["errors"]:
        out.append(f"visitor errors: {r['errors'][:10]}")
    m, e = r.get("memory_peak") or {}, r.get("memory_end") or {}
    if m:
        out.append(f"memory (peak PSS total): server RSS {m['server_rss'] / MB:.0f} MB, PSS "
                   f"{m['server_pss'] / MB:.0f} MB; {m['workers']} workers RSS "
                   f"{m['workers_rss'] / MB:.0f} MB, PSS {m['workers_pss'] / MB:.0f} MB; total "
                   f"RSS {m['total_rss'] / MB:.0f} MB, PSS {m['total_pss'] / MB:.0f} MB. "
                   f"At the end: server PSS {e['server_pss'] / MB:.0f} MB. "
                   f"Chromium PSS {r['chromium_pss'] / MB:.0f} MB")
    c = r.get("cpu")
    if c:
        out.append("CPU in cores (of {:.0f}): server {:.2f}, workers {:.2f}, chromium {:.2f}, "
                   "benchmark driver {:.2f}, other processes {:.2f}, idle {:.2f}".format(
                       c["cores"], c["server"], c["workers"], c["chromium"], c["driver"],
                       c["others"], c["idle"]))
    if r["queue"]:
        out.append("queue (s after the first click on Train):")
        out.append("| visitor | epochs | clicked | first epoch shown | shown 'of N' "
                   "| queue positions shown | last status |")
        out.append("| --- | --- | --- | --- | --- | --- | --- |")
        for q in r["queue"]:
            fe = "never" if q["first_epoch"] is None else f"{q['first_epoch']:.1f}"
            out.append(f"| {q['visitor']} | {q['epochs']} | {q['clicked']:.1f} | {fe} | "
                       f"{q['shown_of']} | {q['queue_positions'] or '-'} | "
                       f"{(q['last_status'] or '-')[:70]} |")
        out.append(f"overtakes (later click started > 1 s earlier): {r['overtakes'] or 'none'}; "
                   f"never started: {r['never_started'] or 'none'}; shown another run's "
                   f"epochs: {r['wrong_run_shown'] or 'none'}")
    out.append(f"pages that never pressed Train but showed a run: "
               f"{r['status_on_non_trainers'] or 'none'}; workers left after stop: "
               f"{r['left_workers']}")
    out.append(f"server log lines that look like problems: {len(r['log_problems'])}")
    out += ["    " + line[:160] for line in r["log_problems"][:8]]
    return "\n".join(out)


def summary_table(results: list[dict]) -> str:
    lines = ["| visitors | strokes | median ms | p95 ms | max ms | correct | unanswered "
             "| server+workers PSS peak | chromium PSS | CPU server | CPU workers "
             "| CPU chromium | CPU driver | CPU others | idle |",
             "|" + " --- |" * 15]
    for r in results:
        c, m = r.get("cpu", {}), r.get("memory_peak", {})
        lines.append(
            f"| {r['visitors']} | {r['strokes']} | {r['median_ms']:.0f} | {r['p95_ms']:.0f} | "
            f"{r['max_ms']:.0f} | {r['answers'] - len(r['wrong'])}/{r['answers']} | "
            f"{r['unanswered']} | {m.get('total_pss', 0) / MB:.0f} MB | "
            f"{r.get('chromium_pss', 0) / MB:.0f} MB | " + " | ".join(
                f"{c.get(k, float('nan')):.2f}" for k in
                ("server", "workers", "chromium", "driver", "others", "idle")) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--visitors", type=int, default=30)
    parser.add_argument("--sweep", default=None,
                        help="comma-separated visitor counts, one level each (overrides "
                             "--visitors), e.g. 1,5,10,20,30")
    parser.add_argument("--duration", type=float, default=60,
                        help="seconds of drawing per level (default 60)")
    parser.add_argument("--train-every", type=int, default=5,
                        help="every N-th visitor presses Train (default 5; 0 for none)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    args = parser.parse_args()
    levels = [int(x) for x in args.sweep.split(",")] if args.sweep else [args.visitors]
    print(f"{os.cpu_count()} cores; DIGITLAB_MAX_RUNS="
          f"{os.environ.get('DIGITLAB_MAX_RUNS', '(core count)')}; chromium and the server "
          f"share the machine\n", flush=True)
    results = []
    for n in levels:
        try:
            r = asyncio.run(asyncio.wait_for(level(n, args.duration, args.train_every,
                                                   args.seed), args.duration + 240))
        except TimeoutError:
            print(f"## {n} visitors: cut off after {args.duration + 240:.0f} s\n", flush=True)
            continue
        results.append(r)
        print(report(r) + "\n", flush=True)
    print(summary_table(results))
    if args.json:
        args.json.write_text(json.dumps(results, indent=1, default=str))


if __name__ == "__main__":
    main()
