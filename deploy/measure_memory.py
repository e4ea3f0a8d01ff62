"""Measure what one copy of the page needs in memory, as docs/deploying.md reports it.

Starts `streamlit run app.py` on a free port, opens the page in headless chromium, draws a
digit, and prints the resident memory of the server; then presses Train and prints the
server's and the training worker's memory while the run is going.

    MNIST_DIR=../shared/mnist .venv/bin/python deploy/measure_memory.py

RSS counts pages shared between processes (Python's libraries, the workers' read-only MNIST
maps) in every process; PSS splits them fairly, so the PSS sum is what the processes cost
together.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def memory_kb(pid: int) -> tuple[int, int]:
    """(RSS, PSS) of one process in kB, from /proc/<pid>/smaps_rollup."""
    values = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        key, value = line.split(":", 1)
        values[key] = int(value.split()[0])
    return values["Rss"], values["Pss"]


def children(pid: int) -> list[int]:
    out = subprocess.run(
        ["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True
    ).stdout
    return [int(p) for p in out.split()]


def report(label: str, server: int) -> None:
    rows = [("server", server)] + [("child", c) for c in children(server)]
    total_pss = 0
    print(f"-- {label}")
    for name, pid in rows:
        try:
            rss, pss = memory_kb(pid)
        except FileNotFoundError:
            continue
        total_pss += pss
        cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()[:60]
        print(f"   {name:6} pid {pid:7}  RSS {rss / 1024:6.0f} MB  PSS {pss / 1024:6.0f} MB  {cmd}")
    print(f"   together: PSS {total_pss / 1024:.0f} MB")


def main() -> None:
    from playwright.sync_api import expect, sync_playwright

    port = free_port()
    proc = subprocess.Popen(
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
        ],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).close()
                break
            except OSError:
                time.sleep(0.2)
        report("server started, no visitor yet", proc.pid)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
            page = browser.new_page(viewport={"width": 1366, "height": 900})
            page.set_default_timeout(30_000)
            page.goto(url)
            canvas = page.locator("canvas.upper-canvas")
            expect(canvas).to_be_visible()
            box = canvas.bounding_box()
            page.mouse.move(box["x"] + 140, box["y"] + 45)
            page.mouse.down()
            for y in range(50, 236, 5):
                page.mouse.move(box["x"] + 140, box["y"] + y, steps=2)
            page.mouse.up()
            expect(page.get_by_test_id("stMetricValue")).to_have_text("1")
            expect(page.locator(".js-plotly-plot")).to_have_count(2)
            time.sleep(1)
            report("one visitor has drawn a 1", proc.pid)
            page.get_by_role("button", name="Train", exact=True).click()
            expect(page.get_by_text("images/s")).to_be_visible(timeout=60_000)
            time.sleep(3)
            report("the visitor's training run is going", proc.pid)
            page.get_by_role("button", name="Stop", exact=True).click()
            browser.close()
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


if __name__ == "__main__":
    main()
