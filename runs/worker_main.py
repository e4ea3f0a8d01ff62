"""A worker process's entry (started by `runs.manager.RunManager`):

    python -m runs.worker_main FD [DATA_FOLDER]

It warms up, then runs one job (`runs.worker`). Warming up is importing numpy, `nn` and the
worker, and mapping the shared MNIST in DATA_FOLDER and reading it once, so that no page is
faulted in mid-run: about 0.3 s of CPU. This module imports nothing else, so all of that can
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
"""

from __future__ import annotations

import os
import sys
import threading

NICENESS = 10  # every worker: below the web server, which answers strokes
SPARE_NICENESS = 19  # a spare's warm-up: only CPU that nobody else wants
SPARE_ENV = "DIGITLAB_SPARE"


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


def main(argv: list[str]) -> None:
    try:
        os.nice(NICENESS)
    except OSError:
        pass
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
