"""Teaching a network a drawing: how long a fine-tune takes, and how long a visitor's click
waits for it now that it runs in a training worker (a warm spare, started ahead).

    MNIST_DIR=../shared/mnist python benchmarks/bench_teach.py [--repeats 5]

1. `nn.teach.fine_tune` for 1, 3 and 12 taught drawings (real misread MNIST test digits, as
   stand-ins for drawings), per shipped network: median and worst wall time, rounds, and
   the test accuracy before -> after.
2. The same lesson through `RunManager.submit_teach`, as the page sends it: the wall time
   from submitting to the result (a free slot each time), with the warm spare worker the
   page uses and, for comparison, without it (a fresh interpreter per click); and what the
   click's wait adds to the fine-tune itself. Prints the machine's load beside the numbers.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from nn.mnist import shared_mnist  # noqa: E402
from nn.models import SHIPPED  # noqa: E402
from nn.teach import fine_tune  # noqa: E402
from runs.manager import RunManager  # noqa: E402


def percentile(values, q):
    return float(np.percentile(np.asarray(values) * 1000, q))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    data = shared_mnist()
    replay = (data.train_images, data.train_labels)
    test = (data.test_images, data.test_labels)
    networks = {model.title: model.load() for model in SHIPPED}
    print("1. fine-tune time")
    for label, (net, _) in networks.items():
        wrong = np.flatnonzero(net.predict(test[0]) != test[1])
        for count in (1, 3, 12):
            times, rounds, accuracy = [], [], []
            for r in range(args.repeats):
                pick = wrong[r * count : (r + 1) * count]
                images = [data.test_images[i].reshape(28, 28) / 255.0 for i in pick]
                result = fine_tune(
                    net, images, data.test_labels[pick], replay=replay, test=test, seed=r
                )
                times.append(result.seconds)
                rounds.append(result.rounds)
                accuracy.append((result.accuracy_before, result.accuracy_after))
            before = statistics.mean(a for a, _ in accuracy)
            after = statistics.mean(b for _, b in accuracy)
            print(
                f"  {label[:34]:34} {count:2} drawing(s): median {statistics.median(times):.3f} s,"
                f" worst {max(times):.3f} s, rounds {min(rounds)}-{max(rounds)},"
                f" test accuracy {100 * before:.2f} % -> {100 * after:.2f} %"
            )

    for spare in (True, False):
        print(
            f"2. a click's wait end to end, {'warm spare' if spare else 'fresh worker'} "
            f"(load {os.getloadavg()[0]:.1f})"
        )
        manager = RunManager(spare=spare)
        try:
            manager.prepare_data()
            for label, (net, _) in networks.items():
                wrong = np.flatnonzero(net.predict(test[0]) != test[1])
                for count in (1, 3):
                    waits, overheads = [], []
                    for r in range(args.repeats):
                        pick = wrong[r * count : (r + 1) * count]
                        images = [data.test_images[i].reshape(28, 28) / 255.0 for i in pick]
                        wait_for_spare(manager, spare)
                        start = time.perf_counter()
                        handle = manager.submit_teach(net, images, data.test_labels[pick])
                        result = handle.result(60)
                        if result is None:
                            raise SystemExit("no result within 60 s")
                        waits.append(time.perf_counter() - start)
                        overheads.append(waits[-1] - result.seconds)
                    print(
                        f"  {label[:34]:34} {count:2} drawing(s): median "
                        f"{statistics.median(waits):.3f} s, worst {max(waits):.3f} s "
                        f"(beyond the fine-tune: median {statistics.median(overheads):.3f} s)"
                    )
        finally:
            manager.close()
    if READY_WAITS:
        print(
            f"a new spare was ready {statistics.median(READY_WAITS):.2f} s (median), "
            f"{max(READY_WAITS):.2f} s (worst) after the previous click's result"
        )
    print(f"load average after: {os.getloadavg()[0]:.1f}")


READY_WAITS: list[float] = []  # s from the previous result until the new spare was ready


def wait_for_spare(manager: RunManager, spare: bool, timeout: float = 30.0) -> None:
    """Between clicks: the previous job's slot free and, with a spare, a new one ready (it
    has said so: runs.worker_main warms it up at the lowest priority)."""
    start = time.monotonic()
    deadline = start + timeout
    while time.monotonic() < deadline:
        worker = manager._spare
        ready = worker is not None and (worker[0].poll() is not None or worker[1].poll())
        if manager.counts()["training"] == 0 and (not spare or ready):
            if spare:
                READY_WAITS.append(time.monotonic() - start)
            return
        time.sleep(0.02)
    raise SystemExit("the previous job's slot did not free, or no spare became ready")


if __name__ == "__main__":
    main()
