"""Mini-batch stochastic gradient descent with backpropagation, a whole batch at once.

The book loops over the examples of a mini-batch in Python. Here a mini-batch is a few
matrix products: the forward pass keeps every layer's activations for all m examples, the
backward pass turns the output error into every layer's gradient with one product per
layer. At the book's batch size of 10 the arithmetic is tiny (about 20 us per batch for
[784, 30, 10]) and what costs is the number of numpy calls and the Python around them. So:

- every buffer is allocated once, and every call writes in place;
- the inputs carry a column of ones, so a layer's bias is the last column of its matrix
  and one product gives the gradients of both;
- the output error is scaled by eta/m once; every gradient derived from it is then already
  the update to subtract;
- the training images stay uint8 (one copy shared by every run); a batch is gathered and
  cast to float32 as pixel values 0-255, with a bias column of 255 instead of 1, and the
  first layer divides by 255 inside its sigmoid (whose first step is a multiplication
  anyway) and in its error: exactly the book's network on inputs in [0, 1], with one
  numpy call less than scaling the pixels;
- the sequence of calls for one batch size is built once as a flat list of (ufunc,
  arguments) and replayed for every batch; the only things that change between batches,
  the indices and eta, live in small arrays that the list refers to.

About 30 numpy calls per mini-batch for a [784, N, 10] network.
"""

from __future__ import annotations

import numpy as np

from .network import DTYPE, Network

_INV255 = 1.0 / 255.0


class SGD:
    """Trains a `Network` in place on uint8 images (n, n_in) with integer labels."""

    def __init__(self, net: Network, images: np.ndarray, labels: np.ndarray):
        if images.dtype != np.uint8 or images.ndim != 2 or images.shape[1] != net.sizes[0]:
            raise ValueError(f"images must be uint8 of shape (n, {net.sizes[0]})")
        if len(labels) != len(images):
            raise ValueError("images and labels differ in length")
        self.net, self.images = net, images
        self.labels = np.asarray(labels, dtype=np.intp)
        self._onehot = np.eye(net.sizes[-1], dtype=DTYPE)
        self._programs: dict[int, tuple] = {}

    def shuffled_batches(self, rng: np.random.Generator, batch_size: int) -> list[np.ndarray]:
        """The index arrays of one epoch's mini-batches, in a fresh random order."""
        order = rng.permutation(len(self.images))
        return [order[i:i + batch_size] for i in range(0, len(order), batch_size)]

    def step(self, batch: np.ndarray, eta: float) -> None:
        """One gradient-descent step on the examples whose indices are in `batch`."""
        m = len(batch)
        program = self._programs.get(m) or self._build(m)
        index, rate, calls = program
        index[:] = batch
        rate[...] = eta / m
        for fn, args in calls:
            fn(*args)

    def _build(self, m: int) -> tuple:
        """Allocate the buffers for batches of m examples and list the calls of one step."""
        net, sizes, params = self.net, self.net.sizes, self.net.params
        last = len(params) - 1
        index = np.zeros(m, dtype=np.intp)
        rate = np.zeros((), dtype=DTYPE)
        pixels = np.empty((m, sizes[0]), dtype=np.uint8)
        # acts[l]: layer l's activations with a trailing bias column (255 for the pixels).
        acts = [np.ones((m, n + 1), dtype=DTYPE) for n in sizes[:-1]]
        acts[0][:, -1] = 255.0
        out = np.empty((m, sizes[-1]), dtype=DTYPE)
        target = np.empty((m, sizes[-1]), dtype=DTYPE)
        labels = np.empty(m, dtype=np.intp)
        deltas = [np.empty((m, n), dtype=DTYPE) for n in sizes[1:]]
        slopes = [np.empty((m, n), dtype=DTYPE) for n in sizes[1:]]
        grads = [np.empty_like(layer) for layer in params]

        calls = [(self.images.take, (index, 0, pixels)),  # bound methods skip np.take's
                 (np.copyto, (acts[0][:, :-1], pixels)),  # Python wrapper
                 (self.labels.take, (index, 0, labels)),
                 (self._onehot.take, (labels, 0, target))]
        for l, layer in enumerate(params):  # forward: z into deltas[l], then a = sigma(z)
            a = out if l == last else acts[l + 1][:, :-1]
            calls += [(np.matmul, (acts[l], layer.T, deltas[l])),
                      *_sigmoid_calls(deltas[l], a, 0.5 * _INV255 if l == 0 else 0.5)]
        delta = deltas[last]  # backward: the output error dC/dz, scaled by eta/m
        calls.append((np.subtract, (out, target, delta)))
        if net.cost == "quadratic":  # (a - y) sigma'(z); for cross-entropy just a - y
            calls += _slope_calls(out, slopes[last], delta)
        calls.append((np.multiply, (delta, rate, delta)))
        for l in range(last, -1, -1):
            layer = params[l]
            if l > 0:  # propagate the error back before this layer's weights change
                calls += [(np.matmul, (deltas[l], layer[:, :-1], deltas[l - 1])),
                          *_slope_calls(acts[l][:, :-1], slopes[l - 1], deltas[l - 1])]
            if l == 0:
                calls.append((np.multiply, (deltas[0], _INV255, deltas[0])))
            calls.append((np.matmul, (deltas[l].T, acts[l], grads[l])))
            if net.l2 > 0:  # weight decay: w -> (1 - eta lambda / n) w, biases untouched
                decay = np.zeros((), dtype=DTYPE)
                calls.append((_decay, (rate, m * net.l2 / len(self.images), decay)))
                calls.append((np.multiply, (layer[:, :-1], decay, layer[:, :-1])))
            calls.append((np.subtract, (layer, grads[l], layer)))
        self._programs[m] = (index, rate, calls)
        return self._programs[m]


def _sigmoid_calls(z: np.ndarray, a: np.ndarray, half: float) -> list:
    """a = sigma(z / s) = (1 + tanh(z half)) / 2 in place (half = 1/2s): no overflow."""
    return [(np.multiply, (z, half, z)), (np.tanh, (z, z)),
            (np.multiply, (z, 0.5, a)), (np.add, (a, 0.5, a))]


def _slope_calls(a: np.ndarray, slope: np.ndarray, delta: np.ndarray) -> list:
    """delta *= sigma'(z), with sigma'(z) = a (1 - a)."""
    return [(np.subtract, (1.0, a, slope)), (np.multiply, (slope, a, slope)),
            (np.multiply, (delta, slope, delta))]


def _decay(rate: np.ndarray, m_lambda_over_n: float, decay: np.ndarray) -> None:
    """decay = 1 - eta lambda / n, where rate = eta / m."""
    decay[...] = 1.0 - rate * m_lambda_over_n
