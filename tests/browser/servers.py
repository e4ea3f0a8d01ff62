"""Processes the browser tests start: copies of the page, nginx; started and stopped cleanly.

Every process gets its own session (process group), so stopping it also stops its children
(the page's training workers). Missing tools fail the test on CI and skip it elsewhere.
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

import pytest

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "artifacts"
START_TIMEOUT = 60  # s for a server to answer its health check


def missing(message: str):
    """Something the test needs is not installed: a failure on CI, a skip elsewhere."""
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_page(port: int, log, env: dict | None = None) -> subprocess.Popen:
    """`streamlit run app.py` on 127.0.0.1:port, output to the open file `log`; `env` adds
    environment variables (e.g. limits) to the test's own."""
    return subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--server.headless", "true",
         "--browser.gatherUsageStats", "false"],
        cwd=REPO, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        env={**os.environ, **(env or {})})


def workers_of(proc: subprocess.Popen) -> list[int]:
    """PIDs of the training workers (`python -m nn.worker`) the page server has started."""
    pids = []
    for entry in Path("/proc").iterdir():
        try:
            if not entry.name.isdigit():
                continue
            cmdline = (entry / "cmdline").read_bytes().split(b"\0")
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue  # the process ended while we looked
        if parent == proc.pid and b"nn.worker" in cmdline:
            pids.append(int(entry.name))
    return pids


def wait_healthy(url: str, proc: subprocess.Popen, log: Path) -> None:
    """Wait until `url`/_stcore/health answers 200; fail if the process dies or it takes long."""
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        if proc.poll() is not None:
            pytest.fail(f"{proc.args[0]} exited with {proc.returncode}; see {log}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            pytest.fail(f"{url} not healthy after {START_TIMEOUT} s; see {log}")
        time.sleep(0.2)


def stop(proc: subprocess.Popen) -> None:
    """SIGTERM the process's own session (it and its children), SIGKILL if it lingers."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    try:  # children that outlived their parent (a training worker) go too
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def playwright_expect():
    """Playwright's `expect`; without playwright, a test module fails on CI, skips elsewhere."""
    try:
        from playwright.sync_api import expect
    except ImportError:
        if os.environ.get("CI") == "true":
            raise
        pytest.skip("playwright is not installed (pip install -r requirements-dev.txt)",
                    allow_module_level=True)
    return expect
