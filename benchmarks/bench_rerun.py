"""What one stroke costs the page's server, and what a live training section costs per second.

    MNIST_DIR=../shared/mnist python benchmarks/bench_rerun.py [--strokes 60] [--live 20]
    MNIST_DIR=../shared/mnist python benchmarks/bench_rerun.py --in-process [--strokes 60]
    ... bench_rerun.py --open "Where your drawing lands" [--map-run]   (the lab's panels open)

Default (server): starts `streamlit run app.py` on --port of 127.0.0.1, opens it in one
headless chromium tab (Playwright, /usr/bin/chromium) and draws --strokes strokes on the
canvas (short lines at changing places, "Clear canvas" after every sixth: a press of Clear
is a rerun like a stroke and is counted as one). After each it waits until the page shows the
new 28x28 image (or the prompt, after Clear), so every stroke is answered before the next.
The server's CPU (utime + stime of its own process, /proc/PID/stat) over the strokes,
divided by their number, is the CPU per answered stroke; it is also printed without what the
server spends while its page sits idle (measured for 8 s before the strokes). The browser
runs on the same cores but is not counted: only the server's process is.

Then (--live seconds, 0 to skip) the tab presses Train (the book's preset, 30 epochs: about
12 s on a quiet machine, so keep --live under that) and the server's CPU is measured over
that many seconds while the live section redraws itself, without strokes: the cost of one
visitor watching a run, in CPU ms per second. The worker process that trains is a child of
the server and not counted.

--in-process: no server, no browser. The page runs in this process under AppTest (with a
stand-in canvas that returns a new drawing each time); every run is a whole rerun of the
script, as a stroke was before the drawing row became a fragment. Prints CPU ms per rerun.

Streamlit runs gc.collect(2) after every script run (runner.postScriptGC): that is part of
the figures, as on a real server. With one visitor the heap is small, so the collection is
cheap here; many visitors make it dearer (see benchmarks/bench_load.py).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from tests.helpers import CHROMIUM_FLAGS  # noqa: E402

CLK_TCK = os.sysconf("SC_CLK_TCK")
CHROMIUM = "/usr/bin/chromium"
TIMEOUT = 30_000  # ms: how long the browser waits for one answer


def cpu_seconds(pid: int) -> float:
    """utime + stime of one process (its own threads, not its children)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def start_server(port: int, log) -> subprocess.Popen:
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(REPO / "app.py"),
        "--server.port",
        str(port),
        "--server.address",
        "127.0.0.1",
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
    ]
    return subprocess.Popen(command, cwd=REPO, stdout=log, stderr=subprocess.STDOUT)


def wait_healthy(url: str, deadline_s: float = 60) -> None:
    import urllib.request

    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"{url} never became healthy")


def idle_rate(pid: int, seconds: float = 8.0) -> float:
    """The server's CPU seconds per second while its one page sits idle."""
    start_cpu, start = cpu_seconds(pid), time.monotonic()
    time.sleep(seconds)
    return (cpu_seconds(pid) - start_cpu) / (time.monotonic() - start)


def stroke_at(k: int) -> list[tuple[float, float]]:
    """The k-th stroke: a short line somewhere on the 280x280 canvas, each one different."""
    x, y = 40 + (k * 37) % 200, 40 + (k * 53) % 200
    return [(x + 4 * i, y + 6 * i) for i in range(8)]


def image_src(page) -> str | None:
    images = page.get_by_test_id("stImage").locator("img")
    return images.first.get_attribute("src") if images.count() else None


def open_panels(page, titles: list[str]) -> None:
    """Open the page's expanders with these titles (the lab's panels), as a visitor would."""
    from playwright.sync_api import expect

    for title in titles:
        page.get_by_text(title, exact=True).click()
        panel = page.get_by_test_id("stExpander").filter(has_text=title)
        expect(panel.get_by_test_id("stExpanderDetails")).to_be_visible()
        page.wait_for_timeout(1500)  # its first run (a map is computed once per network)


def measure_server(
    strokes: int, live: float, port: int, panels: list[str] = (), map_run: bool = False
) -> None:
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=TIMEOUT)
    url = f"http://127.0.0.1:{port}"
    log_path = REPO / "artifacts" / "bench-rerun-server.log"
    log_path.parent.mkdir(exist_ok=True)
    with open(log_path, "wb") as log, sync_playwright() as p:
        server = start_server(port, log)
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS)
        try:
            wait_healthy(url)
            page = browser.new_page(viewport={"width": 1366, "height": 900})
            page.set_default_timeout(TIMEOUT)
            sent = [0]  # messages the page sent the server: strokes, clicks, live ticks
            page.on(
                "websocket",
                lambda ws: ws.on("framesent", lambda _: sent.__setitem__(0, sent[0] + 1)),
            )
            page.goto(url)
            canvas = page.locator("canvas.upper-canvas")
            expect(canvas).to_be_visible()
            expect(page.get_by_text("What to expect")).to_be_visible()  # the whole page is in
            open_panels(page, list(panels))
            if panels:
                print(f"open panels: {', '.join(panels)}")
            time.sleep(1.0)
            idle = idle_rate(server.pid)
            start_cpu, start = cpu_seconds(server.pid), time.monotonic()
            for k in range(strokes):
                if k % 6 == 5:
                    page.get_by_role("button", name="Clear canvas").click()
                    expect(page.get_by_text("Draw a digit on the black square")).to_be_visible()
                    page.wait_for_timeout(500)  # the new canvas sets itself up first
                    continue
                before = image_src(page)
                expect(canvas).to_have_count(1)  # just after Clear the old canvas may linger
                box = canvas.bounding_box()
                points = stroke_at(k)
                page.mouse.move(box["x"] + points[0][0], box["y"] + points[0][1])
                page.mouse.down()
                for x, y in points[1:]:
                    page.mouse.move(box["x"] + x, box["y"] + y)
                page.mouse.up()
                try:
                    page.wait_for_function(
                        """before => {
                             const img = document.querySelector('[data-testid=stImage] img');
                                       return img && img.src && img.src !== before; }""",
                        arg=before or "",
                    )
                except PlaywrightTimeout:
                    page.screenshot(path=str(REPO / "artifacts" / "bench-rerun-stuck.png"))
                    raise RuntimeError(f"stroke {k} was not answered") from None
            wall = time.monotonic() - start
            cpu = cpu_seconds(server.pid) - start_cpu
            print(f"server idle (no strokes): {1000 * idle:.1f} ms CPU per second")
            print(
                f"strokes: {strokes} answered in {wall:.1f} s; server CPU "
                f"{1000 * cpu / strokes:.1f} ms per stroke, "
                f"{1000 * (cpu - idle * wall) / strokes:.1f} ms without the idle server's"
            )
            if live > 0:
                page.get_by_role("button", name="Train", exact=True).click()
                expect(page.get_by_role("button", name="Stop")).to_be_visible()
                expect(page.get_by_text("images/s")).to_be_visible()
                if map_run:  # the map follows the network being trained
                    page.get_by_text("The network being trained").first.click()
                    print("the map shows the network being trained")
                time.sleep(1.0)
                start_cpu, start, ticks = cpu_seconds(server.pid), time.monotonic(), sent[0]
                page.wait_for_timeout(1000 * live)  # unlike time.sleep, lets Playwright count
                cpu, wall = cpu_seconds(server.pid) - start_cpu, time.monotonic() - start
                ticks = sent[0] - ticks
                print(
                    f"live part: {ticks} reruns in {wall:.0f} s ({ticks / wall:.1f} per second), "
                    f"{1000 * cpu / max(ticks, 1):.1f} ms of server CPU each"
                )
                print(
                    f"live training section: server CPU {1000 * cpu / wall:.1f} ms per "
                    f"second of one visitor watching a run, {1000 * (cpu / wall - idle):.1f} "
                    f"without the idle server's ({wall:.0f} s measured)"
                )
                if page.get_by_role("button", name="Stop").is_visible():  # not over yet
                    try:
                        page.get_by_role("button", name="Stop").click(timeout=5000)
                    except PlaywrightTimeout:  # it ended (and the button went) meanwhile
                        pass
                expect(page.get_by_role("button", name="Train", exact=True)).to_be_visible()
        finally:
            browser.close()
            server.terminate()
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()


def measure_in_process(strokes: int) -> None:
    import types

    import numpy as np
    from PIL import Image, ImageDraw

    image = {"pixels": None}

    def fake_canvas(**kwargs):
        return types.SimpleNamespace(image_data=image["pixels"], json_data=None)

    module = types.ModuleType("streamlit_drawable_canvas")
    module.st_canvas = fake_canvas
    sys.modules["streamlit_drawable_canvas"] = module
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=60)
    at.run()
    picture = Image.new("RGBA", (280, 280), (0, 0, 0, 255))
    pen = ImageDraw.Draw(picture)
    times = []
    for k in range(strokes):
        pen.line(stroke_at(k), fill=(255, 255, 255, 255), width=22)
        image["pixels"] = np.asarray(picture).copy()
        start = time.process_time()
        at.run()
        times.append(time.process_time() - start)
        assert not at.exception, at.exception
    times.sort()
    print(
        f"whole reruns in process: {strokes}; CPU median {1000 * times[len(times) // 2]:.1f} "
        f"ms, mean {1000 * sum(times) / len(times):.1f} ms per rerun"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--strokes", type=int, default=60)
    parser.add_argument(
        "--live", type=float, default=20, help="seconds of a training run to measure (0: skip)"
    )
    parser.add_argument("--port", type=int, default=8501, help="the server's port")
    parser.add_argument(
        "--in-process",
        action="store_true",
        help="AppTest whole reruns in this process, no server or browser",
    )
    parser.add_argument(
        "--open",
        action="append",
        default=[],
        metavar="TITLE",
        help="open this panel first (repeatable), e.g. 'Where your drawing lands'",
    )
    parser.add_argument(
        "--map-run",
        action="store_true",
        help="during --live, the map (opened with --open) shows the network being trained",
    )
    args = parser.parse_args()
    if not os.environ.get("MNIST_DIR"):
        print("note: MNIST_DIR is not set; training needs MNIST", file=sys.stderr)
    if args.in_process:
        measure_in_process(args.strokes)
    else:
        measure_server(args.strokes, args.live, args.port, args.open, args.map_run)


if __name__ == "__main__":
    main()
