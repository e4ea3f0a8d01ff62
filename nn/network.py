"""A fully connected sigmoid network, as in the first chapter of Nielsen's book.

`Network([784, 30, 10])` is the book's network: sigmoid neurons in every layer, quadratic
cost, weights and biases drawn from N(0, 1). The options the book introduces in later
chapters are here too, off by default: weights from N(0, 1/n_in) (`init="scaled"`), the
cross-entropy cost (`cost="cross-entropy"`) and L2 regularisation (`l2=lambda`).

Parameters are float32. Each layer keeps its weights and biases in one matrix of shape
(n_out, n_in + 1), the bias as the last column: a layer is then a single matrix product of
its input with a column of ones appended, which halves the numpy calls the trainer makes
per mini-batch. `weights[l]` and `biases[l]` are views into that matrix.

Training itself (mini-batch SGD with backpropagation) lives in `nn.sgd`.
"""

from __future__ import annotations

import numpy as np
from threadpoolctl import threadpool_limits

# One BLAS thread per process. Our matrices are small (a batch of 10 is 10 x 785): a
# multithreaded BLAS gains nothing on them, and on a server with few cores its spinning
# threads make every product many times slower as soon as another run or the page takes a
# core (docs/measuring.md, "Training speed"). Parallelism comes from running separate
# training runs instead.
threadpool_limits(limits=1, user_api="blas")

INITS = ("normal", "scaled")
COSTS = ("quadratic", "cross-entropy")
L2_MAX = 1000.0  # largest L2 lambda a network, a run's settings or a model file may use
DTYPE = np.float32
_CHUNK = 1024  # images per block when feeding a large batch forward


# Constants as 0-d float32 arrays: a ufunc call with one is ~0.3 us cheaper than with a Python
# float, which matters in the trainer's ~30 calls per mini-batch of 10 (see nn.sgd).
ONE_HALF = np.array(0.5, dtype=DTYPE)


def sigmoid(z: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """The logistic function 1 / (1 + e^-z), written through tanh so that no input overflows.

    sigma(z) = (1 + tanh(z / 2)) / 2; exp(-z) overflows float32 for z < -88, tanh never does.
    Works in place when `out` is `z` (the trainer's way, see nn.sgd).
    """
    out = np.multiply(z, ONE_HALF, out=out)
    np.tanh(out, out=out)
    np.multiply(out, ONE_HALF, out=out)
    np.add(out, ONE_HALF, out=out)
    return out


def as_unit_float(images: np.ndarray) -> np.ndarray:
    """Images as float32 in [0, 1]: uint8 pixels (0-255, as MNIST stores them) are scaled."""
    images = np.asarray(images)
    if images.dtype == np.uint8:
        return np.multiply(images, np.float32(1 / 255), dtype=DTYPE)
    return images.astype(DTYPE, copy=False)


def layers_label(sizes) -> str:
    """How the project writes a network's layers: '[784, 30, 10]'."""
    return "[" + ", ".join(str(int(n)) for n in sizes) + "]"


def check_options(init, cost, l2) -> None:
    """Raise ValueError, naming the option, unless a network can use init, cost and l2.

    The one check of these options: `Network`, a run's `Settings` and model files use it.
    """
    if init not in INITS:
        raise ValueError(f"initialisation must be one of {INITS}, got {init!r}")
    if cost not in COSTS:
        raise ValueError(f"cost must be one of {COSTS}, got {cost!r}")
    number = isinstance(l2, (int, float, np.integer, np.floating)) and not isinstance(l2, bool)
    if not (number and np.isfinite(l2) and 0 <= l2 <= L2_MAX):
        raise ValueError(
            f"L2 regularisation lambda must be a number from 0 to {L2_MAX:g}, got {l2!r}"
        )


class Network:
    """A [784, N, ..., 10] network of sigmoid neurons; see the module docstring."""

    def __init__(
        self,
        sizes,
        *,
        init: str = "normal",
        cost: str = "quadratic",
        l2: float = 0.0,
        seed: int | None = None,
    ):
        sizes = [int(s) for s in sizes]
        if len(sizes) < 2 or min(sizes) < 1:
            raise ValueError(f"a network needs at least two layers of >= 1 neuron, got {sizes}")
        check_options(init, cost, l2)
        self.sizes = sizes
        self.init, self.cost, self.l2 = init, cost, float(l2)
        rng = np.random.default_rng(seed)
        self.params = [
            self._initial_layer(rng, n_in, n_out) for n_in, n_out in zip(sizes[:-1], sizes[1:])
        ]

    def _initial_layer(self, rng, n_in: int, n_out: int) -> np.ndarray:
        scale = 1.0 if self.init == "normal" else 1.0 / np.sqrt(n_in)
        layer = np.empty((n_out, n_in + 1), dtype=DTYPE)
        layer[:, :-1] = rng.standard_normal((n_out, n_in)) * scale
        layer[:, -1] = rng.standard_normal(n_out)
        return layer

    @classmethod
    def from_arrays(cls, weights, biases, **options) -> Network:
        """A network with the given weights (n_out, n_in) and biases (n_out,) per layer."""
        sizes = [np.shape(weights[0])[1]] + [np.shape(w)[0] for w in weights]
        net = cls(sizes, seed=0, **options)
        for layer, w, b in zip(net.params, weights, biases):
            layer[:, :-1] = w
            layer[:, -1] = np.reshape(b, -1)
        return net

    @property
    def weights(self) -> list[np.ndarray]:
        return [layer[:, :-1] for layer in self.params]

    @property
    def biases(self) -> list[np.ndarray]:
        return [layer[:, -1] for layer in self.params]

    def _forward(self, a: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
        """The forward pass over a batch (n, n_in) of floats in [0, 1], the book's
        a' = sigma(w a + b) layer after layer: every layer's activations, input first, and
        the output layer's weighted input z (the cross-entropy cost is computed from z).

        This is the one forward pass of the project; `nn.sgd` replays the same products
        with preallocated buffers."""
        layers = [a]
        for layer in self.params:
            z = a @ layer[:, :-1].T
            z += layer[:, -1]
            a = sigmoid(z)
            layers.append(a)
        return layers, z

    def activations(self, x: np.ndarray) -> list[np.ndarray]:
        """Every layer's activations for one image (784,) or a batch (n, 784), input first."""
        a = as_unit_float(x)
        layers, _ = self._forward(np.atleast_2d(a))
        return [act[0] for act in layers] if a.ndim == 1 else layers

    def feedforward(self, x: np.ndarray) -> np.ndarray:
        """Output activations for one image (784,) -> (10,) or a batch (n, 784) -> (n, 10).

        A large batch goes through in blocks of `_CHUNK` images, converting uint8 pixels
        block by block, so that a float copy of all of them is never made.
        """
        x = np.asarray(x)
        if x.ndim == 1:
            return self.activations(x)[-1]
        blocks = [
            self._forward(as_unit_float(x[i : i + _CHUNK]))[0][-1] for i in range(0, len(x), _CHUNK)
        ]
        return np.concatenate(blocks) if blocks else np.empty((0, self.sizes[-1]), DTYPE)

    def predict(self, x: np.ndarray):
        """The answer: index of the largest output activation (an int, or an array for a batch)."""
        out = self.feedforward(x)
        return int(np.argmax(out)) if out.ndim == 1 else np.argmax(out, axis=1)

    def evaluate(self, images: np.ndarray, labels: np.ndarray) -> int:
        """How many images the network answers correctly."""
        return int(np.count_nonzero(self.predict(images) == np.asarray(labels)))

    def total_cost(self, images: np.ndarray, labels: np.ndarray) -> float:
        """The mean cost over the images, with the L2 term if the network uses it.

        Cross-entropy is computed from the weighted inputs with logaddexp, so saturated
        neurons (a exactly 0 or 1 in float32) give a large finite cost, never inf or NaN.
        """
        labels = np.asarray(labels)
        # one-hot rows; the label one past the last output (nn.sgd.NO_DIGIT) is all zeros
        targets = np.eye(self.sizes[-1] + 1, self.sizes[-1], dtype=DTYPE)
        total = 0.0
        for i in range(0, len(images), _CHUNK):
            layers, z = self._forward(as_unit_float(images[i : i + _CHUNK]))
            total += self._cost_sum(layers[-1], z, targets[labels[i : i + _CHUNK]])
        n = max(len(images), 1)
        penalty = 0.5 * self.l2 / n * sum(float(np.sum(np.square(w))) for w in self.weights)
        return total / n + penalty

    def _cost_sum(self, a: np.ndarray, z: np.ndarray, y: np.ndarray) -> float:
        if self.cost == "quadratic":
            return 0.5 * float(np.sum(np.square(a - y)))
        # -[y ln a + (1 - y) ln(1 - a)] with a = sigma(z): ln(1 + e^-z) and ln(1 + e^z).
        return float(np.sum(y * np.logaddexp(0, -z) + (1 - y) * np.logaddexp(0, z)))

    def __repr__(self) -> str:
        return (
            f"Network({layers_label(self.sizes)}, init={self.init!r}, cost={self.cost!r}, "
            f"l2={self.l2})"
        )
