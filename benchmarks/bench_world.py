"""The world-style held-out set and the non-digit set, read by a model: accuracy and verdicts.

    python benchmarks/bench_world.py [--model assets/models/default.npz] [--cache DIR]

Builds the sets of `benchmarks/world.py` (never trained or tuned on: see its docstring),
prepares every drawing with `canvas_to_mnist` as the page does, and prints:

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
from nn.preprocess import canvas_to_mnist  # noqa: E402
from nn.verdict import DIGIT, judge  # noqa: E402


def build_digits():
    images, labels, families, sizes = [], [], [], []
    for canvas, label, family, size in world.digits():
        image = canvas_to_mnist(canvas)
        if image is not None:
            images.append(image)
            labels.append(label)
            families.append(family)
            sizes.append(size)
    return {
        "images": np.stack(images),
        "labels": np.array(labels),
        "families": np.array(families),
        "sizes": np.array(sizes),
    }


def build_non_digits():
    images, families, empty = [], [], np.zeros((28, 28), np.float32)
    for canvas, family in world.non_digits():
        image = canvas_to_mnist(canvas)
        images.append(empty if image is None else image)  # None: the page says "draw"
        families.append(family)
    return {"images": np.stack(images), "families": np.array(families)}


def cached(name: str, build, where: str | None) -> dict:
    path = Path(where) / f"{name}.npz" if where else None
    if path is not None and path.is_file():
        with np.load(path, allow_pickle=False) as f:
            return {k: f[k] for k in f.files}
    data = build()
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez(path, **data)
    return data


def plain_share(images: np.ndarray, outputs: np.ndarray) -> np.ndarray:
    """For each drawing, whether the page gives a plain digit (`judge` says DIGIT)."""
    return np.array([judge(im, out).kind == DIGIT for im, out in zip(images, outputs)])


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
    plain = plain_share(images, outputs)
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
    plain = plain_share(images, outputs)
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
