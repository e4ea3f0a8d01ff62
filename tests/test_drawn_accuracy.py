"""Does a digit drawn on the canvas get read as well as an MNIST test digit?

MNIST test digits are redrawn the way a person would draw them on the page's 280x280 canvas
(white pen on black, opaque): anywhere on the canvas, from ~60 px tall in a corner to ~260 px
across the whole canvas, with a crisp pen whose width (10-24 px) does not follow the digit's
size, i.e. thick strokes on small digits and thin ones on large digits. `canvas_to_mnist`
must bring them back close enough to MNIST that the shipped default model reads them within
1.5 points of its accuracy on the untouched test images. Shrinking the whole canvas to 28x28
(what many drawing demos do) is scored too, for comparison.
"""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageFilter

from nn.preprocess import prepare
from nn.verdict import DIGIT, judge
from tests.helpers import REPO

MODEL = REPO / "assets" / "models" / "default.npz"
CANVAS = 280
SUBSET = 2000
SEED = 20240601
MIDRES = 4  # the digit's pen is changed at 4x MNIST's resolution
TOLERANCE = 0.015  # issue 14: within 1.5 points of the untouched digits
PLAIN = 0.98  # share of redrawn digits that get a plain answer from nn.verdict


# 2,000 digits redrawn and prepared one by one: seconds, so outside the fast loop.
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def test_digits(mnist_data) -> tuple[np.ndarray, np.ndarray]:
    images, labels = mnist_data.test_images.reshape(-1, 28, 28), mnist_data.test_labels
    pick = np.random.default_rng(SEED).choice(len(labels), SUBSET, replace=False)
    return images[pick], labels[pick]


@pytest.fixture(scope="module")
def model():
    assert MODEL.is_file(), f"the default model must ship at {MODEL}"
    from nn.modelfile import load_model

    net, _meta = load_model(MODEL)
    return net


def draw_on_canvas(digit: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """An MNIST digit (28x28 uint8) as someone might draw it on the canvas: 280x280 RGBA."""
    rows, cols = np.nonzero(digit)
    crop = digit[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]
    height = int(rng.integers(60, 261))
    factor = height / crop.shape[0]
    width = min(CANVAS - 4, max(1, round(crop.shape[1] * factor)))
    pen = rng.uniform(10, 24)
    # Crisp pen at 4x MNIST resolution, then widened or narrowed to the chosen pen width.
    mid = Image.fromarray(crop).resize(
        (crop.shape[1] * MIDRES, crop.shape[0] * MIDRES), Image.Resampling.BILINEAR
    )
    mid = mid.point(lambda v: 255 if v >= 128 else 0)
    change = pen * MIDRES / factor - stroke_width(np.asarray(mid) > 0)
    radius = min(8, round(abs(change) / 2))
    if change < 0:  # a thinner pen, but never so thin that parts of the digit vanish
        for thinner in range(radius, -1, -1):  # the widest erosion that keeps a third of the ink
            radius = thinner
            if (
                not radius
                or _ink(mid.filter(ImageFilter.MinFilter(2 * radius + 1))) >= _ink(mid) / 3
            ):
                break
    if radius:
        size = 2 * radius + 1
        filt = ImageFilter.MaxFilter(size) if change > 0 else ImageFilter.MinFilter(size)
        mid = _padded(mid, radius).filter(filt)
        if change > 0:
            factor_w = mid.size[0] / (crop.shape[1] * MIDRES)
            factor_h = mid.size[1] / (crop.shape[0] * MIDRES)
            width = min(CANVAS - 4, round(width * factor_w))
            height = min(CANVAS - 4, round(height * factor_h))
    big = np.asarray(mid.resize((width, height), Image.Resampling.BILINEAR), dtype=np.float32)
    ink = np.clip((big - 128) * 3 + 128, 0, 255).astype(np.uint8)  # crisp, anti-aliased edge
    top = int(rng.integers(0, CANVAS - height + 1))
    left = int(rng.integers(0, CANVAS - width + 1))
    canvas = np.zeros((CANVAS, CANVAS, 4), dtype=np.uint8)
    canvas[:, :, 3] = 255
    for channel in range(3):
        canvas[top : top + height, left : left + width, channel] = ink
    return canvas


def stroke_width(mask: np.ndarray) -> float:
    """Mean stroke width of a binary drawing: 2 * area / perimeter (edges counted * pi/4)."""
    padded = np.pad(mask, 1)
    edges = np.count_nonzero(np.diff(padded, axis=0)) + np.count_nonzero(np.diff(padded, axis=1))
    return 2 * np.count_nonzero(mask) / (edges * np.pi / 4)


def _ink(image: Image.Image) -> int:
    return int(np.count_nonzero(np.asarray(image)))


def _padded(image: Image.Image, margin: int) -> Image.Image:
    out = Image.new("L", (image.size[0] + 2 * margin, image.size[1] + 2 * margin), 0)
    out.paste(image, (margin, margin))
    return out


def plain_resize(canvas: np.ndarray) -> np.ndarray:
    """What many drawing demos do: the whole canvas, grey, shrunk to 28x28 (PIL's default)."""
    grey = Image.fromarray(canvas[:, :, :3]).convert("L")
    return np.asarray(grey.resize((28, 28)), dtype=np.float32) / 255


def accuracy(net, images: np.ndarray, labels: np.ndarray) -> float:
    x = np.asarray(images, dtype=np.float32).reshape(len(images), 784)
    return float((np.argmax(net.feedforward(x), axis=1) == labels).mean())


def score_drawn(net, images: np.ndarray, labels: np.ndarray) -> dict[str, float]:
    rng = np.random.default_rng(SEED)
    prepared, facts, resized = [], [], []
    for digit in images:
        canvas = draw_on_canvas(digit, rng)
        result = prepare(canvas)
        assert result is not None, "a drawn digit was taken for an empty canvas"
        prepared.append(result[0])
        facts.append(result[1])  # what the page's verdict also sees of the drawing
        resized.append(plain_resize(canvas))
    outputs = net.feedforward(np.stack(prepared).reshape(len(prepared), 784))
    return {
        "untouched": accuracy(net, images.astype(np.float32) / 255, labels),
        "pipeline": accuracy(net, np.stack(prepared), labels),
        "plain resize": accuracy(net, np.stack(resized), labels),
        "plain answers": float(
            np.mean([judge(im, o, d).kind == DIGIT for im, o, d in zip(prepared, outputs, facts)])
        ),
    }


def test_drawn_digits_read_almost_as_well_as_mnist(model, test_digits):
    images, labels = test_digits
    scores = score_drawn(model, images, labels)
    print(
        f"\nDrawn-digit accuracy on {len(labels)} MNIST test digits redrawn on the canvas: "
        + ", ".join(f"{name} {value:.2%}" for name, value in scores.items())
    )
    assert scores["pipeline"] >= scores["untouched"] - TOLERANCE, scores
    assert scores["plain resize"] < scores["pipeline"], scores
    # nn.verdict holds back dots, lines, scribbles and close calls: real digits, redrawn,
    # still get a plain answer (issue 14: at least 98 %)
    assert scores["plain answers"] >= PLAIN, scores
