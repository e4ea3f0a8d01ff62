"""One model file against every target of issue 14, as one table.

    MNIST_DIR=../shared/mnist python benchmarks/evaluate_default.py MODEL.npz \
        [--cache DIR] [--low L --close C] [--redrawn N] [--repeats R]

Everything is measured by the project's own benchmark and test code, imported here:

- MNIST test accuracy (all 10,000 images) and the share of MNIST validation and test digits
  that `nn.verdict.judge` gives a plain answer;
- the world-style held-out set (`benchmarks/bench_world.py`, built by `benchmarks/world.py`):
  overall, per digit, per style family, small against large drawings, and the share of plain
  answers;
- MNIST test digits redrawn on the canvas (`tests/test_drawn_accuracy.py`'s `score_drawn`,
  on the first N of its fixed sample, 2,000 by default) against the same digits untouched;
- the non-digit set of `benchmarks/world.py`, per kind: taps, dots, lines (short dashes,
  horizontal and slanted lines), scribbles (scribbles, zigzags, spirals) and letters (letters
  and signs): the share that gets no plain digit;
- the median time of preparation + reading + verdict (`benchmarks/bench_predict.py`'s
  drawings and timing loop) for this model.

`--low`/`--close` judge with other output thresholds than `nn.verdict`'s (a candidate's own,
from `benchmarks/calibrate_verdict.py`). Building the world sets takes a couple of minutes;
`--cache DIR` keeps them (never commit them). No assertions: a script.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks import bench_predict, bench_world  # noqa: E402
from nn import verdict  # noqa: E402

# Non-digit families of benchmarks/world.py, by the kinds issue 14 names.
KINDS = {
    "taps": ("tap",),
    "dots": ("dot",),
    "lines": ("short dash", "horizontal line", "slanted line"),
    "scribbles": ("scribble", "zigzag", "spiral"),
}  # everything else (letters and signs): "letters"

# issue 14's targets
WORLD, WORLD_DIGIT, MNIST, REDRAWN_GAP, SIZE_GAP = 0.98, 0.95, 0.98, 0.015, 0.02
HELD_BACK, PLAIN, BUDGET_MS = 0.95, 0.98, 5.0


def kind_of(family: str) -> str:
    return next((kind for kind, names in KINDS.items() if family in names), "letters")


def mnist_rows(net, data) -> list[tuple[str, float, str, bool | None]]:
    test = data.test_images.reshape(-1, 28, 28).astype(np.float32) / 255
    val = data.val_images.reshape(-1, 28, 28).astype(np.float32) / 255
    test_out = net.feedforward(test.reshape(-1, 784))
    accuracy = float((test_out.argmax(axis=1) == data.test_labels).mean())
    plain_val = bench_world.plain_share(val, net.feedforward(val.reshape(-1, 784))).mean()
    plain_test = bench_world.plain_share(test, test_out).mean()
    return [
        ("MNIST test accuracy (10,000)", accuracy, ">= 98 %", accuracy >= MNIST),
        ("MNIST validation: plain answer (10,000)", plain_val, ">= 98 %", plain_val >= PLAIN),
        ("MNIST test: plain answer (10,000)", plain_test, ">= 98 %", plain_test >= PLAIN),
    ]


def _plain(scores: dict) -> bool:
    return scores["plain answers"] >= PLAIN


def redrawn_rows(net, data, count: int) -> list:
    from tests import test_drawn_accuracy as drawn

    images, labels = data.test_images.reshape(-1, 28, 28), data.test_labels
    pick = np.random.default_rng(drawn.SEED).choice(len(labels), drawn.SUBSET, replace=False)
    scores = drawn.score_drawn(net, images[pick][:count], labels[pick][:count])
    gap = scores["untouched"] - scores["pipeline"]
    return [
        (f"MNIST test redrawn on the canvas ({count:,})", scores["pipeline"], "", None),
        ("  the same digits untouched", scores["untouched"], "", None),
        ("  gap (untouched - redrawn)", gap, "<= 1.5 pts", gap <= REDRAWN_GAP),
        ("  redrawn: plain answer", scores["plain answers"], ">= 98 %", _plain(scores)),
    ]


def world_rows(net, data: dict) -> tuple[list, np.ndarray]:
    images, labels = data["images"], data["labels"]
    families, sizes = data["families"], data["sizes"]
    outputs = net.feedforward(images.reshape(len(images), 784))
    right = outputs.argmax(axis=1) == labels
    plain = bench_world.plain_share(images, outputs, bench_world.drawn_facts(data))
    small, large = right[sizes == "small"].mean(), right[sizes == "large"].mean()
    rows = [(f"world-style set ({len(labels):,})", right.mean(), ">= 98 %", right.mean() >= WORLD)]
    for digit in range(10):
        share = right[labels == digit].mean()
        rows.append((f"  digit {digit}", share, ">= 95 %", share >= WORLD_DIGIT))
    rows += [
        ("  small drawings (40-62 % of the canvas)", small, "", None),
        ("  large drawings (62-85 %)", large, "", None),
        ("  small vs large gap", abs(small - large), "<= 2 pts", abs(small - large) <= SIZE_GAP),
        ("world-style set: plain answer", plain.mean(), ">= 98 %", plain.mean() >= PLAIN),
    ]
    per_family = [(f, right[families == f].mean(), (families == f).sum()) for f in set(families)]
    return rows, np.array(sorted(per_family, key=lambda row: (row[1], row[0])), dtype=object)


def non_digit_rows(net, data: dict) -> list:
    images, families = data["images"], data["families"]
    outputs = net.feedforward(images.reshape(len(images), 784))
    plain = bench_world.plain_share(images, outputs, bench_world.drawn_facts(data))
    kinds = np.array([kind_of(f) for f in families.tolist()])
    held = 1 - plain.mean()
    rows = [(f"non-digits: no plain digit ({len(kinds):,})", held, ">= 95 %", held >= HELD_BACK)]
    for kind in (*KINDS, "letters"):
        pick = kinds == kind
        rows.append((f"  {kind} ({pick.sum()})", 1 - plain[pick].mean(), "", None))
    return rows


def timing_rows(net, repeats: int) -> list:
    from tests.helpers import canvas_image

    medians = []
    for strokes in bench_predict.STROKES.values():
        image = canvas_image(strokes)
        bench_predict.timings_ms(net, image, 10)  # warm up
        medians.append(statistics.median(bench_predict.timings_ms(net, image, repeats)))
    worst = max(medians)
    return [("preparation + answer, worst median (ms)", worst, "< 5 ms", worst < BUDGET_MS)]


def print_table(rows: list) -> None:
    print(f"{'measure':<46} {'measured':>10}  {'target':<11} met")
    for name, value, target, met in rows:
        shown = f"{value:.2f}" if "(ms)" in name else f"{value:.2%}"
        mark = "" if met is None else ("yes" if met else "NO")
        print(f"{name:<46} {shown:>10}  {target:<11} {mark}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", help="a model file (.npz)")
    parser.add_argument("--cache", metavar="DIR", help="keep the built world sets here (.npz)")
    parser.add_argument("--low", type=float, default=verdict.LOW, help="nn.verdict's LOW")
    parser.add_argument("--close", type=float, default=verdict.CLOSE, help="nn.verdict's CLOSE")
    parser.add_argument("--redrawn", type=int, default=2000, help="MNIST digits to redraw")
    parser.add_argument("--repeats", type=int, default=200, help="timings per drawing")
    args = parser.parse_args()
    from nn.mnist import load_mnist
    from nn.modelfile import load_model

    verdict.LOW, verdict.CLOSE = args.low, args.close
    net, meta = load_model(args.model)
    data = load_mnist(os.environ.get("MNIST_DIR"))
    print(f"model {args.model}: {net.sizes}, recorded test accuracy {meta['test_accuracy']}")
    print(f"verdict thresholds: LOW {verdict.LOW}, CLOSE {verdict.CLOSE}")
    world_digits = bench_world.cached("world-digits", bench_world.build_digits, args.cache)
    world_non = bench_world.cached("world-non-digits", bench_world.build_non_digits, args.cache)
    rows = mnist_rows(net, data)
    digit_rows, per_family = world_rows(net, world_digits)
    rows += digit_rows
    rows += redrawn_rows(net, data, args.redrawn)
    rows += non_digit_rows(net, world_non)
    rows += timing_rows(net, args.repeats)
    print_table(rows)
    print("world-style families under 100 %:")
    for family, share, count in per_family:
        if share < 1:
            print(f"  {family:28s} {share:7.2%} of {count}")


if __name__ == "__main__":
    main()
