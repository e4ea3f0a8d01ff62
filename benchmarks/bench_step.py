"""What watching one step costs: the report's extra bytes and the worker's extra time per
looked-at mini-batch (`nn.lookstep`), and the page server's CPU per live refresh of a paused
run with and without the step panel (a real `streamlit run` on port 8660, headless chromium).

    MNIST_DIR=../shared/mnist python benchmarks/bench_step.py

Prints numbers, asserts nothing; the machine's load is printed beside them.
"""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from nn.lookstep import look_at_step  # noqa: E402
from nn.network import Network  # noqa: E402
from nn.protocol import State  # noqa: E402
from nn.sgd import SGD  # noqa: E402
from runs.messages import Report  # noqa: E402
from ui import step as panel  # noqa: E402

PORT = 8660
REFRESH = 0.5  # s: the live part's refresh (ui.training.LIVE_EVERY)


def report_and_worker() -> None:
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(1000, 784), dtype=np.uint8)
    labels = rng.integers(0, 10, 1000)
    for hidden in (30, 200):
        net = Network([784, hidden, 10])
        sgd = SGD(net, images, labels)
        look = look_at_step(net, sgd, np.arange(10), 3.0)
        plain = len(pickle.dumps(Report(State.PAUSED, progress=1.0, elapsed=2.0)))
        looked = len(pickle.dumps(Report(State.PAUSED, progress=1.0, elapsed=2.0, step=look)))
        start = time.perf_counter()
        for _ in range(50):
            look_at_step(net, sgd, np.arange(10), 3.0)
        worker = (time.perf_counter() - start) / 50
        start = time.perf_counter()
        for _ in range(20):
            figures = [
                panel.outputs_figure(look),
                panel.delta_out_figure(look),
                panel.delta_hidden_figure(look),
                panel.weight_change_figure(look),
            ]
            panel.strip(look.images)
        built = (time.perf_counter() - start) / 20
        sent = sum(len(json.dumps(f["data"])) for f in figures)
        print(
            f"[784, {hidden}, 10], batch 10: report {plain} B -> {looked} B "
            f"(+{looked - plain:,} B per looked-at step); worker {worker * 1e3:.2f} ms per "
            f"looked-at step; panel figures built in {built * 1e3:.1f} ms, {sent / 1e3:.1f} kB"
        )


def server_cpu() -> None:
    from playwright.sync_api import sync_playwright

    from tests.helpers import CHROMIUM, CHROMIUM_FLAGS, VIEWPORT

    server = subprocess.Popen(
        [".venv/bin/streamlit", "run", "app.py", "--server.port", str(PORT)]
        + ["--server.headless", "true"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )

    def cpu() -> float:
        with open(f"/proc/{server.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS
            )
            page = browser.new_page(viewport=VIEWPORT)
            page.set_default_timeout(60_000)
            for _ in range(60):
                try:
                    page.goto(f"http://127.0.0.1:{PORT}")
                    break
                except Exception:  # noqa: BLE001 - the server is still starting
                    time.sleep(1)
            page.get_by_role("button", name="Train", exact=True).click()
            for label, slow in (("without the panel", False), ("with the panel open", True)):
                if slow:
                    page.get_by_role("button", name="Resume").click()
                    page.get_by_role("button", name="Slow motion").click()
                    page.get_by_text("The mini-batch just done").wait_for()
                page.get_by_role("button", name="Pause").click()
                page.get_by_role("button", name="Step", exact=True).wait_for()
                time.sleep(3)
                c0, t0 = cpu(), time.monotonic()
                time.sleep(20)
                c1, t1 = cpu(), time.monotonic()
                per = 1000 * (c1 - c0) / ((t1 - t0) / REFRESH)
                print(
                    f"paused, {label}: server CPU {100 * (c1 - c0) / (t1 - t0):.1f} % of a "
                    f"core, {per:.1f} ms per live refresh"
                )
            page.get_by_role("button", name="Stop").click()
            browser.close()
    finally:
        server.terminate()
        server.wait(10)


if __name__ == "__main__":
    report_and_worker()
    server_cpu()
    print(os.popen("uptime").read().strip())
