"""Teaching a network a visitor's own handwriting, without making it forget MNIST.

`fine_tune(net, drawings, labels, replay=(images, labels), test=(images, labels))` trains a
COPY of `net` for a few rounds of mini-batch SGD (`nn.sgd.SGD`, the same code every run
uses) on a small set that mixes:

- the taught drawings, each repeated `copies` times (a drawing seen once among a thousand
  MNIST digits would barely move the weights), and
- a fresh random sample of `replay_size` MNIST training digits per round (replay: without
  it the network would learn "everything looks like the taught digit" and forget the rest).

It stops as soon as the copy reads every taught drawing as its label, after at least one
round and at most `max_rounds`. The original network is never modified. The result says
what it cost: the test accuracy before and after, and how long it took.

`fine_tune` is a plain function (tests, the CLI, benchmarks). The page does not call it in
its own process: it is training, so it runs in a training worker through the run manager
(`RunManager.submit_teach`), under the same slot limit and queue as training runs, where it
cannot stall other visitors' strokes.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass

import numpy as np

from .network import Network
from .sgd import SGD

MAX_TAUGHT = 12  # drawings a tab can teach at once
ETA = 0.2  # with the cross-entropy cost: gentle, it nudges a trained network


class TeachError(ValueError):
    """The drawings or labels cannot be taught (the message says why)."""


@dataclass(frozen=True)
class TeachResult:
    net: Network  # the fine-tuned copy
    answers: list[int]  # what the copy reads for each taught drawing
    answers_before: list[int]  # what the original read for them
    accuracy_before: float | None  # on the test set, when one was given
    accuracy_after: float | None
    rounds: int  # rounds of SGD run (each: one pass over the mixed set)
    steps: int  # mini-batch steps in all
    seconds: float  # wall time of the fine-tune itself (not the waiting)


def as_pixels(drawings) -> np.ndarray:
    """Prepared (k, 28, 28) drawings in [0, 1] as uint8 rows (k, 784), as MNIST stores them."""
    drawings = np.asarray(drawings, dtype=np.float32)
    if drawings.ndim == 2:
        drawings = drawings[None]
    if drawings.ndim != 3 or drawings.shape[1:] != (28, 28):
        raise TeachError(f"drawings must be 28 x 28 images, got shape {drawings.shape}")
    pixels = np.clip(np.nan_to_num(drawings), 0, 1).reshape(len(drawings), -1)
    return np.rint(pixels * 255).astype(np.uint8)


def check_lesson(net: Network, drawings, labels) -> tuple[np.ndarray, np.ndarray]:
    """The drawings as uint8 pixel rows and the labels as digits, or TeachError saying why
    they cannot be taught to `net`."""
    if len(drawings) == 0:
        raise TeachError("nothing to teach: no drawings")
    pixels = as_pixels(drawings)
    labels = np.asarray(labels).reshape(-1)
    if len(pixels) > MAX_TAUGHT:
        raise TeachError(f"at most {MAX_TAUGHT} drawings can be taught at once")
    if len(labels) != len(pixels):
        raise TeachError(f"{len(pixels)} drawings but {len(labels)} labels")
    if not all(float(d).is_integer() and 0 <= d <= 9 for d in labels):
        raise TeachError("each label must be a digit from 0 to 9")
    if net.sizes[0] != 784 or net.sizes[-1] != 10:
        raise TeachError(f"only [784, ..., 10] networks can be taught, not {net.sizes}")
    return pixels, labels.astype(np.intp)


def fine_tune(
    net: Network,
    drawings,
    labels,
    *,
    replay: tuple[np.ndarray, np.ndarray],
    test: tuple[np.ndarray, np.ndarray] | None = None,
    copies: int = 10,
    replay_size: int = 500,
    batch_size: int = 10,
    max_rounds: int = 30,
    eta: float | None = None,
    seed: int = 0,
) -> TeachResult:
    """Fine-tune a copy of `net` on the taught drawings mixed with replayed MNIST digits."""
    pixels, labels = check_lesson(net, drawings, labels)
    replay_images, replay_labels = replay
    if len(replay_images) == 0:
        raise TeachError("no MNIST digits to replay")
    eta = ETA if eta is None else float(eta)
    start = time.perf_counter()
    result = _fine_tune(
        net,
        pixels,
        labels,
        replay_images,
        replay_labels,
        test,
        copies,
        replay_size,
        batch_size,
        max_rounds,
        eta,
        seed,
    )
    return dataclasses.replace(result, seconds=time.perf_counter() - start)


def _fine_tune(
    net,
    pixels,
    labels,
    replay_images,
    replay_labels,
    test,
    copies,
    replay_size,
    batch_size,
    max_rounds,
    eta,
    seed,
) -> TeachResult:
    # The copy trains without L2: SGD scales weight decay by the size of the set it trains
    # on, and a few hundred images would shrink every weight far more than MNIST's 50,000.
    # It also learns with the cross-entropy cost whatever the network's own: with the
    # quadratic cost a confidently wrong output neuron (activation near 0 or 1) has a
    # near-zero gradient and barely moves (the learning slowdown of the book's chapter 3).
    pupil = Network.from_arrays(net.weights, net.biases, init=net.init, cost="cross-entropy")
    rng = np.random.default_rng([seed, len(pixels)])
    taught_x = np.repeat(pixels, copies, axis=0)
    taught_y = np.repeat(labels, copies)
    answers_before = [int(a) for a in net.predict(pixels.astype(np.float32) / 255)]
    rounds = steps = 0
    while rounds < max_rounds:
        pick = rng.choice(
            len(replay_images), size=min(replay_size, len(replay_images)), replace=False
        )
        images = np.concatenate([taught_x, np.asarray(replay_images[pick], dtype=np.uint8)])
        targets = np.concatenate([taught_y, np.asarray(replay_labels[pick], dtype=np.intp)])
        trainer = SGD(pupil, images, targets)
        for batch in trainer.shuffled_batches(rng, batch_size):
            trainer.step(batch, eta)
            steps += 1
        rounds += 1
        if np.array_equal(pupil.predict(pixels.astype(np.float32) / 255), labels):
            break
    pupil.cost, pupil.l2 = net.cost, net.l2
    answers = [int(a) for a in pupil.predict(pixels.astype(np.float32) / 255)]
    before = after = None
    if test is not None:
        before = net.evaluate(*test) / len(test[0])
        after = pupil.evaluate(*test) / len(test[0])
    return TeachResult(
        net=pupil,
        answers=answers,
        answers_before=answers_before,
        accuracy_before=before,
        accuracy_after=after,
        rounds=rounds,
        steps=steps,
        seconds=0.0,
    )
