"""One step of SGD looked at closely: what the page's step panel shows of the mini-batch just done.

While a run steps or goes in slow motion (`nn.protocol.Step`, `SetSpeed("slow")`), the trainer
takes each mini-batch's step through `look_at_step` instead of `SGD.step` alone: the same step
(the fast path of `nn.sgd` changes the network), with the book's quantities of chapter 2
computed beside it for that batch, in plain numpy, by the run's worker process:

- the network's outputs a^L and the desired outputs y of the batch's first `SHOWN` examples;
- BP1, the output error delta^L = (a^L - y) * sigma'(z^L) (for cross-entropy, a^L - y);
- BP2, the hidden layer's error delta^l = (w^(l+1)T delta^(l+1)) * sigma'(z^l);
- BP4 at work: the change the step made to one hidden neuron's 784 weights (the one asked
  for, else the one whose weights changed most), -(eta/m) sum_x delta_j^x a^(l-1),x (with
  weight decay, if any, folded in: it is the change the network actually underwent);
- the cost of the batch (its examples' mean, without the L2 term) before and after the step.

What it returns is bounded whatever the settings: at most `SHOWN` images and rows, one row
of 784 changes, one number per hidden neuron (at most a few kilobytes beside the images).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .network import DTYPE, Network, as_unit_float
from .sgd import SGD

SHOWN = 10  # examples of a mini-batch shown (and sent) at most


@dataclass(frozen=True)
class StepLook:
    number: int  # the mini-batch's number in the run, from 0
    epoch: float  # where the run was when it began (epochs, fractional)
    eta: float
    size: int  # examples in the mini-batch (m)
    images: np.ndarray  # (k, 784) uint8: its first k <= SHOWN images
    labels: np.ndarray  # (k,) their digits: the desired outputs y are one-hot of these
    outputs: np.ndarray  # (k, 10) a^L before the step
    delta_out: np.ndarray  # (k, 10) BP1
    delta_hidden: np.ndarray  # (k, hidden) BP2
    cost_before: float  # the batch's mean cost before the step
    cost_after: float  # and after it
    neuron: int  # the hidden neuron whose weight change is in `weight_change`
    weight_change: np.ndarray  # (784,) that neuron's change of weights (BP4 at work)
    changes: np.ndarray  # (hidden,) root-mean-square weight change of every hidden neuron

    @property
    def nbytes(self) -> int:
        arrays = (self.images, self.labels, self.outputs, self.delta_out, self.delta_hidden)
        return sum(a.nbytes for a in (*arrays, self.weight_change, self.changes))


def look_at_step(
    net: Network,
    sgd: SGD,
    batch: np.ndarray,
    eta: float,
    *,
    number: int = 0,
    epoch: float = 0.0,
    neuron: int | None = None,
) -> StepLook:
    """Take SGD's step on `batch` (as `sgd.step` does) and return what it did, seen closely.
    `neuron`: the hidden neuron whose weight change to keep (None, or out of range: the one
    that changed most)."""
    if len(net.sizes) != 3:
        raise ValueError("a step can be looked at for [784, N, 10] networks only")
    m = len(batch)
    pixels = sgd.images[batch]
    x, y = as_unit_float(pixels), sgd.targets[batch]
    (_, hidden, out), z = net._forward(x)
    cost_before = net._cost_sum(out, z, y) / m
    delta_out = out - y  # BP1 (cross-entropy: sigma'(z^L) cancels)
    if net.cost == "quadratic":
        delta_out *= out * (1 - out)
    delta_hidden = (delta_out @ net.weights[1]) * (hidden * (1 - hidden))  # BP2
    before = net.weights[0].copy()
    sgd.step(batch, eta)
    change = net.weights[0] - before  # (hidden, 784): BP4's gradient, times -eta/m
    _, z_after = net._forward(x)
    cost_after = net._cost_sum(net._forward(x)[0][-1], z_after, y) / m
    changes = np.sqrt(np.mean(np.square(change), axis=1)).astype(DTYPE)
    if neuron is None or not 0 <= neuron < len(changes):
        neuron = int(np.argmax(changes))
    k = min(m, SHOWN)
    return StepLook(
        number=number,
        epoch=epoch,
        eta=float(eta),
        size=m,
        images=pixels[:k].copy(),
        labels=np.argmax(y[:k], axis=1).astype(np.uint8),
        outputs=out[:k].astype(DTYPE),
        delta_out=delta_out[:k].astype(DTYPE),
        delta_hidden=delta_hidden[:k].astype(DTYPE),
        cost_before=float(cost_before),
        cost_after=float(cost_after),
        neuron=neuron,
        weight_change=change[neuron].astype(DTYPE),
        changes=changes,
    )
