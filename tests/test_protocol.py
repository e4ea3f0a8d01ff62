"""The run protocol: one state machine, and messages that cross a process boundary intact."""

import pickle

import numpy as np
import pytest

from nn.protocol import (
    ACTIVE,
    OVER,
    IllegalTransition,
    Pause,
    Resume,
    SetEta,
    SetSpeed,
    State,
    Step,
    Stop,
)
from nn.settings import Limits, Settings
from nn.trainer import Point
from runs.messages import Report, Start, Taught, TeachJob, TrainJob, command_slot

ALLOWED = {
    (State.QUEUED, State.STARTING),
    (State.QUEUED, State.STOPPED),
    (State.QUEUED, State.FAILED),
    (State.STARTING, State.RUNNING),
    (State.STARTING, State.PAUSED),
    (State.RUNNING, State.PAUSED),
    (State.PAUSED, State.RUNNING),
    *((state, end) for state in (State.STARTING, State.RUNNING, State.PAUSED) for end in OVER),
}


@pytest.mark.parametrize("old", list(State))
@pytest.mark.parametrize("new", list(State))
def test_only_the_declared_transitions_are_allowed(old, new):
    if old is new or (old, new) in ALLOWED:
        assert old.to(new) is new
    else:
        with pytest.raises(IllegalTransition, match=f"from {old.value} to {new.value}"):
            old.to(new)


def test_states_are_queued_active_or_over():
    assert ACTIVE | OVER | {State.QUEUED} == set(State)
    assert not ACTIVE & OVER
    assert [s for s in State if s.over] == [State.FINISHED, State.STOPPED, State.FAILED]
    assert State("paused") is State.PAUSED  # the page reads states by their values


def test_messages_survive_pickling():
    weights = ((np.ones((3, 784), np.float32),), (np.zeros(3, np.float32),))
    point = Point(1.5, 0.9, 0.9, 9000, 0.1, 2.0, 3.0, False)
    report = Report(State.PAUSED, "", 1.5, 2.25, (point,), ((1.5, 0.5),), weights)
    messages = [
        Start(TrainJob(Settings(), 0.5), Limits(), "/tmp/x"),
        Pause(),
        Resume(),
        Stop("why"),
        SetEta(0.5),
        report,
    ]
    for message in messages[:-1]:
        assert pickle.loads(pickle.dumps(message)) == message
    back = pickle.loads(pickle.dumps(report))
    assert back.state is State.PAUSED and back.progress == 1.5 and back.points == report.points
    np.testing.assert_array_equal(back.weights[0][0], weights[0][0])


def test_a_teach_job_and_its_result_survive_pickling():
    weights = (
        (np.ones((3, 784), np.float32), np.ones((10, 3), np.float32)),
        (np.zeros(3, np.float32), np.zeros(10, np.float32)),
    )
    pixels = np.arange(2 * 784, dtype=np.uint8).reshape(2, 784)
    job = TeachJob(weights, "normal", "quadratic", 0.0, pixels, (4, 9), {"max_rounds": 3})
    start = pickle.loads(pickle.dumps(Start(job, Limits(), "/tmp/x")))
    assert start.job.kind == "teach" and start.job.labels == (4, 9)
    assert start.job.options == {"max_rounds": 3} and start.job.pixels.dtype == np.uint8
    np.testing.assert_array_equal(start.job.pixels, pixels)
    np.testing.assert_array_equal(start.job.weights[0][1], weights[0][1])
    taught = Taught(weights, (4, 9), (1, 1), 0.9, 0.89, 3, 120, 0.05)
    back = pickle.loads(pickle.dumps(Report(State.FINISHED, taught=taught)))
    assert back.state is State.FINISHED and back.taught.answers == (4, 9)
    assert (back.taught.rounds, back.taught.accuracy_after) == (3, 0.89)
    np.testing.assert_array_equal(back.taught.weights[1][0], weights[1][0])


def test_unsent_commands_of_one_kind_replace_each_other():
    assert command_slot(Pause()) == command_slot(Resume()) == "pause"
    assert len({command_slot(c) for c in (Pause(), SetEta(1.0), Stop())}) == 3
    with pytest.raises(TypeError):
        command_slot("step")


def test_step_coalesces_with_pause_and_resume_and_speed_has_a_slot_of_its_own():
    assert command_slot(Step()) == command_slot(Pause()) == "pause"
    assert command_slot(SetSpeed("slow")) == command_slot(SetSpeed("full")) == "speed"
    assert len({command_slot(c) for c in (Step(), SetSpeed("slow"), SetEta(1.0), Stop())}) == 4


def test_a_speed_is_full_or_slow():
    with pytest.raises(ValueError, match="full, slow"):
        SetSpeed("ludicrous")
