"""What a training run can be, and the commands it can be given while it trains.

A run's life, the one state machine every side follows (`State.to` refuses anything else):

    QUEUED -> STARTING -> RUNNING <-> PAUSED
       |          |          |          |
       +----------+----------+----------+--> FINISHED, STOPPED or FAILED (OVER: final)

Commands (`Pause`, `Resume`, `Stop`, `SetEta`, `Step`, `SetSpeed`) reach a `TrainingRun`
through its control hook (`nn.trainer.Control`) and are applied before the next mini-batch.
`Step` lets a paused run do one mini-batch and pause again; `SetSpeed("slow")` paces a running
run at `SLOW_BATCHES_PER_SECOND` ("full": as fast as it can). The run service (`runs/`) sends
them to a run's worker process; its own messages are in `runs.messages`.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


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


# -- commands: what a run can be told between two mini-batches ------------------------
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


@dataclass(frozen=True)
class Step:
    """A paused run does one mini-batch and pauses again (a running one pauses after its
    next mini-batch)."""


@dataclass(frozen=True)
class SetSpeed:
    """Train as fast as possible ("full") or at human speed ("slow")."""

    speed: str

    def __post_init__(self) -> None:
        if self.speed not in SPEEDS:
            raise ValueError(f"speed must be one of {', '.join(SPEEDS)}, not {self.speed!r}")


@dataclass(frozen=True)
class Watch:
    """The hidden neuron whose weight change a looked-at step keeps (`nn.lookstep`); None:
    the one that changed most."""

    neuron: int | None = None


SPEEDS = ("full", "slow")
SLOW_BATCHES_PER_SECOND = 4.0  # slow motion: a pace a person can follow


Command = Pause | Resume | Stop | SetEta | Step | SetSpeed | Watch
