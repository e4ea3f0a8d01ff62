"""What defines a training run (`Settings`) and what one run may use (`Limits`).

`Settings.check` enforces the limits in the engine, not only in the page's widgets: a public
server's protection. The page's limits are read from the environment (`Limits.from_env`).
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass

import numpy as np

from .network import check_options

N_TRAIN = 50_000  # the book's training set: MNIST's first 50,000 training images


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
    """What one run may use. The page's are read from the environment (docs/deploying.md)."""

    max_hidden: int = 200
    max_epochs: int = 50
    max_seconds: float = 300.0  # training time of one run
    max_paused_seconds: float = 600.0  # a run paused this long in all is stopped
    max_concurrent: int = max(
        1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    )  # the cores this process may use
    max_augment: int = 0  # distorted copies per image (memory: 39 MB each)
    abandon_after: float = 60.0  # a run whose page stopped asking is stopped after this
    max_queue: int = 20  # jobs waiting for a slot, all visitors together
    teach_seconds: float = 20.0  # a teach job still working after this long is ended
    stall_seconds: float = 20.0  # a worker silent this long is hung, and is ended

    @classmethod
    def from_env(cls) -> Limits:
        d = cls()
        return cls(
            max_hidden=_env_number("DIGITLAB_MAX_HIDDEN", d.max_hidden),
            max_epochs=_env_number("DIGITLAB_MAX_EPOCHS", d.max_epochs),
            max_seconds=_env_number("DIGITLAB_MAX_SECONDS", d.max_seconds, float),
            max_paused_seconds=_env_number(
                "DIGITLAB_MAX_PAUSED_SECONDS", d.max_paused_seconds, float
            ),
            max_concurrent=_env_number("DIGITLAB_MAX_RUNS", d.max_concurrent),
            abandon_after=_env_number("DIGITLAB_ABANDON_SECONDS", d.abandon_after, float),
            max_queue=_env_number("DIGITLAB_MAX_QUEUE", d.max_queue),
            teach_seconds=_env_number("DIGITLAB_TEACH_SECONDS", d.teach_seconds, float),
            stall_seconds=_env_number("DIGITLAB_STALL_SECONDS", d.stall_seconds, float),
        )

    @classmethod
    def unlimited(cls) -> Limits:
        """For the command line on one's own machine: only the model-file bounds apply."""
        return cls(
            max_hidden=2000,
            max_epochs=10_000,
            max_seconds=float("inf"),
            max_paused_seconds=float("inf"),
            max_augment=10,
        )


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
    augment: int = 0  # distorted copies of each training image added (see nn.augment)

    def check(self, limits: Limits = Limits()) -> Settings:
        """These settings if they are sane and within `limits`; else `SettingsError`."""
        _require(
            _is_int(self.hidden) and 1 <= self.hidden <= limits.max_hidden,
            f"hidden neurons must be a whole number from 1 to {limits.max_hidden}",
            self.hidden,
        )
        _require(
            _is_int(self.epochs) and 1 <= self.epochs <= limits.max_epochs,
            f"epochs must be a whole number from 1 to {limits.max_epochs}",
            self.epochs,
        )
        _require(
            _is_int(self.train_size) and 10 <= self.train_size <= N_TRAIN,
            f"training-set size must be a whole number from 10 to {N_TRAIN}",
            self.train_size,
        )
        _require(
            _is_int(self.batch_size) and 1 <= self.batch_size <= self.train_size,
            "mini-batch size must be a whole number from 1 to the training-set size",
            self.batch_size,
        )
        _require(
            _is_int(self.seed) and 0 <= self.seed < 2**32,
            "seed must be a whole number from 0 to 2^32 - 1",
            self.seed,
        )
        check_eta(self.eta)
        _require(
            _is_int(self.augment) and 0 <= self.augment <= limits.max_augment,
            f"distorted copies must be a whole number from 0 to {limits.max_augment}",
            self.augment,
        )
        try:
            check_options(self.init, self.cost, self.l2)
        except ValueError as e:
            raise SettingsError(str(e)) from None
        return self

    def label(self, etas=None, layers: bool = True) -> str:
        """A short description for a legend, e.g. '[784, 30, 10] eta 3 batch 10'.

        `etas`: every learning rate the run had, if it changed ('eta 3 -> 1'); `layers`
        False leaves the layers out (for a picker label that names them already)."""
        eta = " -> ".join(f"{e:g}" for e in (etas or [self.eta]))
        extras = [] if self.init == "normal" else ["N(0,1/n) init"]
        extras += [] if self.cost == "quadratic" else ["cross-entropy"]
        extras += [f"L2 {self.l2:g}"] if self.l2 else []
        extras += [] if self.train_size == N_TRAIN else [f"{self.train_size:,} images"]
        extras += [f"+{self.augment} distorted copies"] if self.augment else []
        head = [f"[784, {self.hidden}, 10]"] if layers else []
        return " ".join([*head, f"eta {eta} batch {self.batch_size}", *extras])

    def replace(self, **changes) -> Settings:
        return dataclasses.replace(self, **changes)


def check_eta(eta) -> float:
    """eta itself, if it is a learning rate a run can use (0 < eta <= 1000)."""
    _require(
        _is_number(eta) and 0 < eta <= 1000,
        "learning rate eta must be a number above 0 and at most 1000",
        eta,
    )
    return float(eta)


def _is_int(x) -> bool:
    return isinstance(x, (int, np.integer)) and not isinstance(x, bool)


def _is_number(x) -> bool:
    return (_is_int(x) or isinstance(x, (float, np.floating))) and bool(np.isfinite(x))


def _require(ok: bool, message: str, value) -> None:
    if not ok:
        raise SettingsError(f"{message} (got {value!r})")
