"""The page's uncertainty rule (nn.verdict) with the shipped default, on drawings it never saw.

Non-digits (taps, dots, dashes, lines, scribbles, zigzags, spirals, letters and signs) and
digits in the world's styles come from benchmarks/world.py, a generator written apart from
the training data's (nn.glyphs), drawn with the page's 22 px pen and prepared like a drawing
on the page (nn.preprocess.prepare: the image and what the canvas says about the drawing,
which judge also gets). Issue 14's targets: at least 95 % of non-digits get no plain digit; at
least 98 % of real digits (world styles, MNIST's test set) still get one. Asserted here: the
second; the first for what the drawing's shape gives away (taps, dots, lines far from upright,
short dashes), and for all of them together. The shipped default (trained with
`--non-digits 30`) holds back 96.7 % of this sample with the rules on the drawing (faces,
short dashes; 95.5 % of benchmarks/bench_world.py's 1,120). Before the generator's "stopped
short" hand was fixed (it could drop a letter's whole last straight stroke, see
assets/models/README.md) the figures were 95.8 % (95.1 %), 94.6 % without the rules on the
drawing (93.0 %); the default before it 84.5 % (86.1 %); the one before that, trained on
digits only, 31 %
(assets/models/README.md has the numbers, and says which rule was revised after a look at
the held-out set), which this test prints per family. A smaller sample than
benchmarks/bench_world.py's, same generator: seconds, so outside the fast loop.
"""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks import world
from nn.models import SHIPPED
from nn.preprocess import prepare
from nn.verdict import DIGIT, judge

pytestmark = pytest.mark.slow

NON_DIGITS_HELD_BACK = 0.95
ALL_HELD_BACK = 0.95  # issue 14's target; the shipped default: 96.7 % of this sample
DIGITS_PLAIN = 0.98


@pytest.fixture(scope="module")
def net():
    network, _meta = SHIPPED[0].load()
    return network


def plain(net, images: list[np.ndarray], facts: list | None = None) -> np.ndarray:
    """Whether the page gives a plain digit for each image, with what the canvas said about
    the drawing (`nn.preprocess.prepare`'s facts) where there was a canvas."""
    outputs = net.feedforward(np.stack(images).reshape(len(images), 784))
    facts = [None] * len(images) if facts is None else facts
    return np.array([judge(im, out, d).kind == DIGIT for im, out, d in zip(images, outputs, facts)])


def test_non_digits_get_no_plain_digit(net):
    images, facts, families = [], [], []
    for canvas, family in world.non_digits(per_family=12, seed=1401):
        prepared = prepare(canvas)
        if prepared is not None:  # None: the page asks to draw, no digit either
            images.append(prepared[0])
            facts.append(prepared[1])
            families.append(family)
    given = plain(net, images, facts)
    families = np.array(families)
    shares = {
        f: round(1 - float(given[families == f].mean()), 2)
        for f in dict.fromkeys(families.tolist())
    }
    print(f"\nnon-digits held back: {1 - given.mean():.2%} of {len(given)}: {shares}")
    # What the drawing's shape gives away, whatever the network: never a plain digit for a
    # tap or a dot, (almost) never for a line lying far from upright or a short dash.
    assert shares["tap"] == 1 and shares["dot"] == 1
    shaped = np.isin(families, ["tap", "dot", "horizontal line", "slanted line", "short dash"])
    assert 1 - given[shaped].mean() >= NON_DIGITS_HELD_BACK
    # Letters, signs, faces and scribbles too: the default learned that no output fires for
    # most of them, and a face's eyes give it away on the canvas.
    assert 1 - given.mean() >= ALL_HELD_BACK


def test_real_digits_still_get_a_plain_answer(net, mnist_data):
    prepared = [prepare(c) for c, *_ in world.digits(per_digit=40, seed=1402, fonts=False)]
    drawn = [p[0] for p in prepared if p is not None]
    share = plain(net, drawn, [p[1] for p in prepared if p is not None]).mean()
    mnist = mnist_data.test_images[:3000].reshape(-1, 28, 28).astype(np.float32) / 255
    mnist_share = plain(net, list(mnist)).mean()
    print(f"\nplain answers: world styles {share:.2%} of {len(drawn)}, MNIST {mnist_share:.2%}")
    assert share >= DIGITS_PLAIN and mnist_share >= DIGITS_PLAIN
