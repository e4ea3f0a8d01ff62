"""Mini-batch stochastic gradient descent with backpropagation, a whole batch at once.

The book (Nielsen, chapter 2) loops over the examples of a mini-batch in Python. Here a
mini-batch is a few matrix products, one per layer and direction, over all m examples; the
calls below are marked with the book's four equations of backpropagation:

    BP1  delta^L = (a^L - y) * sigma'(z^L)            output error (quadratic cost;
                                                      for cross-entropy just a^L - y)
    BP2  delta^l = (w^(l+1)T delta^(l+1)) * sigma'(z^l)   the error, one layer back
    BP3  dC/db^l = delta^l                             bias gradient
    BP4  dC/dw^l = delta^l a^(l-1)T                    weight gradient

and then the step itself, w -> (1 - eta lambda / n) w - (eta / m) sum dC/dw, with
b -> b - (eta / m) sum dC/db. `tests/test_sgd.py` checks this against a plain version of the
same equations written for clarity, not speed.

At the book's batch size of 10 the arithmetic is tiny and what costs is the number of numpy
calls and the Python around them. So:

- every buffer is allocated once, and every call writes in place;
- the inputs carry a column of ones, so a layer's bias is the last column of its matrix and
  one product gives BP3 and BP4 together;
- the output error is scaled by eta/m once; every gradient derived from it is then already
  the update to subtract;
- the training images stay uint8 (one copy shared by every run); a batch is gathered into a
  uint8 buffer whose last column holds 255, cast into the input buffer, and then the whole
  buffer is scaled by 1/255: pixels in [0, 1] and a bias input of 1 (a contiguous
  multiplication is cheaper than casting and scaling into the strided view of the pixels);
- constants are 0-d float32 arrays and the hidden activations have a contiguous copy for
  the backward pass, both cheaper per call than Python floats and strided views;
- the calls of one step for one batch size are built once as a flat list of (function,
  arguments) and replayed for every batch; the only things that change between batches,
  the indices and eta, live in small arrays that the list refers to.

`SGD.step` returns the batch's mean cost before the step, read off the forward pass the step
does anyway (the output error a - y, before backpropagation scales it): one more matrix
product for the quadratic cost, five small calls for cross-entropy, on (m, 10) numbers. The
trainer keeps these for the chart of every mini-batch's cost (`nn.trainer.CostBin`).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .network import DTYPE, Network, sigmoid

ONE = np.array(1.0, dtype=DTYPE)
TINY = np.array(np.finfo(DTYPE).tiny, dtype=DTYPE)  # ln(1 - |a - y|) stays finite when saturated
INV255 = np.array(1 / 255, dtype=DTYPE)


NO_DIGIT = 10  # the label of a training drawing that is no digit: every output's target is 0


class SGD:
    """Trains a `Network` in place on uint8 images (n, n_in) with integer labels; a label equal
    to the number of outputs (NO_DIGIT for ten) means "no digit": all targets 0."""

    def __init__(self, net: Network, images: np.ndarray, labels: np.ndarray):
        if images.dtype != np.uint8 or images.ndim != 2 or images.shape[1] != net.sizes[0]:
            raise ValueError(f"images must be uint8 of shape (n, {net.sizes[0]})")
        if len(labels) != len(images):
            raise ValueError("images and labels differ in length")
        self.net, self.images = net, images
        # Each image's desired output y (one-hot), gathered per batch in one call. The label
        # NO_DIGIT (one past the last output) asks for every output low: a drawing that is no
        # digit (nn.glyphs.non_digit_set). It adds no output: the network keeps its ten.
        outputs = net.sizes[-1]
        self.targets = np.eye(outputs + 1, outputs, dtype=DTYPE)[np.asarray(labels, dtype=np.intp)]
        self._programs: dict[int, tuple] = {}

    def shuffled_batches(self, rng: np.random.Generator, batch_size: int) -> list[np.ndarray]:
        """The index arrays of one epoch's mini-batches, in a fresh random order."""
        order = rng.permutation(len(self.images))
        return [order[i : i + batch_size] for i in range(0, len(order), batch_size)]

    def step(self, batch: np.ndarray, eta: float) -> float:
        """One gradient-descent step on the examples whose indices are in `batch`; returns
        their mean cost before the step (without the L2 term), from the step's own forward
        pass."""
        m = len(batch)
        program = self._programs.get(m) or self._build(m)
        index, rate, calls, total, scale = program
        index[:] = batch
        rate[...] = eta / m
        for fn, args in calls:
            fn(*args)
        return float(total[0, 0]) * scale

    def _build(self, m: int) -> tuple:
        """Allocate the buffers for batches of m examples and list the calls of one step."""
        net, sizes, params = self.net, self.net.sizes, self.net.params
        last = len(params) - 1
        index = np.zeros(m, dtype=np.intp)
        rate = np.zeros((), dtype=DTYPE)  # eta / m
        # the gathered pixels with a trailing column of 255, the bias's input once scaled
        pixels = np.full((m, sizes[0] + 1), 255, dtype=np.uint8)
        target = np.empty((m, sizes[-1]), dtype=DTYPE)
        # inputs[l]: layer l's input with a trailing column of ones, the bias's input.
        inputs = [np.ones((m, n + 1), dtype=DTYPE) for n in sizes[:-1]]
        acts = [np.empty((m, n), dtype=DTYPE) for n in sizes[1:]]  # z, then sigma(z)
        deltas = [np.empty((m, n), dtype=DTYPE) for n in sizes[1:]]
        slopes = [np.empty((m, n), dtype=DTYPE) for n in sizes[1:]]
        grads = [np.empty_like(layer) for layer in params]

        # Gather the batch (a bound .take skips np.take's Python wrapper), pixels to [0, 1].
        # The whole input buffer, bias column included, is rewritten from `pixels` every step:
        # scaling it in place must never meet a bias input already scaled by an earlier step.
        calls: list[tuple[Callable[..., object], tuple]] = [
            (self.images.take, (index, 0, pixels[:, :-1])),
            (np.copyto, (inputs[0], pixels)),
            (np.multiply, (inputs[0], INV255, inputs[0])),
            (self.targets.take, (index, 0, target)),
        ]
        for l, layer in enumerate(params):  # forward: a = sigma(w a_in + b), in place
            calls += [(np.matmul, (inputs[l], layer.T, acts[l])), (sigmoid, (acts[l], acts[l]))]
            if l < last:
                calls.append((np.copyto, (inputs[l + 1][:, :-1], acts[l])))
        out, delta = acts[last], deltas[last]
        calls.append((np.subtract, (out, target, delta)))  # BP1
        total = np.zeros((1, 1), dtype=DTYPE)  # the batch's cost, summed (see `step`)
        calls += _cost_sum(net.cost, delta, total)
        if net.cost == "quadratic":
            calls += _times_slope(out, slopes[last], delta)
        calls.append((np.multiply, (delta, rate, delta)))  # from here on, scaled by eta/m
        for l in range(last, -1, -1):
            layer = params[l]
            if l > 0:  # BP2, before this layer's weights change
                calls += [
                    (np.matmul, (deltas[l], layer[:, :-1], deltas[l - 1])),
                    *_times_slope(acts[l - 1], slopes[l - 1], deltas[l - 1]),
                ]
            calls.append((np.matmul, (deltas[l].T, inputs[l], grads[l])))  # BP3 and BP4
            if net.l2 > 0:  # weight decay: w -> (1 - eta lambda / n) w, biases untouched
                decay = np.zeros((), dtype=DTYPE)
                calls.append((_decay, (rate, m * net.l2 / len(self.images), decay)))
                calls.append((np.multiply, (layer[:, :-1], decay, layer[:, :-1])))
            calls.append((np.subtract, (layer, grads[l], layer)))
        scale = 0.5 / m if net.cost == "quadratic" else -1.0 / m
        self._programs[m] = (index, rate, calls, total, scale)
        return self._programs[m]


def _cost_sum(cost: str, error: np.ndarray, total: np.ndarray) -> list:
    """Calls that put the batch's summed cost, up to the factor `step` applies, into `total`
    (1, 1), from the output error a - y. Quadratic: sum (a - y)^2 (times 1/2m). Cross-entropy,
    whose y is 0 or 1: -[y ln a + (1 - y) ln(1 - a)] = -ln(1 - |a - y|), so sum ln(1 - |a - y|)
    (times -1/m; a saturated output counts as ln of float32's smallest, not -inf)."""
    flat = error.reshape(1, -1)
    if cost == "quadratic":
        return [(np.matmul, (flat, flat.T, total))]
    scratch = np.empty_like(flat)
    ones = np.ones_like(flat)
    return [
        (np.abs, (flat, scratch)),
        (np.subtract, (ONE, scratch, scratch)),
        (np.add, (scratch, TINY, scratch)),  # changes nothing but an exact 0
        (np.log, (scratch, scratch)),
        (np.matmul, (ones, scratch.T, total)),
    ]


def _times_slope(a: np.ndarray, slope: np.ndarray, delta: np.ndarray) -> list:
    """delta *= sigma'(z), with sigma'(z) = a (1 - a) for a = sigma(z)."""
    return [
        (np.subtract, (ONE, a, slope)),
        (np.multiply, (slope, a, slope)),
        (np.multiply, (delta, slope, delta)),
    ]


def _decay(rate: np.ndarray, m_lambda_over_n: float, decay: np.ndarray) -> None:
    """decay = 1 - eta lambda / n, where rate = eta / m."""
    decay[...] = 1.0 - rate * m_lambda_over_n
