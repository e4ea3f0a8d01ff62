"""A training run: settings, a growing history of metrics, and control between mini-batches.

`TrainingRun` is what the command line and the page both use. `run()` trains in the
calling thread; any other thread may meanwhile `pause()`, `resume()`, `stop()` or
`set_eta()`: each takes effect before the next mini-batch. Progress reaches a caller two
ways: a `listener(run, point)` called from the training thread for every new metric point,
and `snapshot()`, a consistent copy of the history that any thread can take at any time.

Metrics are measured before training (epoch 0), at the end of every epoch (on the whole
validation and test sets) and, between epochs (on their first 2,000 images), whenever `report_every` seconds of training have passed (after a few quicker points
at the start, so the first epoch's climb shows; a slow run still shows a new point about
once a second): validation and test accuracy on the whole sets, the training cost on
a fixed sample of the training set, and the elapsed training time.

`Limits` bounds what one run may ask for (a public server's protection); `Settings.check`
enforces them here in the engine, not only in the page's widgets.
"""

from __future__ import annotations

import dataclasses
import os
import threading
import time
from dataclasses import dataclass

import numpy as np

from . import augment
from .network import COSTS, INITS, Network
from .sgd import SGD

COST_SAMPLE = 1000       # training images on which the training cost is measured
PARTIAL_SAMPLE = 2000    # validation and test images measured between epochs
N_TRAIN = 50_000


class SettingsError(ValueError):
    """Settings a run cannot use; the message says which and what is allowed."""


def _env_number(name: str, default, kind=int):
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = kind(raw)
    except ValueError:
        raise SettingsError(f"environment variable {name}={raw!r} is not a number") from None
    if not value > 0:
        raise SettingsError(f"environment variable {name}={raw!r} must be positive")
    return value


@dataclass(frozen=True)
class Limits:
    """What one run may use. The page's are read from the environment (see README)."""

    max_hidden: int = 200
    max_epochs: int = 50
    max_seconds: float = 300.0        # training time of one run
    max_paused_seconds: float = 600.0  # a paused run is stopped after this long
    max_concurrent: int = max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
                              else os.cpu_count() or 1)  # the cores this process may use
    max_augment: int = 0               # distorted copies per image (memory: 39 MB each)
    abandon_after: float = 60.0        # a run whose page stopped asking is stopped after this

    @classmethod
    def from_env(cls) -> "Limits":
        d = cls()
        return cls(max_hidden=_env_number("DIGITLAB_MAX_HIDDEN", d.max_hidden),
                   max_epochs=_env_number("DIGITLAB_MAX_EPOCHS", d.max_epochs),
                   max_seconds=_env_number("DIGITLAB_MAX_SECONDS", d.max_seconds, float),
                   max_paused_seconds=_env_number("DIGITLAB_MAX_PAUSED_SECONDS",
                                                  d.max_paused_seconds, float),
                   max_concurrent=_env_number("DIGITLAB_MAX_RUNS", d.max_concurrent),
                   abandon_after=_env_number("DIGITLAB_ABANDON_SECONDS", d.abandon_after,
                                             float))

    @classmethod
    def unlimited(cls) -> "Limits":
        """For the command line on one's own machine: only the model-file bounds apply."""
        return cls(max_hidden=2000, max_epochs=10_000, max_seconds=float("inf"),
                   max_paused_seconds=float("inf"), max_augment=10)


@dataclass(frozen=True)
class Settings:
    """Everything that defines a run. The defaults are the book's first network."""

    hidden: int = 30
    eta: float = 3.0
    batch_size: int = 10
    epochs: int = 30
    train_size: int = N_TRAIN
    seed: int = 0
    init: str = "normal"
    cost: str = "quadratic"
    l2: float = 0.0
    augment: int = 0   # distorted copies of each training image added (see nn.augment)

    def check(self, limits: Limits = Limits()) -> "Settings":
        """These settings if they are sane and within `limits`; else `SettingsError`."""
        _require(_is_int(self.hidden) and 1 <= self.hidden <= limits.max_hidden,
                 f"hidden neurons must be a whole number from 1 to {limits.max_hidden}",
                 self.hidden)
        _require(_is_int(self.epochs) and 1 <= self.epochs <= limits.max_epochs,
                 f"epochs must be a whole number from 1 to {limits.max_epochs}", self.epochs)
        _require(_is_int(self.train_size) and 10 <= self.train_size <= N_TRAIN,
                 f"training-set size must be a whole number from 10 to {N_TRAIN}",
                 self.train_size)
        _require(_is_int(self.batch_size) and 1 <= self.batch_size <= self.train_size,
                 "mini-batch size must be a whole number from 1 to the training-set size",
                 self.batch_size)
        _require(_is_int(self.seed) and 0 <= self.seed < 2**32,
                 "seed must be a whole number from 0 to 2^32 - 1", self.seed)
        check_eta(self.eta)
        _require(self.init in INITS, f"initialisation must be one of {INITS}", self.init)
        _require(self.cost in COSTS, f"cost must be one of {COSTS}", self.cost)
        _require(_is_int(self.augment) and 0 <= self.augment <= limits.max_augment,
                 f"distorted copies must be a whole number from 0 to {limits.max_augment}",
                 self.augment)
        _require(_is_number(self.l2) and 0 <= self.l2 <= 1000,
                 "L2 regularisation lambda must be a number from 0 to 1000", self.l2)
        return self

    def label(self) -> str:
        """A short description for a legend, e.g. '[784, 30, 10] eta 3 batch 10'."""
        extras = [] if self.init == "normal" else ["N(0,1/n) init"]
        extras += [] if self.cost == "quadratic" else ["cross-entropy"]
        extras += [f"L2 {self.l2:g}"] if self.l2 else []
        extras += [] if self.train_size == N_TRAIN else [f"{self.train_size:,} images"]
        extras += [f"+{self.augment} distorted copies"] if self.augment else []
        return " ".join([f"[784, {self.hidden}, 10] eta {self.eta:g} batch {self.batch_size}",
                         *extras])

    def replace(self, **changes) -> "Settings":
        return dataclasses.replace(self, **changes)


def check_eta(eta) -> float:
    """eta itself, if it is a learning rate a run can use (0 < eta <= 1000)."""
    _require(_is_number(eta) and 0 < eta <= 1000,
             "learning rate eta must be a number above 0 and at most 1000", eta)
    return float(eta)


def _is_int(x) -> bool:
    return isinstance(x, (int, np.integer)) and not isinstance(x, bool)


def _is_number(x) -> bool:
    return (_is_int(x) or isinstance(x, (float, np.floating))) and bool(np.isfinite(x))


def _require(ok: bool, message: str, value) -> None:
    if not ok:
        raise SettingsError(f"{message} (got {value!r})")


@dataclass
class Point:
    """One measurement of a run: where it was (epoch, fractional) and how it did."""

    epoch: float
    val_accuracy: float
    test_accuracy: float
    test_correct: int
    train_cost: float
    elapsed: float
    eta: float
    end_of_epoch: bool


class TrainingRun:
    """One network being trained on MNIST with mini-batch SGD; see the module docstring."""

    def __init__(self, settings: Settings, data, *, limits: Limits = Limits(),
                 listener=None, report_every: float = 1.0, extra=None):
        self.settings = settings.check(limits)
        self.limits, self.listener, self.report_every = limits, listener, report_every
        self.data = data
        # (uint8 images (n, 784), labels) trained on beside MNIST's, distorted with them
        # (the command line's font and stroke digits, nn.glyphs)
        self.extra = extra
        self.network = Network([784, settings.hidden, 10], init=settings.init,
                               cost=settings.cost, l2=settings.l2, seed=settings.seed)
        self._lock = threading.Lock()
        self._resume = threading.Event()
        self._resume.set()
        self._stop = False
        self._eta = float(settings.eta)
        self._pending_eta: float | None = None
        self.history: list[Point] = []
        self.eta_changes: list[tuple[float, float]] = []  # (epoch, new eta)
        self.state = "ready"   # ready, running, paused, stopped, finished, failed
        self.reason = ""       # why it stopped, when it did not finish
        self.progress = 0.0    # epochs done, fractional
        self._banked, self._segment_start = 0.0, None  # training time, see training_time()

    # -- control, from any thread -------------------------------------------------------
    def pause(self) -> None:
        with self._lock:
            if self.state in ("ready", "running"):
                self._resume.clear()

    def resume(self) -> None:
        self._resume.set()

    def stop(self, reason: str = "stopped") -> None:
        with self._lock:
            self._stop = True
            if not self.reason:
                self.reason = reason
        self._resume.set()

    def set_eta(self, eta: float) -> None:
        """Change the learning rate from the next mini-batch on.

        The training thread applies it before that mini-batch and records the change in
        `eta_changes` at the exact point (in epochs) where it took effect.
        """
        self._pending_eta = check_eta(eta)

    @property
    def eta(self) -> float:
        return self._eta

    def snapshot(self) -> dict:
        """A consistent copy of where the run is, safe to read from another thread."""
        with self._lock:
            return {"state": self.state, "reason": self.reason, "progress": self.progress,
                    "epochs": self.settings.epochs, "elapsed": self.training_time(),
                    "eta": self._eta, "history": list(self.history),
                    "eta_changes": list(self.eta_changes)}

    def network_copy(self) -> Network:
        """A copy of the weights as they are now (the trainer keeps changing its own)."""
        with self._lock:
            return self.network.copy()

    # -- the training loop --------------------------------------------------------------
    def run(self) -> "TrainingRun":
        """Train until the epochs are done, the run is stopped, or a limit is reached."""
        try:
            self._train()
        except Exception as e:
            with self._lock:
                self.state, self.reason = "failed", f"{type(e).__name__}: {e}"
            raise
        return self

    def _train(self) -> None:
        s = self.settings
        images = self.data.train_images[:s.train_size]
        labels = self.data.train_labels[:s.train_size]
        if self.extra is not None and len(self.extra[1]):
            images = np.concatenate([images, self.extra[0]])
            labels = np.concatenate([labels, np.asarray(self.extra[1], dtype=labels.dtype)])
        if s.augment:
            images, labels = augment.expand(images, labels, s.augment, seed=s.seed)
        sgd = SGD(self.network, images, labels)
        rng = np.random.default_rng([s.seed, 1])
        self._cost_sample = (images[:COST_SAMPLE], labels[:COST_SAMPLE])  # undistorted
        self._set_state("running")
        self._segment_start = time.perf_counter()
        self._measure(0.0, 0.0, False)  # the untrained network: where the curves start
        # Points come quickly at first (0.1, 0.2, 0.4 s...), so the first epoch's climb
        # shows, then every `report_every` seconds.
        interval = min(0.1, self.report_every) if np.isfinite(self.report_every) else np.inf
        next_report = interval
        for epoch in range(s.epochs):
            batches = sgd.shuffled_batches(rng, s.batch_size)
            for i, batch in enumerate(batches):
                if not self._resume.is_set() or self._stop:
                    if not self._wait_while_paused():
                        return self._finish()
                if self._pending_eta is not None:
                    self._apply_eta(epoch + i / len(batches))
                sgd.step(batch, self._eta)
                if i % 8 == 0:
                    self.progress = epoch + (i + 1) / len(batches)
                    elapsed = self.training_time()
                    if elapsed >= next_report and i + 1 < len(batches):
                        self._measure(self.progress, elapsed, False)
                        interval = min(2 * interval, self.report_every)
                        next_report = elapsed + interval
                    if elapsed > self.limits.max_seconds:
                        self.stop(f"time limit of {self.limits.max_seconds:g} s reached")
            elapsed = self.training_time()
            self._measure(epoch + 1, elapsed, True)
            next_report = elapsed + interval
        self._finish()

    def _apply_eta(self, where: float) -> None:
        with self._lock:
            eta, self._pending_eta = self._pending_eta, None
            if eta is not None and eta != self._eta:
                self._eta = eta
                self.eta_changes.append((where, eta))

    def training_time(self) -> float:
        """Seconds spent training so far, pauses excluded (measurements included)."""
        running = self._segment_start is not None
        return self._banked + (time.perf_counter() - self._segment_start if running else 0.0)

    def _wait_while_paused(self) -> bool:
        """Block while paused; False if the run is to stop."""
        if not self._resume.is_set() and not self._stop:
            self._bank_time()
            self._set_state("paused")
            if not self._resume.wait(self.limits.max_paused_seconds):
                self.stop(f"paused for more than {self.limits.max_paused_seconds:g} s")
            if not self._stop:
                self._set_state("running")
                self._segment_start = time.perf_counter()
        return not self._stop

    def _bank_time(self) -> None:
        self._banked, self._segment_start = self.training_time(), None

    def _measure(self, epoch: float, elapsed: float, end_of_epoch: bool) -> None:
        """Record a point: at an epoch's end on the whole validation and test sets, between
        epochs on their first `PARTIAL_SAMPLE` images (5x cheaper, within ~1 point)."""
        d, net = self.data, self.network
        n = None if end_of_epoch else PARTIAL_SAMPLE
        val_images, val_labels = d.val_images[:n], d.val_labels[:n]
        test_images, test_labels = d.test_images[:n], d.test_labels[:n]
        test_correct = net.evaluate(test_images, test_labels)
        point = Point(epoch=epoch,
                      val_accuracy=net.evaluate(val_images, val_labels) / len(val_labels),
                      test_accuracy=test_correct / len(test_labels),
                      test_correct=test_correct,
                      train_cost=net.total_cost(*self._cost_sample),
                      elapsed=elapsed, eta=self._eta, end_of_epoch=end_of_epoch)
        with self._lock:
            self.history.append(point)
            self.progress = epoch
        if self.listener is not None:
            self.listener(self, point)

    def _finish(self) -> None:
        self._bank_time()
        with self._lock:
            self.state = "stopped" if self._stop else "finished"
            self._resume.set()

    def _set_state(self, state: str) -> None:
        with self._lock:
            self.state = state

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
        final = self.final
        return {"settings": dataclasses.asdict(self.settings), "seed": self.settings.seed,
                "epochs": round(self.progress, 3),
                "test_accuracy": final.test_accuracy if final else None,
                "validation_accuracy": final.val_accuracy if final else None,
                "eta_changes": self.eta_changes}
