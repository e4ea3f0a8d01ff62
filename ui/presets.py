"""The book's experiments, as one-click settings for the page, with what to expect.

Each preset reproduces a run from chapter 1 of Nielsen's book (or, for the last one, the
improvements of chapter 3) and says in one line what the visitor should see. `book_result`
is the test accuracy the book reports for that run, drawn as a reference line.
"""

from __future__ import annotations

from dataclasses import dataclass

from nn.settings import Settings

# What the settings' sliders offer (the training section's widgets, `ui.training`).
ETA_STEPS = (
    0.001,
    0.002,
    0.005,
    0.01,
    0.02,
    0.05,
    0.1,
    0.2,
    0.3,
    0.5,
    1.0,
    2.0,
    3.0,
    5.0,
    10.0,
    20.0,
    50.0,
    100.0,
)  # a logarithmic slider: the book's runs span 0.001-100
BATCH_SIZES = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000)
TRAIN_SIZES = (1_000, 2_000, 5_000, 10_000, 20_000, 50_000)


@dataclass(frozen=True)
class Preset:
    name: str
    settings: Settings
    expect: str
    book_result: float | None  # test accuracy the book reports, as a fraction


PRESETS: tuple[Preset, ...] = (
    Preset(
        "The book's network: [784, 30, 10], eta 3.0",
        Settings(hidden=30, eta=3.0, batch_size=10, epochs=30),
        "About 91 % after the first epoch, then a slow climb to about 95 % "
        "(the book's best of three runs: 95.42 %).",
        0.9542,
    ),
    Preset(
        "100 hidden neurons",
        Settings(hidden=100, eta=3.0, batch_size=10, epochs=30),
        "A little better, about 96.6 % in the book, but some runs get stuck much lower: "
        "try another seed.",
        0.9659,
    ),
    Preset(
        "eta too small: 0.001",
        Settings(hidden=100, eta=0.001, batch_size=10, epochs=30),
        "Barely learning: about 11 % after one epoch, creeping up to about 21 % after 30 "
        "(the steps are too small).",
        0.2142,
    ),
    Preset(
        "eta too large: 100",
        Settings(hidden=30, eta=100.0, batch_size=10, epochs=30),
        "Stuck near chance, about 10 %: every step overshoots and the neurons saturate.",
        0.0982,
    ),
    Preset(
        "Later chapters: cross-entropy, better start, L2",
        Settings(
            hidden=100,
            eta=0.5,
            batch_size=10,
            epochs=30,
            init="scaled",
            cost="cross-entropy",
            l2=5.0,
        ),
        "About 98 %, and steady from one run to the next: the cost no longer slows "
        "learning when neurons are badly wrong.",
        0.98,
    ),
)


def preset_named(name: str) -> Preset | None:
    return next((p for p in PRESETS if p.name == name), None)


def matching_preset(settings: Settings) -> Preset | None:
    """The preset these settings reproduce (seed and number of epochs aside)."""
    keys = ("hidden", "eta", "batch_size", "train_size", "init", "cost", "l2")
    for preset in PRESETS:
        if all(getattr(settings, k) == getattr(preset.settings, k) for k in keys):
            return preset
    return None
