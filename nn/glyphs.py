"""Digits in the styles MNIST lacks, drawn on a canvas and prepared like a visitor's drawing.

MNIST's writers rarely wrote a 1 with a flag and a base, a crossed 7, a 4 open at the top, or a
6 and a 9 with curls; a network trained only on MNIST reads those wrongly however well the
drawing is prepared. This module makes training digits of those styles from two sources:

- **fonts**: each digit of each font file (serif, sans, italic, bold, handwriting-like) is
  rendered at a random size, slant, rotation and place on a 280x280 canvas;
- **strokes**: hand-made skeletons of the shapes people draw (`SHAPES`, several per digit),
  jittered (slant, rotation, proportions, a smooth wobble, a shaky hand) and drawn with a
  round pen of a random width, the way the page's canvas draws.

Either way the canvas then goes through `nn.preprocess.canvas_to_mnist`, exactly as a
drawing does, so the stroke width, size and centring are the ones the network will see.

Only training needs this module (and fonts, from Debian's font packages: see
assets/models/README.md); the page never imports it. The Hershey vector fonts are never
used: they are kept back for an independent check.
"""

from __future__ import annotations

import functools
import hashlib
import math
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from .preprocess import canvas_to_mnist

CANVAS = 280
# The fonts `--fonts auto` trains on, pinned: Debian packages (with versions) and every font
# file with its sha256, under FONT_ROOT. assets/models/install-fonts.sh installs exactly them.
MANIFEST = Path(__file__).resolve().parents[1] / "assets" / "models" / "fonts.txt"
FONT_ROOT = Path("/usr/share/fonts")
FONT_DIRS = (Path("/usr/share/fonts"), Path("/usr/local/share/fonts"))
FONT_SUFFIXES = (".ttf", ".otf")
# Never used to train: the Hershey fonts (an independent check) and the families of the
# held-out drawn-style test set (benchmarks/bench_styles.py), matched in a font's path.
NEVER = ("hershey", "d050000l", "femkeklaver")  # the latter: dingbats, hollow digits
HELD_OUT = (
    "kristi",
    "lobster",
    "averia",
    "okolaks",
    "isabella",
    "breip",
    "manrope",
    "fanwood",
    "prociono",
    "junicode",
    "gfs",
    "mplus",
)


# --- the shapes people draw, as strokes in a box 1 high (x right, y down) ----------------


def arc(
    cx: float, cy: float, rx: float, ry: float, start: float, end: float, step: float = 12.0
) -> list[tuple[float, float]]:
    """Points on an ellipse from angle `start` to `end` (degrees; 0 right, 90 down)."""
    count = max(2, int(abs(end - start) / step) + 1)
    return [
        (cx + rx * math.cos(math.radians(t)), cy + ry * math.sin(math.radians(t)))
        for t in np.linspace(start, end, count)
    ]


def _shapes() -> dict[int, list[list[list[tuple[float, float]]]]]:
    """digit -> styles; a style is a list of strokes; a stroke a list of (x, y) points."""
    return {
        0: [
            [arc(0.32, 0.5, 0.3, 0.5, -90, 270)],
            [arc(0.3, 0.5, 0.26, 0.5, -100, 280)],
            [arc(0.34, 0.5, 0.33, 0.48, -60, 320)],
            # slashed zeros (engineering, much of Europe): the slash either way, overshooting
            [arc(0.32, 0.5, 0.3, 0.5, -90, 270), [(0.0, 0.92), (0.64, 0.08)]],
            [arc(0.34, 0.5, 0.3, 0.48, -80, 280), [(0.62, -0.04), (0.06, 1.04)]],
            [arc(0.32, 0.5, 0.28, 0.5, -100, 270), [(0.12, 0.8), (0.52, 0.2)]],
        ],
        1: [
            [[(0.3, 0), (0.3, 1)]],
            [[(0.08, 0.25), (0.34, 0), (0.34, 1)]],
            [[(0.1, 0.2), (0.33, 0), (0.33, 1)], [(0.08, 1), (0.58, 1)]],
            [[(0.15, 0.12), (0.34, 0), (0.3, 1)]],
            [[(0, 0.36), (0.36, 0), (0.35, 1)]],
            # continental 1s, as wide as they come: a long flag and a wide base
            [[(0.0, 0.42), (0.45, 0), (0.45, 1)], [(0.05, 1), (0.85, 1)]],
            [[(0.0, 0.3), (0.4, 0), (0.38, 1)], [(0.0, 1), (0.8, 0.98)]],
            [[(0.05, 0.45), (0.5, 0), (0.48, 1)]],
        ],
        2: [
            [arc(0.32, 0.28, 0.28, 0.26, 190, 370) + [(0.04, 1), (0.66, 1)]],
            [
                arc(0.3, 0.26, 0.27, 0.26, 200, 390)
                + [(0.1, 0.85), (0.02, 1), (0.3, 0.92), (0.68, 1)]
            ],
            [arc(0.33, 0.3, 0.3, 0.28, 180, 350) + [(0.03, 1), (0.62, 0.97)]],
            # a 2 with a loop at the bottom left, then its base
            [
                arc(0.34, 0.28, 0.28, 0.26, 190, 380)
                + [(0.3, 0.68), (0.1, 0.9)]
                + arc(0.16, 0.85, 0.1, 0.12, 90, -200)
                + [(0.4, 0.96), (0.7, 1)]
            ],
            [
                arc(0.32, 0.28, 0.3, 0.27, 180, 370)
                + [(0.25, 0.72)]
                + arc(0.2, 0.84, 0.12, 0.14, 30, -250)
                + [(0.7, 0.98)]
            ],
        ],
        3: [
            [arc(0.32, 0.25, 0.27, 0.24, 200, 450) + arc(0.32, 0.73, 0.31, 0.27, 270, 520)],
            [[(0.05, 0), (0.6, 0), (0.26, 0.4)] + arc(0.32, 0.69, 0.31, 0.3, 245, 515)],
            [
                arc(0.3, 0.25, 0.26, 0.25, 190, 440)[:-1]
                + [(0.22, 0.5)]
                + arc(0.3, 0.74, 0.3, 0.26, 280, 530)
            ],
        ],
        4: [
            [[(0.52, 1), (0.52, 0), (0, 0.68), (0.72, 0.68)]],
            [[(0.1, 0), (0.04, 0.62), (0.72, 0.62)], [(0.52, 0.1), (0.52, 1)]],
            [[(0.12, 0), (0.08, 0.58), (0.68, 0.56)], [(0.58, 0), (0.54, 1)]],
            [[(0.48, 1), (0.48, 0.02), (0.02, 0.7), (0.66, 0.7)]],
            # closed at the top: the left stroke meets the upright at its top
            [[(0.5, 0), (0.06, 0.62), (0.74, 0.62)], [(0.5, 0), (0.5, 1)]],
            [[(0.3, 0.0), (0.05, 0.6), (0.7, 0.6)], [(0.3, 0.0), (0.56, 0.02), (0.54, 1)]],
        ],
        5: [
            [[(0.62, 0), (0.12, 0), (0.08, 0.42)] + arc(0.32, 0.69, 0.3, 0.3, 215, 510)],
            [[(0.1, 0), (0.06, 0.45)] + arc(0.32, 0.7, 0.3, 0.29, 225, 515), [(0.1, 0), (0.64, 0)]],
            [[(0.6, 0.02), (0.14, 0.02), (0.12, 0.44)] + arc(0.3, 0.7, 0.3, 0.3, 230, 480)],
        ],
        6: [
            [arc(0.62, 0.68, 0.56, 0.66, 262, 180) + arc(0.34, 0.72, 0.3, 0.27, 180, -170)],
            [arc(0.36, 0.5, 0.3, 0.5, 330, 180) + arc(0.34, 0.74, 0.3, 0.25, 180, -170)],
            [[(0.55, 0), (0.2, 0.4)] + arc(0.34, 0.72, 0.3, 0.27, 210, -140)],
            [arc(0.4, 0.44, 0.3, 0.44, 320, 190) + arc(0.34, 0.72, 0.3, 0.28, 190, -160)],
        ],
        7: [
            [[(0.02, 0), (0.66, 0), (0.24, 1)]],
            [[(0.02, 0), (0.66, 0), (0.24, 1)], [(0.16, 0.5), (0.62, 0.5)]],
            [[(0.02, 0.16), (0.03, 0), (0.66, 0), (0.3, 1)]],
            [[(0.02, 0), (0.64, 0), (0.4, 0.5), (0.36, 1)], [(0.2, 0.48), (0.62, 0.5)]],
        ],
        8: [
            [arc(0.33, 0.24, 0.22, 0.24, 0, 360), arc(0.33, 0.73, 0.3, 0.27, 0, 360)],
            [arc(0.33, 0.22, 0.2, 0.22, 0, 360), arc(0.33, 0.7, 0.32, 0.3, 0, 360)],
            [arc(0.33, 0.25, 0.25, 0.25, -90, 270), arc(0.35, 0.73, 0.28, 0.27, -90, 270)],
            # two loops stacked, barely touching, the lower one first
            [arc(0.34, 0.74, 0.3, 0.26, -90, 270), arc(0.34, 0.25, 0.24, 0.25, 90, 450)],
        ],
        9: [
            [arc(0.34, 0.27, 0.3, 0.27, 0, -360) + [(0.64, 0.27), (0.6, 1)]],
            [
                arc(0.34, 0.27, 0.3, 0.27, 10, -350)
                + [(0.63, 0.35), (0.6, 0.78), (0.45, 0.98), (0.2, 0.95)]
            ],
            [arc(0.34, 0.28, 0.3, 0.28, 0, -360) + [(0.64, 0.3), (0.5, 0.72), (0.3, 1)]],
            [arc(0.36, 0.3, 0.3, 0.3, 20, -340) + arc(0.25, 0.55, 0.4, 0.44, 0, 150)],
            # a g-like 9: the tail curls far to the left, and up again
            [
                arc(0.36, 0.27, 0.28, 0.27, 0, -360)
                + [(0.64, 0.3), (0.62, 0.75)]
                + arc(0.38, 0.76, 0.24, 0.24, 0, 160)
            ],
            [
                arc(0.38, 0.26, 0.28, 0.26, 10, -350)
                + [(0.66, 0.4), (0.6, 0.8), (0.35, 1), (0.1, 0.82)]
            ],
        ],
    }


SHAPES = _shapes()


# --- drawing on the canvas ---------------------------------------------------------------


def as_canvas(ink: Image.Image) -> np.ndarray:
    """A grey ink image (mode 'L', white ink on black) as the page's canvas sends it: RGBA."""
    grey = np.asarray(ink, dtype=np.uint8)
    rgba = np.empty(grey.shape + (4,), dtype=np.uint8)
    rgba[..., :3] = grey[..., None]
    rgba[..., 3] = 255
    return rgba


def draw_strokes(strokes, pen: float, size: int = CANVAS) -> Image.Image:
    """Strokes in canvas pixels drawn with a round pen of width `pen`: an 'L' image."""
    image = Image.new("L", (size, size), 0)
    draw = ImageDraw.Draw(image)
    r = pen / 2
    for stroke in strokes:
        points = [(float(x), float(y)) for x, y in stroke]
        if len(points) > 1:
            draw.line(points, fill=255, width=max(1, round(pen)), joint="curve")
        for x, y in points:  # round caps and joints, like the canvas's pen
            draw.ellipse((x - r, y - r, x + r, y + r), fill=255)
    return image


def _resample(stroke: np.ndarray, spacing: float) -> np.ndarray:
    """The polyline with points about `spacing` apart (so wobble and noise look smooth)."""
    steps = np.hypot(*np.diff(stroke, axis=0).T)
    where = np.concatenate(([0.0], np.cumsum(steps)))
    if where[-1] <= 0:
        return stroke
    count = max(2, int(where[-1] / spacing) + 1)
    at = np.linspace(0, where[-1], count)
    return np.stack([np.interp(at, where, stroke[:, 0]), np.interp(at, where, stroke[:, 1])], 1)


def _pen_ups(style, rng: np.random.Generator) -> list[np.ndarray]:
    """The style's strokes as a hand puts them down: resampled, each a little off its place
    (sometimes clearly: strokes that do not quite meet or that overshoot), and some strokes
    broken in two by a pen-up, the second part starting a little before or after the first
    ended. (Stroke order leaves no trace in the image; where the pen lifts does.)"""
    misplaced = 0.035 if rng.random() < 0.3 else 0.012
    out = []
    for stroke in style:
        p = _resample(np.asarray(stroke, dtype=np.float64), 0.03)
        p = p + rng.normal(0, misplaced, 2)
        if len(p) >= 8 and rng.random() < 0.25:
            cut = int(rng.integers(len(p) // 4, 3 * len(p) // 4))
            step = int(rng.integers(-2, 3))  # overlap (< 0) or gap (> 0), in points
            first, second = p[:cut], p[max(1, cut + step) :]
            if len(second) >= 2:
                out += [first, second + rng.normal(0, 0.02, 2)]
                continue
        out.append(p)
    return out


def jittered_strokes(
    style,
    rng: np.random.Generator,
    size: int = CANVAS,
    height: tuple[float, float] = (0.3, 0.92),
    pen: tuple[float, float] = (14, 30),
):
    """A style's strokes randomly slanted, rotated, reshaped, wobbled, placed on the canvas.

    `height` is the range of the drawing's height as a share of the canvas, `pen` the range
    of the pen's width in pixels. Returns (strokes in canvas pixels, pen width)."""
    slant = rng.uniform(-0.15, 0.4)  # x shift per unit of height above the middle
    angle = math.radians(rng.uniform(-10, 10))
    aspect = rng.uniform(0.7, 1.35)
    wobble = rng.normal(0, 0.025, (2, 3))  # a smooth, low-frequency bend of the whole digit
    phase = rng.uniform(0, 2 * math.pi, (2, 3))
    out = []
    for p in _pen_ups(style, rng):
        x, y = p[:, 0] * aspect, p[:, 1]
        for k in range(3):
            x = x + wobble[0, k] * np.sin((k + 1) * math.pi * y + phase[0, k])
            y = y + wobble[1, k] * np.sin((k + 1) * math.pi * x + phase[1, k])
        x = x + slant * (0.5 - y)
        cos, sin = math.cos(angle), math.sin(angle)
        out.append(np.stack([cos * x - sin * y, sin * x + cos * y], 1))
    every = np.concatenate(out)
    low, high = every.min(axis=0), every.max(axis=0)
    tall = rng.uniform(*height) * size
    scale = tall / max(high[1] - low[1], 1e-6)
    scale = min(scale, 0.92 * size / max(high[0] - low[0], 1e-6))
    width = rng.uniform(*pen)
    extent = (high - low) * scale
    margin = width / 2 + 1
    origin = np.array(
        [
            rng.uniform(margin, max(margin, size - extent[0] - margin)),
            rng.uniform(margin, max(margin, size - extent[1] - margin)),
        ]
    )
    shake = rng.uniform(0.0, 1.5)  # a shaky hand: pixels of noise along the stroke
    placed = []
    for stroke in out:
        points = (stroke - low) * scale + origin
        points = _resample(points, 6.0)
        points = points + rng.normal(0, shake, points.shape)
        placed.append(points)
    return placed, width


def stroke_digit(style, rng: np.random.Generator, **ranges) -> np.ndarray | None:
    """One jittered drawing of a style, prepared by canvas_to_mnist: (28, 28) float32.

    `ranges`: `height` and `pen` as in `jittered_strokes`."""
    strokes, pen = jittered_strokes(style, rng, **ranges)
    return canvas_to_mnist(as_canvas(draw_strokes(strokes, pen)))


# --- fonts ------------------------------------------------------------------------------


def find_fonts(where: str | Path = "auto", exclude=HELD_OUT) -> list[Path]:
    """Font files (.ttf, .otf) under a folder, sorted; 'auto' looks in the system's folders.

    The Hershey fonts are always left out, and so are fonts whose path contains any name
    in `exclude` (by default the held-out test families)."""
    roots = FONT_DIRS if str(where) == "auto" else (Path(where),)
    found = []
    for root in roots:
        if root.is_dir():
            found += [p for p in root.rglob("*") if p.suffix.lower() in FONT_SUFFIXES]
    banned = tuple(n.lower() for n in (*NEVER, *exclude))
    return sorted(p for p in found if not any(n in str(p).lower() for n in banned))


class FontsMissing(ValueError):
    """The pinned font files are not all on this machine, or differ from the pinned ones."""


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def pinned_fonts(manifest: Path = MANIFEST, root: Path = FONT_ROOT) -> list[Path]:
    """The font files listed in the manifest, each checked against its sha256, sorted.

    What else the machine has installed plays no part. Raises FontsMissing (naming the files
    and how to install them) if any is missing or differs."""
    files, bad = [], []
    for line in manifest.read_text(encoding="utf-8").splitlines():
        fields = line.split()
        if len(fields) != 4 or fields[0] != "file":
            continue
        _kind, package, relative, digest = fields
        path = root / relative
        if not path.is_file():
            bad.append(f"{relative} (missing; package {package})")
        elif _sha256(path) != digest:
            bad.append(f"{relative} (differs from the pinned file; package {package})")
        files.append(path)
    if bad:
        raise FontsMissing(
            f"{len(bad)} of the {len(files)} pinned font files are not as pinned in "
            f"{manifest.name}: {', '.join(bad[:5])}{' ...' if len(bad) > 5 else ''}. "
            "Install them with: sh assets/models/install-fonts.sh"
        )
    return sorted(files)


def write_manifest(fonts, manifest: Path = MANIFEST, root: Path = FONT_ROOT) -> None:
    """Pin these font files (under `root`) and their Debian packages in the manifest."""
    import subprocess

    def owner(path: Path) -> str:
        found = subprocess.run(["dpkg", "-S", str(path)], capture_output=True, text=True)
        return found.stdout.split(":")[0].strip() or "unknown"

    def version(package: str) -> str:
        found = subprocess.run(
            ["dpkg-query", "-W", "-f=${Version}", package], capture_output=True, text=True
        )
        return found.stdout.strip() or "unknown"

    rows = [(owner(p), p.relative_to(root).as_posix(), _sha256(p)) for p in sorted(fonts)]
    packages = sorted({package for package, _, _ in rows})
    lines = [
        "# The font files `python -m nn.train --fonts auto` renders training digits from, and",
        "# the Debian 12 packages they come from. The command checks every file's sha256 and",
        "# refuses to train if one is missing or differs. Install: sh install-fonts.sh",
        "# Written by nn.glyphs.write_manifest; paths under /usr/share/fonts.",
        *(f"package {package} {version(package)}" for package in packages),
        *(f"file {package} {relative} {digest}" for package, relative, digest in rows),
    ]
    temporary = manifest.with_suffix(".tmp")
    temporary.write_text("\n".join(lines) + "\n", encoding="utf-8")
    temporary.replace(manifest)


@functools.lru_cache(maxsize=64)
def _font(path: str, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(path, size)


def _glyph(font: ImageFont.FreeTypeFont, char: str) -> np.ndarray:
    """The character's ink, cropped (uint8); empty if the font draws nothing for it."""
    mask = np.asarray(font.getmask(char, mode="L"), dtype=np.uint8).reshape(
        font.getmask(char).size[::-1]
    )
    rows, cols = np.nonzero(mask > 64)
    if len(rows) == 0:
        return np.zeros((0, 0), dtype=np.uint8)
    return mask[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]


def has_digits(path: str | Path) -> bool:
    """Whether the font draws ten different digits, none of them its 'missing glyph' box."""
    try:
        font = _font(str(path), 64)
    except OSError:
        return False
    missing = _glyph(font, "\U0010fffd").tobytes()
    seen = set()
    for digit in "0123456789":
        g = _glyph(font, digit)
        if g.size == 0 or g.tobytes() == missing or g.shape[0] < 20:
            return False
        seen.add(g.tobytes())
    return len(seen) == 10


def font_digit(
    path: str | Path,
    digit: int | str,
    rng: np.random.Generator,
    size: int = CANVAS,
    height: tuple[float, float] = (0.3, 0.9),
) -> np.ndarray | None:
    """One font digit at a random size, slant, rotation and place, prepared: (28, 28).

    `height` is the range of the digit's height as a share of the canvas. `digit` may also be
    any other character (a letter, for `non_digit_set`)."""
    tall = rng.uniform(*height) * size
    points = int(min(4 * size, max(24, 8 * round(tall * 1.35 / 8))))
    glyph = _glyph(_font(str(path), points), str(digit))
    if glyph.size == 0:
        return None
    image = Image.fromarray(glyph)
    factor = tall / glyph.shape[0]
    w = max(1, round(glyph.shape[1] * factor))
    image = image.resize((w, max(1, round(tall))), Image.Resampling.BILINEAR)
    slant = rng.uniform(-0.25, 0.3)
    angle = rng.uniform(-8, 8)
    image = image.rotate(angle, resample=Image.Resampling.BILINEAR, expand=True)
    w, h = image.size
    extra = round(abs(slant) * h)
    image = image.transform(
        (w + extra, h),
        Image.Transform.AFFINE,
        (1, slant, -extra if slant > 0 else 0, 0, 1, 0),
        resample=Image.Resampling.BILINEAR,
    )
    if max(image.size) > size - 4:
        image.thumbnail((size - 4, size - 4), Image.Resampling.BILINEAR)
    w, h = image.size
    canvas = Image.new("L", (size, size), 0)
    canvas.paste(image, (int(rng.integers(0, size - w + 1)), int(rng.integers(0, size - h + 1))))
    return canvas_to_mnist(as_canvas(canvas))


# --- a training set ---------------------------------------------------------------------


def _to_uint8(images) -> np.ndarray:
    return np.clip(np.rint(np.stack(images).reshape(-1, 784) * 255), 0, 255).astype(np.uint8)


def font_set(fonts, copies: int, seed: int = 0, progress=None):
    """`copies` renderings of each digit of each usable font: (uint8 (n, 784), labels)."""
    rng = np.random.default_rng([seed, 7])
    images, labels = [], []
    usable = [f for f in fonts if has_digits(f)]
    for i, path in enumerate(usable):
        for digit in range(10):
            for _ in range(copies):
                image = font_digit(path, digit, rng)
                if image is not None:
                    images.append(image)
                    labels.append(digit)
        if progress:
            progress(i + 1, len(usable))
    if not images:
        return np.zeros((0, 784), np.uint8), np.zeros(0, np.uint8), usable
    return _to_uint8(images), np.array(labels, dtype=np.uint8), usable


def stroke_set(per_digit: int, seed: int = 0):
    """`per_digit` jittered drawings of each digit, spread over its styles: (images, labels)."""
    rng = np.random.default_rng([seed, 8])
    images, labels = [], []
    for digit, styles in SHAPES.items():
        for k in range(per_digit):
            image = stroke_digit(styles[k % len(styles)], rng)
            if image is not None:
                images.append(image)
                labels.append(digit)
    if not images:
        return np.zeros((0, 784), np.uint8), np.zeros(0, np.uint8)
    return _to_uint8(images), np.array(labels, dtype=np.uint8)


# --- drawings that are no digit ----------------------------------------------------------

# Letters and signs unlike any digit (no O, I, l, Z, S, B, G, b, g, q, y, C, T, f, P...).
NOT_DIGITS = "AEFHKMNRVWXaehkmnvwx#%+=*"


def _letter_strokes() -> dict[str, list[list[tuple[float, float]]]]:
    """Letters and signs as a pen draws them (strokes in a box 1 high, x right, y down): the
    font letters of NOT_DIGITS are printed, and handwritten letters differ (an n's arch, an
    R's bowl and leg, a W's four strokes in one). None resembles a digit's skeleton."""
    return {
        "n": [[(0.0, 0.0), (0.0, 1.0)], arc(0.4, 0.35, 0.4, 0.35, 180, 360) + [(0.8, 1.0)]],
        # an n in one stroke: down the stem, back up it, over the arch and down
        "n, one stroke": [
            [(0.02, 0.0), (0.0, 1.0), (0.01, 0.45)]
            + arc(0.42, 0.4, 0.4, 0.38, 200, 360)
            + [(0.84, 1.0)]
        ],
        "r": [[(0.0, 0.0), (0.0, 1.0)], arc(0.3, 0.3, 0.3, 0.26, 190, 320)],
        "h": [[(0.0, 0.0), (0.0, 1.0)], arc(0.32, 0.6, 0.32, 0.22, 190, 360) + [(0.64, 1.0)]],
        "h, one stroke": [
            [(0.0, 0.0), (0.0, 1.0), (0.0, 0.7)]
            + arc(0.3, 0.62, 0.3, 0.22, 200, 360)
            + [(0.62, 1.0)]
        ],
        "m": [
            [(0.0, 0.0), (0.0, 1.0)],
            arc(0.25, 0.3, 0.25, 0.3, 180, 360) + [(0.5, 1.0)],
            arc(0.75, 0.3, 0.25, 0.3, 180, 360) + [(1.0, 1.0)],
        ],
        "R": [
            [(0.0, 1.0), (0.0, 0.0)] + arc(0.2, 0.26, 0.3, 0.26, 270, 450) + [(0.0, 0.52)],
            [(0.18, 0.52), (0.6, 1.0)],
        ],
        "W": [[(0.0, 0.0), (0.2, 1.0), (0.42, 0.3), (0.64, 1.0), (0.86, 0.0)]],
        "w": [[(0.0, 0.1), (0.18, 1.0), (0.38, 0.45), (0.58, 1.0), (0.78, 0.05)]],
        "M": [[(0.0, 1.0), (0.06, 0.0), (0.38, 0.62), (0.7, 0.0), (0.78, 1.0)]],
        "A": [[(0.0, 1.0), (0.32, 0.0), (0.66, 1.0)], [(0.14, 0.62), (0.52, 0.6)]],
        "H": [[(0.0, 0.0), (0.0, 1.0)], [(0.62, 0.0), (0.62, 1.0)], [(0.0, 0.48), (0.62, 0.5)]],
        "N": [[(0.0, 1.0), (0.0, 0.0), (0.6, 1.0), (0.6, 0.0)]],
        "K": [[(0.0, 0.0), (0.0, 1.0)], [(0.56, 0.0), (0.02, 0.55), (0.6, 1.0)]],
        "E": [[(0.58, 0.0), (0.0, 0.0), (0.0, 1.0), (0.6, 1.0)], [(0.0, 0.5), (0.45, 0.5)]],
        "F": [[(0.6, 0.0), (0.0, 0.0), (0.0, 1.0)], [(0.0, 0.46), (0.45, 0.46)]],
        "X": [[(0.0, 0.0), (0.7, 1.0)], [(0.7, 0.0), (0.0, 1.0)]],
        "k": [[(0.0, 0.0), (0.0, 1.0)], [(0.5, 0.4), (0.02, 0.72), (0.52, 1.0)]],
        "#": [
            [(0.28, 0.0), (0.2, 1.0)],
            [(0.66, 0.0), (0.58, 1.0)],
            [(0.0, 0.32), (0.9, 0.32)],
            [(0.0, 0.68), (0.88, 0.68)],
        ],
        "+": [[(0.45, 0.0), (0.45, 1.0)], [(0.0, 0.5), (0.92, 0.5)]],
        "*": [[(0.5, 0.0), (0.5, 1.0)], [(0.08, 0.25), (0.92, 0.75)], [(0.92, 0.25), (0.08, 0.75)]],
        "star": [
            [
                (
                    math.sin(math.radians(144 * k)) * 0.5 + 0.5,
                    0.52 - math.cos(math.radians(144 * k)) * 0.5,
                )
                for k in range(6)
            ]
        ],
    }


LETTER_STROKES = _letter_strokes()


def _box(rng: np.random.Generator) -> list[np.ndarray]:
    """A closed box with sharp corners (square or oblong), drawn in one stroke from a corner
    or as two L-shaped halves, its end overshooting or stopping short of its start."""
    w, h = rng.uniform(0.55, 1.3), 1.0
    corners = np.array([[0.0, 0.0], [w, 0.0], [w, h], [0.0, h]])
    corners += rng.normal(0, 0.03, corners.shape)
    first = int(rng.integers(4))
    if rng.random() < 0.5:
        corners = corners[::-1]
    loop = np.concatenate([np.roll(corners, -first, axis=0), np.roll(corners, -first, axis=0)[:1]])
    loop[-1] += rng.normal(0, 0.04, 2)
    if rng.random() < 0.3:
        return [loop[:3], loop[2:]]
    return [loop]


def _face(rng: np.random.Generator) -> list[np.ndarray]:
    """A face: a round outline (as wide as high or wider) with two eyes (dots, short strokes
    or tiny rings) and a mouth (mostly a smile, wide or narrow, else a frown or a straight
    line), sometimes a nose. The marks inside are what makes it no 0."""
    rx, ry = rng.uniform(0.42, 0.65), 0.5
    start = rng.uniform(0, 360)
    ring = np.array(arc(rx, 0.5, rx, ry, start, start + rng.uniform(345, 380), step=10))
    out = [ring]
    eye_y, eye_dx = rng.uniform(0.24, 0.42), rx * rng.uniform(0.25, 0.5)
    ringed = rng.random() < 0.25
    for side in (-1, 1):
        x = rx + side * eye_dx
        if ringed:
            out.append(np.array(arc(x, eye_y, 0.035, 0.04, 0, 360, step=45)))
        else:
            tall = rng.uniform(0.0, 0.07)
            out.append(np.array([[x, eye_y - tall / 2], [x + 0.01, eye_y + tall / 2 + 0.01]]))
    mouth_y, mouth_w = rng.uniform(0.6, 0.78), rx * rng.uniform(0.3, 0.75)
    kind = rng.choice(3, p=[0.65, 0.15, 0.2])
    if kind == 2:  # a straight mouth
        out.append(np.array([[rx - mouth_w, mouth_y], [rx + mouth_w, mouth_y]]))
    else:  # a smile (the lower half of an ellipse) or a frown (the upper half)
        bend = rng.uniform(0.04, 0.15)
        low, high = (10, 170) if kind == 0 else (200, 340)
        cy = mouth_y - bend if kind == 0 else mouth_y + bend
        out.append(np.array(arc(rx, cy, mouth_w, bend, low, high, step=15)))
    if rng.random() < 0.25:  # a nose
        out.append(np.array([[rx, 0.45], [rx - 0.01, 0.55]]))
    return out


def _crossings(rng: np.random.Generator) -> list[np.ndarray]:
    """Four to seven long strokes scrawled across one another, as a finger does on a phone."""
    out = []
    for _ in range(int(rng.integers(4, 8))):
        ends = rng.uniform(0, 1, (2, 2))
        while np.hypot(*(ends[1] - ends[0])) < 0.5:  # long strokes, across the drawing
            ends = rng.uniform(0, 1, (2, 2))
        bow = rng.normal(0, 0.15, 2)
        t = np.linspace(0, 1, 12)[:, None]
        out.append(ends[0] * (1 - t) + ends[1] * t + bow * np.sin(math.pi * t))
    return out


def _arrow(rng: np.random.Generator) -> list[np.ndarray]:
    """An arrow lying more than 45 degrees from upright (an upright one could pass for a
    flagged 1): a shaft and a two-sided head, drawn apart or in one stroke."""
    angle = math.radians(rng.uniform(45, 135) + (180 if rng.random() < 0.5 else 0))
    tip = np.array([math.sin(angle), -math.cos(angle)])
    tail = -tip
    back = rng.uniform(0.3, 0.5)
    spread = math.radians(rng.uniform(25, 45))
    heads = []
    for turn in (spread, -spread):
        c, s = math.cos(turn), math.sin(turn)
        d = -tip * back
        heads.append(tip + np.array([c * d[0] - s * d[1], s * d[0] + c * d[1]]))
    if rng.random() < 0.5:
        return [np.array([tail, tip]), np.array([heads[0], tip, heads[1]])]
    return [np.array([tail, tip, heads[0]]), np.array([tip, heads[1]])]


def _scrawl(rng: np.random.Generator) -> list[np.ndarray]:
    """A random non-digit in strokes on a unit box: a line lying far from upright, a tangle of
    random segments, a run of loops, strokes crossing one another, a closed box, a face, an
    arrow, or a handwritten letter or sign of LETTER_STROKES (placed and drawn by
    jittered_strokes). Dots need no training: the preparation keeps them small and nn.verdict
    sets them apart. Short dashes are drawn by `_short_dash`."""
    kind = rng.choice(8, p=[0.08, 0.07, 0.06, 0.11, 0.14, 0.14, 0.06, 0.34])
    if kind == 0:  # a straight stroke lying more than 55 degrees from upright
        angle = math.radians(rng.uniform(55, 125))
        return [np.array([[0.0, 0.0], [math.sin(angle), math.cos(angle)]])]
    if kind == 1:  # a tangle
        return [rng.uniform(0, 1, (int(rng.integers(8, 30)), 2))]
    if kind == 2:
        turns = rng.uniform(2, 6)  # loops along a line
        t = np.linspace(0, turns * 2 * math.pi, int(turns * 16))
        return [np.stack([t / (2 * math.pi) * 0.3 + 0.2 * np.cos(t), 0.25 * np.sin(t)], 1)]
    if kind == 3:
        return _crossings(rng)
    if kind == 4:
        return _box(rng)
    if kind == 5:
        return _face(rng)
    if kind == 6:
        return _arrow(rng)
    names = sorted(LETTER_STROKES)
    return [
        np.asarray(s, dtype=np.float64) for s in LETTER_STROKES[names[rng.integers(len(names))]]
    ]


def _short_dash(rng: np.random.Generator, shortest: float = 2.0) -> np.ndarray:
    """A short stroke at any angle on the canvas (RGBA), `shortest` pen widths long or more
    (one more with its round ends): the preparation blows it up into a fat bar. Lying 25
    degrees or more from upright it is up to 5 pen widths long; nearer upright up to 2.8 (3.8
    with its ends), as a 1 is taller than that. (Training draws them from 2 pen widths on;
    the preparation keeps as a dot only strokes under ~1 pen width long, as the stroke width
    it estimates for a short stroke, 2 * area / perimeter, is ~0.7 of the pen: calibrating
    nn.verdict's dash rule, benchmarks/calibrate_verdict.py draws them from 1 pen width on.)"""
    pen = rng.uniform(14, 30)
    tilt = rng.uniform(0, 90)
    length = pen * rng.uniform(shortest, 5.0 if tilt >= 25 else 2.8)
    angle = math.radians(tilt if rng.random() < 0.5 else 180 - tilt)
    half = np.array([math.sin(angle), math.cos(angle)]) * length / 2
    middle = rng.uniform(length / 2 + pen, CANVAS - length / 2 - pen, 2)
    stroke = _resample(np.array([middle - half, middle + half]), 6.0)
    stroke = stroke + rng.normal(0, rng.uniform(0.0, 1.2), stroke.shape)
    return as_canvas(draw_strokes([stroke], pen))


def scrawl_canvases(rng: np.random.Generator, count: int):
    """`count` drawings of scrawls on the canvas (RGBA), one in twelve a short dash: the
    non-digits of `non_digit_set` that are drawn with a pen, before preparation."""
    for k in range(count):
        if k % 12 == 11:  # one in twelve a short dash
            yield _short_dash(rng)
        else:
            strokes, pen = jittered_strokes(_scrawl(rng), rng)
            yield as_canvas(draw_strokes(strokes, pen))


def non_digit_set(fonts, per_font: int, scrawls: int, seed: int = 0):
    """Drawings that are no digit, labelled nn.sgd.NO_DIGIT (every output's target 0):
    `per_font` renderings of random characters of NOT_DIGITS from each usable font, and
    `scrawls` random scrawls (lines far from upright, tangles, loops). Returns
    (uint8 (n, 784), labels)."""
    from .sgd import NO_DIGIT

    rng = np.random.default_rng([seed, 9])
    images = []
    for path in (f for f in fonts if has_digits(f)):
        for _ in range(per_font):
            char = NOT_DIGITS[int(rng.integers(len(NOT_DIGITS)))]
            image = font_digit(path, char, rng)
            if image is not None:
                images.append(image)
    for canvas in scrawl_canvases(rng, scrawls):
        image = canvas_to_mnist(canvas)
        if image is not None:
            images.append(image)
    if not images:
        return np.zeros((0, 784), np.uint8), np.zeros(0, np.uint8)
    return _to_uint8(images), np.full(len(images), NO_DIGIT, dtype=np.uint8)
