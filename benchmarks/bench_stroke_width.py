"""Stroke width after preparation: small drawings vs large ones vs MNIST's own digits.

Run: MNIST_DIR=../shared/mnist python benchmarks/bench_stroke_width.py [--n 300]

Draws digits of every style in `nn.glyphs.SHAPES` with the page's 22 px pen, small (35-50 %
of the canvas height) and large (70-90 %), prepares them with `canvas_to_mnist` and prints
the stroke width of the 28x28 results: 2 * ink / perimeter (the perimeter being the image's
total variation times pi/4), the same estimate for MNIST's test digits for comparison.
Median and 20th-80th percentiles. No assertions: a script.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from nn.glyphs import SHAPES, stroke_digit  # noqa: E402
from nn.preprocess import stroke_width  # noqa: E402

PEN = 22  # the page's pen
SIZES = {"small (35-50 %)": (0.35, 0.5), "large (70-90 %)": (0.7, 0.9)}


def widths_of_drawings(height: tuple[float, float], n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    styles = [(d, s) for d, group in SHAPES.items() for s in group]
    out = []
    for k in range(n):
        _digit, style = styles[k % len(styles)]
        image = stroke_digit(style, rng, height=height, pen=(PEN, PEN))
        if image is not None:
            out.append(stroke_width(image))
    return np.array(out)


def mnist_widths(n: int) -> np.ndarray | None:
    folder = os.environ.get("MNIST_DIR")
    if not folder:
        return None
    from nn.mnist import read_images

    images = read_images(Path(folder) / "t10k-images-idx3-ubyte.gz")[:n]
    return np.array([stroke_width(img.reshape(28, 28) / np.float32(255)) for img in images])


def summary(widths: np.ndarray) -> str:
    p20, p50, p80 = np.percentile(widths, [20, 50, 80])
    return f"median {p50:.2f} px   20-80 %: {p20:.2f}-{p80:.2f} px   (n={len(widths)})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=300, help="drawings per size")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    print(f"stroke width of prepared 28x28 images, pen {PEN} px on the 280x280 canvas")
    for label, height in SIZES.items():
        print(f"  {label:17s} {summary(widths_of_drawings(height, args.n, args.seed))}")
    reference = mnist_widths(2000)
    if reference is not None:
        print(f"  {'MNIST test':17s} {summary(reference)}")


if __name__ == "__main__":
    main()
