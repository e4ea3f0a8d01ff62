"""The server's run manager with real workers on the real MNIST: runs, teach jobs, the slot
limit, the queue, cleanup. (Its failures, with misbehaving fake workers, are in
test_run_service.py.)

The first tests drive a manager's record with reports directly; the others start real worker
processes and wait for conditions, each wait with a deadline and a message saying what did
not happen.
"""

import sys

import numpy as np
import pytest

import runs.manager
from nn import mnist
from nn.protocol import IllegalTransition, State
from nn.settings import Limits, Settings, SettingsError
from nn.teach import TeachError
from nn.trainer import CostBin, Point
from runs.manager import RunManager
from runs.messages import Report
from tests.helpers import FakeData, wait_until

LONG = Settings(hidden=30, epochs=40, train_size=50_000)  # far longer than any test waits
SHORT = Settings(hidden=10, epochs=1, train_size=2_000)
DEADLINE = 60.0  # seconds; generous for a busy 2-core machine, only reached on a failure


def wait_for(condition, what: str, timeout: float = DEADLINE, touch=()):
    """Return once condition() is true; fail saying `what` did not happen in time.
    Handles in `touch` are touched meanwhile (their page is still open)."""

    def touched_condition():
        for handle in touch:
            handle.touch()
        return condition()

    wait_until(touched_condition, timeout, what, every=0.02)


# --- a record, fed reports by hand --------------------------------------------------------


def point(epoch):
    return Point(epoch, 0.5, 0.5, 5000, 0.1, epoch, 3.0, epoch == int(epoch) and epoch > 0)


@pytest.fixture
def idle(tmp_path):
    """A manager with no slot: its jobs stay queued until a test feeds them reports."""
    m = RunManager(None, Limits(max_concurrent=1), temp_root=tmp_path, load=FakeData, spare=False)
    m.limits = Limits(max_concurrent=0)  # nothing starts
    yield m
    m.close()


def fed(m, *reports):
    handle = m.submit(SHORT)
    record = handle._record
    with m._lock:
        m._queue.remove(record)
        m._become(record, State.STARTING)
    for report in reports:
        m._receive(record, report)
    return handle, record


def test_a_view_takes_a_reports_state_and_figures_together(idle):
    handle, _ = fed(
        idle,
        Report(State.RUNNING, "", 0.5, 1.0, (point(0), point(0.5)), (), ((), ())),
        Report(State.PAUSED, "", 0.625, 1.25, (), ((0.625, 1.0),)),
    )
    view = handle.view()
    assert (view.state, view.progress, view.elapsed) == (State.PAUSED, 0.625, 1.25)
    assert [p.epoch for p in view.history] == [0, 0.5]
    assert view.eta_changes == ((0.625, 1.0),) and view.etas == [3.0, 1.0]
    assert view.label == "[784, 10, 10] eta 3 -> 1 batch 10 2,000 images"
    assert view.title == "eta 3 -> 1 batch 10 2,000 images"  # the picker names the layers
    assert view.on_subset  # the last point was measured between epochs' ends
    meta = handle.metadata()
    assert meta["epochs"] == 0.625 and meta["eta_changes"] == [(0.625, 1.0)]
    assert meta["etas"] == [3.0, 1.0] and meta["accuracy_measured_on"] == 2000
    assert meta["name"] == "trained on the Digit Lab page" and meta["test_accuracy"] == 0.5


def test_a_view_has_the_mini_batches_costs_with_the_bin_still_filling(idle, monkeypatch):
    monkeypatch.setattr(runs.manager, "COST_BINS", 3)  # the manager holds the bound too
    a, b, c, d = (CostBin(k / 10, 1.0 - k / 10, 0.5, 1.5, 4) for k in range(4))
    handle, _ = fed(
        idle,
        Report(State.RUNNING, "", 0.1, 1.0, cost_bins=(a,), open_cost_bin=b._replace(batches=1)),
    )
    assert handle.view().cost_bins == (a, b._replace(batches=1))  # the open bin last
    idle._receive(handle._record, Report(State.RUNNING, "", 0.2, 2.0, cost_bins=(b, c, d)))
    assert handle.view().cost_bins == (a, b, c)  # no bin open; at most COST_BINS kept


def test_the_time_left_after_slow_motion_comes_from_the_full_speed_since(idle):
    """Slow motion's waits count as training time, so its samples (a mini-batch in 0.25 s)
    made a run back at full speed look thousands of times slower: seen in chromium, "about
    19 s left" 6 s before the end. The estimate uses the full-speed samples since."""
    from nn.lookstep import look_at_step
    from nn.network import Network
    from nn.sgd import SGD

    data = FakeData()
    net = Network([784, 10, 10], seed=1)
    look = look_at_step(net, SGD(net, data.train_images, data.train_labels), np.arange(10), 3.0)
    handle = idle.submit(Settings(hidden=10, epochs=10, train_size=2_000))
    record = handle._record
    with idle._lock:
        idle._queue.remove(record)
        idle._become(record, State.STARTING)
    t, progress = 0.0, 0.0
    for _ in range(10):  # full speed: 0.1 epoch a second
        t, progress = t + 0.2, progress + 0.02
        idle._receive(record, Report(State.RUNNING, "", progress, t))
    for _ in range(20):  # slow motion: one mini-batch (1/200 epoch) each 0.25 s, looked at
        t, progress = t + 0.25, progress + 0.005
        idle._receive(record, Report(State.RUNNING, "", progress, t, step=look))
    for _ in range(5):  # full speed again
        t, progress = t + 0.2, progress + 0.02
        idle._receive(record, Report(State.RUNNING, "", progress, t))
    left = handle.view().seconds_left
    assert left == pytest.approx((10 - progress) / 0.1, rel=0.05)
    # and its speed is the full speed's: 0.1 epoch of 2,000 images a second
    assert handle.view().images_per_second == pytest.approx(200)


def test_a_record_refuses_a_transition_the_state_machine_does_not_allow(idle):
    handle = idle.submit(SHORT)
    with pytest.raises(IllegalTransition, match="queued to paused"):
        idle._receive(handle._record, Report(State.PAUSED))
    assert handle.view().state is State.QUEUED


def test_the_last_report_waits_for_the_process_to_end(idle):
    """'over' means the worker has exited: the final report is applied then, whole."""
    handle, record = fed(
        idle, Report(State.RUNNING, "", 0.5, 1.0), Report(State.STOPPED, "closed", 0.75, 1.5)
    )
    assert handle.view().state is State.RUNNING and not handle.over

    class Ended:
        returncode = 0

        def poll(self):
            return 0

    record.process = Ended()
    with idle._lock:
        idle._active.append(record)
    idle._end(record)
    view = handle.view()
    assert (view.state, view.reason, view.progress) == (State.STOPPED, "closed", 0.75)
    assert idle.counts()["training"] == 0


# --- real worker processes ----------------------------------------------------------------


slow = pytest.mark.slow  # real workers training on the real MNIST


@pytest.fixture
def manager(mnist_dir):
    m = RunManager(mnist_dir, Limits(max_concurrent=1, max_epochs=40), report_every=0.2)
    yield m
    m.close()


@slow
def test_a_run_trains_in_its_own_process_and_reports(manager):
    handle = manager.submit(SHORT.replace(epochs=2))
    wait_for(lambda: handle.over, "the run ended")
    view = handle.view()
    assert view.state is State.FINISHED, view.reason
    assert [p.epoch for p in view.history if p.end_of_epoch] == [1, 2]
    assert view.history[-1].test_accuracy > 0.5 and not view.on_subset
    assert view.progress == 2 and view.images_per_second > 0
    assert handle.network().sizes == [784, 10, 10]
    assert handle._record.process.returncode == 0


@slow
def test_pause_resume_eta_and_stop_reach_the_worker(manager):
    handle = manager.submit(LONG)
    wait_for(lambda: len(handle.view().history) >= 2, "two metric points")
    handle.set_eta(0.5)
    wait_for(lambda: handle.view().eta_changes, "the eta change reported")
    changed_at = handle.view().eta_changes[0][0]
    wait_for(
        lambda: any(p.epoch > changed_at for p in handle.view().history),
        "a point after the eta change",
    )
    later = [p for p in handle.view().history if p.epoch > changed_at]
    assert all(p.eta == 0.5 for p in later)

    handle.pause()
    wait_for(lambda: handle.view().state is State.PAUSED, "the run paused")
    paused = handle.view()
    handle.set_eta(1.0)  # applied while paused, exactly where the run paused
    wait_for(lambda: len(handle.view().eta_changes) == 2, "the second eta change reported")
    view = handle.view()
    assert view.state is State.PAUSED
    assert view.eta_changes[1] == (paused.progress, 1.0)
    assert (view.progress, view.elapsed) == (paused.progress, paused.elapsed)

    handle.resume()
    wait_for(lambda: handle.view().progress > paused.progress, "training went on")
    assert handle.view().state is State.RUNNING
    handle.stop()
    wait_for(lambda: handle.over, "the run stopped")
    assert handle.view().state is State.STOPPED and handle._record.process.poll() is not None


@slow
def test_step_and_slow_motion_reach_the_worker(manager):
    handle = manager.submit(LONG)  # 5,000 mini-batches an epoch
    one = 1 / 5000
    wait_for(lambda: handle.view().history, "a first point")
    handle.pause()
    wait_for(lambda: handle.view().state is State.PAUSED, "the run paused")
    paused = handle.view().progress
    for k in (1, 2):
        handle.step()
        goal = paused + (k - 0.5) * one
        wait_for(lambda: handle.view().progress > goal, f"step {k} reported")  # noqa: B023
        view = handle.view()
        assert view.state is State.PAUSED and view.progress == pytest.approx(paused + k * one)
        # every mini-batch so far is in the cost curve, the stepped one too
        assert sum(b.batches for b in view.cost_bins) == round(view.progress / one)

    handle.set_speed("slow")
    assert handle.view().speed == "slow"
    handle.resume()

    def seen():  # the progress of each report since the steps
        return sorted({p for _, p in handle._record.samples if p > paused + 1.5 * one})

    wait_for(lambda: len(seen()) >= 5, "five slow mini-batches reported", touch=[handle])
    assert handle.view().state is State.RUNNING
    # one mini-batch between two reports: slow motion, not a full-speed run sampled
    assert np.diff(seen()[:5]) == pytest.approx([one] * 4)

    handle.set_speed("full")
    slowed_to = handle.view().progress
    wait_for(
        lambda: handle.view().progress > slowed_to + 1000 * one, "full speed again"
    )  # slow: 250 s
    assert handle.view().speed == "full"
    handle.stop()
    wait_for(lambda: handle.over, "the run stopped")


@slow
def test_runs_beyond_the_limit_wait_in_order_and_start_by_themselves(manager):
    first, second, third = (manager.submit(LONG) for _ in range(3))
    wait_for(lambda: first.view().state is State.RUNNING, "the first run running")
    assert [h.view().queue_position for h in (first, second, third)] == [None, 1, 2]
    assert second.view().state == third.view().state is State.QUEUED
    first.stop()
    wait_for(lambda: second.view().state in (State.STARTING, State.RUNNING), "the second started")
    assert third.view().queue_position == 1 and third.view().state is State.QUEUED
    assert first.view().state is State.STOPPED and first._record.process.poll() is not None
    third.stop("changed my mind")  # a queued run leaves the queue at once
    assert third.view().state is State.STOPPED and third._record.process is None
    second.stop()
    wait_for(lambda: second.over, "the second run stopped")
    assert manager.counts() == {"training": 0, "waiting": 0, "slots": 1}


@slow
def test_queued_runs_start_in_the_order_they_were_submitted(manager, monkeypatch):
    """No visitor is starved: with one slot, four runs start strictly first come, first served."""
    started = []
    launch = manager._launch

    def recording_launch(record):
        started.append(record.id)
        launch(record)

    monkeypatch.setattr(manager, "_launch", recording_launch)
    handles = [manager.submit(SHORT) for _ in range(4)]
    wait_for(lambda: all(h.over for h in handles), "all four runs ended", touch=handles)
    assert started == [h.id for h in handles]
    assert [h.view().state for h in handles] == [State.FINISHED] * 4


@slow
def test_an_abandoned_run_is_stopped_and_frees_its_slot(mnist_dir):
    m = RunManager(mnist_dir, Limits(max_concurrent=1, max_epochs=40), abandon_after=1.0)
    try:
        handle = m.submit(LONG)
        waiting = m.submit(SHORT)
        # this page is still open (touched); the first one is not
        wait_for(lambda: handle.over, "the abandoned run stopped", touch=[waiting])
        assert handle.view().state is State.STOPPED
        assert handle.view().reason == "the page was closed"
        assert handle._record.process.poll() is not None
        wait_for(
            lambda: waiting.view().state != "queued", "the waiting run started", touch=[waiting]
        )
    finally:
        m.close()


@slow
def test_a_crashed_worker_is_reported_and_its_slot_freed(manager):
    handle = manager.submit(LONG)
    waiting = manager.submit(SHORT)
    wait_for(lambda: handle.view().state is State.RUNNING, "the run running")
    handle._record.process.kill()
    wait_for(lambda: handle.over, "the crash noticed")
    assert handle.view().state is State.FAILED and "ended unexpectedly" in handle.view().reason
    wait_for(lambda: waiting.over, "the waiting run ended")
    assert waiting.view().state is State.FINISHED


@slow
def test_limits_are_enforced_when_submitting(manager):
    with pytest.raises(SettingsError, match="hidden"):
        manager.submit(LONG.replace(hidden=5000))
    with pytest.raises(SettingsError, match="epochs"):
        manager.submit(LONG.replace(epochs=41))
    assert manager.counts()["waiting"] == 0


# --- teach jobs: fine-tunes in workers, under the same slots and queue -------------------


def misread(mnist_data, count=2):
    """The book's network and `count` test digits it misreads, as drawings and labels."""
    import numpy as np

    from nn.models import SHIPPED

    net = next(n for n, _ in (m.load() for m in SHIPPED) if n.sizes == [784, 30, 10])
    wrong = np.flatnonzero(net.predict(mnist_data.test_images) != mnist_data.test_labels)
    pick = wrong[:count]
    return (
        net,
        [mnist_data.test_images[i].reshape(28, 28) / 255.0 for i in pick],
        [int(mnist_data.test_labels[i]) for i in pick],
    )


@slow
def test_a_teach_job_fine_tunes_in_a_worker(manager, mnist_data):
    net, drawings, digits = misread(mnist_data)
    handle = manager.submit_teach(net, drawings, digits, seed=3)
    result = handle.result(DEADLINE)
    assert result is not None, f"no result within {DEADLINE} s ({handle.state})"
    assert result.answers == digits and result.answers_before != digits
    assert result.net.sizes == net.sizes and result.net is not net
    assert (result.net.cost, result.net.init, result.net.l2) == (net.cost, net.init, net.l2)
    assert result.net.predict(net_input(drawings)).tolist() == digits
    assert abs(result.accuracy_after - result.accuracy_before) < 0.02
    assert result.rounds >= 1 and result.steps > 0 and result.seconds > 0
    # the result comes with the worker's last report; the slot frees once the process exits
    wait_for(lambda: handle.over, "the teach job's worker exited")
    assert handle.state is State.FINISHED and handle._record.process.returncode == 0
    assert manager.counts() == {"training": 0, "waiting": 0, "slots": 1}


def net_input(drawings):
    import numpy as np

    return np.stack([d.reshape(-1) for d in drawings])


@slow
def test_a_teach_job_waits_for_a_slot_like_a_run(manager, mnist_data):
    net, drawings, digits = misread(mnist_data, 1)
    run = manager.submit(LONG)
    wait_for(lambda: run.view().state is State.RUNNING, "the run running")
    handle = manager.submit_teach(net, drawings, digits)
    behind = manager.submit(SHORT)
    assert handle.queue_position() == 1 and behind.view().queue_position == 2
    assert handle.result(0.2) is None  # the only slot is taken: still queued
    assert handle.state is State.QUEUED
    assert manager.counts() == {"training": 1, "waiting": 2, "slots": 1}
    run.stop()
    result = handle.result(DEADLINE)
    assert result is not None and result.answers == digits
    wait_for(lambda: behind.over, "the run queued behind the teach job ended", touch=[behind])
    assert behind.view().state is State.FINISHED


@slow
def test_a_teach_job_withdrawn_from_the_queue_says_so(manager, mnist_data):
    net, drawings, digits = misread(mnist_data, 1)
    run = manager.submit(LONG)
    wait_for(lambda: run.view().state is State.RUNNING, "the run running")  # not still queued
    handle = manager.submit_teach(net, drawings, digits)
    handle.stop("no free training slot in time")
    with pytest.raises(TeachError, match="no free training slot"):
        handle.result(DEADLINE)
    assert handle._record.process is None and manager.counts()["waiting"] == 0
    run.stop()


@slow
def test_a_lesson_that_cannot_be_taught_is_refused_before_it_queues(manager, mnist_data):
    net, drawings, _ = misread(mnist_data, 1)
    with pytest.raises(TeachError, match="from 0 to 9"):
        manager.submit_teach(net, drawings, [12])
    assert manager.counts()["waiting"] == 0


@slow
def test_a_teach_job_that_fails_in_its_worker_raises_the_reason(manager, mnist_data):
    net, drawings, digits = misread(mnist_data, 1)
    handle = manager.submit_teach(net, drawings, digits, max_rounds="many")
    with pytest.raises(TeachError, match="TypeError"):
        handle.result(DEADLINE)
    wait_for(lambda: handle.over, "the failed teach job's worker exited")
    assert handle.state is State.FAILED


@slow
def test_closing_the_manager_ends_every_worker(mnist_dir):
    m = RunManager(mnist_dir, Limits(max_concurrent=2, max_epochs=40))
    handles = [m.submit(LONG) for _ in range(3)]
    wait_for(lambda: all(h.view().state is State.RUNNING for h in handles[:2]), "two runs running")
    m.close()
    assert [h.view().state for h in handles] == [State.STOPPED] * 3
    assert all(h._record.process.poll() is not None for h in handles[:2])
    assert handles[2]._record.process is None


@slow
def taken(lock) -> bool:
    """Whether another thread could not take `lock` now (an RLock: asked from a thread of
    its own, since the holder itself could take it again)."""
    import threading

    got = []

    def attempt():
        got.append(lock.acquire(blocking=False))
        if got[0]:
            lock.release()

    thread = threading.Thread(target=attempt)
    thread.start()
    thread.join()
    return not got[0]


def test_mnist_is_prepared_without_holding_the_lock_views_need(mnist_dir, mnist_data, monkeypatch):
    m = RunManager(mnist_dir, Limits(max_concurrent=1))
    held = []

    def loading(directory, *args, **kwargs):  # what load_mnist reads, read once per session
        held.append(taken(m._lock))
        assert mnist.find_mnist_dir(directory) == mnist.find_mnist_dir(mnist_dir)
        return mnist_data

    monkeypatch.setattr(mnist, "load_mnist", loading)
    try:
        m.prepare_data()
        m.prepare_data()  # once per manager
        assert held == [False]
        assert 0.2 < m.darkness_baseline < 0.25 and m.data_available()
    finally:
        m.close()


@slow
def test_submitting_without_mnist_says_what_to_do(monkeypatch, tmp_path):
    monkeypatch.delenv("MNIST_DIR", raising=False)
    monkeypatch.setattr(mnist, "DATA_DIR", tmp_path)
    m = RunManager(tmp_path / "nowhere", Limits(max_concurrent=1))
    try:
        with pytest.raises(mnist.MnistError, match="MNIST_DIR"):
            m.submit(SHORT)
        assert not m.data_available()
    finally:
        m.close()


def nice_of_threads(pid: int) -> set[int]:
    """The nice values of a process's threads (/proc/PID/task/TID/stat, field 19)."""
    from pathlib import Path

    return {
        int(stat.read_text().rsplit(")", 1)[1].split()[16])
        for stat in Path(f"/proc/{pid}/task").glob("*/stat")
    }


@slow
def test_a_job_goes_to_the_warm_spare_once_it_has_said_it_is_ready(mnist_dir):
    """The spare warms up at the lowest priority in a thread of its own, says READY, and the
    next job runs in it at the workers' priority; a new spare is started for the job after."""
    from runs.worker_main import NICENESS

    m = RunManager(mnist_dir, Limits(max_concurrent=1, max_epochs=40), report_every=0.2)
    try:
        m.prepare_data()
        wait_for(lambda: m._spare is not None and m._spare[1].poll(), "the spare said ready")
        spare = m._spare[0]
        # The warm-up's priority was its thread's own: no thread it started inherited it
        # (OpenBLAS starts its helpers when numpy is imported; a worker has none). The
        # warm-up thread itself has ended, but on a busy machine its OS thread, at nice 19,
        # may take a moment to go.
        wait_for(lambda: nice_of_threads(spare.pid) == {NICENESS}, "every thread at nice 10")
        handle = m.submit(SHORT)
        wait_for(lambda: handle.over, "the run ended", touch=[handle])
        assert handle.view().state is State.FINISHED, handle.view().reason
        assert handle._record.process is spare
        wait_for(lambda: m._spare is not None, "a new spare started")
        assert m._spare[0] is not spare
    finally:
        m.close()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread priority: Linux")
def test_a_spare_warms_up_at_the_lowest_priority_in_its_own_thread_only():
    import os
    import threading

    from runs.worker_main import SPARE_NICENESS, warm_up

    before = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    seen = {}

    def warm() -> None:
        warm_up(None, seen, quietly=True)
        seen["priority"] = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

    thread = threading.Thread(target=warm)
    thread.start()
    thread.join(DEADLINE)
    assert seen == {"data": None, "priority": max(before, SPARE_NICENESS)}
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == before


@slow
def test_a_warm_up_rehearses_a_run_on_the_shared_data(mnist_data, tmp_path, monkeypatch):
    """The warm-up trains a throwaway run on the mapped data, so a job's first mini-batches
    find their memory and numpy's code paths warm. Its errors are swallowed (it is only a
    head start), so this test is what notices when it stops working."""
    from runs import worker_main
    from runs.data import write_shared_data

    folder = write_shared_data(mnist_data, tmp_path)
    rehearsed, real = [], worker_main.rehearse

    def rehearse(data):
        real(data)  # an error here is swallowed by the warm-up: `rehearsed` stays empty
        rehearsed.append(len(data.train_images))

    monkeypatch.setattr(worker_main, "rehearse", rehearse)
    found: dict = {}
    worker_main.warm_up(str(folder), found, quietly=False)
    assert rehearsed == [len(mnist_data.train_images)]
    assert found["data"] is not None


@slow
@pytest.mark.parametrize("kind", ["teach", "train"])
def test_no_spare_starts_beside_a_training_run_s_first_reports(
    kind, mnist_dir, mnist_data, monkeypatch
):
    """A new spare's interpreter starts at the workers' priority, so none starts within
    SPARE_DELAY of a training run's start (here 60 s: never in this test); a teach job's
    replacement starts at once, for the visitor's next click."""
    monkeypatch.setattr(runs.manager, "SPARE_DELAY", 60.0)
    m = RunManager(mnist_dir, Limits(max_concurrent=1, max_epochs=40), report_every=0.2)
    try:
        m.prepare_data()
        wait_for(lambda: m._spare is not None and m._spare[1].poll(), "the spare said ready")
        spare = m._spare[0]
        if kind == "teach":
            handle = m.submit_teach(*misread(mnist_data))
            assert handle.result(DEADLINE) is not None
            wait_for(lambda: m._spare is not None, "a new spare started after the teach")
        else:
            handle = m.submit(SHORT)
            wait_for(lambda: handle.over, "the run ended", touch=[handle])
            assert handle._record.process is spare
            wait_for(lambda: not m._active, "the run's slot freed")
            assert m._spare is None  # not within SPARE_DELAY of the run's start
    finally:
        m.close()
