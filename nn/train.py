"""Train a network from the command line, the way the book's first chapter does.

    python -m nn.train --hidden 30 --epochs 30 --batch-size 10 --eta 3.0

prints one line per epoch in the book's form, `Epoch 0: 9129 / 10000`, followed by the
epoch's training time; `--save PATH` writes the trained network as a model file.
"""

from __future__ import annotations

import argparse
import shlex
import sys

import numpy as np

from .mnist import MnistError, load_mnist
from .modelfile import save_model
from .network import COSTS, INITS
from .settings import Limits, Settings, SettingsError
from .trainer import TrainingRun


def parser() -> argparse.ArgumentParser:
    d = Settings()
    p = argparse.ArgumentParser(
        prog="python -m nn.train",
        description="Train a [784, N, 10] sigmoid network on MNIST with mini-batch SGD and "
        "print the test-set score after each epoch, as in chapter 1 of Nielsen's "
        "'Neural Networks and Deep Learning'.",
    )
    p.add_argument(
        "--hidden",
        type=int,
        default=d.hidden,
        metavar="N",
        help=f"neurons in the hidden layer (default {d.hidden})",
    )
    p.add_argument(
        "--epochs",
        type=int,
        default=d.epochs,
        help=f"passes over the training set (default {d.epochs})",
    )
    p.add_argument(
        "--batch-size",
        type=int,
        default=d.batch_size,
        metavar="M",
        help=f"examples per mini-batch (default {d.batch_size})",
    )
    p.add_argument("--eta", type=float, default=d.eta, help=f"learning rate (default {d.eta})")
    p.add_argument(
        "--train-size",
        type=int,
        default=d.train_size,
        metavar="N",
        help=f"use only the first N of the 50,000 training images (default {d.train_size})",
    )
    p.add_argument(
        "--seed",
        type=int,
        default=d.seed,
        help="seed of the initial weights and of the shuffling; the same seed "
        f"gives the same run (default {d.seed})",
    )
    p.add_argument(
        "--init",
        choices=INITS,
        default=d.init,
        help="initial weights: 'normal' is N(0, 1) as in chapter 1, 'scaled' is "
        "N(0, 1/n_in) from chapter 3 (default normal)",
    )
    p.add_argument(
        "--cost",
        choices=COSTS,
        default=d.cost,
        help="cost function: quadratic (chapter 1) or cross-entropy (chapter 3) "
        "(default quadratic)",
    )
    p.add_argument(
        "--l2",
        type=float,
        default=d.l2,
        metavar="LAMBDA",
        help="L2 regularisation parameter lambda, 0 for none (chapter 3's "
        "example uses 5.0) (default 0)",
    )
    p.add_argument(
        "--augment",
        type=int,
        default=0,
        metavar="K",
        help="add K slightly rotated/shifted/thickened copies of each training "
        "image (helps with drawn digits; each copy costs 39 MB) (default 0)",
    )
    p.add_argument(
        "--fonts",
        metavar="DIR|auto",
        help="also train on digits rendered from the .ttf/.otf fonts under DIR "
        "('auto': exactly the font files pinned in assets/models/fonts.txt, "
        "checked by sha256; assets/models/install-fonts.sh installs them), drawn on "
        "the canvas and prepared like a drawing (nn.glyphs); the held-out test "
        "families and the Hershey fonts are always left out",
    )
    p.add_argument(
        "--font-copies",
        type=int,
        default=4,
        metavar="R",
        help="renderings of each digit of each font, at random sizes, slants and "
        "places (default 4)",
    )
    p.add_argument(
        "--synthetic",
        type=int,
        default=0,
        metavar="K",
        help="also train on K jittered stroke drawings of each digit in the styles "
        "people draw (a 1 with a flag, a crossed 7, an open 4, curled 6 and 9, "
        "...: nn.glyphs.SHAPES) (default 0)",
    )
    p.add_argument(
        "--eta-decay",
        type=float,
        default=1.0,
        metavar="F",
        help="multiply eta by F before each epoch from --decay-from on (a step decay that "
        "settles the last epochs; recorded in the model's eta_changes) (default 1: none)",
    )
    p.add_argument(
        "--decay-from",
        type=int,
        default=0,
        metavar="E",
        help="the first epoch (counting from 0, as printed) trained with a decayed eta (default 0)",
    )
    p.add_argument(
        "--non-digits",
        type=int,
        default=0,
        metavar="K",
        help="also train on drawings that are no digit, with every output's target 0 "
        "(no extra output): K letters and signs from each font of --fonts, and 100 * K "
        "random scrawls (nn.glyphs.non_digit_set) (default 0)",
    )
    p.add_argument("--save", metavar="PATH", help="write the trained network to this .npz file")
    p.add_argument("--name", default="", help="a name recorded in the saved file's metadata")
    p.add_argument(
        "--data-dir",
        metavar="DIR",
        help="folder holding the four MNIST .gz files (default: $MNIST_DIR, "
        "then the project's data/ folder)",
    )
    p.add_argument(
        "--download", action="store_true", help="download MNIST into data/ if it is not found"
    )
    return p


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    settings = Settings(
        hidden=args.hidden,
        eta=args.eta,
        batch_size=args.batch_size,
        epochs=args.epochs,
        train_size=args.train_size,
        seed=args.seed,
        init=args.init,
        cost=args.cost,
        l2=args.l2,
        augment=args.augment,
    )
    try:
        settings.check(Limits.unlimited())  # an absurd setting is refused before MNIST loads
        data = load_mnist(args.data_dir, download=args.download, progress=_show_download)
        extra, sources = _styled_digits(args)
        run = TrainingRun(
            settings,
            data,
            limits=Limits.unlimited(),
            listener=_epoch_printer(args.eta_decay, args.decay_from),
            report_every=float("inf"),
            extra=extra,
        )
    except (MnistError, SettingsError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(
        f"Training {settings.label()} for {settings.epochs} epochs, seed {settings.seed}",
        flush=True,
    )
    run.run()
    best, final = run.best, run.final
    if best is None or final is None:  # settings ask for at least one epoch: not reached
        print("error: the run ended before its first epoch", file=sys.stderr)
        return 1
    print(
        f"Best: epoch {best.epoch - 1:.0f}, {best.test_correct} / {len(data.test_labels)} "
        f"({best.test_accuracy:.2%}); final {final.test_accuracy:.2%}; "
        f"{run.training_time():.1f} s of training"
    )
    if args.save:
        meta = {
            **run.metadata(),
            "name": args.name,
            **sources,
            "command": shlex.join(["python", "-m", "nn.train", *(argv or sys.argv[1:])]),
        }
        print(f"Saved to {save_model(args.save, run.network, meta)}")
    return 0


def _styled_digits(args):
    """The font and stroke digits asked for: ((images, labels) or None, metadata)."""
    if not 0 < args.eta_decay <= 1 or args.decay_from < 0:
        raise ValueError("--eta-decay must be in (0, 1] and --decay-from at least 0")
    if args.font_copies < 1 or args.synthetic < 0 or args.non_digits < 0:
        raise ValueError(
            "--font-copies must be at least 1, --synthetic and --non-digits at least 0"
        )
    if args.non_digits and not args.fonts:
        raise ValueError("--non-digits needs --fonts (its letters come from the fonts)")
    if not args.fonts and not args.synthetic:
        return None, {}
    from . import glyphs  # only training with these options needs it (and fonts)

    parts, meta = [], {}
    if args.fonts:
        # 'auto': the pinned set (assets/models/fonts.txt), whatever else the machine has
        fonts = glyphs.pinned_fonts() if args.fonts == "auto" else glyphs.find_fonts(args.fonts)
        print(f"Rendering digits from {len(fonts)} font files ({args.fonts})...", flush=True)
        images, labels, used = glyphs.font_set(fonts, args.font_copies, seed=args.seed)
        if not used:
            raise ValueError(f"no usable font (.ttf/.otf drawing the ten digits) in {args.fonts}")
        parts.append((images, labels))
        meta["fonts"] = {
            "fonts": len(used),
            "images": len(labels),
            "families": sorted({p.parent.name for p in used}),
        }
    if args.synthetic:
        print(f"Drawing {args.synthetic} stroke digits of each kind...", flush=True)
        images, labels = glyphs.stroke_set(args.synthetic, seed=args.seed)
        parts.append((images, labels))
        meta["synthetic"] = {"images": len(labels)}
    if args.non_digits:
        print(f"Drawing letters, signs and scrawls ({args.non_digits} per font)...", flush=True)
        images, labels = glyphs.non_digit_set(
            used, args.non_digits, 100 * args.non_digits, seed=args.seed
        )
        parts.append((images, labels))
        meta["non_digits"] = {"images": len(labels)}
    images = np.concatenate([p[0] for p in parts])
    labels = np.concatenate([p[1] for p in parts])
    print(f"  {len(labels):,} styled digits added to the training set", flush=True)
    return (images, labels), meta


def _epoch_printer(decay: float = 1.0, decay_from: int = 0):
    """A listener printing the book's line for each epoch, with the epoch's own time; and,
    with `decay` != 1, multiplying eta by it before each epoch from `decay_from` on."""
    last_end = [0.0]

    def listener(run: TrainingRun, point) -> None:
        if point.end_of_epoch:
            print(
                f"Epoch {point.epoch - 1:.0f}: {point.test_correct} / "
                f"{len(run.data.test_labels)}  ({point.elapsed - last_end[0]:.2f} s)",
                flush=True,
            )
            last_end[0] = point.elapsed
            if decay != 1.0 and point.epoch >= decay_from and point.epoch < run.settings.epochs:
                run.set_eta(run.eta * decay)

    return listener


def _show_download(done: int, total: int, name: str) -> None:
    print(
        f"\rdownloading {name}: {done / 2**20:.1f} / {total / 2**20:.1f} MB",
        end="" if done < total else "\n",
        file=sys.stderr,
        flush=True,
    )


if __name__ == "__main__":
    sys.exit(main())
