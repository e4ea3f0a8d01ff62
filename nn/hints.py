"""Hints from the book: simple rules over a run's own measurements that notice what the
book's chapters 1 and 3 discuss, each with what is happening, why, and a change for the
next run.

`book_hints(settings, epochs, accuracy, cost)` takes plain numbers: the run's settings (an
`nn.settings.Settings`) and, point by point, the epoch (fractional between epochs), the
validation accuracy (a fraction) and the training cost. A point at a whole epoch counts as
that epoch's end. It returns a list of `Hint`s, most pressing first, never two of a kind.
A pure function: no network, no data, nothing but the figures a run reports anyway.

The rules (thresholds chosen on the book's runs and our own, see tests/test_hints.py):

- eta too large: the cost ends up higher than where it started, or after a whole epoch the
  accuracy is still near chance (below 20 %) while eta is above 1.
- eta too small: after a whole epoch the accuracy is below 50 %, with eta below 0.5, and
  either the cost has fallen by less than a quarter or the accuracy has gained less than 5
  points an epoch since the start. (The cost alone missed the book's own eta 0.001 run,
  [784, 100, 10] from N(0, 1): its quadratic cost fell from 2.16 to 0.93 in the first epoch,
  the saturated outputs settling towards 0, while it read 8 %; 17 % after 30 epochs.)
- saturated start (the book's "seed 3" stall): weights from N(0, 1), eta from 0.5 to 5
  (where the book's runs learn; a stall with a larger eta is more likely the eta), and after
  an epoch the accuracy sits between 20 % and 90 % and gained less than half a point over
  the last epoch.
- overfitting: the best validation accuracy is at least 3 epochs old (no gain of 0.1 point
  since), while the training cost has fallen by at least 5 % since then.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .settings import N_TRAIN, Settings

CHANCE = 0.20  # below this after an epoch, a run is "near chance" (10 % is guessing)
SLOW = 0.50  # below this after an epoch with a tiny eta, nothing much has moved
SLOW_GAIN = 0.05  # ... or less than this gained per epoch, whatever the cost did
STALL_GAIN = 0.005  # less than half a point over the last epoch
STALE_EPOCHS = 3  # epochs without a better validation accuracy
OVERFIT_COST_DROP = 0.05  # the training cost fell at least this much (relative) meanwhile


@dataclass(frozen=True)
class Hint:
    kind: str  # "eta-large", "eta-small", "saturated", "overfitting"
    what: str  # what is happening, in one sentence
    why: str  # why, in one or two sentences, pointing to the chapter
    change: dict  # Settings fields to change for the next run
    action: str  # the button's text: "Next run: eta 0.3"


def book_hints(
    settings: Settings,
    epochs: Sequence[float],
    accuracy: Sequence[float],
    cost: Sequence[float],
) -> list[Hint]:
    """The hints the run's points call for (see the module docstring); [] for none."""
    points = [
        (float(e), float(a), float(c))
        for e, a, c in zip(epochs, accuracy, cost)
        if _finite(e) and _finite(a)
    ]
    if len(points) < 2:
        return []
    hints = []
    large = _eta_large(settings, points)
    if large:
        hints.append(large)
    else:
        for rule in (_eta_small, _saturated, _overfitting):
            hint = rule(settings, points)
            if hint:
                hints.append(hint)
                break  # one cause at a time: the first that fits explains the rest
    return hints


def _finite(x: float) -> bool:
    return x == x and abs(x) != float("inf")


def _costs(points) -> list[float]:
    return [c for _, _, c in points if _finite(c)]


def _after_an_epoch(points) -> list[tuple[float, float, float]]:
    return [p for p in points if p[0] >= 1]


def _epochs(epoch: float) -> str:
    """'1 epoch', '3 epochs', '9.4 epochs' (a point between two epochs' ends)."""
    text = f"{epoch:.1f}".removesuffix(".0")
    return f"{text} epoch" if text == "1" else f"{text} epochs"


def _eta_large(settings: Settings, points) -> Hint | None:
    costs = _costs(points)
    rising = len(costs) >= 3 and costs[-1] > costs[0] * 1.02 and costs[-1] > min(costs) * 1.1
    later = _after_an_epoch(points)
    stuck = bool(later) and settings.eta > 1 and max(a for _, a, _ in later) < CHANCE
    if not (rising or stuck):
        return None
    eta = settings.eta / 10
    what = (
        f"The cost is rising, from {costs[0]:.3g} to {costs[-1]:.3g}: each step overshoots."
        if rising
        else f"After {_epochs(later[-1][0])} it still reads only "
        f"{100 * later[-1][1]:.0f} % of the digits, about what guessing gets."
    )
    return _eta_hint(
        "eta-large",
        what,
        f"With eta {settings.eta:g} each step down the cost's slope is so long that it "
        "jumps past the valley, and the sigmoids it pushes to 0 or 1 stop learning "
        "(chapter 1, learning with gradient descent: the step must be small enough).",
        eta,
    )


def _eta_small(settings: Settings, points) -> Hint | None:
    later = _after_an_epoch(points)
    costs = _costs(points)
    if not later or settings.eta >= 0.5 or len(costs) < 2:
        return None
    fell = (costs[0] - costs[-1]) / costs[0] if costs[0] > 0 else 0.0
    first = next((a for _, a, _ in points if _finite(a)), later[-1][1])
    per_epoch = (later[-1][1] - first) / later[-1][0]  # its accuracy's climb, on average
    if later[-1][1] >= SLOW or (fell >= 0.25 and per_epoch >= SLOW_GAIN):
        return None
    eta = min(settings.eta * 100, 3.0)
    what = (
        f"the cost has fallen only {100 * fell:.0f} %"
        if fell < 0.25
        else f"it read {100 * first:.0f} % at the start"
    )
    return _eta_hint(
        "eta-small",
        f"After {_epochs(later[-1][0])} it reads {100 * later[-1][1]:.0f} % and {what}: "
        "it is learning, very slowly.",
        f"With eta {settings.eta:g} every step is tiny: the direction is right but it "
        "would take hundreds of epochs to get anywhere (chapter 1: the book's eta 0.001 run "
        "creeps from 11 % to 21 % in 30 epochs).",
        eta,
    )


def _eta_hint(kind: str, what: str, why: str, eta: float) -> Hint:
    """A hint whose change for the next run is another eta."""
    return Hint(kind=kind, what=what, why=why, change={"eta": eta}, action=f"Next run: eta {eta:g}")


def _saturated(settings: Settings, points) -> Hint | None:
    if settings.init != "normal" or not 0.5 <= settings.eta <= 5:
        return None
    later = _after_an_epoch(points)
    if not later:
        return None
    last_epoch, last_accuracy, _ = later[-1]
    if not CHANCE <= last_accuracy < 0.90:
        return None
    epoch_ago = [a for e, a, _ in points if e <= last_epoch - 1]
    if not epoch_ago or last_accuracy - max(epoch_ago) >= STALL_GAIN:
        return None
    return Hint(
        kind="saturated",
        what=f"It is stuck at {100 * last_accuracy:.1f} %, well below the 95-97 % that "
        "networks like this usually reach, and gained less than half a point in the last "
        "epoch.",
        why="Weights drawn from N(0, 1) over 784 pixels give many hidden neurons a huge "
        "weighted input, so they start saturated at 0 or 1, where the sigmoid is flat and "
        "they barely learn: the book's unlucky runs (chapter 1; chapter 3 fixes it with "
        "weights from N(0, 1/n)).",
        change={"init": "scaled"},
        action="Next run: weights from N(0, 1/n)",
    )


def _overfitting(settings: Settings, points) -> Hint | None:
    ends = [p for p in points if abs(p[0] - round(p[0])) < 1e-6 and p[0] >= 1]
    if len(ends) < STALE_EPOCHS + 1:
        return None
    best_i = max(range(len(ends)), key=lambda i: (ends[i][1], -i))
    # the first end-of-epoch point within 0.1 point of the best counts as "when it stopped"
    first_i = next(i for i, p in enumerate(ends) if p[1] >= ends[best_i][1] - 0.001)
    best_epoch, best_accuracy, cost_then = ends[first_i]
    last_epoch, _, cost_now = ends[-1]
    if last_epoch - best_epoch < STALE_EPOCHS or not (_finite(cost_then) and cost_then > 0):
        return None
    if (cost_then - cost_now) / cost_then < OVERFIT_COST_DROP:
        return None
    change: dict[str, float | int]
    if settings.train_size < N_TRAIN:
        change, action = {"train_size": N_TRAIN}, "Next run: all 50,000 training images"
        remedy = "more training images"
    else:
        change, action = {"l2": 5.0}, "Next run: L2 regularisation 5"
        remedy = "L2 regularisation"
    return Hint(
        kind="overfitting",
        what=f"Validation accuracy has not improved since epoch {best_epoch:g} "
        f"({100 * best_accuracy:.2f} %) while the training cost kept falling "
        f"({cost_then:.3g} to {cost_now:.3g}).",
        why="It is fitting its own training images ever more closely, peculiarities "
        f"included, without reading new digits any better: overfitting (chapter 3; {remedy} "
        "helps).",
        change=change,
        action=action,
    )
