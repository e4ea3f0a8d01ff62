"""What the manager and a worker process say to each other over their socket pair.

The manager sends `Start` once (the job, the limits, the shared data's folder), then commands
(`nn.protocol`: `Pause`, `Resume`, `Step`, `Stop`, `SetEta`, `SetSpeed`), coalesced: at most
one of each kind waits to be sent (`command_slot`). The worker answers only with `Report`s,
each carrying the run's state together with the figures that go with it, so whoever reads a
report never sees a state with figures from before or after it. A worker also reports while
nothing changes (every `HEARTBEAT` s at least, paused or not): a worker that goes silent is
hung, and the manager's watchdog ends it. A spare worker, started before it has a job, first
says `READY` once it has warmed up; the manager reads that before it sends the `Start`.

A job is one of two kinds: `TrainJob` (a run of `nn.trainer.TrainingRun`) or `TeachJob` (a
fine-tune of a copy of a network on a visitor's drawings, `nn.teach.fine_tune`). Both take a
slot and wait in the same queue. New kinds of command get a slot name of their own in
`command_slot`; new kinds of figure, a field of their own in `Report`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from nn.lookstep import StepLook
from nn.protocol import Command, Pause, Resume, SetEta, SetSpeed, State, Step, Stop, Watch
from nn.settings import Limits, Settings
from nn.teach import TeachResult
from nn.trainer import CostBin, Point

HEARTBEAT = 1.0  # seconds: a worker reports at least this often while it lives
READY = "ready"  # a spare worker's first word, once it has warmed up (runs.worker_main)


@dataclass(frozen=True)
class TrainJob:
    """Train a [784, N, 10] network with these settings, a metric point every
    `report_every` seconds of training."""

    settings: Settings
    report_every: float = 0.5

    kind = "train"


@dataclass(frozen=True)
class TeachJob:
    """Fine-tune a copy of a network on taught drawings (the arguments of
    `nn.teach.fine_tune`; replay and test digits come from the shared MNIST)."""

    weights: tuple  # (weights, biases) of the network to teach, as numpy arrays
    init: str
    cost: str
    l2: float
    pixels: np.ndarray  # (k, 784) uint8: the taught drawings, as MNIST stores digits
    labels: tuple[int, ...]
    options: dict = field(default_factory=dict)  # fine_tune's keyword options (copies, ...)

    kind = "teach"


Job = TrainJob | TeachJob


@dataclass(frozen=True)
class Start:
    """The first message to a worker: the job, within which limits, on which shared data."""

    job: Job
    limits: Limits
    data_folder: str  # where runs.data.write_shared_data put MNIST


@dataclass(frozen=True)
class Report:
    """Where a job is, and what happened since the previous report."""

    state: State
    reason: str = ""
    progress: float = 0.0  # epochs done, fractional
    elapsed: float = 0.0  # seconds of training, pauses excluded
    points: tuple[Point, ...] = ()  # new metric points
    eta_changes: tuple[tuple[float, float], ...] = ()  # new (epoch, eta) changes
    weights: tuple | None = None  # (weights, biases) as of the newest point
    taught: TeachResult | None = None  # a teach job's result, in its FINISHED report
    step: StepLook | None = None  # the mini-batch just done, while stepping or slow (~20 kB)
    # every mini-batch's cost, thinned (nn.trainer.CostBin): the bins completed since the last
    # report (at most nn.trainer.COST_BINS a run), and the one still filling (None: empty)
    cost_bins: tuple[CostBin, ...] = ()
    open_cost_bin: CostBin | None = None


def command_slot(command: Command) -> str:
    """Commands waiting to be sent in the same slot replace each other (the newest wins):
    pause, resume and step share one, so a visitor clicking fast queues at most one of them
    (three Step clicks before the worker reads any are one step)."""
    if isinstance(command, (Pause, Resume, Step)):
        return "pause"
    if isinstance(command, SetSpeed):
        return "speed"
    if isinstance(command, Watch):
        return "watch"
    if isinstance(command, SetEta):
        return "eta"
    if isinstance(command, Stop):
        return "stop"
    raise TypeError(f"not a command: {command!r}")
