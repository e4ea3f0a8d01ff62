"""How long a run has left, from its own measured speed, and how long a queued visitor waits.

Plain functions of plain numbers, so they are tested on constructed and recorded timelines.

`seconds_left(samples, epochs, measures, report_every)`: `samples` are a run's (training
seconds, epochs done) pairs as its reports brought them (about every 0.2 s), `measures` the
training seconds at which each metric point was taken, with whether it was an epoch's end.
A run's time goes to two things, told apart by the samples: between two samples with no
measurement in between, it trained, and those give the mini-batches' speed; two samples
around a measurement also include its cost, which is what they took beyond that speed. The
time left is the mini-batches left at that speed, plus the measurements still to come (one
every `report_every` s, and one at each epoch's end; an end's cost, until one is seen, is
`END_COST_RATIO` times a between-epochs one). Only the newest `WINDOW` samples count, so the
estimate follows a machine that gets busier or quieter.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Sequence

WINDOW = 100  # samples (about 20 s of reports)
END_COST_RATIO = 4.2  # (10,000 + 10,000 + 1,000) / (2,000 + 2,000 + 1,000) images measured


def seconds_left(
    samples: Sequence[tuple[float, float]],
    epochs: float,
    measures: Sequence[tuple[float, bool]] = (),
    report_every: float = 0.5,
) -> float | None:
    """Training seconds left, or None while there is not yet enough to measure a speed."""
    if not samples:
        return None
    now, done = samples[-1]
    if done >= epochs:
        return 0.0
    samples = samples[-WINDOW:]
    times = sorted(measures)
    trained = gained = 0.0
    spans = []  # (seconds, epochs gained, end?) of the pairs around a measurement
    for (t0, p0), (t1, p1) in zip(samples, samples[1:]):
        inside = [end for t, end in times if t0 < t <= t1]
        if inside:
            spans.append((t1 - t0, p1 - p0, any(inside)))
        else:
            trained, gained = trained + t1 - t0, gained + p1 - p0
    if gained <= 0 and measures:  # every pair had a measurement (early on): assume each
        first = min(measures)[0]  # cost what the first one did
        trained = sum(t - first for t, _, _ in spans)
        gained = sum(g for _, g, _ in spans)
    if gained <= 0 or trained <= 0:
        return None
    per_epoch = trained / gained  # seconds of mini-batches per epoch
    partial = [max(0.0, t - g * per_epoch) for t, g, end in spans if not end]
    full = [max(0.0, t - g * per_epoch) for t, g, end in spans if end]
    partial_cost = sum(partial) / len(partial) if partial else 0.0
    full_cost = sum(full) / len(full) if full else END_COST_RATIO * partial_cost
    train_left = (epochs - done) * per_epoch
    between = train_left / report_every if report_every > 0 else 0.0
    ends_left = math.ceil(epochs) - math.floor(done)
    return train_left + between * partial_cost + ends_left * full_cost


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
