"""How long a run has left, from its own measured speed, and how long a queued visitor waits.

Plain functions of plain numbers, so they are tested on constructed and recorded timelines.

`seconds_left(samples, epochs, end_cost)`: `samples` are a run's (training seconds, epochs
done) pairs as its reports brought them. Once a whole epoch is behind it, the speed is that
of its last epoch of progress, which includes everything an epoch costs (the mini-batches,
the measurements between epochs and the one at its end). During the first epoch the speed is
measured from the end of the first measurement (epoch 0, which costs time but makes no
progress) to now, and each epoch still to end adds `end_cost`, what one end-of-epoch
measurement takes (the page passes `END_COST_RATIO` times the first measurement's time: an
epoch's end measures 21,000 images where the first point measures 5,000).
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Sequence

END_COST_RATIO = 4.2  # (10,000 + 10,000 + 1,000) / (2,000 + 2,000 + 1,000) images measured


def seconds_left(
    samples: Sequence[tuple[float, float]], epochs: float, end_cost: float = 0.0
) -> float | None:
    """Training seconds left, or None while there is not yet enough to measure a speed."""
    if not samples:
        return None
    now, done = samples[-1]
    if done >= epochs:
        return 0.0
    if done >= 1:  # a whole epoch behind: the last epoch of progress, everything included
        start = next(
            (s for s in reversed(samples) if s[1] <= done - 1), samples[0]
        )  # the newest sample at least one epoch back
        spent, gained = now - start[0], done - start[1]
        extra = 0.0
    else:  # the first epoch: from the end of the first measurement
        start = next((s for s in reversed(samples) if s[1] == 0), None)
        if start is None:
            start = samples[0]
        spent, gained = now - start[0], done - start[1]
        extra = max(0.0, end_cost) * (math.ceil(epochs) - math.floor(done))
    if gained <= 0 or spent <= 0:
        return None
    return (epochs - done) * spent / gained + extra


def expected_wait(busy_for: Sequence[float], slots: int, ahead: Sequence[float]) -> float:
    """Seconds until a queued job starts: the slots' jobs end after `busy_for` seconds
    (free slots are 0), and the jobs queued ahead of it, first come first served, take
    `ahead` seconds each."""
    free_at = sorted(max(0.0, b) for b in busy_for)[:slots]
    free_at += [0.0] * (max(1, slots) - len(free_at))
    heapq.heapify(free_at)
    for duration in ahead:
        heapq.heappush(free_at, heapq.heappop(free_at) + max(0.0, duration))
    return free_at[0]
