"""Issue 18, measured: memory back after many tabs, and honest strokes beside hostile clients.

    MNIST_DIR=../shared/mnist python benchmarks/bench_bounds.py [--tabs 50] [--honest 10]

Starts one fresh server (a snapshot of HEAD, like bench_load.py; BENCH_WORKTREE=1 serves
the working tree) with the shipped settings, then:

1. tabs: `--tabs` tabs open one after another (5 at a time), each uploads the largest
   network the page accepts ([784, 2000, 10], 6.4 MB) and closes. The server's RSS before,
   at its peak and after the closed sessions ended (disconnectedSessionTTL, then the
   sweeper of ui.compat) is printed: the issue asks for the end within 50 MB of the start.
   Meanwhile one visitor arrives and leaves every 5 s, as on a copy in use (Streamlit
   releases the last sessions it served only when it serves again: docs/bounds.md).
2. hostile: `--honest` honest visitors draw MNIST digits at a human pace (bench_load's
   Visitor) for `--duration` s while hostile clients keep attacking the same server: crafted
   files (a 54 MB declaration, deep metadata, the largest network, again and again), PUT
   floods of 15 MB, NaN and out-of-range values for every widget, clear_cache, hostile query
   links, tabs opened and dropped. Prints the honest visitors' stroke -> answer median / p95
   / max, how many were answered and correct, the server's RSS peak and its CPU.

Timings depend on the machine's load: the load average is printed beside them. No
assertions: a measuring script (tests/test_hostile_clients.py asserts the behaviour).
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import random
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))
from bench_load import POOL, LevelStats, Visitor, drawing_pool, loadavg  # noqa: E402
from bench_memory import MB, Server, cpu_seconds, memory  # noqa: E402
from streamlit.proto.BackMsg_pb2 import BackMsg  # noqa: E402

from nn.modelfile import model_bytes  # noqa: E402
from nn.network import Network  # noqa: E402
from tests.helpers import meta_file, zeros_declaring  # noqa: E402
from tests.stclient import PageSession, quantile  # noqa: E402

LARGEST = model_bytes(Network([784, 2000, 10], seed=1))
CRAFTED = [
    ("zeros.npz", zeros_declaring([784, 2000, 2000, 2000, 2000, 10])),
    ("nested.npz", meta_file("[" * 30_000 + "]" * 30_000)),
    ("digits.npz", meta_file('{"seed": ' + "9" * 5000 + "}")),
    ("largest.npz", LARGEST),
    ("claims.npz", model_bytes(Network([784, 30, 10], seed=5), {"test_accuracy": 0.942})),
]
BAD_VALUES = [
    ("double_value", math.nan),
    ("int_value", 2**63 - 1),
    ("string_value", "\u202e" * 200),
    ("double_array_value", [math.nan]),
    ("string_array_value", ["no"]),
]
QUERIES = ["?hidden=nan&eta=inf", "?" + "&".join(f"p{i}=x" for i in range(200)), "?net=%00"]


def rss(pid: int) -> int:
    return memory(pid)[0]


async def tabs_phase(url: str, pid: int, tabs: int, ttl: float) -> dict:
    start = rss(pid)
    peak = start
    gate = asyncio.Semaphore(5)

    async def one(i: int) -> None:
        nonlocal peak
        async with gate:
            tab = PageSession(url, index=i)
            try:
                await tab.open()
                await tab.upload(f"largest-{i}.npz", LARGEST)
                peak = max(peak, rss(pid))
            finally:
                await tab.close()

    t0 = time.monotonic()
    await asyncio.gather(*(one(i) for i in range(tabs)))
    closed_at = time.monotonic()
    samples = []
    for second in range(int(ttl + 60)):  # bounded: TTL + a minute
        await asyncio.sleep(1)
        if second % 5 == 4:  # a visitor comes and goes
            visitor = PageSession(url, index=-2)
            try:
                await visitor.open()
            finally:
                await visitor.close()
        samples.append(rss(pid))
        if samples[-1] - start <= 10 * MB and time.monotonic() - closed_at > ttl + 6:
            break
    return {
        "start": start,
        "peak": max([peak, *samples]),
        "end": samples[-1],
        "seconds_open": closed_at - t0,
        "seconds_to_end": time.monotonic() - closed_at,
    }


async def hostile_loop(url: str, end: float, rng: random.Random, counts: dict) -> None:
    """One hostile client after another until `end`."""
    junk = rng.randbytes(15 * MB)
    while time.monotonic() < end:
        tab = PageSession(url, index=-1)
        try:
            await tab.open(rng.choice(QUERIES + [""]))
            for name, data in CRAFTED:
                await tab.upload(name, data)
                counts["uploads"] += 1
            for i in range(4):
                counts["puts"] += 1
                await tab.put_file(f"junk{i}", junk)
            widgets = [
                (proto.id, fid)
                for kind, proto, fid, _ in tab.elements.values()
                if kind not in ("button", "download_button") and getattr(proto, "id", "")
            ]
            for field, value in BAD_VALUES:
                await tab.rerun_and_wait(30, extra={w: (field, value) for w, _ in widgets})
                counts["bad_values"] += 1
            msg = BackMsg()
            msg.clear_cache = True
            await tab.send(msg)
            counts["clear_cache"] += 1
            await tab.rerun_and_wait(30)
        except Exception as e:  # noqa: BLE001 - counted; the next hostile client comes
            counts["errors"].append(f"{type(e).__name__}: {e}"[:120])
        finally:
            await tab.close()
            counts["tabs"] += 1


async def hostile_phase(url: str, pid: int, honest: int, duration: float, hostile: int) -> dict:
    pool = drawing_pool(POOL, 0)
    stats = LevelStats(duration + 120)
    rng = random.Random(0)
    visitors = [Visitor(i, url, pool, random.Random(i), stats) for i in range(honest)]
    for v in visitors:
        await v.open()
    counts = {"uploads": 0, "puts": 0, "bad_values": 0, "clear_cache": 0, "tabs": 0}
    counts["errors"] = []
    cpu0, la0, peak = cpu_seconds(pid), loadavg(), rss(pid)
    start = time.monotonic()
    end = start + duration

    async def sample() -> None:
        nonlocal peak
        while time.monotonic() < end + 5:
            peak = max(peak, rss(pid))
            await asyncio.sleep(1)

    async def draw(v: Visitor) -> None:
        await asyncio.sleep(rng.uniform(0, 2.5))
        await v.draw_until(end)

    await asyncio.gather(
        sample(),
        *(draw(v) for v in visitors),
        *(hostile_loop(url, end, random.Random(100 + i), counts) for i in range(hostile)),
    )
    for v in visitors:
        await v.close()
    lat = stats.latencies
    return {
        "answered": stats.answers,
        "sent": stats.sent,
        "correct": stats.answers - len(stats.wrong),
        "median": statistics.median(lat) if lat else float("nan"),
        "p95": quantile(lat, 0.95),
        "max": max(lat, default=float("nan")),
        "cpu": cpu_seconds(pid) - cpu0,
        "peak": peak,
        "load": (la0, loadavg()),
        "counts": counts,
        "errors": stats.errors[:3],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tabs", type=int, default=50)
    parser.add_argument("--honest", type=int, default=10)
    parser.add_argument("--hostile", type=int, default=2, help="hostile clients at once")
    parser.add_argument("--duration", type=float, default=60)
    parser.add_argument("--port", type=int, default=None)
    parser.add_argument("--skip-tabs", action="store_true")
    parser.add_argument("--skip-hostile", action="store_true")
    parser.add_argument("--malloc-default", action="store_true")
    args = parser.parse_args()
    ttl = 30.0  # .streamlit/config.toml's disconnectedSessionTTL
    server = Server(
        "bench-bounds-server.log",
        port=args.port,
        env={
            "MNIST_DIR": os.environ.get("MNIST_DIR", str(HERE.parent.parent / "shared" / "mnist")),
            # as deploy/digitlab@.service sets it (--malloc-default: glibc's own threshold)
            **({} if args.malloc_default else {"MALLOC_MMAP_THRESHOLD_": str(1 << 20)}),
        },
    )
    try:
        url, pid = server.url, server.pid
        print(f"{os.cpu_count()} cores; load average {loadavg()}; server {url} pid {pid}")
        warm = PageSession(url)
        asyncio.run(warm.open())
        asyncio.run(warm.close())
        if not args.skip_tabs:
            t = asyncio.run(tabs_phase(url, pid, args.tabs, ttl))
            print(
                f"\n## {args.tabs} tabs, each uploading [784, 2000, 10] (6.4 MB), then closed\n"
                f"- server RSS: start {t['start'] / MB:.0f} MB, peak {t['peak'] / MB:.0f} MB, "
                f"end {t['end'] / MB:.0f} MB ({(t['end'] - t['start']) / MB:+.0f} MB), "
                f"{t['seconds_to_end']:.0f} s after the last tab closed (session TTL {ttl:g} s);"
                f" opening and uploading took {t['seconds_open']:.0f} s; load {loadavg()}",
                flush=True,
            )
        if args.skip_hostile:
            return
        h = asyncio.run(hostile_phase(url, pid, args.honest, args.duration, args.hostile))
        c = h["counts"]
        print(
            f"\n## {args.honest} honest visitors drawing for {args.duration:g} s beside "
            f"{args.hostile} hostile clients at a time\n"
            f"- load average {h['load'][0]} -> {h['load'][1]} (2 cores, shared)\n"
            f"- honest strokes: {h['sent']} sent, {h['answered']} answered, {h['correct']} "
            f"correct; stroke -> answer median {h['median']:.3f} s, p95 {h['p95']:.3f} s, "
            f"max {h['max']:.3f} s\n"
            f"- hostile: {c['tabs']} tabs, {c['uploads']} crafted uploads, {c['puts']} PUTs of "
            f"15 MB, {c['bad_values']} reruns with bad values for every widget, "
            f"{c['clear_cache']} clear_cache; client errors {c['errors'][:2]}\n"
            f"- server: RSS peak {h['peak'] / MB:.0f} MB, CPU {h['cpu']:.1f} s "
            f"({h['cpu'] / args.duration:.2f} cores); honest errors {h['errors']}",
            flush=True,
        )
    finally:
        server.stop()


if __name__ == "__main__":
    main()
