"""Teaching a network a drawing: how long a fine-tune takes, and how much it delays other
visitors' strokes when it runs in the page's own process.

    MNIST_DIR=../shared/mnist python benchmarks/bench_teach.py [--repeats 5]

1. `nn.teach.fine_tune` for 1, 3 and 12 taught drawings (real misread MNIST test digits, as
   stand-ins for drawings), per shipped network: median and worst wall time, rounds, and
   the test accuracy before -> after.
2. A "stroke" (canvas_to_mnist + reading by the default network, what the page does per
   stroke) timed over and over in one thread, first alone, then while another thread
   fine-tunes back to back: the median and 95th percentile of the stroke, in ms. numpy
   releases the GIL in its larger calls but not in the Python between them, so this is what
   an in-process fine-tune costs a visitor who is drawing at the same moment.
"""

import argparse
import statistics
import sys
import threading
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.bench_predict import STROKES, drawing  # noqa: E402
from nn.mnist import shared_mnist  # noqa: E402
from nn.models import load_shipped, read  # noqa: E402
from nn.preprocess import canvas_to_mnist  # noqa: E402
from nn.teach import fine_tune  # noqa: E402


def percentile(values, q):
    return float(np.percentile(np.asarray(values) * 1000, q))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    data = shared_mnist()
    replay = (data.train_images, data.train_labels)
    test = (data.test_images, data.test_labels)
    networks = load_shipped()
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

    print("2. a stroke's time in the same process, alone and during fine-tunes")
    net = next(iter(networks.values()))[0]
    canvas = drawing(STROKES["7"])
    teacher = next(iter(networks.values()))[0]
    wrong = np.flatnonzero(teacher.predict(test[0]) != test[1])[:3]
    lesson = [data.test_images[i].reshape(28, 28) / 255.0 for i in wrong]

    def strokes(seconds: float) -> list[float]:
        times, end = [], time.perf_counter() + seconds
        while time.perf_counter() < end:
            t = time.perf_counter()
            read(net, canvas_to_mnist(canvas))
            times.append(time.perf_counter() - t)
            time.sleep(0.005)  # a visitor's strokes come apart, not back to back
        return times

    alone = strokes(3.0)
    stop = threading.Event()
    tunes = []

    def teach_forever():
        while not stop.is_set():
            tunes.append(
                fine_tune(
                    teacher, lesson, data.test_labels[wrong], replay=replay, test=test
                ).seconds
            )

    thread = threading.Thread(target=teach_forever)
    thread.start()
    try:
        during = strokes(3.0)
    finally:
        stop.set()
        thread.join(60)
    for name, times in (("alone", alone), ("during fine-tunes", during)):
        print(
            f"  stroke {name:18}: median {percentile(times, 50):6.1f} ms,"
            f" 95th percentile {percentile(times, 95):6.1f} ms,"
            f" max {percentile(times, 100):6.1f} ms"
            f" ({len(times)} strokes)"
        )
    print(f"  fine-tunes meanwhile: {len(tunes)}, median {statistics.median(tunes):.3f} s")


if __name__ == "__main__":
    main()
