"""How long canvas_to_mnist takes on canvas-sized drawings (budget: well under 3 ms median).

Run: python benchmarks/bench_preprocess.py [--n 400] [--size 280]

Draws a few hundred digit-like scribbles (3-7 point polylines with round joints, 60-260 px
tall, anywhere on the canvas, pen 8-28 px) on a 280x280 RGBA canvas, white on black, and
times canvas_to_mnist on each, in the page's polarity and with the canvas's default
transparent background. Prints the median and 95th percentile. No assertions: a script.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from nn.preprocess import canvas_to_mnist  # noqa: E402


def scribble(rng: np.random.Generator, size: int) -> np.ndarray:
    """A digit-like drawing as a (size, size) uint8 ink mask."""
    height = int(rng.integers(60, min(261, size)))
    width = int(height * rng.uniform(0.3, 0.9))
    top = int(rng.integers(0, size - height + 1))
    left = int(rng.integers(0, size - width + 1))
    points = [
        (left + rng.uniform(0, width), top + rng.uniform(0, height))
        for _ in range(int(rng.integers(3, 8)))
    ]
    pen = int(rng.integers(8, 29))
    image = Image.new("L", (size, size), 0)
    draw = ImageDraw.Draw(image)
    draw.line(points, fill=255, width=pen, joint="curve")
    for x, y in points:
        draw.ellipse((x - pen / 2, y - pen / 2, x + pen / 2, y + pen / 2), fill=255)
    return np.asarray(image)


def as_canvas(mask: np.ndarray, transparent: bool) -> np.ndarray:
    rgba = np.zeros(mask.shape + (4,), dtype=np.uint8)
    if transparent:  # the canvas's default: black pen on a transparent background
        rgba[..., 3] = mask
    else:  # the page's setting: white pen on an opaque black background
        rgba[..., :3] = mask[..., None]
        rgba[..., 3] = 255
    return rgba


def time_calls(canvases: list[np.ndarray]) -> np.ndarray:
    for canvas in canvases[:20]:  # warm up
        canvas_to_mnist(canvas)
    times = []
    for canvas in canvases:
        start = time.perf_counter()
        canvas_to_mnist(canvas)
        times.append(time.perf_counter() - start)
    return np.array(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=400, help="number of drawings")
    parser.add_argument("--size", type=int, default=280, help="canvas side in pixels")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    masks = [scribble(rng, args.size) for _ in range(args.n)]
    print(f"canvas_to_mnist on {args.n} drawings, {args.size}x{args.size} RGBA uint8")
    for label, transparent in (("white on black", False), ("black on transparent", True)):
        ms = time_calls([as_canvas(mask, transparent) for mask in masks])
        print(
            f"  {label:21s} median {np.median(ms):.2f} ms   p95 {np.percentile(ms, 95):.2f} ms"
            f"   max {ms.max():.2f} ms"
        )
    empty = time_calls([np.zeros((args.size, args.size, 4), np.uint8)] * 100)
    print(f"  {'empty canvas':21s} median {np.median(empty):.2f} ms")


if __name__ == "__main__":
    main()
