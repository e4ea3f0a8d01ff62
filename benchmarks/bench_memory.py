"""The page server's memory with visitors training: idle, one run, K+2 runs, after.

    MNIST_DIR=../shared/mnist python benchmarks/bench_memory.py [--visitors 4]

Starts `streamlit run app.py` on a free port of 127.0.0.1 (headless, MNIST_DIR from the
environment, DIGITLAB_ABANDON_SECONDS=10; the code of HEAD, copied with `git archive`, so
that edits to the working tree during the run change nothing; BENCH_WORKTREE=1 serves the
working tree instead) and drives it with headless chromium (Playwright,
/usr/bin/chromium). Measures the server process and its training workers (`python -m
runs.worker`, children of the server) from /proc/PID/smaps_rollup:

    idle          server up, no page open
    1 page        one visitor on the page, nothing training
    1 training    that visitor pressed Train (default preset), its progress bar shows
    K+2 training  --visitors pages (default K+2, K = DIGITLAB_MAX_RUNS or the core count)
                  each pressed Train: K train, the others wait in the queue
    after         every page closed; runs of closed pages are stopped after
                  DIGITLAB_ABANDON_SECONDS; measured once no worker is left

RSS counts every page a process has in memory, shared or not, so adding up RSS counts the
shared MNIST maps once per worker. PSS divides each shared page among the processes that map
it: the PSS total is the honest sum. While runs train the memory is sampled every 0.25 s
for --sample seconds (default 10); the row shows the sample with the largest PSS total.
Prints one table (MB = 2**20 bytes).
No assertions: a measuring script. The server's log goes to artifacts/bench-memory-server.log.

The helpers here (the server, /proc readings, chromium launch) are also used by
bench_load.py; ports, chromium's flags and starting the page come from tests/helpers.py.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.helpers import (  # noqa: E402
    ARTIFACTS,
    CHROMIUM,
    CHROMIUM_FLAGS,
    REPO,
    VIEWPORT,
    cmdline,
    free_port,
    start_page,
    stop,
    wait_healthy,
)

EPOCH_TEXT = re.compile(r"^Epoch [\d.]+ of \d+")
QUEUE_TEXT = re.compile(r"Waiting for a free slot")
MB = 2**20
CLK_TCK = os.sysconf("SC_CLK_TCK")


# --- the server ------------------------------------------------------------------------------


def snapshot_of_head() -> Path:
    """The committed code (`git archive HEAD`) in a temporary folder, to serve from.

    The working tree may be edited while a benchmark runs (Streamlit would then rerun a
    half-written app.py); a snapshot of HEAD keeps the measured code fixed.
    """
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix="digitlab-bench-"))
    archive = subprocess.run(
        ["git", "archive", "HEAD"], cwd=REPO, check=True, capture_output=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
    return folder


class Server:
    """`streamlit run app.py` in its own process group on 127.0.0.1; `stop()` kills the group.

    Served from `code` (default: a snapshot of HEAD; the working tree with BENCH_WORKTREE=1),
    with Streamlit's file watcher off, on `port` (default: a free one), with extra command-line
    `args` for streamlit (e.g. ("--runner.postScriptGC", "false")).
    """

    def __init__(
        self,
        log_name: str,
        env: dict | None = None,
        timeout: float = 60,
        port: int | None = None,
        args: tuple[str, ...] = (),
    ):
        self.snapshot = None
        if os.environ.get("BENCH_WORKTREE") == "1":
            code = REPO
        else:
            code = self.snapshot = snapshot_of_head()
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        ARTIFACTS.mkdir(exist_ok=True)
        self.log_path = ARTIFACTS / log_name
        self._log = open(self.log_path, "wb")  # noqa: SIM115 - closed by stop()
        full_env = {**os.environ, "DIGITLAB_ABANDON_SECONDS": "10", **(env or {})}
        full_env.setdefault("MNIST_DIR", str(REPO.parent / "shared" / "mnist"))
        self.env = full_env
        self.proc = start_page(
            self.port,
            self._log,
            full_env,
            cwd=code,
            extra=("--server.fileWatcherType", "none", *args),
        )
        self.pid = self.proc.pid
        try:
            wait_healthy(self.url, self.proc, self.log_path, timeout)
        except AssertionError:
            self.stop()
            raise

    def workers(self) -> list[int]:
        """PIDs of the server's training workers (`python -m runs.worker`)."""
        return [pid for pid in children(self.pid) if "runs.worker" in cmdline(pid)]

    def log_problems(self) -> list[str]:
        """Lines of the server's log that look like errors or tracebacks."""
        self._log.flush()
        text = self.log_path.read_text(errors="replace")
        return [
            line
            for line in text.splitlines()
            if re.search(r"Traceback|Error|Exception|ScriptRunContext|WARNING", line)
        ]

    def stop(self) -> None:
        stop(self.proc)  # its own session: the server and its workers
        self._log.close()
        if self.snapshot is not None:
            import shutil

            shutil.rmtree(self.snapshot, ignore_errors=True)


# --- /proc ---------------------------------------------------------------------------------


def _stat_fields(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return raw[raw.rindex(")") + 2 :].split()  # fields from 3 (state) on; comm may hold spaces


def all_parents() -> dict[int, int]:
    parents = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            fields = _stat_fields(int(entry))
            if fields:
                parents[int(entry)] = int(fields[1])
    return parents


def children(pid: int) -> list[int]:
    return [p for p, parent in all_parents().items() if parent == pid]


def descendants(pid: int) -> list[int]:
    parents = all_parents()
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        kids = [c for c, parent in parents.items() if parent == p]
        out += kids
        todo += kids
    return out


def memory(pid: int) -> tuple[int, int]:
    """(RSS, PSS) in bytes from /proc/PID/smaps_rollup; (0, 0) if the process is gone."""
    rss = pss = 0
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Rss:"):
                rss = int(line.split()[1]) * 1024
            elif line.startswith("Pss:"):
                pss = int(line.split()[1]) * 1024
    except OSError:
        pass
    return rss, pss


def cpu_seconds(pid: int, with_children: bool = False) -> float:
    """utime+stime of a process (plus its waited-for children's if asked), in seconds."""
    fields = _stat_fields(pid)
    if not fields:
        return 0.0
    ticks = int(fields[11]) + int(fields[12])  # utime, stime (fields 14, 15)
    if with_children:
        ticks += int(fields[13]) + int(fields[14])  # cutime, cstime
    return ticks / CLK_TCK


def machine_cpu() -> tuple[float, float]:
    """(busy, total) jiffies of all cores from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)


def server_memory(server: Server) -> dict:
    """The server's and its workers' RSS and PSS, in bytes."""
    s_rss, s_pss = memory(server.pid)
    workers = [memory(pid) for pid in server.workers()]
    w_rss, w_pss = sum(r for r, _ in workers), sum(p for _, p in workers)
    return {
        "workers": len(workers),
        "server_rss": s_rss,
        "server_pss": s_pss,
        "workers_rss": w_rss,
        "workers_pss": w_pss,
        "total_rss": s_rss + w_rss,
        "total_pss": s_pss + w_pss,
    }


def sample_peak(server: Server, seconds: float, every: float = 0.25) -> dict:
    """Sample server_memory for `seconds`; the sample with the largest PSS total."""
    best, end = None, time.monotonic() + seconds
    while True:
        m = server_memory(server)
        if best is None or m["total_pss"] > best["total_pss"]:
            best = m
        if time.monotonic() >= end:
            return best
        time.sleep(every)


def table(rows: list[tuple[str, dict]]) -> str:
    head = (
        "| state | workers | server RSS | server PSS | workers RSS | workers PSS "
        "| total RSS | total PSS |"
    )
    lines = [head, "|" + " --- |" * 8]
    for name, m in rows:
        lines.append(
            f"| {name} | {m['workers']} | "
            + " | ".join(
                f"{m[k] / MB:.0f} MB"
                for k in (
                    "server_rss",
                    "server_pss",
                    "workers_rss",
                    "workers_pss",
                    "total_rss",
                    "total_pss",
                )
            )
            + " |"
        )
    return "\n".join(lines)


# --- the browser ---------------------------------------------------------------------------


def launch_chromium(playwright):
    return playwright.chromium.launch(
        executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS
    )


def open_visitor(browser, url: str):
    from playwright.sync_api import expect

    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.goto(url)
    expect(page.locator("canvas.upper-canvas")).to_be_visible(timeout=60_000)
    return context, page


def click_train(page) -> None:
    page.get_by_role("button", name="Train", exact=True).click()


def wait_started_or_queued(page, timeout_ms: float = 60_000) -> str:
    """'training' once the progress bar shows an epoch, 'queued' once the queue note shows."""
    epoch, queued = page.get_by_text(EPOCH_TEXT), page.get_by_text(QUEUE_TEXT)
    end = time.monotonic() + timeout_ms / 1000
    while time.monotonic() < end:
        if epoch.count():
            return "training"
        if queued.count():
            return "queued"
        page.wait_for_timeout(100)
    return "neither"


def wait_no_workers(server: Server, timeout: float) -> float:
    start = time.monotonic()
    while server.workers() and time.monotonic() - start < timeout:
        time.sleep(0.25)
    return time.monotonic() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--visitors",
        type=int,
        default=None,
        help="visitors training at once in the third step (default K+2)",
    )
    parser.add_argument(
        "--sample",
        type=float,
        default=10.0,
        help="seconds of sampling per training step (default 10)",
    )
    args = parser.parse_args()
    slots = int(os.environ.get("DIGITLAB_MAX_RUNS") or os.cpu_count() or 1)
    visitors = args.visitors or slots + 2

    from playwright.sync_api import sync_playwright

    rows: list[tuple[str, dict]] = []
    notes: list[str] = []
    server = Server("bench-memory-server.log")
    try:
        with sync_playwright() as p:
            browser = launch_chromium(p)
            try:
                time.sleep(2)
                rows.append(("idle (no page)", server_memory(server)))

                context, page = open_visitor(browser, server.url)
                time.sleep(2)
                rows.append(("1 page open, nothing training", server_memory(server)))

                click_train(page)
                state = wait_started_or_queued(page)
                notes.append(f"1 visitor: {state}")
                rows.append(("1 visitor training", sample_peak(server, args.sample)))
                page.get_by_role("button", name="Stop", exact=True).click()
                wait_no_workers(server, 30)
                context.close()
                time.sleep(1)
                rows.append(("its run stopped, page closed", server_memory(server)))

                visitors_open = [open_visitor(browser, server.url) for _ in range(visitors)]
                time.sleep(2)
                rows.append((f"{visitors} pages open, nothing training", server_memory(server)))
                before = rows[-1][1]
                for _, pg in visitors_open:
                    click_train(pg)
                    pg.wait_for_timeout(300)  # in order: the queue is first come first served
                # The first page shows "queued" for a moment before its worker starts:
                # wait until K pages show an epoch (or 30 s), then read every page's state.
                end = time.monotonic() + 30
                while True:
                    states = [wait_started_or_queued(pg) for _, pg in visitors_open]
                    if states.count("training") >= min(slots, visitors) or time.monotonic() > end:
                        break
                    time.sleep(0.5)
                notes.append(f"{visitors} visitors: " + ", ".join(states))
                rows.append(
                    (
                        f"{visitors} visitors training ({states.count('training')} train, "
                        f"{states.count('queued')} queued)",
                        sample_peak(server, args.sample),
                    )
                )

                for context, _ in visitors_open:
                    context.close()
                waited = wait_no_workers(server, 60)
                notes.append(
                    f"after closing the pages the last worker ended after {waited:.1f} s"
                    f" (abandon time {server.env['DIGITLAB_ABANDON_SECONDS']} s)"
                )
                time.sleep(1)
                after = server_memory(server)
                rows.append(("pages closed, runs stopped", after))
                grown = (after["server_pss"] - before["server_pss"]) / MB
                notes.append(
                    f"worker processes left: {after['workers']}; server PSS after - "
                    f"before the runs: {grown:+.0f} MB"
                )
            finally:
                browser.close()
    finally:
        problems = server.log_problems()
        server.stop()
    print(
        f"Server memory, K = {slots} runs at once, {os.cpu_count()} cores "
        f"(MB = 2**20 bytes; training rows: the sample with the largest PSS total)\n"
    )
    print(table(rows))
    print()
    for note in notes:
        print("-", note)
    print(f"- server log lines that look like problems: {len(problems)}")
    for line in problems[:20]:
        print("    ", line)


if __name__ == "__main__":
    main()
