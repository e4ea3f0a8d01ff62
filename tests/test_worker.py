"""A run's worker, in the test's own thread: the reports it sends for the commands it gets.

`FakeServer` stands for the server's end of the worker's connection: commands are handed out
once the worker has sent a given number of metric points (at its next look at the
connection), or when it waits while paused. The worker looks at every chance
(`poll_every=0`), so what it does depends on the points sent, never on the clock.
"""

from collections import deque

import numpy as np
import pytest

from nn.network import Network
from nn.protocol import Pause, Resume, SetEta, State, Step, Stop, Watch
from nn.settings import Limits, Settings
from nn.teach import fine_tune
from runs.messages import Report, Start, TeachJob, TrainJob
from runs.worker import Worker
from tests.helpers import FakeData


class FakeServer:
    def __init__(
        self, settings, *, after_points=None, while_paused=(), gone_after=None, teach=None
    ):
        job = teach if teach is not None else TrainJob(settings, 0.0)
        # paused runs stop after 0.05 s without a command: this fake's poll never blocks, so
        # the worker's heartbeat loop while paused spins until then
        self.inbox = deque([Start(job, Limits(max_paused_seconds=0.05), "unused")])
        self.after_points = dict(after_points or {})
        self.while_paused = deque(while_paused)
        self.gone_after = gone_after  # raise EOFError once this many points were sent
        self.reports: list[Report] = []

    def points(self) -> int:
        return sum(len(r.points) for r in self.reports)

    def poll(self, timeout=0.0):
        if self.gone_after is not None and self.points() >= self.gone_after:
            raise EOFError
        for due in [n for n in self.after_points if n <= self.points()]:
            self.inbox.extend(self.after_points.pop(due))
        if not self.inbox and timeout != 0.0 and self.while_paused:  # the worker waits
            self.inbox.append(self.while_paused.popleft())
        return bool(self.inbox)

    def recv(self):
        return self.inbox.popleft()

    def send(self, report):
        self.reports.append(report)


SETTINGS = Settings(hidden=10, epochs=2, train_size=400, batch_size=10)


def test_a_state_change_travels_with_its_figures():
    server = FakeServer(SETTINGS, after_points={4: [Pause()]}, while_paused=[SetEta(0.5), Resume()])
    Worker(server, poll_every=0.0).main(FakeData())
    reports = server.reports
    states = [r.state for r in reports]
    assert states[0] is State.RUNNING and states[-1] is State.FINISHED
    first_paused = states.index(State.PAUSED)
    paused = reports[first_paused]
    last_point = [p for r in reports[:first_paused] for p in r.points][-1]
    # "paused" comes with the progress and the training time it paused at: the last point's
    assert paused.progress == last_point.epoch == reports[first_paused - 1].progress
    assert paused.elapsed >= last_point.elapsed
    # while paused, the eta change is reported where it paused, and nothing moves
    eta_report = next(r for r in reports if r.eta_changes)
    assert eta_report.state is State.PAUSED
    assert eta_report.eta_changes == ((paused.progress, 0.5),)
    assert (eta_report.progress, eta_report.elapsed) == (paused.progress, paused.elapsed)
    later = [p for r in reports[first_paused:] for p in r.points]
    assert later and all(p.eta == 0.5 for p in later)
    # progress never goes back, and every point arrives with the weights as of that point
    progress = [r.progress for r in reports]
    assert progress == sorted(progress) and reports[-1].progress == 2
    assert all((r.weights is not None) == bool(r.points) for r in reports)
    epochs = [p.epoch for r in reports for p in r.points]
    assert epochs == sorted(epochs) and epochs[0] == 0 and epochs[-1] == 2


def test_each_stepped_mini_batch_is_sent_once_with_the_pause_after_it():
    server = FakeServer(
        SETTINGS, after_points={2: [Pause()]}, while_paused=[Watch(3), Step(), Step(), Resume()]
    )
    Worker(server, poll_every=0.0).main(FakeData())
    reports = server.reports
    looked = [r for r in reports if r.step is not None]
    assert len(looked) == 2  # one per Step, none at full speed
    first, second = (r.step for r in looked)
    assert second.number == first.number + 1 and first.neuron == second.neuron == 3
    assert all(r.state is State.PAUSED for r in looked)  # arrives with the pause after it
    assert looked[1].progress == pytest.approx(looked[0].progress + 1 / 40)
    assert first.images.shape == (10, 784) and reports[-1].state is State.FINISHED


def test_a_stop_ends_the_run_with_one_last_report():
    server = FakeServer(SETTINGS.replace(epochs=50), after_points={3: [Stop("closed")]})
    Worker(server, poll_every=0.0).main(FakeData())
    last = server.reports[-1]
    assert (last.state, last.reason) == (State.STOPPED, "closed")
    assert 0 < last.progress < 50
    assert [r for r in server.reports if r.state.over] == [last]


def test_the_run_stops_when_the_server_goes_away():
    server = FakeServer(SETTINGS.replace(epochs=50), gone_after=2)
    Worker(server, poll_every=0.0).main(FakeData())
    assert server.reports[-1].state is State.STOPPED
    assert server.reports[-1].reason == "the server went away"


def test_settings_the_worker_cannot_use_are_reported_as_a_failure():
    server = FakeServer(SETTINGS.replace(hidden=5000))
    Worker(server, poll_every=0.0).main(FakeData())
    [report] = server.reports
    assert report.state is State.FAILED and "hidden neurons" in report.reason


@pytest.mark.parametrize("paused_for", [0, 1])
def test_a_paused_run_is_stopped_when_no_command_comes(paused_for):
    server = FakeServer(
        SETTINGS, after_points={2: [Pause()]}, while_paused=[SetEta(1.0)] * paused_for
    )
    Worker(server, poll_every=0.0).main(FakeData())
    assert server.reports[-1].state is State.STOPPED
    assert "paused for more than" in server.reports[-1].reason


# --- a teach job: one fine-tune, one final report -----------------------------------------


def teach_job(net, drawings, labels, **options):
    pixels = np.rint(np.asarray(drawings) * 255).astype(np.uint8).reshape(len(drawings), 784)
    return TeachJob(
        (tuple(net.weights), tuple(net.biases)),
        net.init,
        net.cost,
        net.l2,
        pixels,
        tuple(labels),
        options,
    )


def bar(column):
    image = np.zeros((28, 28), dtype=np.float32)
    image[5:23, column : column + 3] = 1.0
    return image


def test_a_teach_job_sends_one_report_with_the_fine_tuned_network():
    net = Network([784, 12, 10], seed=3, cost="quadratic", l2=2.0)
    wanted = (int(net.predict(bar(12).reshape(-1))) + 4) % 10  # an answer it does not give
    server = FakeServer(None, teach=teach_job(net, [bar(12)], [wanted], seed=1))
    data = FakeData()
    Worker(server, poll_every=0.0).main(data)
    [report] = server.reports
    assert report.state is State.FINISHED and report.taught is not None
    taught = report.taught
    # the same result as the plain function on the same data
    expected = fine_tune(
        net,
        [bar(12)],
        [wanted],
        seed=1,
        replay=(data.train_images, data.train_labels),
        test=(data.test_images, data.test_labels),
    )
    assert list(taught.answers) == expected.answers == [wanted]
    assert list(taught.answers_before) == expected.answers_before
    assert (taught.rounds, taught.steps) == (expected.rounds, expected.steps)
    assert (taught.accuracy_before, taught.accuracy_after) == (
        expected.accuracy_before,
        expected.accuracy_after,
    )
    for got, want in zip(
        taught.net.weights + taught.net.biases, expected.net.weights + expected.net.biases
    ):
        np.testing.assert_array_equal(got, want)
    assert taught.seconds > 0


@pytest.mark.parametrize(
    "labels, options, reason",
    [
        ([11], {}, "each label must be a digit from 0 to 9"),
        ([3], {"max_rounds": "many"}, "TypeError"),
    ],
)
def test_a_teach_job_that_cannot_run_fails_with_the_reason(labels, options, reason):
    net = Network([784, 6, 10], seed=0)
    server = FakeServer(None, teach=teach_job(net, [bar(8)], labels, **options))
    Worker(server, poll_every=0.0).main(FakeData())
    [report] = server.reports
    assert report.state is State.FAILED and report.taught is None
    assert report.reason.startswith(reason)


def test_reports_carry_every_mini_batch_cost_once_and_the_bin_still_filling():
    server = FakeServer(SETTINGS, after_points={2: [Pause()]}, while_paused=[Step(), Resume()])
    Worker(server, poll_every=0.0).main(FakeData())
    reports = server.reports
    bins = [b for r in reports for b in r.cost_bins]
    # 80 mini-batches, one a bin (a short run): each sent once, in order
    assert len(bins) == 80 and all(b.batches == 1 for b in bins)
    assert [b.epoch for b in bins] == sorted(b.epoch for b in bins)
    assert len({b.epoch for b in bins}) == 80
    # the stepped mini-batch's cost arrives in the report that carries the step
    stepped = next(r for r in reports if r.step is not None)
    assert stepped.cost_bins[-1].mean == pytest.approx(stepped.step.cost_before)
    assert reports[-1].open_cost_bin is None  # nothing left unsent


def test_a_long_run_sends_at_most_the_bound_of_cost_points(monkeypatch):
    import nn.trainer

    monkeypatch.setattr(nn.trainer, "COST_BINS", 6)  # 80 mini-batches: bins of 14
    server = FakeServer(SETTINGS)
    Worker(server, poll_every=0.0).main(FakeData())
    bins = [b for r in server.reports for b in r.cost_bins]
    assert len(bins) == 5 and all(b.batches == 14 for b in bins)
    assert server.reports[-1].open_cost_bin.batches == 10  # the last 10, still in the report
    assert max(len(r.cost_bins) for r in server.reports) <= 6
