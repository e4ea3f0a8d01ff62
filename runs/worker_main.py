"""A worker process's entry (started by `runs.manager.RunManager`):

    python -m runs.worker_main FD [DATA_FOLDER]

It warms up, then runs one job (`runs.worker`). Warming up is importing numpy, `nn` and the
worker, mapping the shared MNIST in DATA_FOLDER and reading it once, so that no page is
faulted in mid-run, and rehearsing a short throwaway run (`rehearse`): about 0.55 s of CPU,
half of it the rehearsal. This module imports nothing else, so all of that can
happen where it is cheapest for the jobs already training.

A spare worker (started with `SPARE_ENV`=1 in its environment) is started while other jobs
train, often the very moment a run has taken the previous spare. It warms up in a thread at
the lowest priority (`SPARE_NICENESS`; on Linux a thread's priority is its own), so it takes
only CPU those jobs leave idle: a spare warming up at the workers' priority on a busy 2-core
machine made the run that had just taken the previous spare train its first epoch about
twice as slowly as the rest (`benchmarks/bench_estimate.py`), and every time-left estimate
made during that epoch 2-4x too high. Once warm, the spare says `READY`; the manager hands a
job only to a spare that has, and starts a fresh worker otherwise. The job then runs in the
main thread, at the workers' priority (`NICENESS`), which the warm-up never changed.

A worker's BLAS computes on one thread (`BLAS_THREADS`, unless the server's environment
sets it). A thread inherits the priority of the thread that starts it, and OpenBLAS starts
its helper threads when numpy is imported: in a spare, in the warm-up thread, so every
matrix product big enough to be split (a [784, 100, 10] network's mini-batch, each
measurement) waited for a helper at the lowest priority, which shared its core with the next
spare warming up or with anything else on the machine. One thread per worker also matches the
run service's plan: as many jobs at once as cores (`DIGITLAB_MAX_RUNS`), one core each.
"""

from __future__ import annotations

import os
import sys
import threading

NICENESS = 10  # every worker: below the web server, which answers strokes
SPARE_NICENESS = 19  # a spare's warm-up: only CPU that nobody else wants
SPARE_ENV = "DIGITLAB_SPARE"
M_TRIM_THRESHOLD, M_MMAP_THRESHOLD, M_ARENA_MAX = -1, -3, -8  # glibc's mallopt options
KEPT_MEMORY = 64 << 20  # bytes of freed memory a worker keeps (blocks up to half of it)
BLAS_THREADS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")  # set to 1


def warm_up(folder: str | None, found: dict, quietly: bool) -> None:
    """Import the worker and map the shared data into `found["data"]` (None if it cannot be
    read: the job's `Start` opens it then, and reports the failure). `quietly`: first lower
    this thread's priority to `SPARE_NICENESS`."""
    if quietly and sys.platform == "linux":
        try:
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), SPARE_NICENESS)
        except OSError:
            pass
    import numpy as np

    from runs import worker  # noqa: F401 - imported here, at this thread's priority
    from runs.data import open_shared_data

    found["data"] = None
    if folder:
        try:
            data = open_shared_data(folder)
            for name in ("train_images", "val_images", "test_images"):
                int(getattr(data, name).sum(dtype=np.int64))  # map its pages now, not mid-run
            found["data"] = data
        except OSError:
            pass
        else:
            try:
                rehearse(data)
            except Exception:  # noqa: BLE001 - only a head start: the job runs without it
                pass


def rehearse(data) -> None:
    """Train a throwaway network briefly, as a run does (mini-batches, cost bins, points
    between epochs and at the end), so that the memory and the numpy code paths a run's first
    moments need are already warm.

    A run's first 0.1 s used to fault in 2,000-3,000 fresh pages (8-12 MB: the measurements'
    float blocks, the mini-batches' buffers) and make numpy's first calls (a first cost
    bin's percentiles took 14 ms), so its first mini-batches went about a third slower than
    the rest and its first time-left estimate was as much too high. `keep_memory` makes the
    memory freed here stay with the process, in the arena the job's thread uses."""
    from nn.settings import Settings
    from nn.trainer import TrainingRun

    # 1,000 mini-batches of 2: two to a cost bin, so the bins' figures are computed too. As
    # wide as the page's largest preset: rehearsed with 30 hidden neurons, a [784, 100, 10]
    # run's first estimates were still +10-31 % on a quiet machine; with 100, -4 to +21 %.
    settings = Settings(hidden=100, eta=0.5, batch_size=2, epochs=1, train_size=2000, seed=0)
    TrainingRun(settings, data, report_every=0.02).run()


def keep_memory() -> None:
    """On glibc: one malloc arena for every thread (the warm-up thread's memory is then the
    job's), and freed blocks kept in it rather than returned to the system, up to
    `KEPT_MEMORY`: the measurements' blocks are reused, not faulted in again."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return  # not glibc
    mallopt(M_ARENA_MAX, 1)
    mallopt(M_MMAP_THRESHOLD, KEPT_MEMORY // 2)
    mallopt(M_TRIM_THRESHOLD, KEPT_MEMORY)


def main(argv: list[str]) -> None:
    try:
        os.nice(NICENESS)
    except OSError:
        pass
    for name in BLAS_THREADS:  # read when numpy is imported, in the warm-up
        os.environ.setdefault(name, "1")
    keep_memory()  # before the warm-up thread makes its first allocation
    fd, folder = int(argv[0]), argv[1] if len(argv) > 1 else None
    spare = os.environ.get(SPARE_ENV) == "1"
    found: dict = {}
    if spare:
        warming = threading.Thread(target=warm_up, args=(folder, found, True), daemon=True)
        warming.start()
        warming.join()
    else:
        warm_up(folder, found, False)
    from runs.worker import serve

    serve(fd, folder, found.get("data"), ready=spare)


if __name__ == "__main__":
    main(sys.argv[1:])
