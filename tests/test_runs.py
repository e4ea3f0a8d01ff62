"""The server's run manager: worker processes, the slot limit, the queue, and cleanup."""

import time

import pytest

from nn import mnist
from nn.runs import RunManager
from nn.training import Limits, Settings, SettingsError

LONG = Settings(hidden=30, epochs=40, train_size=50_000)   # far longer than any test waits
SHORT = Settings(hidden=10, epochs=1, train_size=2_000)


def wait_until(condition, timeout=30.0, every=0.05):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(every)
    raise AssertionError("condition not reached in time")


@pytest.fixture
def manager(mnist_dir):
    m = RunManager(mnist_dir, Limits(max_concurrent=1, max_epochs=40), report_every=0.2)
    yield m
    m.close()


def test_a_run_trains_in_its_own_process_and_reports(manager):
    handle = manager.submit(SHORT.replace(epochs=2))
    wait_until(lambda: handle.over)
    view = handle.view()
    assert view["state"] == "finished", view["reason"]
    assert [p["epoch"] for p in view["history"] if p["end_of_epoch"]] == [1, 2]
    assert view["history"][-1]["test_accuracy"] > 0.5
    assert handle.network().sizes == [784, 10, 10]
    assert handle.process.returncode == 0


def test_runs_beyond_the_limit_wait_in_order_and_start_by_themselves(manager):
    first, second, third = (manager.submit(LONG) for _ in range(3))
    wait_until(lambda: first.view()["state"] == "running")
    assert [h.view()["queue_position"] for h in (first, second, third)] == [None, 1, 2]
    assert second.view()["state"] == third.view()["state"] == "queued"
    first.stop()
    wait_until(lambda: second.view()["state"] in ("starting", "running"))
    assert third.view()["queue_position"] == 1 and third.view()["state"] == "queued"
    assert first.view()["state"] == "stopped" and first.process.poll() is not None
    third.stop("changed my mind")   # a queued run leaves the queue at once
    assert third.view()["state"] == "stopped" and third.process is None
    second.stop()
    wait_until(lambda: second.over)
    assert manager.counts() == {"training": 0, "waiting": 0, "slots": 1}


def test_pause_resume_and_eta_reach_the_worker(manager):
    handle = manager.submit(LONG)
    wait_until(lambda: len(handle.view()["history"]) >= 2)
    handle.set_eta(0.5)
    wait_until(lambda: handle.view()["eta_changes"])
    changed_at = handle.view()["eta_changes"][0][0]
    wait_until(lambda: any(p["epoch"] > changed_at for p in handle.view()["history"]))
    later = [p for p in handle.view()["history"] if p["epoch"] > changed_at]
    assert all(p["eta"] == 0.5 for p in later)
    handle.pause()
    wait_until(lambda: handle.view()["state"] == "paused")
    progress = handle.view()["progress"]
    time.sleep(0.5)
    assert handle.view()["progress"] == progress
    handle.resume()
    wait_until(lambda: handle.view()["progress"] > progress)
    handle.stop()
    wait_until(lambda: handle.over)
    assert handle.view()["state"] == "stopped"


def test_an_abandoned_run_is_stopped_and_frees_its_slot(mnist_dir):
    m = RunManager(mnist_dir, Limits(max_concurrent=1, max_epochs=40), abandon_after=1.0)
    try:
        handle = m.submit(LONG)
        waiting = m.submit(SHORT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not handle.over:
            waiting.touch()   # this page is still open; the first one is not
            time.sleep(0.1)
        assert handle.view()["state"] == "stopped"
        assert handle.view()["reason"] == "the page was closed"
        assert handle.process.poll() is not None
        wait_until(lambda: waiting.view()["state"] != "queued")
    finally:
        m.close()


def test_a_crashed_worker_is_reported_and_its_slot_freed(manager):
    handle = manager.submit(LONG)
    waiting = manager.submit(SHORT)
    wait_until(lambda: handle.view()["state"] == "running")
    handle.process.kill()
    wait_until(lambda: handle.over)
    assert handle.view()["state"] == "failed" and "ended unexpectedly" in handle.view()["reason"]
    wait_until(lambda: waiting.over)
    assert waiting.view()["state"] == "finished"


def test_limits_are_enforced_when_submitting(manager):
    with pytest.raises(SettingsError, match="hidden"):
        manager.submit(LONG.replace(hidden=5000))
    with pytest.raises(SettingsError, match="epochs"):
        manager.submit(LONG.replace(epochs=41))
    assert manager.counts()["waiting"] == 0


def test_closing_the_manager_ends_every_worker(mnist_dir):
    m = RunManager(mnist_dir, Limits(max_concurrent=2, max_epochs=40))
    handles = [m.submit(LONG) for _ in range(3)]
    wait_until(lambda: all(h.view()["state"] == "running" for h in handles[:2]))
    m.close()
    assert all(h.over for h in handles)
    assert all(h.process.poll() is not None for h in handles[:2])


def test_submitting_without_mnist_says_what_to_do(monkeypatch, tmp_path):
    monkeypatch.delenv("MNIST_DIR", raising=False)
    monkeypatch.setattr(mnist, "DATA_DIR", tmp_path)
    m = RunManager(tmp_path / "nowhere", Limits(max_concurrent=1))
    try:
        with pytest.raises(mnist.MnistError, match="MNIST_DIR"):
            m.submit(SHORT)
    finally:
        m.close()


def test_queued_runs_start_in_the_order_they_were_submitted(manager):
    """No visitor is starved: with one slot, four runs start strictly first come, first served."""
    handles = [manager.submit(SHORT) for _ in range(4)]
    started = []
    deadline = time.monotonic() + 120
    while len(started) < 4 and time.monotonic() < deadline:
        for h in handles:
            if h not in started and h.view()["state"] != "queued":
                started.append(h)
        for h in handles:
            h.touch()
        time.sleep(0.02)
    assert [h.id for h in started] == [h.id for h in handles]
    wait_until(lambda: all(h.over for h in handles), timeout=120)
    assert all(h.view()["state"] == "finished" for h in handles)
