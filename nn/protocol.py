"""What a training run can be, and what the server and a run's worker process say to each other.

A run's life, the one state machine every side follows (`State.to` refuses anything else):

    QUEUED -> STARTING -> RUNNING <-> PAUSED
       |          |          |          |
       +----------+----------+----------+--> FINISHED, STOPPED or FAILED (OVER: final)

The server sends a worker `Start` once, then commands (`Pause`, `Resume`, `Stop`, `SetEta`).
The worker answers only with `Report`s. A report carries the run's state together with the
figures that go with it (progress, training time, the metric points and eta changes since the
previous report, and the weights as of the newest point), so whoever reads a report never sees
a state with figures from before or after it.

A worker can also be given a `TeachJob` instead of training settings: it fine-tunes a copy of
a network on a visitor's drawings (`nn.teach.fine_tune`, with the shared MNIST to replay and
test on) and answers with one final report, FINISHED with the `Taught` result or FAILED with
the reason. It is training, so it takes a slot and waits in the queue like any run.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

import numpy as np

from .settings import Limits, Settings


class State(enum.Enum):
    QUEUED = "queued"  # submitted, waiting for a free slot
    STARTING = "starting"  # has a slot; its worker is being started
    RUNNING = "running"
    PAUSED = "paused"
    FINISHED = "finished"  # trained every epoch
    STOPPED = "stopped"  # stopped early: by the visitor, a limit, or the server
    FAILED = "failed"  # an error; `reason` says which

    def to(self, new: State) -> State:
        """`new`, if a run in this state may become it (staying the same is allowed)."""
        if new is not self and new not in _NEXT[self]:
            raise IllegalTransition(f"a run cannot go from {self.value} to {new.value}")
        return new

    @property
    def over(self) -> bool:
        return self in OVER


class IllegalTransition(RuntimeError):
    """A state change the state machine does not allow: a bug, never a visitor's doing."""


ACTIVE = frozenset({State.STARTING, State.RUNNING, State.PAUSED})
OVER = frozenset({State.FINISHED, State.STOPPED, State.FAILED})
_NEXT = {
    State.QUEUED: {State.STARTING, State.STOPPED, State.FAILED},
    State.STARTING: {State.RUNNING, State.PAUSED} | OVER,
    State.RUNNING: {State.PAUSED} | OVER,
    State.PAUSED: {State.RUNNING} | OVER,
    **{state: set() for state in OVER},
}


# -- server -> worker ----------------------------------------------------------------------
@dataclass(frozen=True)
class TeachJob:
    """A network to fine-tune on taught drawings (the arguments of `nn.teach.fine_tune`)."""

    weights: tuple  # (weights, biases) of the network to teach, as numpy arrays
    init: str
    cost: str
    l2: float
    pixels: np.ndarray  # (k, 784) uint8: the taught drawings, as MNIST stores digits
    labels: tuple[int, ...]
    options: dict = field(default_factory=dict)  # fine_tune's keyword options (copies, ...)


@dataclass(frozen=True)
class Start:
    """The first message: what to train (settings, or a teach job), within which limits, on
    which shared data."""

    settings: Settings | None
    limits: Limits
    data_folder: str  # where nn.run_manager.write_shared_data put MNIST
    report_every: float  # seconds between metric points
    teach: TeachJob | None = None


@dataclass(frozen=True)
class Pause:
    pass


@dataclass(frozen=True)
class Resume:
    pass


@dataclass(frozen=True)
class Stop:
    reason: str = "stopped"


@dataclass(frozen=True)
class SetEta:
    eta: float


Command = Pause | Resume | Stop | SetEta


# -- worker -> server ----------------------------------------------------------------------
@dataclass(frozen=True)
class Taught:
    """What a teach job produced (`nn.teach.TeachResult`, the network as its arrays)."""

    weights: tuple  # (weights, biases) of the fine-tuned copy
    answers: tuple[int, ...]
    answers_before: tuple[int, ...]
    accuracy_before: float | None
    accuracy_after: float | None
    rounds: int
    steps: int
    seconds: float


@dataclass(frozen=True)
class Report:
    """Where a run is, and what happened since the previous report."""

    state: State
    reason: str = ""
    progress: float = 0.0  # epochs done, fractional
    elapsed: float = 0.0  # seconds of training, pauses excluded
    points: tuple[dict, ...] = ()  # new metric points (nn.trainer.Point as dicts)
    eta_changes: tuple[tuple[float, float], ...] = ()  # new (epoch, eta) changes
    weights: tuple | None = None  # (weights, biases) as of the newest point
    taught: Taught | None = None  # a teach job's result, in its FINISHED report
