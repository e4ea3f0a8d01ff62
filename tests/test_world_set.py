"""The held-out world-style generator (benchmarks/world.py) draws whole digits.

Its "stopped short" hand once kept a share of a stroke's points; a straight segment is one
point, so a 2 lost its whole base and a 9 its whole straight tail, and the held-out set
counted those hooks and loops as misread 2s and 9s (assets/models/README.md, last section).
"""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks import world


def length(points: np.ndarray) -> float:
    return float(np.linalg.norm(np.diff(points, axis=0), axis=1).sum())


@pytest.mark.parametrize("family", ["2 plain", "9 straight tail"])
@pytest.mark.parametrize("share", [0.85, 0.9, 0.97])
def test_a_stroke_stopped_short_keeps_most_of_its_last_straight_segment(family, share):
    (stroke,) = world.parse(world.DIGITS[family][1])
    points = world.trace(stroke)
    last = length(points[-2:])  # the final straight segment: one point of the trace
    short = world.stop_short(points, share)
    assert length(short) == pytest.approx(share * length(points))
    cut = length(points) - length(short)
    assert cut < last  # only part of the base (the tail) went
    assert length(short[-2:]) == pytest.approx(last - cut)  # ... and the rest is still drawn


def test_a_stroke_not_stopped_short_is_untouched():
    points = world.trace(world.parse(world.DIGITS["2 plain"][1])[0])
    assert np.array_equal(world.stop_short(points, 1.0), points)
