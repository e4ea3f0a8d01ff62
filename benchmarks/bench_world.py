"""The world-style held-out set and the non-digit set, read by a model: accuracy and verdicts.

    python benchmarks/bench_world.py [--model assets/models/default.npz] [--cache DIR]

Builds the sets of `benchmarks/world.py` (never trained or tuned on: see its docstring),
prepares every drawing as the page does (`nn.preprocess.prepare`: the image and what the canvas
says about the drawing, `nn.verdict.judge`'s third argument), and prints:

- the world-style digits' accuracy overall, per digit, per size and per style family, and
  the most frequent confusions;
- the verdicts of `nn.verdict.judge` (the page's rule): the share of real digits (world-style
  set, MNIST test) that still get a plain answer, and the share of non-digits that do not,
  per family.

Deterministic (fixed seeds). Takes about a minute to build the sets (~35 ms a drawing);
`--cache DIR` keeps them as .npz files there (never commit them). No assertions: a script.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections import Counter
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks import world  # noqa: E402
from nn.preprocess import Drawn, prepare  # noqa: E402
from nn.verdict import DIGIT, judge  # noqa: E402


def build_digits():
    images, labels, families, sizes, pens, marks = [], [], [], [], [], []
    for canvas, label, family, size in world.digits():
        done = prepare(canvas)
        if done is not None:
            images.append(done[0])
            labels.append(label)
            families.append(family)
            sizes.append(size)
            pens.append(done[1].pens)
            marks.append(done[1].marks)
    return {
        "images": np.stack(images),
        "labels": np.array(labels),
        "families": np.array(families),
        "sizes": np.array(sizes),
        "pens": np.array(pens),
        "marks": np.array(marks),
    }


def build_non_digits():
    images, families, pens, marks = [], [], [], []
    empty = np.zeros((28, 28), np.float32)
    for canvas, family in world.non_digits():
        done = prepare(canvas)
        images.append(empty if done is None else done[0])  # None: the page says "draw"
        families.append(family)
        pens.append(np.nan if done is None else done[1].pens)
        marks.append(0 if done is None else done[1].marks)
    return {
        "images": np.stack(images),
        "families": np.array(families),
        "pens": np.array(pens),
        "marks": np.array(marks),
    }


def cached(name: str, build, where: str | None) -> dict:
    """The set built by `build`, kept in `where` (a cache made before the sets held the
    drawings' facts, `pens` and `marks`, is built again)."""
    path = Path(where) / f"{name}.npz" if where else None
    if path is not None and path.is_file():
        with np.load(path, allow_pickle=False) as f:
            if "pens" in f.files:
                return {k: f[k] for k in f.files}
    data = build()
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(path.stem + ".partial.npz")
        np.savez(partial, **data)
        partial.replace(path)
    return data


def drawn_facts(data: dict) -> list[Drawn | None]:
    """Each drawing's `nn.preprocess.Drawn` (None where nothing was drawn)."""
    return [
        None if np.isnan(pens) else Drawn(pens=float(pens), marks=int(marks))
        for pens, marks in zip(data["pens"], data["marks"])
    ]


def plain_share(images: np.ndarray, outputs: np.ndarray, facts=None) -> np.ndarray:
    """For each drawing, whether the page gives a plain digit (`judge` says DIGIT), with what
    the canvas said about it (`facts`, from `drawn_facts`) where there is one."""
    facts = [None] * len(images) if facts is None else facts
    return np.array([judge(im, out, d).kind == DIGIT for im, out, d in zip(images, outputs, facts)])


def report_digits(net, data: dict) -> None:
    images, labels = data["images"], data["labels"]
    families, sizes = data["families"], data["sizes"]
    outputs = net.feedforward(images.reshape(len(images), 784))
    answers = outputs.argmax(axis=1)
    right = answers == labels
    fonts = np.char.startswith(families.astype(str), "font")
    print(f"world-style digits: {len(labels)}, read right {right.mean():.2%}")
    print(
        f"  strokes {right[~fonts].mean():.2%} of {(~fonts).sum()}, "
        f"held-out fonts {right[fonts].mean():.2%} of {fonts.sum()}"
    )
    for size in ("small", "large"):
        pick = sizes == size
        print(f"  {size} {right[pick].mean():.2%} of {pick.sum()}")
    print("  per digit: " + "  ".join(f"{d}: {right[labels == d].mean():.1%}" for d in range(10)))
    confusions = Counter(zip(labels[~right].tolist(), answers[~right].tolist()))
    print(
        "  most frequent errors: "
        + ", ".join(f"{a}->{b} x{n}" for (a, b), n in confusions.most_common(8))
    )
    print("  per family:")
    for family in sorted(set(families.tolist())):
        pick = families == family
        print(f"    {family:26s} {right[pick].mean():7.2%} of {pick.sum()}")
    plain = plain_share(images, outputs, drawn_facts(data))
    print(
        f"  plain answers (nn.verdict): {plain.mean():.2%}; of those, right "
        f"{right[plain].mean():.2%}; wrong answers held back {(~plain[~right]).mean():.0%} "
        f"of {(~right).sum()}"
    )


def report_mnist(net) -> None:
    from nn.mnist import load_mnist

    try:
        data = load_mnist(os.environ.get("MNIST_DIR"))
    except Exception as e:  # noqa: BLE001 - a script: say why and go on
        print(f"MNIST test: not found ({e})")
        return
    images = data.test_images.reshape(-1, 28, 28).astype(np.float32) / 255
    outputs = net.feedforward(images.reshape(-1, 784))
    plain = plain_share(images, outputs)
    right = outputs.argmax(axis=1) == data.test_labels
    print(
        f"MNIST test: read right {right.mean():.2%}; plain answers {plain.mean():.2%}; "
        f"of those, right {right[plain].mean():.2%}"
    )


def report_non_digits(net, data: dict) -> None:
    images, families = data["images"], data["families"]
    outputs = net.feedforward(images.reshape(len(images), 784))
    plain = plain_share(images, outputs, drawn_facts(data))
    print(f"non-digits: {len(families)}, no plain digit for {(~plain).mean():.2%}")
    for family in dict.fromkeys(families.tolist()):
        pick = families == family
        print(f"    {family:26s} {(~plain[pick]).mean():7.2%} held back of {pick.sum()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=str(REPO / "assets" / "models" / "default.npz"))
    parser.add_argument("--cache", metavar="DIR", help="keep the built sets here (.npz)")
    args = parser.parse_args()
    from nn.modelfile import load_model

    net, _meta = load_model(args.model)
    print(f"model {args.model}: {net.sizes}")
    report_digits(net, cached("world-digits", build_digits, args.cache))
    report_mnist(net)
    report_non_digits(net, cached("world-non-digits", build_non_digits, args.cache))


if __name__ == "__main__":
    main()
