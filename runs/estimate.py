"""How long a run has left, from its own measured speed, and how long a queued visitor waits.

Plain functions of plain numbers, so they are tested on constructed and recorded timelines.

`seconds_left(samples, epochs, measures, report_every)`: `samples` are a run's (training
seconds, epochs done) pairs as its reports brought them (about every 0.2 s), `measures` the
training seconds at which each metric point was taken, with whether it was an epoch's end.
A run's time goes to two things, told apart by the samples: between two samples with no
measurement in between, it trained, and those give the mini-batches' speed; two samples
around a measurement also include its cost, which is what they took beyond that speed. The
time left is the mini-batches left at that speed, plus the measurements still to come: those
between epochs on the trainer's schedule (`partials_to_come`: an epoch shorter than
`report_every` takes none), and one at each epoch's end. Until an end is seen, its cost is
guessed as `END_COST_RATIO` times a between-epochs one measured from clean spans, or else as
the run's first measurement (epoch 0): the worker's first pass over the sets costs about what
an end does, so 4.2 times it counted the book's short runs' ends 3-4x too dear. Only the
newest `WINDOW` samples count, so the estimate follows a machine that gets busier or
quieter, and once the second epoch is under way the first no longer counts (`WARM_UP`).

A run's first epoch used to take 1.6-3x as long as the next ones on a busy machine, so every
estimate made during it was 1.2-5x too high. Timing each tenth of an epoch in a worker showed
it was not the worker itself (page faults on the shared MNIST, numpy's first calls, the
allocator: a worker alone trains its first tenth as fast as its tenth tenth) but the spare
worker the manager starts the moment a run takes the previous one: its interpreter warming up
took a share of the same cores. It now warms up at the lowest priority (`runs.worker_main`),
and the first epoch runs at the speed of the rest (`benchmarks/bench_estimate.py`; numbers in
benchmarks/RESULTS.md). `WARM_UP` stays for what can still slow a first epoch alone: a job
given a fresh worker while another one warms up beside it.
"""

from __future__ import annotations

import bisect
import heapq
import math
from collections.abc import Sequence
from typing import NamedTuple

WINDOW = 100  # samples (about 20 s of reports)
WARM_UP = 0.2  # epochs into the second one from which the first no longer counts
END_COST_RATIO = 4.2  # (10,000 + 10,000 + 1,000) / (2,000 + 2,000 + 1,000) images measured


class Terms(NamedTuple):
    """What an estimate is made of (`benchmarks/bench_estimate.py --debug` prints them)."""

    per_epoch: float  # seconds of mini-batches per epoch
    partial_cost: float  # seconds a measurement between epochs costs
    full_cost: float  # seconds an epoch's end costs
    full_seen: bool  # whether full_cost was measured (else guessed from partial_cost)
    train_left: float  # seconds of mini-batches left
    partials_left: float  # measurements between epochs still to come
    ends_left: int  # epochs' ends still to come

    @property
    def total(self) -> float:
        return (
            self.train_left
            + self.partials_left * self.partial_cost
            + self.ends_left * self.full_cost
        )


def seconds_left(
    samples: Sequence[tuple[float, float]],
    epochs: float,
    measures: Sequence[tuple[float, bool]] = (),
    report_every: float = 0.5,
) -> float | None:
    """Training seconds left, or None while there is not yet enough to measure a speed."""
    if samples and samples[-1][1] >= epochs:
        return 0.0
    terms = estimate_terms(samples, epochs, measures, report_every)
    return None if terms is None else terms.total


def estimate_terms(
    samples: Sequence[tuple[float, float]],
    epochs: float,
    measures: Sequence[tuple[float, bool]] = (),
    report_every: float = 0.5,
) -> Terms | None:
    """The parts of `seconds_left`, or None while there is not yet enough to measure."""
    if not samples:
        return None
    now, done = samples[-1]
    recent = samples
    if done >= 1 + WARM_UP:  # a first epoch slowed by something beside the run: left out
        recent = [s for s in samples if s[1] >= 1] or samples
    recent = recent[-WINDOW:]
    times = sorted(measures)
    stamps = [t for t, _ in times]

    def inside(t0: float, t1: float) -> list[bool]:
        # the measurements taken in (t0, t1]: found by bisection, as a run's report pairs
        # and its measurements both grow with its length
        lo, hi = bisect.bisect_right(stamps, t0), bisect.bisect_right(stamps, t1)
        return [end for _, end in times[lo:hi]]

    trained = gained = 0.0  # the mini-batches' speed: recent pairs with no measurement
    for (t0, p0), (t1, p1) in zip(recent, recent[1:]):
        if not inside(t0, t1):
            trained, gained = trained + t1 - t0, gained + p1 - p0
    spans = []  # (seconds, epochs gained, measurements between epochs, ends)
    for pairs in (recent, samples):  # the recent ones; all the run's if there are none
        for (t0, p0), (t1, p1) in zip(pairs, pairs[1:]):
            found = inside(t0, t1)
            if found:
                spans.append((t1 - t0, p1 - p0, found.count(False), found.count(True)))
        if spans:
            break
    # The first measurement (epoch 0, the training clock starts just before it) costs about
    # what an epoch's end does: the worker's first passes over the sets warm it up.
    first = min(measures)[0] if measures else 0.0
    clean = gained > 0  # a partial measurement's cost then comes from the spans around it
    if gained <= 0 and measures:  # every pair had a measurement (short epochs, early on)
        trained = sum(t - (n / END_COST_RATIO + m) * first for t, _, n, m in spans)
        gained = sum(g for _, g, _, _ in spans)
    if gained <= 0 or trained <= 0:
        return None
    per_epoch = trained / gained  # seconds of mini-batches per epoch
    between = [(t - g * per_epoch, n) for t, g, n, m in spans if not m]
    count = sum(n for _, n in between)
    partial_cost = max(0.0, sum(c for c, _ in between) / count) if count else 0.0
    ends = [(t - g * per_epoch - n * partial_cost, m) for t, g, n, m in spans if m]
    if ends:
        full_cost = max(0.0, sum(c for c, _ in ends) / sum(m for _, m in ends))
    elif (clean and count) or not measures:
        full_cost = END_COST_RATIO * partial_cost
    else:
        full_cost = first
    train_left = (epochs - done) * per_epoch
    ends_left = math.ceil(epochs) - math.floor(done)
    to_come = partials_to_come(done, epochs, per_epoch, now, times, partial_cost, report_every)
    return Terms(per_epoch, partial_cost, full_cost, bool(ends), train_left, to_come, ends_left)


def partials_to_come(
    done: float,
    epochs: float,
    per_epoch: float,
    now: float,
    measures: Sequence[tuple[float, bool]],
    partial_cost: float,
    report_every: float,
) -> int:
    """How many measurements between epochs the rest of the run will take, on the trainer's
    schedule (`nn.trainer.TrainingRun._train`): the first `min(0.1, report_every)` s into
    training, the gap doubling after each one up to `report_every`, counted from just before
    a partial measurement or just after an epoch's end, and none once an epoch's mini-batches
    are done. An epoch shorter than `report_every` gets none at all."""
    if report_every <= 0 or not math.isfinite(report_every) or per_epoch <= 0:
        return 0
    partials = [t for t, end in measures if not end]
    interval = min(0.1, report_every) * 2 ** max(0, len(partials) - 1)
    interval = min(interval, report_every)
    if measures:
        last, end = max(measures)
        next_point = last + interval - (0.0 if end else partial_cost)
    else:
        next_point = interval
    gap = max(0.0, next_point - now)  # seconds of mini-batches until the next one
    count, epoch = 0, math.floor(done)
    left = (min(epoch + 1, epochs) - done) * per_epoch  # of the epoch under way
    while epoch < math.ceil(epochs):
        if interval >= report_every:  # the rest of the epochs are alike: count at once
            step = max(report_every - partial_cost, 0.05 * report_every)
            within = 0 if gap >= left else math.ceil((left - gap) / step)
            rest = math.ceil(epochs) - epoch - 1
            full = per_epoch - report_every
            each = 0 if full <= 0 else math.ceil(full / step)
            return count + within + rest * each
        while gap < left and interval < report_every:
            count, left = count + 1, left - gap
            interval = min(2 * interval, report_every)
            gap = max(interval - partial_cost, 0.05 * interval)
        if interval < report_every:  # the epoch ends before the next one
            epoch, left, gap = epoch + 1, per_epoch, interval
    return count


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
