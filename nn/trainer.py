"""The training loop: one network trained on MNIST, measured as it learns, steered as it goes.

`TrainingRun.run()` trains in the calling thread; the command line and the page's worker
processes both use it. Every `CHECK_EVERY` mini-batches, where it updates its progress, the
loop asks its `control` for commands (`nn.protocol`: pause, resume, stop, a new eta, a step,
a speed) and applies them before the next mini-batch; while paused it waits on the control for
the next command. A run may be paused for `limits.max_paused_seconds` in all, however often it
is paused and resumed: past that it stops.

At human speed the loop asks every mini-batch instead: while stepping (`Step`: one mini-batch,
then paused again) and in slow motion (`SetSpeed("slow")`: it waits between two mini-batches,
on the control, so commands still act at once, for `SLOW_BATCHES_PER_SECOND`). The time caps
hold: slow motion's waits count as training time (`limits.max_seconds`: a slow run holds its
slot as much as a fast one), and the pauses between steps as paused time
(`limits.max_paused_seconds`), so the manager's wall-clock deadline, their sum, still holds.

The cost of every mini-batch, read off the forward pass its step does anyway (`SGD.step`
returns it; a looked-at step has it as `cost_before`), is kept thinned to a bound: the run's
mini-batches are cut into at most `COST_BINS` runs of `bin_size` consecutive ones, and each
becomes one `CostBin` (their mean, and the band `BAND` in which most of them lie: their 10th
and 90th percentiles), so the chart shows how noisy SGD is with at most 500 points whatever
the run's length; `open_cost_bin` is the one still filling (a step at a time, it grows with
each). The band leaves out each bin's rarest mini-batches: the lowest of 300 is often a
batch answered perfectly, at 1/10,000 of the mean, and would stretch the chart's log axis
over six decades.

Everything happens in that one thread: the loop needs no locks. A `listener(run, point)` hears
of every new metric point.

Metrics (validation and test accuracy, and the training cost on a fixed sample of the
training set) are measured before training (epoch 0) and at the end of every epoch on the
whole validation and test sets. Between epochs they are measured on the sets' first 2,000
images whenever `report_every` seconds of training have passed; the first few such points
come sooner, so the first epoch's climb shows.
"""

from __future__ import annotations

import dataclasses
import math
import time
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from . import augment
from .lookstep import StepLook, look_at_step
from .network import Network
from .protocol import (
    SLOW_BATCHES_PER_SECOND,
    Command,
    Pause,
    Resume,
    SetEta,
    SetSpeed,
    State,
    Step,
    Stop,
    Watch,
)
from .settings import Limits, Settings, check_eta
from .sgd import SGD

COST_SAMPLE = 1000  # training images on which the training cost is measured
PARTIAL_SAMPLE = 2000  # validation and test images measured between epochs
CHECK_EVERY = 8  # mini-batches between two calls to the control
COST_BINS = 500  # points of the mini-batches' cost per run, at most (one per bin): about one
# per pixel of the chart on a laptop; each is the mean and the BAND of its mini-batches
BAND = (10, 90)  # the percentiles of a bin's mini-batch costs its band spans


@dataclass(frozen=True)
class Point:
    """One measurement of a run: where it was (epoch, fractional) and how it did. At an
    epoch's end on the whole validation and test sets; between epochs on their first
    `PARTIAL_SAMPLE` images (`end_of_epoch` False)."""

    epoch: float
    val_accuracy: float
    test_accuracy: float
    test_correct: int
    train_cost: float
    elapsed: float
    eta: float
    end_of_epoch: bool


class CostBin(NamedTuple):
    """`batches` consecutive mini-batches' cost (each its examples' mean, with the L2 term as
    of the run's latest point): their mean, and their `BAND` percentiles (`low`, `high`; for
    one mini-batch both are its cost). `epoch`: where their middle was (epochs, fractional)."""

    epoch: float
    mean: float
    low: float
    high: float
    batches: int


class Control:
    """Where a run's commands come from. This one never has any (the command line's)."""

    def poll(self, run: TrainingRun) -> list[Command]:
        """The commands that arrived since the last call; must not block."""
        return []

    def wait(self, run: TrainingRun, timeout: float) -> Command | None:
        """Called while the run is paused: the next command, or None after `timeout` s."""
        return None


def metadata(settings: Settings, progress: float, final: Point | None, eta_changes) -> dict:
    """What a model file saved from a run records about it (`final`: its last point). The
    accuracies of a run stopped between epochs were measured on the first `PARTIAL_SAMPLE`
    validation and test images, and the metadata says so."""
    meta = {
        "settings": dataclasses.asdict(settings),
        "seed": settings.seed,
        "epochs": round(progress, 3),
        "test_accuracy": final.test_accuracy if final else None,
        "validation_accuracy": final.val_accuracy if final else None,
        "eta_changes": [tuple(change) for change in eta_changes],
        "etas": etas(settings.eta, eta_changes),
    }
    if final is not None and not final.end_of_epoch:
        meta["accuracy_measured_on"] = PARTIAL_SAMPLE
    return meta


def etas(first: float, eta_changes) -> list[float]:
    """Every learning rate a run had, in order: its own, then each change that changed it."""
    found = [float(first)]
    for _, eta in eta_changes:
        if float(eta) != found[-1]:
            found.append(float(eta))
    return found


class TrainingRun:
    """One network being trained on MNIST with mini-batch SGD; see the module docstring."""

    def __init__(
        self,
        settings: Settings,
        data,
        *,
        limits: Limits = Limits(),
        control: Control | None = None,
        listener=None,
        report_every: float = 1.0,
        extra=None,
    ):
        self.settings = settings.check(limits)
        self.limits, self.report_every = limits, report_every
        self.control = control or Control()
        self.listener = listener
        self.data = data
        # (uint8 images (n, 784), labels) trained on beside MNIST's, distorted with them
        # (the command line's font and stroke digits, nn.glyphs)
        self.extra = extra
        self.network = Network(
            [784, settings.hidden, 10],
            init=settings.init,
            cost=settings.cost,
            l2=settings.l2,
            seed=settings.seed,
        )
        self.state = State.STARTING  # until run() trains
        self.reason = ""  # why it stopped or failed
        self.progress = 0.0  # epochs done, fractional
        self.eta = float(settings.eta)
        self.history: list[Point] = []
        self.eta_changes: list[tuple[float, float]] = []  # (epoch, new eta)
        self.paused_time = 0.0  # seconds paused so far, every pause counted
        self.speed = "full"  # or "slow" (nn.protocol.SetSpeed)
        self.batches_done = 0  # mini-batches trained, every epoch counted
        self.last_step: StepLook | None = None  # the latest mini-batch looked at (stepping, slow)
        self.watch: int | None = None  # the hidden neuron whose change it keeps (None: most)
        self.cost_bins: list[CostBin] = []  # every mini-batch's cost, thinned (see CostBin)
        self.bin_size = 1  # mini-batches per CostBin (set when training starts)
        self._bin = np.empty(1)  # the costs of the bin's mini-batches so far (bin_size)
        self._in_bin = 0  # how many
        self._per_epoch = 1  # mini-batches per epoch
        self._penalty = 0.0  # the L2 term of the latest point's cost
        self._stepping = False  # a Step is under way: pause after its mini-batch
        self._stepped_at = 0  # batches_done when that Step came
        self._next_slow = 0.0  # slow motion: when the next mini-batch is due (monotonic)
        self._stopping = False
        self._banked = 0.0  # see training_time()
        self._segment_start: float | None = None

    # -- commands: from the control, or from a listener ---------------------------------
    def apply(self, command: Command) -> None:
        if isinstance(command, Pause):
            self.pause()
        elif isinstance(command, Resume):
            self.resume()
        elif isinstance(command, Stop):
            self.stop(command.reason)
        elif isinstance(command, SetEta):
            self.set_eta(command.eta)
        elif isinstance(command, Step):
            self.step()
        elif isinstance(command, SetSpeed):
            self.speed = command.speed
        elif isinstance(command, Watch):
            self.watch = command.neuron
        else:
            raise TypeError(f"not a command: {command!r}")

    def pause(self) -> None:
        if self.state is State.RUNNING:
            self._bank_time()
            self.state = self.state.to(State.PAUSED)

    def resume(self) -> None:
        self._stepping = False
        self._run_on()

    def step(self) -> None:
        """Do one mini-batch, then pause (a running run pauses after its next one)."""
        self._stepping = True
        self._stepped_at = self.batches_done
        self._run_on()

    def _run_on(self) -> None:
        if self.state is State.PAUSED and not self._stopping:
            self.state = self.state.to(State.RUNNING)
            self._segment_start = time.perf_counter()

    @property
    def fine(self) -> bool:
        """Whether the control is asked every mini-batch (stepping or slow motion)."""
        return self._stepping or self.speed == "slow"

    def stop(self, reason: str = "stopped") -> None:
        """End the run before its next mini-batch; the first reason given is kept."""
        self._stopping = True
        self.reason = self.reason or reason

    def set_eta(self, eta: float) -> None:
        """Train with this learning rate from the next mini-batch on (recorded in
        `eta_changes` at the point, in epochs, where it takes effect)."""
        eta = check_eta(eta)
        if eta != self.eta:
            self.eta = eta
            self.eta_changes.append((self.progress, eta))

    # -- the loop -----------------------------------------------------------------------
    def run(self) -> TrainingRun:
        """Train until the epochs are done, the run is stopped, or a limit is reached."""
        try:
            self._train()
        except Exception as e:
            self._bank_time()
            self.state, self.reason = self.state.to(State.FAILED), f"{type(e).__name__}: {e}"
            raise
        return self

    def _train(self) -> None:
        s = self.settings
        images = self.data.train_images[: s.train_size]
        labels = self.data.train_labels[: s.train_size]
        if self.extra is not None and len(self.extra[1]):
            images = np.concatenate([images, self.extra[0]])
            labels = np.concatenate([labels, np.asarray(self.extra[1], dtype=labels.dtype)])
        if s.augment:
            images, labels = augment.expand(images, labels, s.augment, seed=s.seed)
        sgd = SGD(self.network, images, labels)
        rng = np.random.default_rng([s.seed, 1])
        self._cost_sample = (images[:COST_SAMPLE], labels[:COST_SAMPLE])  # undistorted
        self.state = self.state.to(State.RUNNING)
        self._segment_start = time.perf_counter()
        self._per_epoch = -(-len(images) // s.batch_size)
        self.bin_size = max(1, -(-(self._per_epoch * s.epochs) // COST_BINS))
        self._bin = np.empty(self.bin_size)
        self._measure(0.0, False)  # the untrained network: where the curves start
        # Points come quickly at first (0.1, 0.2, 0.4 s...), then every `report_every` s.
        interval = min(0.1, self.report_every) if math.isfinite(self.report_every) else math.inf
        next_point = interval
        for epoch in range(s.epochs):
            batches = sgd.shuffled_batches(rng, s.batch_size)
            for i, batch in enumerate(batches):
                if self.fine or i % CHECK_EVERY == 0:
                    self.progress = epoch + i / len(batches)
                    if self._stepping and self.batches_done > self._stepped_at:
                        self._stepping = False
                        self.pause()  # the step's one mini-batch is done
                    elapsed = self.training_time()
                    if i > 0 and elapsed >= next_point:
                        self._measure(self.progress, False)
                        interval = min(2 * interval, self.report_every)
                        next_point = elapsed + interval
                    if elapsed > self.limits.max_seconds:
                        self.stop(f"time limit of {self.limits.max_seconds:g} s reached")
                    self._follow_control()
                    if self.speed == "slow" and not self._stepping:
                        self._pace()
                    if self._stopping:
                        return self._finish()
                if self.fine:  # a person is watching: keep what this step did (nn.lookstep)
                    self.last_step = look_at_step(
                        self.network,
                        sgd,
                        batch,
                        self.eta,
                        number=self.batches_done,
                        epoch=epoch + i / len(batches),
                        neuron=self.watch,
                    )
                    cost = self.last_step.cost_before
                else:
                    cost = sgd.step(batch, self.eta)
                self.batches_done += 1
                self._bin[self._in_bin] = cost  # into its bin (the bin's figures once full)
                self._in_bin += 1
                if self._in_bin == self.bin_size:
                    self.cost_bins.append(self._cost_bin())
                    self._in_bin = 0
            self.progress = epoch + 1
            self._measure(self.progress, True)
            next_point = self.training_time() + interval
        self._finish()

    def _cost_bin(self) -> CostBin:
        n = self._in_bin
        costs = self._bin[:n]
        low, high = np.percentile(costs, BAND) if n > 1 else (costs[0], costs[0])
        middle = self.batches_done - n / 2  # in mini-batches, the bin's last one just done
        p = self._penalty
        mean = float(costs.mean())
        return CostBin(middle / self._per_epoch, mean + p, float(low) + p, float(high) + p, n)

    @property
    def open_cost_bin(self) -> CostBin | None:
        """The bin still filling (fewer than `bin_size` mini-batches), or None if empty."""
        return self._cost_bin() if self._in_bin else None

    def _follow_control(self) -> None:
        """Apply the commands that arrived; while paused, wait for the next ones."""
        for command in self.control.poll(self):
            self.apply(command)
        if self.state is not State.PAUSED:
            return
        limit = self.limits.max_paused_seconds
        started = time.monotonic()
        deadline = started + max(0.0, limit - self.paused_time)
        try:
            while self.state is State.PAUSED and not self._stopping:
                waited = self.control.wait(self, max(0.0, deadline - time.monotonic()))
                if waited is None:
                    self.stop(f"paused for more than {limit:g} s in all")
                else:
                    self.apply(waited)
        finally:
            self.paused_time += time.monotonic() - started

    def _pace(self) -> None:
        """Slow motion: wait out the rest of this mini-batch's share of a second, applying any
        command that comes meanwhile (a pause waits in `_follow_control` as ever). The wait
        is training time: it counts towards `limits.max_seconds`."""
        due = max(self._next_slow, time.monotonic())  # now, if just slowed down or resumed
        while self.speed == "slow" and not self._stopping and time.monotonic() < due:
            command = self.control.wait(self, due - time.monotonic())
            if command is None:
                break  # the control waited the time out (or has no commands at all)
            self.apply(command)
            if self.state is State.PAUSED:
                self._follow_control()
                due = time.monotonic()  # resumed: the next mini-batch now
            elif self._stepping:
                break
        self._next_slow = time.monotonic() + 1.0 / SLOW_BATCHES_PER_SECOND

    def _finish(self) -> None:
        self._bank_time()
        self.state = self.state.to(State.STOPPED if self._stopping else State.FINISHED)

    def training_time(self) -> float:
        """Seconds spent training so far, pauses excluded (measurements included)."""
        start = self._segment_start  # None while not running
        return self._banked + (time.perf_counter() - start if start is not None else 0.0)

    def _bank_time(self) -> None:
        self._banked, self._segment_start = self.training_time(), None

    def _measure(self, epoch: float, end_of_epoch: bool) -> None:
        """Record a point: at an epoch's end on the whole validation and test sets, between
        epochs on their first `PARTIAL_SAMPLE` images (5x cheaper, within ~1 point)."""
        d, net = self.data, self.network
        n = None if end_of_epoch else PARTIAL_SAMPLE
        val_images, val_labels = d.val_images[:n], d.val_labels[:n]
        test_images, test_labels = d.test_images[:n], d.test_labels[:n]
        test_correct = net.evaluate(test_images, test_labels)
        if net.l2 > 0:  # as in total_cost: the mini-batches' costs are shown with it
            squares = sum(float(np.sum(np.square(w))) for w in net.weights)
            self._penalty = 0.5 * net.l2 / max(len(self._cost_sample[1]), 1) * squares
        point = Point(
            epoch=epoch,
            val_accuracy=net.evaluate(val_images, val_labels) / len(val_labels),
            test_accuracy=test_correct / len(test_labels),
            test_correct=test_correct,
            train_cost=net.total_cost(*self._cost_sample),
            elapsed=self.training_time(),
            eta=self.eta,
            end_of_epoch=end_of_epoch,
        )
        self.history.append(point)
        if self.listener is not None:
            self.listener(self, point)

    # -- results ------------------------------------------------------------------------
    @property
    def best(self) -> Point | None:
        """The end-of-epoch point with the best test accuracy (the book's 'peak')."""
        points = [p for p in self.history if p.end_of_epoch]
        return max(points, key=lambda p: p.test_accuracy, default=None)

    @property
    def final(self) -> Point | None:
        return self.history[-1] if self.history else None

    def metadata(self) -> dict:
        """What a model file saved from this run records about it."""
        return metadata(self.settings, self.progress, self.final, self.eta_changes)
