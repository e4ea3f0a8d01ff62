"""Held-out test sets for drawn digits in the world's styles, and for drawings that are no digit.

Nothing here is used to train or to tune the shipped model: the training digits come from
`nn.glyphs` (ellipse arcs and polylines, jittered by its own code, and the fonts pinned in
assets/models/fonts.txt). This module is written separately, with another parametrisation:

- **shapes** are pen paths in a 100-unit box (y down), written like SVG paths: `M` starts a
  stroke (a pen-down), `L` draws a straight segment, `C` a cubic Bezier curve. One family per
  style a well-travelled teacher sees: slashed zeros, continental 1s of every width, looped
  and Z-like 2s, flat-topped 3s, open and closed 4s, 5s in two strokes, 8s as two loops, 9s
  with straight, curved and g-like tails, and multi-stroke digits.
- **a hand** (`_hand`) moves every control point on its own, slants, turns and squeezes the
  whole, misplaces each stroke after a pen-up (sometimes clearly: strokes that do not meet or
  overshoot), sometimes lifts the pen in the middle of a stroke, and sometimes stops a
  stroke short.
- **the pen** is the page's 22 px round pen, drawn anti-aliased (discs stamped along the
  path at 2x resolution, then averaged), on the 280x280 canvas at 40-85 % of its height,
  anywhere on it.
- **fonts**: the held-out font families of `nn.glyphs.HELD_OUT` (never trained on), one
  rendering of each digit of each font.

`non_digits` makes drawings that are no digit (taps, dots, lines, scribbles, letters and
symbols) with the same hand and pen, for the uncertainty rule of `nn.verdict`.

The UNIPEN collections, the UCI pen-based digits and the Hershey fonts are never used: they
are kept back for independent checks.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
from PIL import Image

CANVAS = 280
PEN = 22  # the page's pen, px
HEIGHT = (0.40, 0.85)  # share of the canvas height
SUPER = 2  # anti-aliasing: drawn at 2x, then averaged

_OVAL = "M 32 1 C 8 1 1 30 1 52 C 1 78 12 99 31 99 C 52 99 61 74 61 49 C 61 24 52 1 32 1"
_NINE_HEAD = "M 58 22 C 56 2 6 1 5 24 C 4 47 55 50 58 22"

# family -> (digit, path)
DIGITS: dict[str, tuple[int, str]] = {
    "0 oval": (0, _OVAL),
    "0 open at the top": (
        0,
        "M 44 5 C 12 -6 1 30 1 52 C 1 80 14 100 31 100 C 52 100 61 75 61 50 C 61 24 50 4 30 3",
    ),
    "0 slashed": (0, _OVAL + " M 3 92 L 60 8"),
    "0 slashed, long slash": (0, _OVAL + " M 56 -6 L 6 106"),
    "1 stick": (1, "M 30 0 L 27 100"),
    "1 flag": (1, "M 8 26 L 34 0 L 33 100"),
    "1 flag and base": (1, "M 10 22 L 34 0 L 34 100 M 6 100 L 62 100"),
    "1 wide flag and base": (1, "M 0 42 L 44 0 L 43 100 M 0 100 L 88 100"),
    "1 long flag": (1, "M 0 48 L 52 0 L 50 100"),
    "2 plain": (2, "M 4 26 C 8 -2 56 -6 58 24 C 60 46 30 70 2 100 L 64 99"),
    "2 looped": (
        2,
        "M 4 24 C 8 -2 56 -6 58 24 C 60 50 30 70 12 92 C 0 104 -4 84 12 83 "
        "C 26 82 26 100 36 100 L 66 98",
    ),
    "2 Z-like": (2, "M 4 4 L 60 4 L 6 100 L 64 100"),
    "3 round": (
        3,
        "M 5 16 C 15 -5 56 -5 55 22 C 54 40 36 47 22 48 C 42 48 63 60 61 78 C 59 101 20 105 1 88",
    ),
    "3 flat top": (3, "M 4 2 L 58 2 L 27 42 C 55 38 64 60 62 75 C 60 99 22 105 2 88"),
    "3 in two strokes": (
        3,
        "M 5 16 C 15 -5 56 -5 55 22 C 54 40 36 47 22 48 "
        "M 24 47 C 44 47 63 60 61 78 C 59 101 20 105 1 88",
    ),
    "4 open at the top": (4, "M 12 0 L 4 62 L 64 62 M 48 14 L 48 100"),
    "4 closed": (4, "M 48 100 L 48 0 L 1 66 L 66 66"),
    "4 closed, two strokes": (4, "M 47 0 L 0 64 L 66 64 M 47 0 L 48 100"),
    "5 one stroke": (5, "M 58 2 L 12 2 L 8 45 C 30 30 64 40 63 68 C 62 99 25 105 2 88"),
    "5 two strokes": (5, "M 12 2 L 8 45 C 30 30 64 40 63 68 C 62 99 25 105 2 88 M 10 3 L 60 0"),
    "6 plain": (
        6,
        "M 50 0 C 25 15 2 45 2 70 C 2 92 18 100 32 100 C 50 100 60 85 58 70 C 55 52 30 48 5 65",
    ),
    "6 curled top": (
        6,
        "M 60 15 C 50 -3 20 0 10 25 C 0 50 0 90 30 100 C 55 100 62 78 55 65 C 45 52 20 55 5 70",
    ),
    "6 straight back": (
        6,
        "M 46 0 L 8 62 C 0 86 15 100 32 100 C 52 100 60 85 58 70 C 55 55 30 50 8 62",
    ),
    "7 plain": (7, "M 2 2 L 62 0 L 22 100"),
    "7 crossed": (7, "M 2 2 L 62 0 L 22 100 M 10 52 L 56 48"),
    "7 with a hook": (7, "M 2 16 L 4 2 L 62 0 L 25 100"),
    "7 curved stem": (7, "M 2 2 L 62 0 C 40 30 30 62 28 100"),
    "8 one stroke": (
        8,
        "M 55 15 C 50 -5 5 -5 8 18 C 10 40 55 55 58 76 C 60 101 4 103 5 78 C 6 55 52 40 55 15",
    ),
    "8 two loops": (
        8,
        "M 30 1 C 10 1 8 45 30 45 C 52 45 50 1 30 1 "
        "M 30 45 C 0 45 0 100 30 100 C 60 100 60 45 30 45",
    ),
    "9 straight tail": (9, _NINE_HEAD + " L 56 100"),
    "9 curved tail": (9, _NINE_HEAD + " C 58 55 45 85 20 100"),
    "9 g-like tail": (9, _NINE_HEAD + " L 56 74 C 54 101 14 104 6 82"),
    "9 in two strokes": (9, _NINE_HEAD + " M 60 8 L 56 100"),
}

# family -> path; drawings that are no digit (letters chosen unlike any digit)
LETTERS: dict[str, str] = {
    "A": "M 0 100 L 30 0 L 62 100 M 12 62 L 50 62",
    "E": "M 56 0 L 4 0 L 4 100 L 58 100 M 4 50 L 46 50",
    "F": "M 56 0 L 4 0 L 4 100 M 4 50 L 46 50",
    "H": "M 4 0 L 4 100 M 58 0 L 58 100 M 4 50 L 58 50",
    "K": "M 4 0 L 4 100 M 58 0 L 6 60 M 22 44 L 60 100",
    "M": "M 0 100 L 6 0 L 36 62 L 66 0 L 72 100",
    "N": "M 4 100 L 4 0 L 58 100 L 58 0",
    "R": "M 4 100 L 4 0 C 62 0 62 52 4 50 L 58 100",
    "W": "M 0 0 L 16 100 L 36 40 L 56 100 L 72 0",
    "X": "M 0 0 L 62 100 M 62 0 L 0 100",
    "e": "M 4 56 L 58 56 C 58 18 4 18 4 60 C 4 96 44 102 60 86",
    "h": "M 4 0 L 4 100 M 4 62 C 20 35 56 35 56 62 L 56 100",
    "m": "M 2 100 L 2 40 M 2 60 C 10 35 34 35 34 60 L 34 100 M 34 60 C 42 35 66 35 66 60 L 66 100",
    "n": "M 4 100 L 4 40 M 4 62 C 20 35 56 35 56 62 L 56 100",
    "w": "M 0 40 L 16 100 L 34 55 L 52 100 L 68 40",
    "#": "M 20 0 L 14 100 M 46 0 L 40 100 M 0 32 L 62 32 M 0 68 L 60 68",
    "+": "M 32 0 L 32 64 M 0 32 L 64 32",
    "star": "M 32 0 L 52 96 L 0 36 L 64 36 L 12 96 L 32 0",
    "square": "M 0 0 L 64 0 L 64 64 L 0 64 L 0 0",
    "smiley": "M 32 0 C 0 0 0 64 32 64 C 64 64 64 0 32 0 M 18 22 L 19 24 M 46 22 L 47 24 "
    "M 14 40 C 24 54 40 54 50 40",
}


# --- paths ---------------------------------------------------------------------------------


def parse(path: str) -> list[list[tuple[str, list[float]]]]:
    """A path as strokes; a stroke as (command, numbers) pieces, starting with 'M'."""
    tokens = re.findall(r"[MLC]|-?\d+(?:\.\d+)?", path)
    strokes, i = [], 0
    sizes = {"M": 2, "L": 2, "C": 6}
    while i < len(tokens):
        command = tokens[i]
        numbers = [float(t) for t in tokens[i + 1 : i + 1 + sizes[command]]]
        i += 1 + sizes[command]
        if command == "M":
            strokes.append([("M", numbers)])
        else:
            strokes[-1].append((command, numbers))
    return strokes


def trace(stroke, per_curve: int = 24) -> np.ndarray:
    """The points a pen passes through along one stroke: (n, 2)."""
    points = [np.array(stroke[0][1])]
    for command, numbers in stroke[1:]:
        start = points[-1]
        if command == "L":
            points.append(np.array(numbers))
            continue
        c1, c2, end = (np.array(numbers[k : k + 2]) for k in (0, 2, 4))
        for t in np.linspace(0, 1, per_curve + 1)[1:]:
            u = 1 - t
            points.append(u**3 * start + 3 * u * u * t * c1 + 3 * u * t * t * c2 + t**3 * end)
    return np.array(points)


# --- a hand --------------------------------------------------------------------------------


def stop_short(points: np.ndarray, share: float) -> np.ndarray:
    """The stroke up to `share` of its length, the pen lifted in the middle of a segment.

    (It once kept `share` of the points: a straight segment is a single point, so a 2's base
    or a 9's straight tail went whole and the set held 2s without a base and 9s without a
    tail, labelled 2 and 9.)"""
    steps = np.linalg.norm(np.diff(points, axis=0), axis=1)
    along = np.concatenate([[0.0], np.cumsum(steps)])
    stop = share * along[-1]
    k = int(np.searchsorted(along, stop, side="right"))  # points[:k] lie before the stop
    if k >= len(points):
        return points
    t = (stop - along[k - 1]) / max(steps[k - 1], 1e-9)
    return np.vstack([points[:k], points[k - 1] + t * (points[k] - points[k - 1])])


def _hand(strokes, rng: np.random.Generator) -> list[np.ndarray]:
    """Strokes as one writer draws them once: (n, 2) arrays in path units."""
    shear = rng.uniform(-0.1, 0.45) if rng.random() < 0.6 else rng.uniform(-0.05, 0.1)
    turn = math.radians(rng.normal(0, 5))
    stretch = rng.uniform(0.75, 1.3)  # width against height
    matrix = np.array([[math.cos(turn), -math.sin(turn)], [math.sin(turn), math.cos(turn)]])
    matrix = matrix @ np.array([[stretch, -shear], [0.0, 1.0]])
    out = []
    for stroke in strokes:
        moved = []
        for command, numbers in stroke:  # every control point on its own
            moved.append((command, list(np.array(numbers) + rng.normal(0, 2.2, len(numbers)))))
        points = trace(moved)
        if len(out) and rng.random() < 0.35:  # after a pen-up the hand lands off its mark
            points = points + rng.normal(0, 5.0, 2)
        if len(points) > 4 and rng.random() < 0.15:  # stopped short
            points = stop_short(points, rng.uniform(0.85, 0.97))
        if len(points) > 6 and rng.random() < 0.2:  # a pen-up in the middle of the stroke
            cut = int(rng.integers(2, len(points) - 2))
            out += [points[:cut], points[cut:] + rng.normal(0, 3.0, 2)]
            continue
        out.append(points)
    return [p @ matrix.T for p in out]


def place(strokes: list[np.ndarray], rng: np.random.Generator, height=HEIGHT) -> list:
    """The strokes scaled to a random height (share of the canvas) and put anywhere on it."""
    every = np.vstack(strokes)
    low, high = every.min(axis=0), every.max(axis=0)
    size = np.maximum(high - low, 1e-6)
    scale = rng.uniform(*height) * CANVAS / size[1]
    scale = min(scale, (CANVAS - PEN - 4) / size[0])
    margin = PEN / 2 + 1
    room = CANVAS - size * scale - 2 * margin
    origin = margin + rng.uniform(0, 1, 2) * np.maximum(room, 0)
    return [(p - low) * scale + origin for p in strokes]


def render(strokes: list[np.ndarray], pen: float = PEN) -> np.ndarray:
    """The strokes drawn with a round pen, anti-aliased, as the canvas sends them: RGBA."""
    size = CANVAS * SUPER
    radius = pen * SUPER / 2
    r = math.ceil(radius)
    ys, xs = np.mgrid[-r : r + 1, -r : r + 1]
    disc = (xs**2 + ys**2) <= radius**2
    ink = np.zeros((size + 2 * r, size + 2 * r), dtype=bool)
    for stroke in strokes:
        points = stroke * SUPER
        steps = np.hypot(*np.diff(points, axis=0).T) if len(points) > 1 else np.zeros(0)
        dense = [points[0]]
        for (a, b), step in zip(zip(points[:-1], points[1:]), steps):
            count = max(1, int(step / 2))
            dense += [a + (b - a) * k / count for k in range(1, count + 1)]
        for x, y in np.rint(dense).astype(int):
            x, y = min(max(x, 0), size - 1), min(max(y, 0), size - 1)
            ink[y : y + 2 * r + 1, x : x + 2 * r + 1] |= disc
    ink = ink[r : r + size, r : r + size]
    grey = ink.reshape(CANVAS, SUPER, CANVAS, SUPER).mean(axis=(1, 3))
    rgba = np.empty((CANVAS, CANVAS, 4), dtype=np.uint8)
    rgba[..., :3] = np.rint(grey * 255).astype(np.uint8)[..., None]
    rgba[..., 3] = 255
    return rgba


def draw_path(path: str, rng: np.random.Generator, height=HEIGHT) -> np.ndarray:
    """One drawing of a path by a random hand, on the canvas: (280, 280, 4) uint8."""
    return render(place(_hand(parse(path), rng), rng, height))


# --- the sets ------------------------------------------------------------------------------


def digits(per_digit: int = 120, seed: int = 14, fonts: bool = True):
    """The world-style set: yields (canvas, label, family, size) — size 'small' or 'large'
    (below or above the middle of HEIGHT). Stroke families share `per_digit` drawings of
    their digit; then each held-out font draws each digit once (if its package is
    installed)."""
    rng = np.random.default_rng([seed, 1])
    middle = sum(HEIGHT) / 2
    for digit in range(10):
        families = [name for name, (d, _) in DIGITS.items() if d == digit]
        for k in range(per_digit):
            name = families[k % len(families)]
            height = (HEIGHT[0], middle) if k % 2 == 0 else (middle, HEIGHT[1])
            canvas = draw_path(DIGITS[name][1], rng, height)
            yield canvas, digit, name, "small" if k % 2 == 0 else "large"
    if fonts:
        yield from _font_digits(np.random.default_rng([seed, 2]), middle)


def _font_digits(rng: np.random.Generator, middle: float):
    from nn.glyphs import HELD_OUT, as_canvas, find_fonts, has_digits

    every = find_fonts("auto", exclude=())
    for name in HELD_OUT:
        mine = [p for p in every if name in str(p).lower() and has_digits(p)]
        if len(mine) > 6:
            mine = [mine[i] for i in np.linspace(0, len(mine) - 1, 6).round().astype(int)]
        for k, path in enumerate(mine):
            for digit in range(10):
                small = (k + digit) % 2 == 0
                height = (HEIGHT[0], middle) if small else (middle, HEIGHT[1])
                canvas = _font_canvas(path, digit, rng, height, as_canvas)
                if canvas is not None:
                    yield canvas, digit, f"font {name}", "small" if small else "large"


def _font_canvas(path: Path, digit: int, rng, height, as_canvas):
    """A font's digit, upright or slanted, at a random height and place: RGBA or None."""
    from PIL import ImageFont

    tall = rng.uniform(*height) * CANVAS
    font = ImageFont.truetype(str(path), int(tall * 1.4))
    mask = font.getmask(str(digit), mode="L")
    glyph = np.asarray(mask, dtype=np.uint8).reshape(mask.size[::-1])
    rows, cols = np.nonzero(glyph > 64)
    if len(rows) == 0:
        return None
    glyph = glyph[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]
    image = Image.fromarray(glyph)
    width = max(1, round(glyph.shape[1] * tall / glyph.shape[0]))
    image = image.resize((width, max(1, round(tall))), Image.Resampling.BILINEAR)
    if max(image.size) > CANVAS - 4:
        image.thumbnail((CANVAS - 4, CANVAS - 4))
    canvas = Image.new("L", (CANVAS, CANVAS), 0)
    w, h = image.size
    canvas.paste(
        image, (int(rng.integers(0, CANVAS - w + 1)), int(rng.integers(0, CANVAS - h + 1)))
    )
    return as_canvas(canvas)


def non_digits(per_family: int = 40, seed: int = 15):
    """Drawings that are no digit: yields (canvas, family). Families: a tap, a dot, a short
    dash, a horizontal line, a slanted line (more than 40 degrees from upright), a scribble,
    a zigzag, a spiral, and the letters and symbols of LETTERS."""
    rng = np.random.default_rng([seed, 1])
    makers = {
        "tap": _tap,
        "dot": _dot,
        "short dash": _dash,
        "horizontal line": _horizontal,
        "slanted line": _slanted,
        "scribble": _scribble,
        "zigzag": _zigzag,
        "spiral": _spiral,
    }
    for family, make in makers.items():
        for _ in range(per_family):
            yield render(make(rng)), family
    for family, path in LETTERS.items():
        for _ in range(per_family):
            yield (
                draw_path(path, rng),
                f"letter {family}" if family.isalpha() and len(family) == 1 else family,
            )


def _anywhere(rng, room: float) -> np.ndarray:
    return rng.uniform(PEN + room, CANVAS - PEN - room, 2)


def _tap(rng):
    at = _anywhere(rng, 0)
    return [np.array([at, at + rng.normal(0, 0.7, 2)])]


def _dot(rng):
    at = _anywhere(rng, 15)
    wiggle = np.cumsum(rng.normal(0, 3, (int(rng.integers(3, 12)), 2)), axis=0)
    return [at + np.clip(wiggle, -12, 12)]


def _dash(rng):
    at, length = _anywhere(rng, 30), rng.uniform(15, 45)
    angle = math.radians(rng.uniform(0, 180))
    step = np.array([math.cos(angle), math.sin(angle)]) * length / 2
    return [np.array([at - step, at + step])]


def _line(rng, angle: float):
    length = rng.uniform(0.3, 0.85) * CANVAS
    centre = np.array([CANVAS / 2, CANVAS / 2]) + rng.uniform(-50, 50, 2)
    step = np.array([math.cos(angle), math.sin(angle)]) * length / 2
    points = np.linspace(centre - step, centre + step, 12) + rng.normal(0, 1.5, (12, 2))
    return [np.clip(points, PEN, CANVAS - PEN)]


def _horizontal(rng):
    return _line(rng, math.radians(rng.normal(0, 6)))


def _slanted(rng):
    upright = rng.uniform(40, 80) * rng.choice([-1, 1])  # degrees away from vertical
    return _line(rng, math.radians(90 + upright))


def _scribble(rng):
    at, size = _anywhere(rng, 60), rng.uniform(40, 110)
    count = int(rng.integers(12, 40))
    points = at + rng.uniform(-size / 2, size / 2, (count, 2))
    return [np.clip(points, PEN, CANVAS - PEN)]


def _zigzag(rng):
    at, size = _anywhere(rng, 60), rng.uniform(60, 150)
    count = int(rng.integers(5, 12))
    xs = np.linspace(-size / 2, size / 2, count)
    ys = np.where(np.arange(count) % 2, 1, -1) * rng.uniform(15, 40)
    points = at + np.stack([xs, ys], 1) + rng.normal(0, 3, (count, 2))
    return [np.clip(points, PEN, CANVAS - PEN)]


def _spiral(rng):
    at, size = _anywhere(rng, 70), rng.uniform(40, 90)
    turns = rng.uniform(2, 4)
    t = np.linspace(0, turns * 2 * math.pi, int(turns * 30))
    r = size * t / t[-1]
    points = at + np.stack([r * np.cos(t), r * np.sin(t)], 1)
    return [np.clip(points, PEN, CANVAS - PEN)]
