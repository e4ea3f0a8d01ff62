"""The run service's failures, each contained to the job it hit (tests/fake_worker.py plays
the misbehaving worker): what the visitor reads, that the slot is free, that the next job
starts. No sleeps: every wait is `wait_until` with a deadline, and the watchdog's limits are
set small so the waits are short.
"""

from __future__ import annotations

import errno
import os
import signal
import sys

import pytest

from nn.protocol import State
from nn.settings import Limits, Settings
from nn.teach import TeachError
from runs import data as shared
from runs.manager import QueueFull, RunManager, ServiceError
from tests.helpers import REPO, FakeData, wait_until

FAKE = [sys.executable, str(REPO / "tests" / "fake_worker.py")]
LONG = Settings(hidden=10, epochs=40, train_size=400)  # the fake takes ~16 s: stopped first
SHORT = Settings(hidden=10, epochs=1, train_size=400)  # the fake takes ~0.4 s
DEADLINE = 30.0  # seconds; only reached on a failure
spawns = pytest.mark.slow  # starts worker processes (fake ones: about a second each)


def manager(mode: str, tmp_path, **limits) -> RunManager:
    limits = {"max_concurrent": 1, "max_epochs": 40, "stall_seconds": 2.0, **limits}
    return RunManager(
        None,
        Limits(**limits),
        worker_command=[*FAKE, mode],
        temp_root=tmp_path,
        load=FakeData,
        tick=0.05,
    )


@pytest.fixture
def managers(tmp_path):
    made = []

    def make(mode: str, **limits) -> RunManager:
        made.append(manager(mode, tmp_path, **limits))
        return made[-1]

    yield make
    for m in made:
        m.close()


def wait_for(condition, what: str, touch=()):
    def check():
        for handle in touch:
            handle.touch()
        return condition()

    return wait_until(check, DEADLINE, what, every=0.01)


def teach(m: RunManager):
    """Submit a teach job: one drawing, a small network."""
    from nn.network import Network

    drawing = FakeData().test_images[0].reshape(28, 28) / 255
    return m.submit_teach(Network([784, 6, 10], seed=0), [drawing], [3])


def fails_and_frees_its_slot(m: RunManager, handle, reason: str) -> None:
    """A teach job's result raises the reason; its slot frees; the next job runs."""
    with pytest.raises(TeachError, match=reason):
        handle.result(DEADLINE)
    wait_for(lambda: m.counts()["training"] == 0, "the slot freed")
    next_run_finishes(m)


def next_run_finishes(m: RunManager) -> None:
    """The slot is free and the queue goes on: a fresh job runs to its end."""
    m.worker_command = [*FAKE, "train"]
    m._retire_spare()  # the spare was started with the faulty mode
    handle = m.submit(SHORT)
    wait_for(lambda: handle.over, "the next run ended", touch=[handle])
    assert handle.view().state is State.FINISHED, handle.view().reason
    assert m.counts()["training"] == 0


@spawns
def test_a_worker_that_dies_before_reading_start_fails_its_run_alone(managers):
    m = managers("exit")
    first = m.submit(SHORT)
    behind = m.submit(SHORT)
    wait_for(lambda: first.over and behind.over, "both runs ended", touch=[first, behind])
    for handle in (first, behind):
        view = handle.view()
        assert view.state is State.FAILED
        assert "ended before it could start" in view.reason and "try again" in view.reason
    assert m.healthy() == (True, "ok")
    next_run_finishes(m)


@spawns
def test_a_teach_job_whose_worker_dies_at_start_raises_and_frees_the_slot(managers):
    m = managers("exit")
    handle = teach(m)
    fails_and_frees_its_slot(m, handle, "ended before it could start")


@spawns
def test_a_worker_killed_mid_run_fails_that_run_and_the_queue_goes_on(managers):
    m = managers("train")
    handle = m.submit(LONG)
    behind = m.submit(SHORT)
    wait_for(lambda: handle.view().progress > 0, "the run trains", touch=[handle, behind])
    handle._record.process.kill()  # kill -9
    wait_for(lambda: handle.over, "the death noticed", touch=[behind])
    assert handle.view().state is State.FAILED
    assert "ended unexpectedly (exit code -9)" in handle.view().reason
    wait_for(lambda: behind.over, "the run behind it ended", touch=[behind])
    assert behind.view().state is State.FINISHED


@spawns
def test_a_hung_worker_is_killed_after_its_silence(managers):
    m = managers("train", stall_seconds=1.0)
    handle = m.submit(LONG)
    wait_for(lambda: handle.view().progress > 0, "the run trains", touch=[handle])
    process = handle._record.process
    os.kill(process.pid, signal.SIGSTOP)  # hung: alive, silent
    try:
        wait_for(lambda: handle.over, "the hung worker ended", touch=[handle])
    finally:
        if process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)
    view = handle.view()
    assert view.state is State.FAILED and "stopped answering" in view.reason
    assert process.poll() is not None
    next_run_finishes(m)


@spawns
def test_a_worker_that_ignores_stop_is_killed_after_the_grace(managers, monkeypatch):
    monkeypatch.setattr("runs.manager.STOP_GRACE", 0.2)
    m = managers("ignore-stop")
    handle = m.submit(LONG)
    wait_for(lambda: handle.view().progress > 0, "the run trains", touch=[handle])
    handle.stop("stopped by the visitor")
    wait_for(lambda: handle.over, "the stubborn worker ended", touch=[handle])
    view = handle.view()
    assert (view.state, view.reason) == (State.STOPPED, "stopped by the visitor")
    assert handle._record.process.returncode == -signal.SIGKILL
    next_run_finishes(m)


@spawns
def test_a_teach_job_outliving_its_page_is_ended(managers):
    """The page stops waiting after its own timeout and withdraws the job: killed at once,
    it never holds the slot for the next visitor."""
    m = managers("teach-hang")
    handle = teach(m)
    assert handle.result(0.2) is None
    handle.stop("no answer in time")
    fails_and_frees_its_slot(m, handle, "no answer in time")


@spawns
def test_a_teach_job_past_its_time_limit_is_ended(managers):
    m = managers("teach-hang", teach_seconds=0.5)
    fails_and_frees_its_slot(m, teach(m), "teaching took longer than 0.5 s")


@spawns
def test_a_run_past_its_wall_clock_deadline_is_ended(managers, monkeypatch):
    monkeypatch.setattr("runs.manager.WALL_SLACK", 0.0)
    m = managers("ignore-stop", max_seconds=0.5, max_paused_seconds=0.5)
    handle = m.submit(LONG)  # the fake's 40 epochs take ~16 s: only the deadline ends it
    wait_for(lambda: handle.over, "the deadline reached", touch=[handle])
    view = handle.view()
    assert view.state is State.STOPPED and "ran past its time limit" in view.reason
    m.limits = Limits(max_concurrent=1)
    next_run_finishes(m)


@spawns
def test_an_abandoned_queued_run_leaves_the_queue(managers):
    m = managers("train")
    m.abandon_after = 0.3
    running = m.submit(LONG)
    queued = m.submit(LONG)
    wait_for(lambda: queued.over, "the abandoned queued run stopped", touch=[running])
    assert (queued.view().state, queued.view().reason) == (State.STOPPED, "the page was closed")
    running.stop()


@spawns
def test_pause_and_resume_clicks_coalesce_and_the_last_one_wins(managers):
    m = managers("train")
    handle = m.submit(LONG)
    wait_for(lambda: handle.view().state is State.RUNNING, "the run trains", touch=[handle])
    for _ in range(500):  # a visitor (or a script) clicking as fast as it can
        handle.pause()
        handle.resume()
    handle.pause()
    wait_for(lambda: handle.view().state is State.PAUSED, "the last click applied", touch=[handle])
    handle.resume()
    wait_for(lambda: handle.view().state is State.RUNNING, "resumed", touch=[handle])
    handle.stop()
    wait_for(lambda: handle.over, "stopped", touch=[handle])


@spawns
def test_the_queue_is_bounded_with_a_message(managers):
    m = managers("train", max_queue=2)
    handles = [m.submit(LONG)]
    wait_for(lambda: m.counts()["training"] == 1, "the first run has the slot", touch=handles)
    handles += [m.submit(LONG) for _ in range(2)]  # two wait
    with pytest.raises(QueueFull, match="the queue is full .* try again in a minute"):
        m.submit(LONG)
    handles[1].stop()
    m.submit(LONG)  # room again
    assert m.counts()["waiting"] == 2


@spawns
def test_many_sessions_from_one_client_are_bounded_by_the_queue(managers):
    """Cookie-less sessions have no owner in common: the queue's bound holds them, and the
    run that trains still has its slot; an owner holds one run at most."""
    m = managers("train", max_queue=3)
    accepted, refused = [m.submit(LONG)], 0
    wait_for(lambda: m.counts()["training"] == 1, "the first run has the slot", touch=accepted)
    for _ in range(19):
        try:
            accepted.append(m.submit(LONG))
        except QueueFull:
            refused += 1
    assert len(accepted) == 4 and refused == 16  # one in the slot, three waiting
    for handle in accepted[1:]:
        handle.stop()
    first = m.submit(LONG, owner="browser-1")
    second = m.submit(LONG, owner="browser-1")  # a new Train from the same browser ...
    assert first.view().state is State.STOPPED  # ... replaces its queued run
    assert "replaced by a newer run" in first.view().reason
    assert m.owned_by("browser-1").id == second.id
    accepted[0].stop()


@spawns
def test_a_reload_finds_the_run_by_its_token_and_a_restart_says_so(managers):
    m = managers("train")
    handle = m.submit(LONG, owner="browser-1")
    found, why = m.lookup(handle.token)
    assert found.id == handle.id and why == ""
    assert m.owned_by("browser-1").id == handle.id  # a second tab of the same browser
    assert m.lookup("0badb00t.1.xyz") == (None, "restarted")  # from a server before this one
    assert m.lookup(handle.token + "x") == (None, "gone")
    handle.stop()


def test_pause_resume_cycling_cannot_exceed_the_paused_limit():
    """Total paused time is capped, however the pauses are cut up (the engine, FakeData)."""
    from nn.protocol import Pause, Resume
    from nn.trainer import Control, TrainingRun

    class Clicker(Control):
        def __init__(self):
            self.paused_waits = []

        def poll(self, run):
            return [Pause()]  # pause at every chance ...

        def wait(self, run, timeout):
            self.paused_waits.append(timeout)
            run.paused_time += 0.4  # ... each pause lasting 0.4 s of the clock
            return Resume() if timeout > 0 else None

    control = Clicker()
    limits = Limits(max_paused_seconds=2.0)
    run = TrainingRun(
        Settings(hidden=5, epochs=50, train_size=400), FakeData(), limits=limits, control=control
    )
    run.run()
    assert run.state is State.STOPPED and "paused for more than 2 s in all" in run.reason
    assert len(control.paused_waits) <= 7  # not one more pause once the budget is spent


@spawns
def test_a_full_disk_is_a_clear_message_and_the_next_try_works(managers, monkeypatch):
    m = managers("train")
    real_save = shared.np.save

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(shared.np, "save", full)
    with pytest.raises(ServiceError, match="disk is full.*try again"):
        m.submit(SHORT)
    assert not list(m.temp_root.glob("digitlab-runs-*"))  # the half-written copy is gone
    monkeypatch.setattr(shared.np, "save", real_save)
    handle = m.submit(SHORT)
    wait_for(lambda: handle.over, "the run after the disk emptied", touch=[handle])
    assert handle.view().state is State.FINISHED


@spawns
def test_a_vanished_copy_is_written_again(managers):
    import shutil

    m = managers("train")
    m.prepare_data()
    old = m._folder
    shutil.rmtree(old)  # a cleaner of /tmp
    handle = m.submit(SHORT)
    assert m._folder != old and shared.copy_is_complete(m._folder)
    wait_for(lambda: handle.over, "the run on the new copy", touch=[handle])
    assert handle.view().state is State.FINISHED


def test_a_crashed_servers_copy_is_removed_at_the_next_start(tmp_path):
    dead = tmp_path / f"{shared.PREFIX}999999999-abc"  # no such process
    dead.mkdir()
    mine = tmp_path / f"{shared.PREFIX}{os.getpid()}-abc"
    mine.mkdir()
    other = tmp_path / "something-else"
    other.mkdir()
    m = manager("train", tmp_path)
    try:
        assert not dead.exists() and mine.exists() and other.exists()
    finally:
        m.close()


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_a_dead_loop_is_noticed_and_the_shared_manager_replaced(monkeypatch, tmp_path):
    monkeypatch.setattr(RunManager, "_shared", None)
    broken = manager("train", tmp_path)
    monkeypatch.setattr(RunManager, "_shared", broken)
    handle = broken.submit(LONG)

    def explode():
        raise SystemExit("the loop's thread ends")  # not an Exception: the loop dies

    monkeypatch.setattr(broken, "_pass", explode)
    broken._wake()
    wait_until(lambda: not broken._thread.is_alive(), DEADLINE, "the loop died")
    ok, why = RunManager.health()
    assert not ok and "loop died" in why
    fresh = RunManager._shared
    try:
        assert fresh is not broken and fresh.healthy() == (True, "ok")
        assert handle.view().state is State.FAILED
        assert "restarted" in handle.view().reason and "press Train again" in handle.view().reason
    finally:
        fresh.close()


@spawns
def test_a_spare_that_has_not_said_it_is_ready_is_not_handed_a_job(managers):
    """The fake worker never says READY (a spare still warming up): the job gets a fresh
    worker and the spare stays the spare."""
    m = managers("train")
    m.prepare_data()
    wait_for(lambda: m._spare is not None, "a spare started")
    spare = m._spare[0]
    handle = m.submit(SHORT)
    wait_for(lambda: handle.over, "the run ended", touch=[handle])
    assert handle.view().state is State.FINISHED, handle.view().reason
    assert handle._record.process is not spare
    assert m._spare is not None and m._spare[0] is spare and spare.poll() is None
