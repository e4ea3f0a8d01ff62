"""Threads or processes for visitors' training runs? Measured, as docs/measuring.md reports.

    MNIST_DIR=../shared/mnist python benchmarks/bench_parallel.py

For two runs of [784, 30, 10], batch 10, eta 3.0, 2 epochs each, prints:
- the wall time of one run alone, of two runs as threads of one process, and of two runs as
  two processes (what `runs.manager` does), and the speed-up over running them one after another;
- meanwhile, how long the "page" (this process's main thread) takes to answer a drawing
  (canvas_to_mnist + a reading by the default network), every 50 ms: median and 95th
  percentile, idle and under each kind of load.
"""

import multiprocessing as mp
import statistics
import sys
import threading
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from nn.mnist import shared_mnist  # noqa: E402
from nn.models import SHIPPED, read  # noqa: E402
from nn.preprocess import canvas_to_mnist  # noqa: E402
from nn.settings import Limits, Settings  # noqa: E402
from nn.trainer import TrainingRun  # noqa: E402

SETTINGS = Settings(hidden=30, eta=3.0, batch_size=10, epochs=2)


def train_once(seed: int) -> float:
    run = TrainingRun(
        SETTINGS.replace(seed=seed),
        shared_mnist(),
        limits=Limits.unlimited(),
        report_every=float("inf"),
    )
    start = time.perf_counter()
    run.run()
    return time.perf_counter() - start


def _process_main(seed: int, ready, go, result) -> None:
    import os

    os.nice(10)  # as runs.worker does
    shared_mnist()  # load before the clock starts
    ready.set()
    go.wait()
    result.put(train_once(seed))


def page_latencies(stop: threading.Event, net, canvas) -> list[float]:
    """What a visitor waits for: prepare and read one drawing, every 50 ms until stopped."""
    times = []
    while not stop.is_set():
        start = time.perf_counter()
        read(net, canvas_to_mnist(canvas))
        times.append((time.perf_counter() - start) * 1000)
        time.sleep(0.05)
    return times


def with_page(load) -> tuple[float, list[float]]:
    """Run `load()` (returns when the training is done) while measuring the page's latency."""
    net = SHIPPED[0].load()[0]
    canvas = np.zeros((280, 280, 4), np.uint8)
    canvas[..., 3] = 255
    canvas[40:240, 130:150, :3] = 255
    stop, result = threading.Event(), {}
    probe = threading.Thread(target=lambda: result.update(t=page_latencies(stop, net, canvas)))
    probe.start()
    start = time.perf_counter()
    load()
    wall = time.perf_counter() - start
    stop.set()
    probe.join()
    return wall, result["t"]


def two_threads() -> None:
    threads = [threading.Thread(target=train_once, args=(s,)) for s in (1, 2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def two_processes():
    ctx = mp.get_context("spawn")
    ready, go, result = [ctx.Event() for _ in range(2)], ctx.Event(), ctx.Queue()
    procs = [
        ctx.Process(target=_process_main, args=(s, ready[i], go, result))
        for i, s in enumerate((1, 2))
    ]
    for p in procs:
        p.start()
    for r in ready:
        r.wait()

    def load():
        go.set()
        for p in procs:
            p.join()

    return load


def report(name: str, wall: float, alone: float, latencies: list[float]) -> None:
    p95 = np.percentile(latencies, 95)
    print(
        f"{name:<28}{wall:>8.2f} s{2 * alone / wall if alone else 1:>10.2f}x"
        f"{statistics.median(latencies):>11.1f} ms{p95:>9.1f} ms"
    )


def main() -> None:
    shared_mnist()
    train_once(0)  # warm up
    print(f"{'':<28}{'wall':>10}{'speed-up':>11}{'page median':>14}{'p95':>12}")
    _, idle = with_page(lambda: time.sleep(3))
    report("page alone", 0.0, 0.0, idle)
    alone, lat = with_page(lambda: train_once(1))
    report("one run", alone, alone / 2, lat)
    wall, lat = with_page(two_threads)
    report("two runs, threads", wall, alone, lat)
    wall, lat = with_page(two_processes())
    report("two runs, processes", wall, alone, lat)


if __name__ == "__main__":
    main()
