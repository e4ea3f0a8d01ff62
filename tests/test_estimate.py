"""Time left from a run's own measured speed, and a queued visitor's wait (runs.estimate), on
timelines built the way nn.trainer spends a run's time: mini-batches at a steady speed, a
measurement between epochs every `report_every` s (sooner at first), a dearer one at each
epoch's end, and a report about every 0.2 s."""

import pytest

from runs.estimate import estimate_terms, expected_wait, seconds_left


def timeline(
    epochs,
    epoch_seconds,
    partial,
    full,
    report_every=0.5,
    sample_every=0.2,
    first_slower=1.0,
    first=None,
):
    """(samples, measures, total seconds) of a run as its reports would bring them; its first
    epoch's mini-batches `first_slower` times as slow as the others'; its first measurement
    (epoch 0, on as many images as a partial one) costing `first`, by default as much as an
    epoch's end (measured in workers: 0.02-0.07 s, an end 0.03-0.07 s, a partial a quarter)."""
    checks = 400  # looks at the clock per epoch
    t = full if first is None else first  # the first measurement (epoch 0): no progress
    samples, measures = [(t, 0.0)], [(t, False)]
    interval = min(0.1, report_every)
    next_point, last_report = interval, t
    for epoch in range(epochs):
        for i in range(checks):
            progress = epoch + i / checks
            if i > 0 and t >= next_point:  # as nn.trainer: the next one counted from before
                next_point = t + min(2 * interval, report_every)
                t += partial
                measures.append((t, False))
                samples.append((t, progress))
                interval, last_report = min(2 * interval, report_every), t
            elif t - last_report >= sample_every:
                samples.append((t, progress))
                last_report = t
            t += epoch_seconds / checks * (first_slower if epoch == 0 else 1.0)
        t += full
        measures.append((t, True))
        samples.append((t, epoch + 1.0))
        next_point, last_report = t + interval, t
    return samples, measures, t


def errors_after(epochs, samples, measures, total, after=0.1):
    """The estimate's relative error at every report from `after` epochs on."""
    errors = []
    for i, (t, progress) in enumerate(samples):
        if progress < after or progress >= epochs:
            continue
        known = [m for m in measures if m[0] <= t]
        estimate = seconds_left(samples[: i + 1], epochs, known)
        errors.append(estimate / (total - t) - 1)
    return errors


@pytest.mark.parametrize(
    "epochs, epoch_seconds, partial, full",
    [
        (30, 1.2, 0.01, 0.04),  # the book's [784, 30, 10]: ~40 s
        (50, 0.1, 0.02, 0.08),  # 1,000 images: measurements take most of the time
        (10, 10.0, 0.05, 0.2),  # [784, 200, 10] on 50,000 images
        (3, 1.0, 0.3, 1.2),  # a slow machine: measurements as dear as training
    ],
)
def test_the_estimate_is_within_30_percent_after_a_tenth_of_the_first_epoch(
    epochs, epoch_seconds, partial, full
):
    samples, measures, total = timeline(epochs, epoch_seconds, partial, full)
    errors = errors_after(epochs, samples, measures, total)
    assert errors and max(abs(e) for e in errors) < 0.3, max(errors, key=abs)


@pytest.mark.parametrize("first_slower", [1.5, 2.0, 3.0])
def test_a_first_epoch_slowed_by_something_else_no_longer_counts_a_fifth_into_the_second(
    first_slower,
):
    """Something beside the run (a fresh worker warming up on the same cores) slows its
    first epoch alone: no estimate made during it can know, and from epoch 1.2 on the first
    epoch is left out (runs.estimate.WARM_UP)."""
    samples, measures, total = timeline(30, 1.2, 0.01, 0.04, first_slower=first_slower)
    during = errors_after(30, samples, measures, total, after=0.5)[:3]
    assert min(during) > 0.2  # too high while the first epoch is slow: the limit of any estimate
    errors = errors_after(30, samples, measures, total, after=1.2)
    assert errors and max(abs(e) for e in errors) < 0.3, max(errors, key=abs)


SHORT_EPOCHS = [  # epochs shorter than report_every: no measurement between two ends
    (30, 0.2, 0.01, 0.04),  # the book's network on a quiet machine: 6 s
    (30, 0.4, 0.05, 0.2),  # ... on a busy one
    (30, 0.3, 0.1, 0.4),  # measurements a third of the run
    (50, 0.1, 0.02, 0.08),  # every report's span holds an epoch's end
]


@pytest.mark.parametrize("epochs, epoch_seconds, partial, full", SHORT_EPOCHS)
def test_short_epochs_are_estimated_within_10_percent(epochs, epoch_seconds, partial, full):
    """The estimate used to count a measurement every report_every s of training, which an
    epoch shorter than that never takes (the trainer counts from the last end), and took the
    first measurement's cost for an epoch's end while every span held one: 6-27 % too high."""
    samples, measures, total = timeline(epochs, epoch_seconds, partial, full)
    errors = errors_after(epochs, samples, measures, total)
    assert errors and max(abs(e) for e in errors) < 0.1, max(errors, key=abs)


@pytest.mark.parametrize(
    "epochs, epoch_seconds, partial, full",
    SHORT_EPOCHS + [(30, 1.2, 0.01, 0.04), (10, 10.0, 0.05, 0.2), (3, 1.0, 0.3, 1.2)],
)
def test_the_measurements_to_come_are_those_the_trainer_will_take(
    epochs, epoch_seconds, partial, full
):
    samples, measures, _ = timeline(epochs, epoch_seconds, partial, full)
    for i, (t, progress) in enumerate(samples):
        known = [m for m in measures if m[0] <= t]
        terms = estimate_terms(samples[: i + 1], epochs, known)
        if terms is None or progress < 0.1 or progress >= epochs:
            continue
        if abs(terms.per_epoch - epoch_seconds) < 0.01 * epoch_seconds:  # speed known
            to_come = sum(1 for when, end in measures if when > t and not end)
            # each comes at the first look at the clock past its time: a little later
            assert abs(terms.partials_left - to_come) <= 1 + to_come // 20, (t, progress)


def test_the_first_report_gives_no_estimate_rather_than_a_wild_one():
    samples, measures, _ = timeline(30, 1.2, 0.01, 0.04)
    assert seconds_left(samples[:1], 30, measures[:1]) is None  # only the epoch-0 point
    assert seconds_left([], 30) is None
    assert seconds_left([(5.0, 30.0)], 30) == 0.0


def test_the_estimate_follows_a_machine_that_gets_slower():
    fast, fast_measures, _ = timeline(20, 1.0, 0.01, 0.04)
    # the same run from epoch 10 on at half the speed (a busier machine)
    cut = next(i for i, (_, p) in enumerate(fast) if p >= 10)
    t10 = fast[cut][0]
    slower = fast[: cut + 1] + [(t10 + 2 * (t - t10), p) for t, p in fast[cut + 1 :] if p < 15]
    known = [m for m in fast_measures if m[0] <= t10]
    before = seconds_left(fast[: cut + 1], 20, known)
    left = 20 - slower[-1][1]  # epochs left once slower
    assert seconds_left(slower, 20, known) / left > 1.3 * before / 10  # per epoch left
    assert before == pytest.approx(10 * 1.0 + 10 * 0.04 + 10 / 0.5 * 0.01, rel=0.3)


def test_a_queued_job_waits_for_the_first_free_slot_after_the_jobs_ahead():
    assert expected_wait([], 2, []) == 0.0  # a free slot
    assert expected_wait([30.0], 2, []) == 0.0  # one slot still free
    assert expected_wait([30.0, 10.0], 2, []) == 10.0
    assert expected_wait([30.0, 10.0], 2, [5.0]) == 15.0  # one ahead takes the 10 s slot
    assert expected_wait([30.0, 10.0], 2, [5.0, 5.0, 5.0]) == 25.0
    assert expected_wait([30.0], 1, [5.0, 5.0]) == 40.0


def test_a_recorded_run_of_the_books_network():
    """A real run on a busy machine: its first epoch took 1.8x the later ones' time (a fresh
    process warming up, which no estimate made during it can know); from a fifth into the
    second epoch on, the estimate leaves the first one out."""
    import json
    from pathlib import Path

    recorded = json.loads((Path(__file__).parent / "timelines/book-30-epochs.json").read_text())
    samples = [tuple(s) for s in recorded["samples"]]
    measures = [tuple(m) for m in recorded["measures"]]
    total = samples[-1][0]
    errors = sorted(
        abs(e) for e in errors_after(30, samples, measures, total, after=1.2) if e is not None
    )
    assert errors[len(errors) // 2] < 0.15 and errors[-1] < 0.35
