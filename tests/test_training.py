"""Training runs: the life cycle, control between mini-batches, limits, and real learning."""

import threading
import time

import numpy as np
import pytest

import nn.training as training
from nn.training import Limits, Settings, SettingsError, TrainingRun


class FakeData:
    """A tiny stand-in for MNIST: random images, enough to exercise the control flow."""

    def __init__(self, n=400):
        rng = np.random.default_rng(0)
        self.train_images = rng.integers(0, 256, size=(n, 784), dtype=np.uint8)
        self.train_labels = rng.integers(0, 10, size=n).astype(np.uint8)
        self.val_images, self.val_labels = self.train_images[:50], self.train_labels[:50]
        self.test_images, self.test_labels = self.train_images[50:100], self.train_labels[50:100]


@pytest.fixture
def etas_used(monkeypatch):
    """Record the eta of every SGD step the runs take."""
    used = []
    original = training.SGD.step

    def step(self, batch, eta):
        used.append(eta)
        return original(self, batch, eta)
    monkeypatch.setattr(training.SGD, "step", step)
    return used


def small(**changes):
    return Settings(hidden=10, epochs=2, train_size=400, batch_size=10).replace(**changes)


def test_a_run_records_a_point_per_epoch_and_finishes():
    points = []
    run = TrainingRun(small(), FakeData(), listener=lambda r, p: points.append(p),
                      report_every=float("inf"))
    run.run()
    assert run.state == "finished"
    assert [p.epoch for p in points] == [0, 1, 2]
    assert [p.end_of_epoch for p in points] == [False, True, True]
    assert run.snapshot()["history"] == points
    assert 0 <= points[-1].test_accuracy <= 1 and points[-1].train_cost > 0


def test_slow_runs_report_between_epochs():
    run = TrainingRun(small(epochs=1, batch_size=1), FakeData(), report_every=0.0)
    run.run()
    assert run.history[0].epoch == 0   # the untrained network comes first
    partial = [p for p in run.history[1:] if not p.end_of_epoch]
    assert len(partial) >= 10
    assert all(0 < p.epoch < 1 for p in partial)
    assert [p.epoch for p in partial] == sorted(p.epoch for p in partial)


def test_eta_change_takes_effect_at_the_next_mini_batch(etas_used):
    def listener(run, point):
        if not run.eta_changes and point.epoch > 0:
            run.set_eta(0.25)
            listener.steps_before = len(etas_used)
    run = TrainingRun(small(epochs=1), FakeData(), listener=listener, report_every=0.0)
    run.run()
    k = listener.steps_before
    assert etas_used[:k] == [3.0] * k and etas_used[k:] == [0.25] * (len(etas_used) - k)
    assert 0 < k < len(etas_used)
    assert run.eta_changes == [(run.history[1].epoch, 0.25)]
    assert run.history[-1].eta == 0.25


def test_pause_blocks_training_until_resume(etas_used):
    paused = threading.Event()

    def listener(run, point):
        if not paused.is_set():
            run.pause()
            paused.set()
    run = TrainingRun(small(epochs=3), FakeData(), listener=listener, report_every=0.0)
    worker = threading.Thread(target=run.run)
    worker.start()
    assert paused.wait(10)
    while run.snapshot()["state"] != "paused":
        time.sleep(0.01)
    steps = len(etas_used)
    time.sleep(0.3)
    assert len(etas_used) == steps  # no mini-batch while paused
    run.resume()
    worker.join(20)
    assert run.state == "finished" and len(etas_used) == 3 * 40


def test_stop_ends_a_run_between_mini_batches(etas_used):
    run = TrainingRun(small(epochs=50, batch_size=1), FakeData(), report_every=float("inf"))
    worker = threading.Thread(target=run.run)
    worker.start()
    while len(etas_used) < 50:
        time.sleep(0.01)
    run.stop()
    worker.join(10)
    assert not worker.is_alive()
    assert run.state == "stopped" and run.reason == "stopped"
    assert len(etas_used) < 50 * 400


def test_a_stopped_paused_run_ends():
    run = TrainingRun(small(epochs=5), FakeData())
    run.pause()
    worker = threading.Thread(target=run.run)
    worker.start()
    time.sleep(0.2)
    assert run.state == "paused" and worker.is_alive()
    run.stop("closed")
    worker.join(10)
    assert run.state == "stopped" and run.reason == "closed"


def test_time_limit_is_enforced_in_the_engine():
    limits = Limits(max_seconds=0.3)
    run = TrainingRun(small(epochs=50, batch_size=1), FakeData(), limits=limits)
    run.run()
    assert run.state == "stopped" and "time limit" in run.reason
    assert run.progress < 50


def test_paused_too_long_stops():
    run = TrainingRun(small(), FakeData(), limits=Limits(max_paused_seconds=0.2))
    run.pause()
    run.run()
    assert run.state == "stopped" and "paused for more than" in run.reason


@pytest.mark.parametrize("change, words", [
    (dict(hidden=201), "hidden neurons"), (dict(hidden=0), "hidden neurons"),
    (dict(hidden=2.5), "hidden neurons"), (dict(epochs=51), "epochs"),
    (dict(eta=0), "eta"), (dict(eta=-1.0), "eta"), (dict(eta=float("nan")), "eta"),
    (dict(eta=1e9), "eta"), (dict(batch_size=0), "mini-batch"),
    (dict(batch_size=500), "mini-batch"), (dict(train_size=10**6), "training-set"),
    (dict(seed=-1), "seed"), (dict(init="zeros"), "initialisation"),
    (dict(cost="hinge"), "cost"), (dict(l2=float("inf")), "L2"), (dict(augment=1), "distorted"),
])
def test_absurd_settings_are_refused_by_the_engine(change, words):
    with pytest.raises(SettingsError, match=words):
        TrainingRun(small(**change), FakeData(), limits=Limits(max_hidden=200, max_epochs=50))


def test_set_eta_refuses_absurd_values():
    run = TrainingRun(small(), FakeData())
    for bad in (0, -3, float("inf"), "fast"):
        with pytest.raises(SettingsError):
            run.set_eta(bad)
    assert run.eta == 3.0 and run.eta_changes == []


def test_limits_from_environment(monkeypatch):
    monkeypatch.setenv("DIGITLAB_MAX_HIDDEN", "64")
    monkeypatch.setenv("DIGITLAB_MAX_RUNS", "3")
    limits = Limits.from_env()
    assert limits.max_hidden == 64 and limits.max_concurrent == 3
    monkeypatch.setenv("DIGITLAB_MAX_EPOCHS", "many")
    with pytest.raises(SettingsError, match="DIGITLAB_MAX_EPOCHS"):
        Limits.from_env()


# --- real MNIST: the book's experiments, reproduced in seconds ----------------------------

def book_run(mnist_data, **changes):
    settings = Settings(hidden=30, eta=3.0, batch_size=10, epochs=30, seed=2).replace(**changes)
    return TrainingRun(settings, mnist_data, limits=Limits.unlimited(),
                       report_every=float("inf")).run()


@pytest.mark.slow  # trains on the full MNIST
def test_the_books_network_reaches_94_5_percent(mnist_data):
    run = book_run(mnist_data)
    accuracies = [p.test_accuracy for p in run.history]
    print(f"[784, 30, 10] eta 3.0 seed 2: epoch 0 {accuracies[1]:.2%}, "
          f"best {max(accuracies):.2%}, final {accuracies[-1]:.2%}")
    assert len(accuracies) == 31 and accuracies[0] < 0.2   # untrained, then 30 epochs
    assert max(accuracies) >= 0.945
    assert accuracies[1] > 0.85   # the book: 9,129 / 10,000 after the first epoch
    assert run.history[-1].train_cost < run.history[0].train_cost


@pytest.mark.slow  # trains on the full MNIST
def test_tiny_eta_barely_learns(mnist_data):
    run = book_run(mnist_data, hidden=100, eta=0.001, epochs=3)
    accuracies = [p.test_accuracy for p in run.history]
    print(f"[784, 100, 10] eta 0.001: {accuracies}")
    assert all(a < 0.35 for a in accuracies)   # the book: 11 % creeping to 21 % in 30 epochs


@pytest.mark.slow  # trains on the full MNIST
def test_huge_eta_is_stuck_near_chance(mnist_data):
    run = book_run(mnist_data, eta=100.0, epochs=3)
    accuracies = [p.test_accuracy for p in run.history]
    print(f"[784, 30, 10] eta 100: {accuracies}")
    assert all(a < 0.2 for a in accuracies)    # the book: 1,009 then 982 / 10,000
    assert all(np.isfinite(p.train_cost) for p in run.history)


@pytest.mark.slow  # trains on the full MNIST
def test_points_between_epochs_use_a_fixed_sample_and_epoch_ends_the_whole_sets(mnist_data):
    run = TrainingRun(Settings(hidden=30, epochs=2, train_size=10_000, seed=1), mnist_data,
                      report_every=0.0).run()
    partial = [p for p in run.history if not p.end_of_epoch]
    full = [p for p in run.history if p.end_of_epoch]
    assert len(partial) > 2 and len(full) == 2
    assert all(p.test_correct <= 2000 for p in partial)   # counted on 2,000 images
    assert all(p.test_correct > 2000 for p in full)       # counted on all 10,000
    last_partial = max((p for p in partial if p.epoch < 2), key=lambda p: p.epoch)
    assert abs(last_partial.test_accuracy - full[-1].test_accuracy) < 0.05
