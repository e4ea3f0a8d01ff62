"""The learner's lab: where a drawing lands among MNIST's digits, operating on hidden
neurons, and a drawing's nearest training digits. Inference only, numpy only.

- `HiddenMap.of(net, images, labels)`: the first hidden layer's activations on test digits,
  projected to two dimensions by PCA (computed once per network); `place(net, image)`
  projects one more digit (a drawing) onto the same axes: one forward pass and a 2 x N
  product, the whole per-stroke cost.
- `operate(net, factors)`: a copy of a network whose chosen hidden neurons are switched off
  (factor 0) or have their say scaled: each factor multiplies the neuron's outgoing weights,
  so its activation still forms but counts that much in the next layer. `describe_factors`
  says what was done in words.
- `Neighbours`: a pool of training digits as float32 with their squared norms; `nearest`
  finds a drawing's k nearest by plain pixel (Euclidean) distance in one matrix-vector
  product (bounded: the pool's size), `vote` is what those k would answer.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np

from .network import DTYPE, Network, as_unit_float

MAP_DIGITS = 2000  # test digits on the map
NEIGHBOURS = 5  # nearest training digits shown and voting


def _unit_pixels(image: np.ndarray) -> np.ndarray:
    """A drawing (28, 28) or (784,) as clean float32 [0, 1] pixels (784,)."""
    return np.clip(np.nan_to_num(np.asarray(image, dtype=DTYPE).reshape(-1)), 0, 1)


# --- where a drawing lands -------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class HiddenMap:
    """Test digits placed by their first hidden layer's activations, PCA to 2-D."""

    mean: np.ndarray  # (N,) mean activation over the digits
    axes: np.ndarray  # (2, N) the two principal directions, unit length
    points: np.ndarray  # (n, 2) each digit's coordinates
    labels: np.ndarray  # (n,) their true digits
    answers: np.ndarray  # (n,) what the network read
    indices: np.ndarray  # (n,) their indices in the set given
    explained: tuple[float, float]  # share of the activations' variance along each axis

    @classmethod
    def of(cls, net: Network, images: np.ndarray, labels: np.ndarray, count: int = MAP_DIGITS):
        """The map of the first `count` digits of `images` (uint8 or [0, 1] rows of 784)."""
        if len(net.sizes) < 3:
            raise ValueError("the network has no hidden layer to map")
        images, labels = images[:count], np.asarray(labels[:count], dtype=np.intp)
        layers = net.activations(images)
        hidden = layers[1].astype(np.float64)
        answers = np.argmax(layers[-1], axis=1)
        mean = hidden.mean(axis=0)
        centred = hidden - mean
        singular, vt = _leading_directions(centred)
        axes = vt[:2] if len(vt) >= 2 else np.vstack([vt, np.zeros_like(vt)])[:2]
        # A sign convention so the picture does not flip between two refreshes of a run:
        # each axis points towards its largest-magnitude component.
        signs = np.sign(axes[np.arange(2), np.argmax(np.abs(axes), axis=1)])
        axes = axes * np.where(signs == 0, 1, signs)[:, None]
        total = float(np.sum(singular**2)) or 1.0
        first, second = (float(s**2 / total) for s in (list(singular[:2]) + [0.0, 0.0])[:2])
        return cls(
            mean=mean,
            axes=axes,
            points=centred @ axes.T,
            labels=labels,
            answers=answers,
            indices=np.arange(len(labels)),
            explained=(first, second),
        )

    def place(self, net: Network, image: np.ndarray) -> tuple[float, float]:
        """Where a drawing lands: its hidden activations on the map's axes."""
        hidden = net.activations(_unit_pixels(image))[1].astype(np.float64)
        x, y = self.axes @ (hidden - self.mean)
        return float(x), float(y)

    def nearest_class(self, point: tuple[float, float], k: int = 15) -> int:
        """The digit most common among the k map points nearest to `point` (ties: the
        nearest's)."""
        d = np.sum((self.points - np.asarray(point)) ** 2, axis=1)
        near = np.argsort(d, kind="stable")[:k]
        return vote(self.labels[near])


EXACT_UP_TO = 300  # hidden neurons; beyond, the two directions come from subspace iteration


def _leading_directions(centred: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(singular values, right singular vectors as rows) of `centred` (n, N), leading first.

    Exact (an SVD) up to EXACT_UP_TO columns. Beyond (an uploaded network may have
    thousands of hidden neurons, where an SVD of 2,000 x N takes seconds), the leading few
    by subspace iteration: a few (n, N) x (N, 8) products, then an SVD of (n, 8)."""
    if centred.shape[1] <= EXACT_UP_TO:
        _, singular, vt = np.linalg.svd(centred, full_matrices=False)
        return singular, vt
    rng = np.random.default_rng(0)
    basis = np.linalg.qr(centred.T @ rng.standard_normal((centred.shape[0], 8)))[0]
    for _ in range(6):
        basis = np.linalg.qr(centred.T @ (centred @ basis))[0]
    _, singular, small = np.linalg.svd(centred @ basis, full_matrices=False)
    return singular, small @ basis.T


# --- operating on neurons --------------------------------------------------------------------


def operate(net: Network, factors: dict[int, float]) -> Network:
    """A copy of `net` in which each first-layer hidden neuron i of `factors` has its
    outgoing weights multiplied by factors[i] (0: switched off). `net` is not changed."""
    if len(net.sizes) < 3:
        raise ValueError("the network has no hidden layer to operate on")
    n = net.sizes[1]
    copy = Network.from_arrays(net.weights, net.biases, init=net.init, cost=net.cost, l2=net.l2)
    for index, factor in factors.items():
        if not 0 <= int(index) < n:
            raise ValueError(f"neuron {index} does not exist; this layer has {n}")
        if not np.isfinite(factor):
            raise ValueError(f"the factor for neuron {index} is not a number")
        copy.params[1][:, int(index)] *= DTYPE(factor)
    return copy


def describe_factors(factors: dict[int, float]) -> str:
    """'#3 off, #7 × 2, #12 × 0.5' (by neuron number); '' for none."""
    parts = []
    for index in sorted(factors):
        factor = factors[index]
        parts.append(f"#{index} off" if factor == 0 else f"#{index} × {factor:g}")
    return ", ".join(parts)


# --- the data and a drawing's neighbours -------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Neighbours:
    """Training digits ready for nearest-neighbour search: float32 [0, 1] rows and norms."""

    pixels: np.ndarray  # (n, 784) float32
    norms: np.ndarray  # (n,) squared lengths
    labels: np.ndarray  # (n,)

    @classmethod
    def of(cls, images: np.ndarray, labels: np.ndarray) -> Neighbours:
        pixels = as_unit_float(images).copy()
        norms = np.einsum("ij,ij->i", pixels, pixels)
        for array in (pixels, norms):
            array.flags.writeable = False
        labels = np.asarray(labels, dtype=np.intp)
        return cls(pixels=pixels, norms=norms, labels=labels)

    def nearest(self, image: np.ndarray, k: int = NEIGHBOURS) -> tuple[np.ndarray, np.ndarray]:
        """(indices, distances): the k pool digits nearest to `image`, nearest first.

        |x - t|^2 = |t|^2 - 2 t.x + |x|^2: one (n, 784) x (784,) product."""
        x = _unit_pixels(image)
        squared = self.norms - 2 * (self.pixels @ x) + float(x @ x)
        k = max(1, min(k, len(squared)))
        near = np.argpartition(squared, k - 1)[:k]
        near = near[np.argsort(squared[near], kind="stable")]
        return near, np.sqrt(np.maximum(squared[near], 0))


def vote(labels) -> int:
    """The most common label; a tie goes to the one that comes first (the nearest)."""
    labels = [int(v) for v in labels]
    counts = Counter(labels)
    best = max(counts.values())
    return next(v for v in labels if counts[v] == best)


def examples(labels: np.ndarray, per_digit: int) -> np.ndarray:
    """(10, per_digit) indices: the first `per_digit` digits of each class (-1 if short)."""
    labels = np.asarray(labels)
    out = np.full((10, per_digit), -1, dtype=np.intp)
    for d in range(10):
        found = np.flatnonzero(labels == d)[:per_digit]
        out[d, : len(found)] = found
    return out


__all__ = [
    "HiddenMap",
    "MAP_DIGITS",
    "NEIGHBOURS",
    "Neighbours",
    "describe_factors",
    "examples",
    "operate",
    "vote",
]
