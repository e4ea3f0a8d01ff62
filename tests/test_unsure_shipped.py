"""The page's uncertainty rule (nn.verdict) with the shipped default, on drawings it never saw.

Non-digits (taps, dots, dashes, lines, scribbles, zigzags, spirals, letters and signs) and
digits in the world's styles come from benchmarks/world.py, a generator written apart from
the training data's (nn.glyphs), drawn with the page's 22 px pen and prepared like a
drawing. Issue 14's targets: at least 95 % of non-digits get no plain digit; at least 98 %
of real digits (world styles, MNIST's test set) still get one. Asserted here: the second; the
first for what the drawing's shape gives away (taps, dots, lines far from upright); and for
all of them together at least the share the shipped default reaches today (trained with
`--non-digits 30` and pen-drawn letters, boxes, faces and dashes among its non-digits, it
holds back 93.0 % of benchmarks/bench_world.py's 1,120, 94.6 % of this sample; the default
before it, trained with fewer kinds of non-digits, 86.1 % and 84.5 %; the one before that,
trained on digits only, 31 %), short of 95 % on the full set (assets/models/README.md has the
numbers), which this test prints per family. A smaller
sample than benchmarks/bench_world.py's, same generator: tens of seconds, so outside the fast
loop.
"""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks import world
from nn.models import SHIPPED
from nn.preprocess import canvas_to_mnist
from nn.verdict import DIGIT, judge

pytestmark = pytest.mark.slow

NON_DIGITS_HELD_BACK = 0.95
ALL_HELD_BACK = 0.92  # the shipped default: 94.6 % of this sample (issue 14's target: 0.95)
DIGITS_PLAIN = 0.98


@pytest.fixture(scope="module")
def net():
    network, _meta = SHIPPED[0].load()
    return network


def plain(net, images: list[np.ndarray]) -> np.ndarray:
    outputs = net.feedforward(np.stack(images).reshape(len(images), 784))
    return np.array([judge(im, out).kind == DIGIT for im, out in zip(images, outputs)])


def test_non_digits_get_no_plain_digit(net):
    images, families = [], []
    for canvas, family in world.non_digits(per_family=12, seed=1401):
        image = canvas_to_mnist(canvas)
        if image is not None:  # None: the page asks to draw, no digit either
            images.append(image)
            families.append(family)
    given = plain(net, images)
    families = np.array(families)
    shares = {
        f: round(1 - float(given[families == f].mean()), 2)
        for f in dict.fromkeys(families.tolist())
    }
    print(f"\nnon-digits held back: {1 - given.mean():.2%} of {len(given)}: {shares}")
    # What the drawing's shape gives away, whatever the network: never a plain digit for a
    # tap or a dot, (almost) never for a line lying far from upright.
    assert shares["tap"] == 1 and shares["dot"] == 1
    shaped = np.isin(families, ["tap", "dot", "horizontal line", "slanted line"])
    assert 1 - given[shaped].mean() >= NON_DIGITS_HELD_BACK
    # Letters, signs and scribbles too: the default learned that no output fires for them.
    assert 1 - given.mean() >= ALL_HELD_BACK


def test_real_digits_still_get_a_plain_answer(net, mnist_data):
    drawn = [canvas_to_mnist(c) for c, *_ in world.digits(per_digit=40, seed=1402, fonts=False)]
    share = plain(net, drawn).mean()
    mnist = mnist_data.test_images[:3000].reshape(-1, 28, 28).astype(np.float32) / 255
    mnist_share = plain(net, list(mnist)).mean()
    print(f"\nplain answers: world styles {share:.2%} of {len(drawn)}, MNIST {mnist_share:.2%}")
    assert share >= DIGITS_PLAIN and mnist_share >= DIGITS_PLAIN
