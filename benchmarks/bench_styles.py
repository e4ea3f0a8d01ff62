"""Held-out drawn-style test set: digits in styles MNIST lacks, from sources never trained on.

Run: python benchmarks/bench_styles.py [--model assets/models/default.npz] [--per-shape 40]

Two sources, neither used by the training set of `nn.glyphs` / `python -m nn.train`:

- **held-out fonts**: the font families named in `nn.glyphs.HELD_OUT` (Debian packages
  fonts-averia-gwf, fonts-averia-sans-gwf, fonts-averia-serif-gwf, fonts-breip,
  fonts-fanwood, fonts-gfs-didot, fonts-isabella, fonts-junicode, fonts-kristi, fonts-lobster,
  fonts-manrope, fonts-mplus, fonts-okolaks, fonts-prociono), which `--fonts auto` leaves
  out; each digit of each font once, at a random size, slant and place on the canvas. A
  family whose package is not installed is missing from the report.
- **held-out strokes**: shapes written here, independently of `nn.glyphs.SHAPES`, as
  Catmull-Rom splines through hand-placed knots (training uses ellipse arcs and polylines),
  each knot jittered on its own, drawn with the page's 22 px pen like a mouse stroke. They
  include a 1 with a flag and a base, a crossed 7, a 4 open at the top, a 6 and a 9 with
  curls, in upright and italic hands.

Every digit is drawn on a 280x280 canvas, half of them small (35-50 % of the canvas height),
half large (70-90 %), and prepared by `canvas_to_mnist` exactly as a drawing is. The set is
the same at every run (fixed seeds, fonts in sorted order). Prints the accuracy overall, per
digit, per source (font family, stroke shape) and per size. Hershey fonts are never used.
No assertions: a script.
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from nn.glyphs import HELD_OUT, as_canvas, find_fonts, font_digit, has_digits  # noqa: E402
from nn.preprocess import canvas_to_mnist  # noqa: E402

CANVAS = 280
PEN = 22  # the page's pen
SIZES = {"small": (0.35, 0.5), "large": (0.7, 0.9)}
SEED = 20261130

# name -> (digit, strokes as knots in a box 1 high, x right, y down; "line" = straight segments)
SHAPES = {
    "0 oval": (
        0,
        [
            [
                (0.5, 0),
                (0.15, 0.2),
                (0.08, 0.55),
                (0.3, 0.97),
                (0.62, 0.85),
                (0.72, 0.45),
                (0.55, 0.05),
                (0.42, 0.03),
            ]
        ],
    ),
    "0 narrow": (
        0,
        [[(0.35, 0), (0.1, 0.3), (0.12, 0.75), (0.32, 1), (0.5, 0.7), (0.52, 0.25), (0.35, 0)]],
    ),
    "1 stick": (1, ["line", [(0.4, 0), (0.37, 1)]]),
    "1 flag and base": (1, ["line", [(0.15, 0.22), (0.4, 0), (0.4, 1)], [(0.12, 1), (0.68, 1)]]),
    "1 long flag": (1, ["line", [(0.02, 0.32), (0.42, 0), (0.4, 1)]]),
    "2 plain": (
        2,
        [
            [
                (0.08, 0.25),
                (0.3, 0.02),
                (0.6, 0.08),
                (0.62, 0.35),
                (0.3, 0.7),
                (0.05, 1),
                (0.4, 0.98),
                (0.72, 0.98),
            ]
        ],
    ),
    "2 round": (
        2,
        [
            [
                (0.05, 0.3),
                (0.25, 0.03),
                (0.6, 0.05),
                (0.66, 0.3),
                (0.45, 0.6),
                (0.08, 0.98),
                (0.7, 1),
            ]
        ],
    ),
    "3 round": (
        3,
        [
            [
                (0.1, 0.12),
                (0.4, 0),
                (0.64, 0.18),
                (0.42, 0.45),
                (0.3, 0.48),
                (0.46, 0.5),
                (0.7, 0.72),
                (0.45, 0.98),
                (0.08, 0.88),
            ]
        ],
    ),
    "3 flat top": (
        3,
        [
            "line",
            [(0.08, 0), (0.66, 0), (0.3, 0.42)],
            [(0.3, 0.42), (0.62, 0.55), (0.66, 0.8), (0.4, 1), (0.06, 0.88)],
        ],
    ),
    "4 closed": (4, ["line", [(0.6, 1), (0.58, 0), (0.04, 0.66), (0.76, 0.66)]]),
    "4 open top": (4, ["line", [(0.15, 0), (0.1, 0.6), (0.76, 0.6)], [(0.56, 0), (0.56, 1)]]),
    "5 plain": (
        5,
        [
            [
                (0.68, 0.02),
                (0.2, 0.02),
                (0.15, 0.44),
                (0.45, 0.36),
                (0.7, 0.6),
                (0.55, 0.94),
                (0.08, 0.9),
            ]
        ],
    ),
    "5 two strokes": (
        5,
        [
            "line",
            [(0.2, 0), (0.15, 0.45)],
            [(0.18, 0), (0.7, 0)],
            [(0.15, 0.45), (0.5, 0.4), (0.7, 0.65), (0.5, 0.95), (0.1, 0.88)],
        ],
    ),
    "6 curl top": (
        6,
        [
            [
                (0.72, 0.22),
                (0.52, 0),
                (0.2, 0.14),
                (0.08, 0.6),
                (0.3, 0.98),
                (0.62, 0.86),
                (0.64, 0.6),
                (0.36, 0.5),
                (0.1, 0.68),
            ]
        ],
    ),
    "6 plain": (
        6,
        [[(0.6, 0), (0.25, 0.35), (0.1, 0.7), (0.35, 1), (0.65, 0.8), (0.5, 0.55), (0.18, 0.66)]],
    ),
    "7 plain": (7, ["line", [(0.05, 0.02), (0.72, 0), (0.3, 1)]]),
    "7 crossed": (7, ["line", [(0.05, 0.02), (0.72, 0), (0.3, 1)], [(0.22, 0.52), (0.68, 0.5)]]),
    "8 one stroke": (
        8,
        [
            [
                (0.62, 0.15),
                (0.4, 0),
                (0.14, 0.15),
                (0.35, 0.45),
                (0.66, 0.7),
                (0.45, 1),
                (0.12, 0.8),
                (0.35, 0.5),
                (0.6, 0.3),
                (0.62, 0.15),
            ]
        ],
    ),
    "8 two loops": (
        8,
        [
            [(0.35, 0), (0.12, 0.2), (0.35, 0.45), (0.58, 0.2), (0.35, 0)],
            [(0.35, 0.45), (0.08, 0.72), (0.35, 1), (0.64, 0.72), (0.35, 0.45)],
        ],
    ),
    "9 curl tail": (
        9,
        [
            [
                (0.66, 0.28),
                (0.4, 0.48),
                (0.12, 0.34),
                (0.2, 0.05),
                (0.55, 0.02),
                (0.68, 0.3),
                (0.62, 0.75),
                (0.4, 1),
                (0.1, 0.86),
            ]
        ],
    ),
    "9 straight": (
        9,
        [
            [(0.64, 0.22), (0.4, 0.45), (0.12, 0.3), (0.3, 0.02), (0.62, 0.1), (0.66, 0.3)],
            "line",
            [(0.66, 0.3), (0.62, 1)],
        ],
    ),
}


def catmull_rom(knots: np.ndarray, per_segment: int = 10) -> np.ndarray:
    """A smooth curve through the knots (uniform Catmull-Rom, ends repeated)."""
    if len(knots) < 3:
        return knots
    p = np.vstack([knots[0], knots, knots[-1]])
    t = np.linspace(0, 1, per_segment, endpoint=False)[:, None]
    out = []
    for i in range(1, len(p) - 2):
        a, b, c, d = p[i - 1], p[i], p[i + 1], p[i + 2]
        out.append(
            0.5
            * (
                2 * b
                + (c - a) * t
                + (2 * a - 5 * b + 4 * c - d) * t**2
                + (3 * b - a - 3 * c + d) * t**3
            )
        )
    out.append(knots[-1:])
    return np.vstack(out)


def _strokes(spec) -> list[tuple[bool, np.ndarray]]:
    """(straight?, knots) for each stroke of a shape's spec ("line" switches to straight)."""
    out, straight = [], False
    for item in spec:
        if item == "line":
            straight = True
            continue
        out.append((straight, np.asarray(item, dtype=np.float64)))
    return out


def draw_shape(spec, rng: np.random.Generator, height: tuple[float, float]) -> np.ndarray:
    """One hand-drawn-looking rendering of a shape on the canvas: (280, 280, 4) uint8."""
    italic = rng.random() < 0.5
    slant = rng.uniform(0.15, 0.4) if italic else rng.uniform(-0.08, 0.08)
    squeeze = rng.uniform(0.8, 1.25)
    turn = np.deg2rad(rng.uniform(-6, 6))
    curves = []
    for straight, knots in _strokes(spec):
        knots = knots + rng.normal(0, 0.025, knots.shape)
        curve = knots if straight else catmull_rom(knots)
        x = curve[:, 0] * squeeze + slant * (1 - curve[:, 1])
        y = curve[:, 1]
        curves.append(
            np.stack([np.cos(turn) * x - np.sin(turn) * y, np.sin(turn) * x + np.cos(turn) * y], 1)
        )
    every = np.vstack(curves)
    low, high = every.min(axis=0), every.max(axis=0)
    scale = rng.uniform(*height) * CANVAS / (high[1] - low[1])
    scale = min(scale, 0.9 * CANVAS / (high[0] - low[0]))
    extent = (high - low) * scale
    margin = PEN / 2 + 2
    origin = np.array(
        [
            rng.uniform(margin, CANVAS - extent[0] - margin),
            rng.uniform(margin, CANVAS - extent[1] - margin),
        ]
    )
    image = Image.new("L", (CANVAS, CANVAS), 0)
    draw = ImageDraw.Draw(image)
    for curve in curves:
        points = [tuple(p) for p in (curve - low) * scale + origin]
        draw.line(points, fill=255, width=PEN, joint="curve")
        for x, y in (points[0], points[-1]):
            draw.ellipse((x - PEN / 2, y - PEN / 2, x + PEN / 2, y + PEN / 2), fill=255)
    return as_canvas(image)


def held_out_fonts(per_family: int = 10) -> list[Path]:
    """The held-out families' fonts, at most `per_family` of each (evenly over its styles)."""
    every = find_fonts("auto", exclude=())
    usable = [p for p in every if any(n in str(p).lower() for n in HELD_OUT) and has_digits(p)]
    picked = []
    for name in HELD_OUT:
        mine = [p for p in usable if family(p) == name]
        if len(mine) > per_family:
            mine = [mine[i] for i in np.linspace(0, len(mine) - 1, per_family).round().astype(int)]
        picked += mine
    return picked


def family(path: Path) -> str:
    lowered = str(path).lower()
    return next(n for n in HELD_OUT if n in lowered)


def build(per_shape: int = 40, seed: int = SEED):
    """The test set: (images (n, 28, 28) float32, labels, sources, sizes)."""
    images, labels, sources, sizes = [], [], [], []
    rng = np.random.default_rng([seed, 1])
    for k, path in enumerate(held_out_fonts()):
        for digit in range(10):
            size = "small" if (k + digit) % 2 == 0 else "large"
            image = font_digit(path, digit, rng, height=SIZES[size])
            if image is not None:
                images.append(image)
                labels.append(digit)
                sources.append(f"font {family(path)}")
                sizes.append(size)
    rng = np.random.default_rng([seed, 2])
    for name, (digit, spec) in SHAPES.items():
        for k in range(per_shape):
            size = "small" if k % 2 == 0 else "large"
            image = canvas_to_mnist(draw_shape(spec, rng, SIZES[size]))
            if image is not None:
                images.append(image)
                labels.append(digit)
                sources.append(f"stroke {name}")
                sizes.append(size)
    return np.stack(images), np.array(labels), np.array(sources), np.array(sizes)


def report(net, images, labels, sources, sizes) -> dict[str, float]:
    answers = np.argmax(net.feedforward(images.reshape(len(images), 784)), axis=1)
    right = answers == labels
    print(f"held-out drawn-style set: {len(labels)} digits, accuracy {right.mean():.2%}")
    fonts = np.char.startswith(sources.astype(str), "font")
    print(
        f"  fonts (held-out families) {right[fonts].mean():.2%} of {fonts.sum()}   "
        f"strokes (held-out shapes) {right[~fonts].mean():.2%} of {(~fonts).sum()}"
    )
    for size in SIZES:
        pick = sizes == size
        print(
            f"  {size:5s} ({SIZES[size][0]:.0%}-{SIZES[size][1]:.0%} of the canvas) "
            f"{right[pick].mean():.2%} of {pick.sum()}"
        )
    print("  per digit: " + "  ".join(f"{d}: {right[labels == d].mean():.1%}" for d in range(10)))
    confusions = defaultdict(int)
    for label, answer in zip(labels[~right], answers[~right]):
        confusions[(label, answer)] += 1
    top = sorted(confusions.items(), key=lambda kv: -kv[1])[:8]
    print("  most frequent errors: " + ", ".join(f"{a}->{b} x{n}" for (a, b), n in top))
    print("  per source:")
    for source in sorted(set(sources.tolist())):
        pick = sources == source
        print(f"    {source:24s} {right[pick].mean():7.2%} of {pick.sum()}")
    return {
        "all": float(right.mean()),
        **{str(d): float(right[labels == d].mean()) for d in range(10)},
        **{size: float(right[sizes == size].mean()) for size in SIZES},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=str(REPO / "assets" / "models" / "default.npz"))
    parser.add_argument(
        "--per-shape", type=int, default=40, help="renderings of each held-out stroke shape"
    )
    parser.add_argument("--cache", metavar="NPZ", help="keep the built set in this file")
    args = parser.parse_args()
    from nn.modelfile import load_model

    if args.cache and Path(args.cache).is_file():
        with np.load(args.cache, allow_pickle=False) as f:
            data = (f["images"], f["labels"], f["sources"], f["sizes"])
    else:
        data = build(args.per_shape)
        if args.cache:
            np.savez(args.cache, images=data[0], labels=data[1], sources=data[2], sizes=data[3])
    net, _meta = load_model(args.model)
    print(f"model {args.model}: {net.sizes}")
    report(net, *data)


if __name__ == "__main__":
    main()
