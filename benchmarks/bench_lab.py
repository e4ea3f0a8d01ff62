"""What the learner's lab costs the server, piece by piece, in this process (no browser).

    MNIST_DIR=../shared/mnist python benchmarks/bench_lab.py [--repeat 50]

For the shipped default network ([784, 200, 10]) and the book's ([784, 30, 10]):
- the map of the hidden layer (2,000 test digits forward, PCA, the figure's traces): once
  per network, and again per live refresh of a network in training when its weights changed;
- a stroke with the map open: one drawing placed on the map, the figure dict built and
  JSON-encoded as Streamlit sends it;
- a stroke with the data panel open: the 5 nearest of 10,000 training digits (one matrix-
  vector product) and their picture encoded as PNG;
- operating on a neuron: the copy and its accuracy on all 10,000 test digits (per click);
- the book's hints over a 30-epoch run's points (per live refresh).
Prints the median CPU time of each, and the memory the lab's data holds. The machine's load
is printed too: these are CPU times on a shared machine.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def median_ms(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.process_time()
        fn()
        times.append(time.process_time() - start)
    times.sort()
    return 1000 * times[len(times) // 2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=50)
    args = parser.parse_args()

    import numpy as np
    from plotly.utils import PlotlyJSONEncoder

    from nn import insight
    from nn.hints import book_hints
    from nn.lab import HiddenMap, Neighbours, operate
    from nn.mnist import TRAIN_POOL, shared_test_set, shared_train_sample
    from nn.models import SHIPPED
    from nn.preprocess import canvas_to_mnist
    from nn.settings import Settings
    from tests.helpers import STROKES, canvas_image
    from ui.charts import map_figure, map_traces

    print(f"load average: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} (2 cores)")
    images, labels = shared_test_set()
    drawing = canvas_to_mnist(canvas_image(STROKES[7]))
    r = args.repeat
    for model in SHIPPED:
        net, _ = model.load()
        n = net.sizes[1]

        def build(net=net):
            m = HiddenMap.of(net, images, labels)
            return m, map_traces(m.points, m.labels, m.answers)

        hidden_map, traces = build()
        once = median_ms(build, max(3, r // 10))

        def stroke_map(net=net, hidden_map=hidden_map, traces=traces):
            point = hidden_map.place(net, drawing)
            json.dumps(map_figure(traces, point, hidden_map.explained), cls=PlotlyJSONEncoder)

        size = len(json.dumps(map_figure(traces, (0.0, 0.0), hidden_map.explained)))
        print(
            f"[784, {n}, 10] map: {once:.1f} ms once per network (and per live refresh with "
            f"new weights); a stroke: {median_ms(stroke_map, r):.1f} ms "
            f"(figure {size / 1024:.0f} KB of JSON)"
        )

        def surgery(net=net):
            operated = operate(net, {0: 0.0, 1: 2.0})
            insight.accuracy(operated, images, labels)

        print(f"[784, {n}, 10] operating on a neuron: {median_ms(surgery, max(5, r // 5)):.1f} ms")

    start = time.process_time()
    sample = shared_train_sample(TRAIN_POOL)
    pool = Neighbours.of(sample.images, sample.labels)
    loaded = 1000 * (time.process_time() - start)

    def stroke_neighbours():
        near, _ = pool.nearest(drawing)
        tiles = 255 - sample.images[near].reshape(-1, 28, 28)
        tiles = np.repeat(tiles[..., None], 3, axis=3).repeat(3, 1).repeat(3, 2)
        grid = insight.tile_grid(tiles, [f"a {d}" for d in sample.labels[near]], columns=5)
        import io

        from PIL import Image

        Image.fromarray(grid).save(io.BytesIO(), format="PNG", compress_level=1)

    held = pool.pixels.nbytes + pool.norms.nbytes + sample.images.nbytes + sample.means.nbytes
    print(
        f"neighbours: {loaded:.0f} ms to load once per server, holding "
        f"{held / 2**20:.1f} MB; a stroke: {median_ms(stroke_neighbours, r):.1f} ms"
    )
    print(f"test set held for the map and operating: {images.nbytes / 2**20:.1f} MB")

    epochs = [i / 4 for i in range(0, 121)]
    accuracy = [0.9 + 0.05 * (1 - 0.9**e) for e in epochs]
    cost = [0.1 * 0.97**e for e in epochs]
    hints = median_ms(lambda: book_hints(Settings(), epochs, accuracy, cost), r)
    print(f"hints over {len(epochs)} points: {hints:.2f} ms per live refresh")


if __name__ == "__main__":
    main()
