"""The run protocol: one state machine, and messages that cross a process boundary intact."""

import pickle

import numpy as np
import pytest

from nn.network import Network
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
from nn.teach import TeachResult
from nn.trainer import Point
from runs.messages import Report, Start, TeachJob, TrainJob, command_slot


def allowed(old: State, new: State) -> bool:
    try:
        old.to(new)
    except IllegalTransition as e:
        assert f"from {old.value} to {new.value}" in str(e)  # the message names both
        return False
    return True


# The state machine's rules, each one a reason (not a copy of its table): a run waits for a
# worker, starts, runs or pauses, and ends once; a visitor can stop it and a worker can fail
# at any moment until it has ended.


@pytest.mark.parametrize("state", list(State))
def test_staying_in_a_state_is_always_allowed(state):
    assert allowed(state, state)


@pytest.mark.parametrize("state", sorted(OVER, key=list(State).index))
def test_an_ended_run_stays_ended(state):
    assert [new for new in State if new is not state and allowed(state, new)] == []


@pytest.mark.parametrize("state", sorted(set(State) - OVER, key=list(State).index))
def test_a_run_can_be_stopped_or_fail_until_it_has_ended(state):
    assert allowed(state, State.STOPPED) and allowed(state, State.FAILED)


def test_a_run_starts_once_and_never_goes_back():
    assert [s for s in State if s is not State.QUEUED and allowed(s, State.QUEUED)] == []
    assert [s for s in State if s is not State.STARTING and allowed(s, State.STARTING)] == [
        State.QUEUED
    ]
    assert not allowed(State.QUEUED, State.RUNNING) and not allowed(State.QUEUED, State.PAUSED)


def test_only_a_started_run_finishes_and_only_an_active_one_pauses_or_runs():
    for new in (State.FINISHED, State.PAUSED, State.RUNNING):
        assert {s for s in State if s is not new and allowed(s, new)} <= ACTIVE
    assert allowed(State.RUNNING, State.PAUSED) and allowed(State.PAUSED, State.RUNNING)
    assert all(allowed(s, State.FINISHED) for s in ACTIVE)


def test_every_state_can_be_reached_from_queued():
    reached = {State.QUEUED}
    for _ in range(len(State)):  # a state more per round at least, or nothing new: done
        found = {new for state in reached for new in State if allowed(state, new)} - reached
        if not found:
            break
        reached |= found
    assert reached == set(State)


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
    net = Network.from_arrays(*weights, init="normal", cost="cross-entropy", l2=2.0)
    taught = TeachResult(net, [4, 9], [1, 1], 0.9, 0.89, 3, 120, 0.05)
    back = pickle.loads(pickle.dumps(Report(State.FINISHED, taught=taught)))
    assert back.state is State.FINISHED and back.taught.answers == [4, 9]
    assert (back.taught.rounds, back.taught.accuracy_after) == (3, 0.89)
    assert (back.taught.net.cost, back.taught.net.l2) == ("cross-entropy", 2.0)
    np.testing.assert_array_equal(back.taught.net.biases[0], weights[1][0])


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
