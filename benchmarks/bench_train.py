"""Training speed: seconds per epoch and images per second, and test-set evaluation time.

    MNIST_DIR=../shared/mnist env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE \
        python benchmarks/bench_train.py [--epochs 3]

One epoch is 50,000 images of mini-batch SGD with eta 3.0 (no measurements in between).
Prints the best and the median epoch of a few, as the machine's other work adds noise, and
first the BLAS library and kernel that ran (OPENBLAS_CORETYPE, set on some machines, picks a
slower kernel than a user's machine would: unset it to measure what a user gets).
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_info

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from nn.mnist import shared_mnist  # noqa: E402
from nn.network import Network  # noqa: E402
from nn.sgd import SGD  # noqa: E402

SETTINGS = [(30, 10), (100, 10), (30, 100), (100, 100)]


def epoch_times(data, hidden: int, batch: int, epochs: int) -> list[float]:
    net = Network([784, hidden, 10], seed=0)
    sgd = SGD(net, data.train_images, data.train_labels)
    rng = np.random.default_rng(0)
    times = []
    for _ in range(epochs):
        batches = sgd.shuffled_batches(rng, batch)
        start = time.perf_counter()
        for b in batches:
            sgd.step(b, 3.0)
        times.append(time.perf_counter() - start)
    return times


def evaluation_ms(data, hidden: int, repeats: int = 20) -> list[float]:
    net = Network([784, hidden, 10], seed=0)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        net.evaluate(data.test_images, data.test_labels)
        times.append((time.perf_counter() - start) * 1000)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3)
    epochs = parser.parse_args().epochs
    data = shared_mnist()
    for lib in threadpool_info():
        print(
            f"{lib['user_api']}: {lib['internal_api']} {lib.get('version')}, "
            f"kernel {lib.get('architecture')}, {lib['num_threads']} thread(s)"
        )
    n = len(data.train_images)
    print(f"{'network':<16}{'batch':>6}{'best s/epoch':>14}{'median':>9}{'images/s':>12}")
    for hidden, batch in SETTINGS:
        t = epoch_times(data, hidden, batch, epochs)
        print(
            f"[784, {hidden}, 10]".ljust(16) + f"{batch:>6}{min(t):>14.3f}"
            f"{statistics.median(t):>9.3f}{n / min(t):>12,.0f}"
        )
    for hidden in (30, 100):
        t = evaluation_ms(data, hidden)
        print(
            f"evaluate 10,000 test images, [784, {hidden}, 10]: best {min(t):.1f} ms, "
            f"median {statistics.median(t):.1f} ms"
        )


if __name__ == "__main__":
    main()
