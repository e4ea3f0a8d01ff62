"""Time to answer one drawing: preparation (nn.preprocess.prepare) plus the network's reading.

    python benchmarks/bench_predict.py [--repeats 300]

Each drawing is a 280x280 RGBA canvas image, as the page gets it on every stroke. Prints the
median and the 95th percentile in ms for each shipped network; the page's budget is 5 ms
median. Timed: prepare (canvas_to_mnist and the drawing's facts, as the page calls it) +
Network.activations (what the page shows: hidden and output) + nn.verdict.judge (whether the
page gives the digit, a close call or no digit).
"""

import argparse
import io
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from nn.models import SHIPPED, read  # noqa: E402
from nn.preprocess import prepare  # noqa: E402
from nn.verdict import judge  # noqa: E402
from tests.helpers import ONE, SEVEN, ZERO, canvas_image  # noqa: E402

SIZE, PEN = 280, 22
STROKES = {
    "1": ONE,
    "7": SEVEN,
    "0": ZERO,
    "small 4 in a corner": [[(30, 20), (18, 60), (60, 60)], [(50, 30), (50, 90)]],
    "tap": [[(140, 140), (140.5, 140)]],
}


def timings_ms(net, image: np.ndarray, repeats: int) -> list[float]:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        image_28, drawn = prepare(image)
        judge(image_28, read(net, image_28).output, drawn)
        times.append((time.perf_counter() - start) * 1000)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=300)
    args = parser.parse_args()
    images = {name: canvas_image(strokes) for name, strokes in STROKES.items()}
    print(f"{'network':<28} {'drawing':<22} {'median ms':>9} {'p95 ms':>8}")
    medians = []
    for model in SHIPPED:
        net, _ = model.load()
        for name, image in images.items():
            timings_ms(net, image, 10)  # warm up
            times = sorted(timings_ms(net, image, args.repeats))
            median, p95 = statistics.median(times), times[int(0.95 * (len(times) - 1))]
            medians.append(median)
            print(
                f"{model.path.name + ' ' + str(net.sizes):<28} {name:<22} {median:9.2f} {p95:8.2f}"
            )
    print(f"worst median {max(medians):.2f} ms (budget 5 ms)")
    decode = sorted(png_decode_ms(images["7"], args.repeats))
    print(
        f"not counted above: decoding the canvas's PNG (CanvasResult.image_data) "
        f"median {statistics.median(decode):.2f} ms"
    )


def png_decode_ms(image: np.ndarray, repeats: int) -> list[float]:
    """What streamlit-drawable-canvas does to give the page `image_data` from its PNG."""
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG")
    data = buffer.getvalue()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        np.asarray(Image.open(io.BytesIO(data)))
        times.append((time.perf_counter() - start) * 1000)
    return times


if __name__ == "__main__":
    main()
