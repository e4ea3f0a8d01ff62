"""`RunView`: the one typed picture of a run that the page draws, built in one place.

The manager keeps each job's record, updated from its worker's `Report`s; `build_view` turns a
record into a frozen `RunView` (its figures, its metric points as `nn.trainer.Point`s, the
estimate of the time left and, for a queued job, of the wait). The page reads attributes, never
dictionary keys, and labels and model-file metadata come from the view's own methods.
"""

from __future__ import annotations

from dataclasses import dataclass

from nn import trainer
from nn.lookstep import StepLook
from nn.protocol import State
from nn.settings import Settings
from nn.trainer import PARTIAL_SAMPLE, CostBin, Point

from .estimate import seconds_left


@dataclass(frozen=True)
class RunView:
    id: int
    kind: str  # "train" or "teach"
    token: str  # names the run in the page's URL (see RunManager.lookup)
    state: State
    reason: str  # why it stopped or failed, for the visitor
    settings: Settings | None  # a training run's (None for a teach job)
    progress: float  # epochs done, fractional
    elapsed: float  # seconds of training, pauses excluded
    history: tuple[Point, ...]
    eta_changes: tuple[tuple[float, float], ...]  # (epoch, new eta)
    queue_position: int | None  # 1 for the next job to start; None if not waiting
    seconds_left: float | None  # estimated from its own speed; None until measurable
    wait_seconds: float | None  # a queued job's expected wait for a slot
    images_per_second: float
    speed: str = "full"  # "full" or "slow" (nn.protocol.SetSpeed), as last asked
    last_step: StepLook | None = None  # the latest mini-batch looked at (stepping or slow)
    # every mini-batch's cost, thinned to at most nn.trainer.COST_BINS bins; the last may be
    # the one still filling (fewer mini-batches than the others)
    cost_bins: tuple[CostBin, ...] = ()

    @property
    def over(self) -> bool:
        return self.state.over

    @property
    def final(self) -> Point | None:
        return self.history[-1] if self.history else None

    @property
    def etas(self) -> list[float]:
        """Every learning rate the run had, in order."""
        return trainer.etas(self.settings.eta, self.eta_changes) if self.settings else []

    @property
    def eta(self) -> float | None:
        return self.etas[-1] if self.settings else None

    @property
    def label(self) -> str:
        """'[784, 30, 10] eta 3 -> 1 batch 10' (every eta it had)."""
        return self.settings.label(self.etas) if self.settings else "teaching"

    @property
    def title(self) -> str:
        """The label without the layers, for a picker entry that names them already."""
        return self.settings.label(self.etas, layers=False) if self.settings else "teaching"

    @property
    def on_subset(self) -> bool:
        """Whether the latest accuracies were measured on the first PARTIAL_SAMPLE images
        only (a run stopped between two epochs' ends)."""
        return self.final is not None and not self.final.end_of_epoch

    def metadata(self) -> dict:
        """What a model file saved from this run records (`nn.trainer.metadata`)."""
        if self.settings is None:
            raise TypeError("a teach job saves no model file")
        meta = trainer.metadata(self.settings, self.progress, self.final, self.eta_changes)
        return {**meta, "name": "trained on the Digit Lab page"}


def build_view(record, queue_position: int | None, wait_seconds: float | None) -> RunView:
    """The view of a manager's record (`runs.manager._Record`), under the manager's lock."""
    settings = getattr(record.job, "settings", None)
    history = tuple(record.history)
    left = None
    fast = record.samples  # the samples after slow motion's last (all of them without any)
    if record.slow_until >= 0:
        fast = [s for s in record.samples if s[0] > record.slow_until]
    if settings is not None and record.state in (State.RUNNING, State.PAUSED, State.STARTING):
        measures = [(p.elapsed, p.end_of_epoch) for p in history]
        left = seconds_left(fast, settings.epochs, measures, record.job.report_every)
    ips = 0.0
    if settings is not None and record.elapsed > 0:
        # its mean speed; after slow motion, the mean since (slow motion's waits count as
        # training time: "3,800 images/s" was shown for a run training 120,000 a second)
        (t0, p0), (t1, p1) = ((0.0, 0.0), (record.elapsed, record.progress))
        if record.slow_until >= 0:
            (t0, p0), (t1, p1) = (fast[0], fast[-1]) if len(fast) > 1 else ((0, 0), (0, 0))
        if t1 > t0:
            ips = (p1 - p0) * settings.train_size * (1 + settings.augment) / (t1 - t0)
    return RunView(
        id=record.id,
        kind=record.job.kind,
        token=record.token,
        state=record.state,
        reason=record.reason,
        settings=settings,
        progress=record.progress,
        elapsed=record.elapsed,
        history=history,
        eta_changes=tuple(record.eta_changes),
        queue_position=queue_position,
        seconds_left=left,
        wait_seconds=wait_seconds,
        images_per_second=ips,
        speed=record.speed,
        last_step=record.last_step,
        cost_bins=(*record.cost_bins, *filter(None, [record.open_cost_bin])),
    )


__all__ = ["PARTIAL_SAMPLE", "RunView", "build_view"]
