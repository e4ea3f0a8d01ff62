"""Looking inside a network: what its hidden neurons look for and where it goes wrong.

Everything the page's "inside the network" panels draw, as numpy arrays (never Streamlit):

- `weight_images(net)`: each first-layer hidden neuron's 784 input weights as a 28x28 image;
  `diverging(values, scale)` colours them (red = ink there excites the neuron, blue =
  inhibits, white = indifferent), `weight_grid` lays out many of them as ONE image.
- `neuron_order(net, image)`: the hidden neurons, most active on a drawing first.
- `Mistakes`: a network's answers on a labelled set (MNIST's 10,000 test digits): the
  confusion matrix, the digits of one cell and the most confident mistakes;
  `digit_gallery` draws such digits as one image, each with a small bar chart of the ten
  output activations the network gave it.

Grids are single images on purpose: 200 small pictures as 200 page elements would cost the
browser and the server far more than one PNG.
"""

from __future__ import annotations

import hashlib
import weakref
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from .network import Network

SIDE = 28
RED = np.array([200, 30, 40], dtype=np.float32)  # the strongest excitation
BLUE = np.array([35, 80, 200], dtype=np.float32)  # the strongest inhibition
WHITE = np.array([255, 255, 255], dtype=np.float32)
BACKGROUND = (255, 255, 255)
LABEL_INK = (60, 60, 60)
TRUE_BAR = (30, 140, 60)  # gallery bars: the digit it really is
WRONG_BAR = (215, 40, 50)  # the digit the network read (when wrong)
OTHER_BAR = (150, 160, 175)
LABEL_HEIGHT = 14  # px of text under a tile
ACTIVATION_BAR = 5  # px: the activation bar under a neuron's tile
ACTIVATION_INK = (255, 75, 75)  # the page's accent colour
TRACK = (225, 228, 234)


def fingerprint(net: Network) -> str:
    """A short digest of a network's layer sizes and parameters: a cache key per network.

    Two networks with the same weights share it; any change to any weight changes it.
    """
    digest = hashlib.blake2b(digest_size=12)
    digest.update(repr((net.sizes, net.cost)).encode())
    for layer in net.params:
        digest.update(np.ascontiguousarray(layer).tobytes())
    return digest.hexdigest()


_FINGERPRINTS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def fingerprint_once(net: Network) -> str:
    """`fingerprint(net)`, computed once per Network object (a stroke then hashes nothing).

    Only for networks that are never changed in place once made, as the page's are (shipped,
    uploaded, a run's snapshots, taught and operated copies): a change made to the same
    object afterwards would not be seen."""
    key = _FINGERPRINTS.get(net)
    if key is None:
        key = _FINGERPRINTS[net] = fingerprint(net)
    return key


# --- what each hidden neuron looks for -----------------------------------------------------


def weight_images(net: Network) -> np.ndarray:
    """(N, 28, 28): the input weights of each neuron of the first hidden layer, as images."""
    weights = net.weights[0]
    if weights.shape[1] != SIDE * SIDE:
        raise ValueError(f"the network reads {weights.shape[1]} inputs, not 28 x 28 pixels")
    return weights.reshape(-1, SIDE, SIDE)


def shared_scale(values: np.ndarray) -> float:
    """One colour scale for a set of weight images: the 99th percentile of |w|.

    A percentile rather than the maximum, so that a handful of extreme weights do not wash
    every other weight out to white. Never 0.
    """
    values = np.abs(np.asarray(values, dtype=np.float32))
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return 1.0
    scale = float(np.percentile(finite, 99))
    return scale if scale > 0 else 1.0


def diverging(values: np.ndarray, scale: float) -> np.ndarray:
    """Colour values (any shape) as uint8 RGB (..., 3): +scale red, 0 white, -scale blue.

    Values beyond +-scale take the end colours; NaN counts as 0.
    """
    t = np.clip(np.nan_to_num(np.asarray(values, dtype=np.float32)) / np.float32(scale), -1, 1)[
        ..., None
    ]
    rgb = np.where(t > 0, WHITE + t * (RED - WHITE), WHITE - t * (BLUE - WHITE))
    return np.rint(rgb).astype(np.uint8)


def neuron_order(net: Network, image: np.ndarray | None) -> tuple[np.ndarray, np.ndarray | None]:
    """(order, activations): the first hidden layer's neurons, most active on `image` first.

    Without an image (or for a network without a hidden layer) the order is by number and
    the activations are None. Ties keep neuron-number order.
    """
    n = net.sizes[1]
    if image is None or len(net.sizes) < 3:
        return np.arange(n), None
    pixels = np.clip(np.nan_to_num(np.asarray(image, dtype=np.float32).reshape(-1)), 0, 1)
    hidden = net.activations(pixels)[1]
    return np.argsort(-hidden, kind="stable"), hidden


def grid_columns(count: int) -> int:
    """Tiles per row: 10 up to 100 neurons (large tiles), up to 20 for 200 or more."""
    return max(1, min(count, 10 if count <= 100 else 20))


@lru_cache(maxsize=4)
def _font(size: int):
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1: one fixed-size bitmap font
        return ImageFont.load_default()


def tile_grid(
    tiles: np.ndarray,
    labels: list[str] | None = None,
    *,
    columns: int,
    scale: int = 2,
    gap: int = 4,
    label_height: int = 14,
) -> np.ndarray:
    """Small RGB images (n, h, w, 3) enlarged `scale` times into one RGB grid image.

    With `labels`, each tile gets a line of text under it. Pixels stay square (no smoothing).
    """
    tiles = np.asarray(tiles, dtype=np.uint8)
    n, h, w = tiles.shape[:3]
    th, tw = h * scale, w * scale
    label_h = label_height if labels else 0
    rows = max(1, -(-n // columns))
    cell_h, cell_w = th + label_h + gap, tw + gap
    out = np.full((rows * cell_h, columns * cell_w - gap, 3), BACKGROUND, dtype=np.uint8)
    big = tiles.repeat(scale, axis=1).repeat(scale, axis=2)
    for k in range(n):
        r, c = divmod(k, columns)
        out[r * cell_h : r * cell_h + th, c * cell_w : c * cell_w + tw] = big[k]
    if labels:
        picture = Image.fromarray(out)
        pen = ImageDraw.Draw(picture)
        font = _font(label_height - 3)
        for k, text in enumerate(labels[:n]):
            r, c = divmod(k, columns)
            pen.text(
                (c * cell_w + tw / 2, r * cell_h + th + 1),
                text,
                fill=LABEL_INK,
                font=font,
                anchor="ma",
            )
        out = np.asarray(picture)
    return out


def neuron_tiles(net: Network, scale: int = 2) -> np.ndarray:
    """Each first-layer neuron's weight image, enlarged, one shared colour scale, with its
    number "#i" written under it: (N, h, w, 3) uint8 blocks that `weight_grid` arranges.

    Compute it once per network (a few ms per 100 neurons; the labels are drawn once per
    size and reused, so a network in training costs only the colouring per refresh).
    """
    images = weight_images(net)
    tiles = diverging(images, shared_scale(images))
    side = SIDE * scale
    blocks = np.empty((len(images), side + LABEL_HEIGHT, side, 3), dtype=np.uint8)
    blocks[:, :side] = tiles.repeat(scale, axis=1).repeat(scale, axis=2)
    blocks[:, side:] = _number_labels(len(images), side)
    return blocks


@lru_cache(maxsize=8)
def _number_labels(count: int, width: int) -> np.ndarray:
    """(count, LABEL_HEIGHT, width, 3): the text "#i" centred on white, for i < count."""
    labels = np.full((count, LABEL_HEIGHT, width, 3), BACKGROUND, dtype=np.uint8)
    font = _font(LABEL_HEIGHT - 3)
    for i in range(count):
        strip = Image.fromarray(labels[i])
        ImageDraw.Draw(strip).text((width / 2, 1), f"#{i}", fill=LABEL_INK, font=font, anchor="ma")
        labels[i] = np.asarray(strip)
    labels.flags.writeable = False
    return labels


def weight_grid(
    blocks: np.ndarray,
    order: np.ndarray | None = None,
    activations: np.ndarray | None = None,
    gap: int = 4,
    columns: int | None = None,
) -> np.ndarray:
    """The blocks of `neuron_tiles` as ONE RGB grid image, in `order` (default: by number),
    `columns` tiles a row (default `grid_columns`).

    With `activations`, each block gets a bar under it as long as the neuron's activation
    on the drawing (full width = 1): the most active neurons are the ones with long bars.
    """
    n, h, w = blocks.shape[:3]
    order = np.arange(n) if order is None else np.asarray(order)
    bar = ACTIVATION_BAR + 2 if activations is not None else 0
    columns = columns or grid_columns(len(order))
    rows = max(1, -(-len(order) // columns))
    cell_h, cell_w = h + bar + gap, w + gap
    out = np.full((rows * cell_h, columns * cell_w - gap, 3), BACKGROUND, dtype=np.uint8)
    for k, i in enumerate(order):
        r, c = divmod(k, columns)
        y, x = r * cell_h, c * cell_w
        out[y : y + h, x : x + w] = blocks[i]
        if activations is not None:
            out[y + h : y + h + ACTIVATION_BAR, x : x + w] = TRACK
            length = round(float(np.clip(np.nan_to_num(activations[i]), 0, 1)) * w)
            out[y + h : y + h + ACTIVATION_BAR, x : x + length] = ACTIVATION_INK
    return out


@dataclass(frozen=True)
class NeuronDetail:
    """One hidden neuron, larger: what the page shows when a visitor picks it."""

    index: int
    weights: np.ndarray  # (28, 28) input weights
    bias: float
    scale: float  # the colour scale shared with the grid
    activation: float | None  # on the drawing, or None without one
    contribution: np.ndarray | None  # (28, 28) weight x ink: what each pixel adds to its sum
    outgoing: np.ndarray  # its weights into the next layer (the ten digits' neurons)


def neuron_detail(net: Network, index: int, image: np.ndarray | None) -> NeuronDetail:
    images = weight_images(net)
    if not 0 <= index < len(images):
        raise ValueError(f"neuron {index} does not exist; this layer has {len(images)}")
    activation = contribution = None
    if image is not None:
        pixels = np.clip(np.nan_to_num(np.asarray(image, dtype=np.float32)), 0, 1)
        contribution = images[index] * pixels.reshape(SIDE, SIDE)
        z = float(contribution.sum() + net.biases[0][index])
        activation = float(1 / (1 + np.exp(-np.clip(z, -500, 500))))
    outgoing = (
        net.weights[1][:, index].copy() if len(net.sizes) > 2 else np.zeros(0, dtype=np.float32)
    )
    return NeuronDetail(
        index=index,
        weights=images[index],
        bias=float(net.biases[0][index]),
        scale=shared_scale(images),
        activation=activation,
        contribution=contribution,
        outgoing=outgoing,
    )


def ink_overlay(weights: np.ndarray, image: np.ndarray, scale: float) -> np.ndarray:
    """The weight image with the drawing's ink laid over it as dark grey, 60 % opaque:
    which of the neuron's red and blue pixels your strokes cover. uint8 RGB (28, 28, 3)."""
    base = diverging(weights, scale).astype(np.float32)
    ink = np.clip(np.nan_to_num(np.asarray(image, dtype=np.float32)), 0, 1)[..., None] * 0.6
    return np.rint(base * (1 - ink) + 30 * ink).astype(np.uint8)


def enlarge(rgb: np.ndarray, scale: int) -> np.ndarray:
    """An RGB image with each pixel as a scale x scale square."""
    return np.asarray(rgb).repeat(scale, axis=0).repeat(scale, axis=1)


# --- what it gets wrong --------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Mistakes:
    """A network's answers on a labelled set of digits (uint8 images (n, 784))."""

    outputs: np.ndarray  # (n, 10) output activations
    answers: np.ndarray  # (n,) the digit read: argmax of outputs
    labels: np.ndarray  # (n,) the true digits
    matrix: np.ndarray  # (10, 10) counts: row = true digit, column = digit read

    @classmethod
    def of(cls, net: Network, images: np.ndarray, labels: np.ndarray) -> Mistakes:
        if net.sizes[-1] != 10:
            raise ValueError(f"the network has {net.sizes[-1]} outputs, not one per digit")
        outputs = net.feedforward(images)
        answers = np.argmax(outputs, axis=1)
        labels = np.asarray(labels, dtype=np.intp)
        matrix = np.zeros((10, 10), dtype=np.int64)
        np.add.at(matrix, (labels, answers), 1)
        return cls(outputs=outputs, answers=answers, labels=labels, matrix=matrix)

    @property
    def correct(self) -> int:
        return int(np.trace(self.matrix))

    @property
    def total(self) -> int:
        return int(self.matrix.sum())

    def cell(self, true: int, read: int, limit: int = 40) -> np.ndarray:
        """Indices of the digits `true` read as `read`, the most confidently read first."""
        hits = np.flatnonzero((self.labels == true) & (self.answers == read))
        confidence = self.outputs[hits, read]
        return hits[np.argsort(-confidence, kind="stable")][:limit]

    def most_confident(self, limit: int = 40) -> np.ndarray:
        """Indices of the wrong answers given with the highest output activation, highest first."""
        wrong = np.flatnonzero(self.answers != self.labels)
        confidence = self.outputs[wrong, self.answers[wrong]]
        return wrong[np.argsort(-confidence, kind="stable")][:limit]

    def worst_cells(self, count: int = 5) -> list[tuple[int, int, int]]:
        """The `count` most frequent confusions as (true, read, how many), most first."""
        off = self.matrix.copy()
        np.fill_diagonal(off, 0)
        flat = np.argsort(-off, axis=None, kind="stable")[:count]
        return [(int(i // 10), int(i % 10), int(off.flat[i])) for i in flat if off.flat[i] > 0]


def bar_strip(output: np.ndarray, true: int, read: int, width: int, height: int) -> np.ndarray:
    """Ten vertical bars (the output activations) drawn into a (height, width, 3) image: the
    true digit's bar green, the digit read red when it differs, the others grey."""
    strip = np.full((height, width, 3), BACKGROUND, dtype=np.uint8)
    bar_w = width // 10
    for d in range(10):
        level = round(float(np.clip(output[d], 0, 1)) * (height - 1))
        colour = TRUE_BAR if d == true else WRONG_BAR if d == read else OTHER_BAR
        x0 = d * bar_w
        strip[height - max(level, 1) :, x0 : x0 + bar_w - 1] = colour
    strip[-1, : bar_w * 10 - 1] = np.minimum(strip[-1, : bar_w * 10 - 1], 200)  # a baseline
    return strip


def digit_gallery(
    images: np.ndarray,
    indices: np.ndarray,
    mistakes: Mistakes,
    *,
    columns: int = 10,
    scale: int = 2,
    bar_height: int = 16,
) -> np.ndarray:
    """The chosen digits (dark ink on white) in one RGB image; under each a strip of its ten
    output activations and the line "4 as 9" (the true digit, the digit read)."""
    indices = np.asarray(indices, dtype=np.intp)
    side = SIDE * scale
    tiles = []
    for i in indices:
        digit = 255 - np.asarray(images[i], dtype=np.uint8).reshape(SIDE, SIDE)
        digit = np.repeat(digit[..., None], 3, axis=2).repeat(scale, 0).repeat(scale, 1)
        strip = bar_strip(
            mistakes.outputs[i], int(mistakes.labels[i]), int(mistakes.answers[i]), side, bar_height
        )
        tiles.append(np.concatenate([digit, strip], axis=0))
    if not tiles:
        return np.full((side, side, 3), BACKGROUND, dtype=np.uint8)
    labels = [f"{mistakes.labels[i]} as {mistakes.answers[i]}" for i in indices]
    return tile_grid(
        np.stack(tiles), labels, columns=min(columns, len(tiles)), scale=1, gap=6, label_height=14
    )


def accuracy(net: Network, images: np.ndarray, labels: np.ndarray) -> float:
    """Fraction of `images` the network reads correctly."""
    if len(images) == 0:
        return 0.0
    return net.evaluate(images, labels) / len(images)


__all__ = [
    "Mistakes",
    "NeuronDetail",
    "accuracy",
    "bar_strip",
    "digit_gallery",
    "diverging",
    "enlarge",
    "fingerprint",
    "fingerprint_once",
    "grid_columns",
    "ink_overlay",
    "neuron_detail",
    "neuron_order",
    "neuron_tiles",
    "shared_scale",
    "tile_grid",
    "weight_grid",
    "weight_images",
]
