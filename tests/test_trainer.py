"""The training loop: its life cycle, control between mini-batches, limits, and real learning.

Commands reach the loop through its control hook; `Script` plays them at chosen mini-batches,
in the test's own thread: no threads, no sleeps, the same steps every time.
"""

import numpy as np
import pytest

import nn.trainer as trainer
from nn.protocol import (
    SLOW_BATCHES_PER_SECOND,
    Pause,
    Resume,
    SetEta,
    SetSpeed,
    State,
    Step,
    Stop,
)
from nn.settings import Limits, Settings, SettingsError
from nn.trainer import CHECK_EVERY, Control, TrainingRun
from tests.helpers import FakeData


class Script(Control):
    """Commands for a run: `at[k]` come with the k-th poll (poll 0 is before the first
    mini-batch, then one every CHECK_EVERY mini-batches); while paused, each wait returns the
    next of `while_paused`, and once they are used up it times out (returns None)."""

    def __init__(self, at=None, while_paused=(), steps=None):
        self.at, self.while_paused, self.steps = at or {}, list(while_paused), steps
        self.polls = 0
        self.waits = []  # (state, progress, steps taken, timeout, training time) per wait

    def poll(self, run):
        commands = self.at.get(self.polls, [])
        self.polls += 1
        return commands

    def wait(self, run, timeout):
        self.waits.append(
            (run.state, run.progress, len(self.steps or ()), timeout, run.training_time())
        )
        return self.while_paused.pop(0) if self.while_paused else None


@pytest.fixture
def etas_used(monkeypatch):
    """The eta of every SGD step the runs take, in order."""
    used = []
    original = trainer.SGD.step

    def step(self, batch, eta):
        used.append(eta)
        return original(self, batch, eta)

    monkeypatch.setattr(trainer.SGD, "step", step)
    return used


def small(**changes):
    """40 mini-batches per epoch: polls at mini-batches 0, 8, 16, 24, 32 of each epoch."""
    return Settings(hidden=10, epochs=2, train_size=400, batch_size=10).replace(**changes)


def test_a_run_records_a_point_per_epoch_and_finishes():
    points = []
    run = TrainingRun(
        small(), FakeData(), listener=lambda r, p: points.append(p), report_every=float("inf")
    )
    assert run.state is State.STARTING
    run.run()
    assert run.state is State.FINISHED and run.reason == "" and run.progress == 2
    assert [p.epoch for p in points] == [0, 1, 2]
    assert [p.end_of_epoch for p in points] == [False, True, True]
    assert run.history == points
    assert 0 <= points[-1].test_accuracy <= 1 and points[-1].train_cost > 0
    meta = run.metadata()
    assert meta["epochs"] == 2 and meta["test_accuracy"] == run.final.test_accuracy


def test_slow_runs_report_between_epochs():
    run = TrainingRun(small(epochs=1, batch_size=1), FakeData(), report_every=0.0).run()
    assert run.history[0].epoch == 0  # the untrained network comes first
    partial = [p for p in run.history[1:] if not p.end_of_epoch]
    assert len(partial) >= 10
    assert all(0 < p.epoch < 1 for p in partial)
    assert [p.epoch for p in partial] == sorted(p.epoch for p in partial)


def test_eta_change_takes_effect_at_the_next_mini_batch(etas_used):
    run = TrainingRun(
        small(epochs=1),
        FakeData(),
        control=Script(at={3: [SetEta(0.25)]}),
        report_every=float("inf"),
    ).run()
    k = 3 * CHECK_EVERY
    assert etas_used == [3.0] * k + [0.25] * (40 - k)
    assert run.eta_changes == [(k / 40, 0.25)]
    assert run.history[-1].eta == 0.25 and run.eta == 0.25


def test_a_listener_may_change_eta_at_a_point(etas_used):
    def listener(run, point):
        if point.epoch == 1:
            run.set_eta(0.5)

    run = TrainingRun(small(), FakeData(), listener=listener, report_every=float("inf")).run()
    assert etas_used == [3.0] * 40 + [0.5] * 40
    assert run.eta_changes == [(1, 0.5)]


def test_pause_blocks_training_until_resume(etas_used):
    script = Script(at={2: [Pause()]}, while_paused=[Resume()], steps=etas_used)
    run = TrainingRun(small(epochs=3), FakeData(), control=script).run()
    [(state, progress, steps, timeout, _)] = script.waits
    assert (state, steps) == (State.PAUSED, 2 * CHECK_EVERY)  # no mini-batch while paused
    assert progress == 2 * CHECK_EVERY / 40
    assert 0 < timeout <= Limits().max_paused_seconds
    assert run.state is State.FINISHED and len(etas_used) == 3 * 40


def test_commands_while_paused_apply_where_it_paused(etas_used):
    script = Script(
        at={1: [Pause()]}, while_paused=[SetEta(1.5), Pause(), Resume()], steps=etas_used
    )
    run = TrainingRun(small(epochs=1), FakeData(), control=script, report_every=float("inf")).run()
    assert [w[:3] for w in script.waits] == [(State.PAUSED, 0.2, 8)] * 3
    assert run.eta_changes == [(0.2, 1.5)]
    assert etas_used == [3.0] * 8 + [1.5] * 32 and run.state is State.FINISHED


def test_paused_time_is_not_training_time():
    script = Script(at={1: [Pause()]}, while_paused=[SetEta(1.0), Resume()])
    run = TrainingRun(small(epochs=1), FakeData(), control=script).run()
    first, second = (wait[4] for wait in script.waits)
    assert first == second > 0  # the clock stood still while paused
    assert run.history[-1].elapsed >= first


def test_stop_ends_a_run_between_mini_batches(etas_used):
    run = TrainingRun(small(epochs=50), FakeData(), control=Script(at={3: [Stop()]})).run()
    assert run.state is State.STOPPED and run.reason == "stopped"
    assert len(etas_used) == 3 * CHECK_EVERY
    assert run.progress == 3 * CHECK_EVERY / 40


def test_a_stopped_paused_run_ends(etas_used):
    script = Script(at={1: [Pause()]}, while_paused=[Stop("closed"), Resume()])
    run = TrainingRun(small(epochs=5), FakeData(), control=script).run()
    assert run.state is State.STOPPED and run.reason == "closed"
    assert len(script.waits) == 1 and len(etas_used) == CHECK_EVERY


def test_paused_too_long_stops():
    script = Script(at={0: [Pause()]})  # nothing comes while paused: the wait times out
    run = TrainingRun(
        small(), FakeData(), control=script, limits=Limits(max_paused_seconds=42)
    ).run()
    assert run.state is State.STOPPED and run.reason == "paused for more than 42 s in all"
    assert 0 < script.waits[0][3] <= 42


def test_the_first_stop_reason_is_kept():
    script = Script(at={1: [Stop("the page was closed"), Stop("the server is shutting down")]})
    run = TrainingRun(small(), FakeData(), control=script).run()
    assert run.reason == "the page was closed"


def test_time_limit_is_enforced_in_the_engine(etas_used):
    run = TrainingRun(small(epochs=50), FakeData(), limits=Limits(max_seconds=0.0)).run()
    assert run.state is State.STOPPED and "time limit of 0 s" in run.reason
    assert etas_used == [] and run.progress == 0


def test_resume_or_pause_out_of_turn_changes_nothing(etas_used):
    script = Script(at={0: [Resume()], 1: [Pause(), Pause()]}, while_paused=[Resume()])
    run = TrainingRun(small(epochs=1), FakeData(), control=script).run()
    assert len(script.waits) == 1 and run.state is State.FINISHED and len(etas_used) == 40


# -- human speed: one mini-batch at a time, or a few a second --------------------------------
def test_step_does_one_mini_batch_then_pauses_again(etas_used):
    script = Script(at={1: [Pause()]}, while_paused=[Step(), Step(), Resume()], steps=etas_used)
    run = TrainingRun(small(epochs=1), FakeData(), control=script, report_every=float("inf")).run()
    # paused after 8 mini-batches, then 9, then 10: each Step trained exactly one
    assert [w[:3] for w in script.waits] == [
        (State.PAUSED, 8 / 40, 8),
        (State.PAUSED, 9 / 40, 9),
        (State.PAUSED, 10 / 40, 10),
    ]
    # asked after every step's mini-batch, then every CHECK_EVERY again once resumed
    assert script.polls == 2 + 2 + 3  # 0, 8; 9, 10; 16, 24, 32
    assert run.state is State.FINISHED and len(etas_used) == 40 and run.batches_done == 40


def test_only_a_watched_mini_batch_is_looked_at(etas_used):
    script = Script(at={1: [Pause()]}, while_paused=[Step(), Resume()])
    run = TrainingRun(small(epochs=1), FakeData(), control=script, report_every=float("inf"))
    looks = []
    script.poll = lambda r, poll=script.poll: looks.append(r.last_step) or poll(r)
    run.run()
    assert looks[:2] == [None, None]  # full speed: nothing kept
    assert looks[2].number == 8 and looks[2].epoch == 8 / 40 and looks[2].size == 10
    assert run.last_step is looks[2]  # and nothing more once at full speed again


def test_step_while_running_pauses_after_the_next_mini_batch(etas_used):
    script = Script(at={1: [Step()]}, while_paused=[Resume()], steps=etas_used)
    run = TrainingRun(small(epochs=1), FakeData(), control=script, report_every=float("inf")).run()
    assert [w[:3] for w in script.waits] == [(State.PAUSED, 9 / 40, 9)]
    assert run.state is State.FINISHED and len(etas_used) == 40


def test_slow_motion_waits_between_mini_batches_and_full_speed_ends_it(etas_used):
    slow, full = SetSpeed("slow"), SetSpeed("full")
    script = Script(at={1: [slow], 5: [full]}, steps=etas_used)
    run = TrainingRun(small(epochs=1), FakeData(), control=script, report_every=float("inf")).run()
    # slow from mini-batch 8 to 12: asked before each, and a wait before 9, 10 and 11 (the
    # first slow one goes at once), running all the while; full from 12: 16, 24, 32
    assert script.polls == 2 + 4 + 3
    assert [(w[0], w[2]) for w in script.waits] == [(State.RUNNING, k) for k in (9, 10, 11)]
    assert all(0 < w[3] <= 1 / SLOW_BATCHES_PER_SECOND for w in script.waits)
    assert run.speed == "full" and run.state is State.FINISHED and len(etas_used) == 40


def test_a_command_during_a_slow_wait_acts_at_once(etas_used):
    script = Script(at={1: [SetSpeed("slow")]}, while_paused=[Stop("closed")], steps=etas_used)
    run = TrainingRun(small(epochs=5), FakeData(), control=script).run()
    assert run.state is State.STOPPED and run.reason == "closed"
    assert len(etas_used) == 9  # stopped in the wait before mini-batch 9


class Clock:
    """Stands in for the trainer's `time`: it moves only when a wait says so."""

    def __init__(self):
        self.now = 100.0

    def perf_counter(self):
        return self.now

    def monotonic(self):
        return self.now


class Waiting(Script):
    """A Script on a Clock whose commands come `after` s into each wait: a wait shorter than
    that times out (None) having taken its whole timeout."""

    def __init__(self, clock, after=float("inf"), **kw):
        super().__init__(**kw)
        self.clock, self.after = clock, after

    def wait(self, run, timeout):
        if timeout < self.after:
            self.clock.now += timeout
            return None
        self.clock.now += self.after
        return super().wait(run, timeout)


def test_slow_motion_counts_as_training_time_so_the_time_limit_holds(monkeypatch, etas_used):
    clock = Clock()
    monkeypatch.setattr(trainer, "time", clock)
    script = Waiting(clock, at={0: [SetSpeed("slow")]})
    limits = Limits(max_seconds=2.0)
    run = TrainingRun(small(epochs=50), FakeData(), control=script, limits=limits).run()
    assert run.state is State.STOPPED and "time limit of 2 s" in run.reason
    # 0.25 s a mini-batch after the first: past 2 s before the 10th-and-a-bit
    assert len(etas_used) == 10 and run.training_time() == pytest.approx(2.25)
    assert run.paused_time == 0


def test_the_pauses_between_steps_count_as_paused_time(monkeypatch, etas_used):
    clock = Clock()
    monkeypatch.setattr(trainer, "time", clock)
    script = Waiting(clock, after=4.0, at={1: [Pause()]}, while_paused=[Step()] * 100)
    limits = Limits(max_paused_seconds=10.0)
    run = TrainingRun(small(epochs=50), FakeData(), control=script, limits=limits).run()
    assert run.state is State.STOPPED and run.reason == "paused for more than 10 s in all"
    assert len(etas_used) == 8 + 2  # two steps after 4 s paused each, then 2 s: the limit
    assert run.paused_time == pytest.approx(10.0) and run.training_time() == 0


def test_an_error_fails_the_run_and_says_why():
    data = FakeData()
    data.test_images = data.test_images[:, :100]  # the wrong shape for the network
    run = TrainingRun(small(), data)
    with pytest.raises(ValueError):
        run.run()
    assert run.state is State.FAILED and run.reason.startswith("ValueError")


def test_settings_are_checked_against_the_limits():
    with pytest.raises(SettingsError, match="hidden"):
        TrainingRun(small(hidden=201), FakeData(), limits=Limits(max_hidden=200))


def test_set_eta_refuses_absurd_values():
    run = TrainingRun(small(), FakeData())
    for bad in (0, -3, float("inf"), "fast"):
        with pytest.raises(SettingsError):
            run.set_eta(bad)
    assert run.eta == 3.0 and run.eta_changes == []


# --- real MNIST: the book's experiments, reproduced in seconds ----------------------------


def book_run(mnist_data, **changes):
    settings = Settings(hidden=30, eta=3.0, batch_size=10, epochs=30, seed=2).replace(**changes)
    return TrainingRun(
        settings, mnist_data, limits=Limits.unlimited(), report_every=float("inf")
    ).run()


@pytest.mark.slow  # trains on the full MNIST
def test_the_books_network_reaches_94_5_percent(mnist_data):
    run = book_run(mnist_data)
    accuracies = [p.test_accuracy for p in run.history]
    print(
        f"[784, 30, 10] eta 3.0 seed 2: epoch 0 {accuracies[1]:.2%}, "
        f"best {max(accuracies):.2%}, final {accuracies[-1]:.2%}"
    )
    assert len(accuracies) == 31 and accuracies[0] < 0.2  # untrained, then 30 epochs
    assert max(accuracies) >= 0.945
    assert accuracies[1] > 0.85  # the book: 9,129 / 10,000 after the first epoch
    assert run.history[-1].train_cost < run.history[0].train_cost


@pytest.mark.slow  # trains on the full MNIST
def test_tiny_eta_barely_learns(mnist_data):
    run = book_run(mnist_data, hidden=100, eta=0.001, epochs=3)
    accuracies = [p.test_accuracy for p in run.history]
    print(f"[784, 100, 10] eta 0.001: {accuracies}")
    assert all(a < 0.35 for a in accuracies)  # the book: 11 % creeping to 21 % in 30 epochs


@pytest.mark.slow  # trains on the full MNIST
def test_huge_eta_is_stuck_near_chance(mnist_data):
    run = book_run(mnist_data, eta=100.0, epochs=3)
    accuracies = [p.test_accuracy for p in run.history]
    print(f"[784, 30, 10] eta 100: {accuracies}")
    assert all(a < 0.2 for a in accuracies)  # the book: 1,009 then 982 / 10,000
    assert all(np.isfinite(p.train_cost) for p in run.history)


@pytest.mark.slow  # trains on the full MNIST
def test_points_between_epochs_use_a_fixed_sample_and_epoch_ends_the_whole_sets(mnist_data):
    run = TrainingRun(
        Settings(hidden=30, epochs=2, train_size=10_000, seed=1), mnist_data, report_every=0.0
    ).run()
    partial = [p for p in run.history if not p.end_of_epoch]
    full = [p for p in run.history if p.end_of_epoch]
    assert len(partial) > 2 and len(full) == 2
    assert all(p.test_correct <= 2000 for p in partial)  # counted on 2,000 images
    assert all(p.test_correct > 2000 for p in full)  # counted on all 10,000
    last_partial = max((p for p in partial if p.epoch < 2), key=lambda p: p.epoch)
    assert abs(last_partial.test_accuracy - full[-1].test_accuracy) < 0.05


@pytest.fixture
def batch_costs(monkeypatch):
    """The cost every SGD step returned, in order."""
    costs = []
    original = trainer.SGD.step

    def step(self, batch, eta):
        costs.append(original(self, batch, eta))
        return costs[-1]

    monkeypatch.setattr(trainer.SGD, "step", step)
    return costs


def test_every_mini_batch_cost_is_kept_thinned_to_the_bound(monkeypatch, batch_costs):
    monkeypatch.setattr(trainer, "COST_BINS", 7)  # 80 mini-batches: bins of 12
    run = TrainingRun(small(), FakeData(), report_every=float("inf")).run()
    assert run.bin_size == 12 and len(batch_costs) == 80
    assert len(run.cost_bins) == 6 <= trainer.COST_BINS  # 72 mini-batches, 8 still filling
    for k, b in enumerate(run.cost_bins):
        chunk = batch_costs[12 * k : 12 * (k + 1)]
        assert b.batches == 12 and b.epoch == pytest.approx((12 * k + 6) / 40)
        assert b.mean == pytest.approx(np.mean(chunk))
        assert (b.low, b.high) == pytest.approx(tuple(np.percentile(chunk, trainer.BAND)))
    rest = run.open_cost_bin
    assert rest.batches == 8 and rest.mean == pytest.approx(np.mean(batch_costs[72:]))
    assert rest.epoch == pytest.approx(76 / 40)
    # the noise is there: single mini-batches' costs spread around their mean, and the band
    # leaves out the rarest of them
    assert all(b.low < b.mean < b.high for b in run.cost_bins)
    assert all(min(batch_costs[12 * k : 12 * k + 12]) < b.low for k, b in enumerate(run.cost_bins))


def test_each_stepped_and_slow_mini_batch_cost_is_kept_at_once():
    """One mini-batch a bin (a short run): each Step's cost, the step panel's "before", is
    the newest bin as soon as the step is done; slow motion's likewise."""
    seen = []
    script = Script(at={1: [Pause()]}, while_paused=[Step(), Step(), SetSpeed("slow"), Resume()])
    wait = script.wait
    script.wait = lambda run, timeout: (
        seen.append((run.batches_done, run.cost_bins[-1], run.last_step)) or wait(run, timeout)
    )
    run = TrainingRun(small(epochs=1), FakeData(), control=script, report_every=float("inf"))
    run.run()
    assert run.bin_size == 1 and len(run.cost_bins) == 40 and run.open_cost_bin is None
    stepped = [(done, b, look) for done, b, look in seen if look is not None]
    assert [done for done, _, _ in stepped][:2] == [9, 10]  # after each Step
    for done, newest, look in stepped:
        assert newest.mean == newest.low == newest.high == pytest.approx(look.cost_before)
        assert newest.epoch == pytest.approx((done - 0.5) / 40)
