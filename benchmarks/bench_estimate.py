"""How right the page's "time left" is on real runs (`runs/estimate.py`).

    MNIST_DIR=../shared/mnist python benchmarks/bench_estimate.py [--repeats 3] [--epochs 30]
        [--presets book,100] [--no-spare] [--save DIR] [--debug N]
    python benchmarks/bench_estimate.py --replay DIR [--debug N]
    MNIST_DIR=../shared/mnist python benchmarks/bench_estimate.py --tenths [--repeats 3]

Each run is a preset trained through `RunManager.submit`, as the page does (a warm spare
worker unless `--no-spare`; one run at a time). When it has finished, every report it sent is
replayed: the estimate the page would have shown at that report (`seconds_left` on the
samples and points known then) against the training time that was really left. Prints, per
preset, the error at the first report from each of the epochs 0.1, 0.2, 0.5, 1, 1.5, 2, 5, 10,
20 on (per repetition), the median and worst error over all reports from 0.1 epochs on, and
each run's first three epochs' seconds (a slow first epoch shows there). `--save` writes each
run's timeline as JSON (the format of tests/timelines/). The machine's load is printed beside.
`--debug N` prints the estimator's terms (`runs.estimate.estimate_terms`) at each run's first N
reports. `--replay DIR` reads timelines saved by `--save` instead of training, so two versions
of the estimator can be compared on the same runs.

`--tenths` looks for why a first epoch is slow: a fresh process at the workers' priority maps
the shared MNIST as a spare does, trains two epochs of each preset (metric points every 0.5 s,
as on the page) and prints the milliseconds of each tenth of an epoch; alone, then with a
worker warming up beside it from the moment it starts training (`runs.worker_main`: at the
workers' priority, as spares did, and at the lowest, as they do now).
"""

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from nn.settings import Settings  # noqa: E402
from runs.estimate import estimate_terms, seconds_left  # noqa: E402
from runs.manager import RunManager  # noqa: E402

PRESETS = {"book": 30, "100": 100}  # name: hidden neurons (eta 3, batch 10, as the page's)
AT = (0.1, 0.2, 0.5, 1.0, 1.5, 2.0, 5.0, 10.0, 20.0)


def load() -> str:
    return f"{os.getloadavg()[0]:.1f}"


def timeline(manager: RunManager, hidden: int, epochs: int, seed: int) -> dict:
    """Train one run to its end; its reports' (seconds, epochs) and its points."""
    settings = Settings(hidden=hidden, eta=3.0, batch_size=10, epochs=epochs, seed=seed)
    handle = manager.submit(settings)
    deadline = time.monotonic() + 30 + 40 * epochs
    while not handle.over and time.monotonic() < deadline:
        handle.touch()
        time.sleep(0.2)
    view = handle.view()
    if not handle.over:
        handle.stop("the benchmark gave up")
    record = handle._record  # the manager's own timeline, as the view reads it
    return {
        "samples": [list(s) for s in record.samples],
        "measures": [[p.elapsed, p.end_of_epoch] for p in view.history],
        "epochs": epochs,
        "state": view.state.value,
        "total": view.elapsed,
    }


def errors(run: dict) -> list[tuple[float, float]]:
    """(epochs done, relative error) of the estimate at every report before the end."""
    samples = [tuple(s) for s in run["samples"]]
    measures = [tuple(m) for m in run["measures"]]
    total, epochs = run["total"], run["epochs"]
    found = []
    for i, (t, progress) in enumerate(samples):
        if progress >= epochs or total - t <= 0:
            continue
        known = [m for m in measures if m[0] <= t]
        estimate = seconds_left(samples[: i + 1], epochs, known)
        if estimate is not None:
            found.append((progress, estimate / (total - t) - 1))
    return found


def debug(run: dict, first: int) -> None:
    """The estimator's terms at the run's first `first` reports."""
    samples = [tuple(s) for s in run["samples"]]
    measures = [tuple(m) for m in run["measures"]]
    print("     t  epochs  s/epoch  partial   end(seen)  train_left  partials  ends  est  real")
    for i, (t, progress) in enumerate(samples[:first]):
        known = [m for m in measures if m[0] <= t]
        terms = estimate_terms(samples[: i + 1], run["epochs"], known)
        real = run["total"] - t
        if terms is None:
            print(f"  {t:5.2f} {progress:6.2f}  (none)  real {real:.2f}")
            continue
        print(
            f"  {t:5.2f} {progress:6.2f}  {terms.per_epoch:6.3f}  {terms.partial_cost:6.4f}  "
            f"{terms.full_cost:6.4f}({'y' if terms.full_seen else 'n'})  {terms.train_left:8.2f}  "
            f"{terms.partials_left:6.1f}  {terms.ends_left:4d}  {terms.total:5.2f}  {real:5.2f}"
        )


def epoch_seconds(run: dict) -> list[float]:
    ends = [t for t, end in run["measures"] if end]
    starts = [run["measures"][0][0]] + ends
    return [b - a for a, b in zip(starts, ends)]


def tenths_child(hidden: int, folder: str) -> None:
    """In a fresh process: train two epochs, print the milliseconds of each tenth."""
    import numpy as np

    from nn.settings import Limits
    from nn.trainer import Control, TrainingRun
    from runs.data import open_shared_data
    from runs.worker_main import NICENESS

    os.nice(NICENESS)
    data = open_shared_data(folder)
    for name in ("train_images", "val_images", "test_images"):
        int(getattr(data, name).sum(dtype=np.int64))

    class Marks(Control):
        def __init__(self) -> None:
            self.at: list[float] = []

        def poll(self, run):
            if run.progress >= len(self.at) / 10:
                self.at.append(time.perf_counter())
            return []

    marks = Marks()
    settings = Settings(hidden=hidden, eta=3.0, batch_size=10, epochs=2)
    print("go", flush=True)
    TrainingRun(settings, data, limits=Limits.unlimited(), control=marks, report_every=0.5).run()
    print(" ".join(f"{1000 * (b - a):.0f}" for a, b in zip(marks.at, marks.at[1:])), flush=True)


def tenths(hidden: int, folder: str, beside: str) -> str:
    child = subprocess.Popen(
        [sys.executable, __file__, "--tenths-child", str(hidden), folder],
        stdout=subprocess.PIPE,
        text=True,
    )
    warm = ours = None
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "go"
        if beside != "alone":  # a worker warming up, as the manager starts one for a spare
            ours, theirs = socket.socketpair()
            spare = "1" if beside == "19" else "0"  # runs.worker_main.SPARE_ENV
            warm = subprocess.Popen(
                [sys.executable, "-m", "runs.worker_main", str(theirs.fileno()), folder],
                pass_fds=[theirs.fileno()],
                cwd=Path(__file__).resolve().parents[1],
                env={**os.environ, "DIGITLAB_SPARE": spare},
            )
            theirs.close()
        return child.stdout.readline().strip()
    finally:
        child.wait(600)
        if warm is not None:
            ours.close()  # the warm worker sees EOF and exits
            warm.wait(60)


def main_tenths(repeats: int) -> None:
    import shutil
    import tempfile

    from nn.mnist import shared_mnist
    from runs.data import write_shared_data

    root = tempfile.mkdtemp(prefix="bench-tenths-")
    try:
        folder = str(write_shared_data(shared_mnist(), root))
        print("ms per tenth of an epoch, two epochs (the 10th and 20th include the epoch's end)")
        for hidden in PRESETS.values():
            for beside, what in (
                ("alone", "alone"),
                ("10", "a spare warming up at nice 10 beside it"),
                ("19", "a spare warming up at nice 19 beside it"),
            ):
                for _ in range(repeats):
                    ms = tenths(hidden, folder, beside)
                    print(f"[784, {hidden}, 10] {what} (load {load()}): {ms}", flush=True)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--tenths-child":
        return tenths_child(int(sys.argv[2]), sys.argv[3])
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--presets", default="book,100")
    parser.add_argument("--no-spare", action="store_true")
    parser.add_argument("--save", type=Path)
    parser.add_argument("--tenths", action="store_true", help="time each tenth of an epoch")
    parser.add_argument("--debug", type=int, default=0, help="print the first N estimates' terms")
    parser.add_argument("--replay", type=Path, help="saved timelines instead of new runs")
    args = parser.parse_args()
    if args.tenths:
        return main_tenths(args.repeats)
    if args.replay:
        return main_replay(args.replay, args.debug)
    manager = RunManager(spare=not args.no_spare, abandon_after=600)
    manager.prepare_data()
    at = [a for a in AT if a < args.epochs]
    print(f"spare worker: {not args.no_spare}, {args.epochs} epochs, load {load()}")
    for name in args.presets.split(","):
        hidden = PRESETS[name]
        print(f"\n[784, {hidden}, 10]   error at epoch " + " ".join(f"{a:>6g}" for a in at))
        everything = []
        for r in range(args.repeats):
            wait_for_spare(manager, args.no_spare)
            before = load()
            run = timeline(manager, hidden, args.epochs, seed=r)
            everything += show(run, f"run {r + 1} ({run['total']:.0f} s, load {before}-{load()})")
            if args.debug:
                debug(run, args.debug)
            if args.save:
                args.save.mkdir(parents=True, exist_ok=True)
                (args.save / f"{name}-{r + 1}.json").write_text(json.dumps(run))
        summary(everything)
    manager.close()


def show(run: dict, label: str) -> list[float]:
    """Print the run's errors at the epochs `AT` and its first epochs' seconds; return its
    errors from epoch 0.1 on."""
    found = errors(run)
    row = []
    for a in AT:
        if a < run["epochs"]:
            e = next((e for p, e in found if p >= a), None)
            row.append(f"{e:+6.0%}" if e is not None else "     -")
    secs = " ".join(f"{s:.2f}" for s in epoch_seconds(run)[:3])
    print(f"  {label} {' '.join(row)}   epochs 1-3: {secs} s")
    return [e for p, e in found if p >= 0.1]


def summary(everything: list[float]) -> None:
    if everything:
        absolute = sorted(abs(e) for e in everything)
        print(
            f"  all reports from epoch 0.1 on: median {statistics.median(absolute):.0%}, "
            f"worst {absolute[-1]:.0%} ({len(absolute)} reports); "
            f"within 30 %: {sum(e <= 0.3 for e in absolute) / len(absolute):.0%}"
        )


def main_replay(folder: Path, first: int) -> None:
    """The estimator on timelines saved by `--save`, grouped by their file names' prefix."""
    groups: dict[str, list[Path]] = {}
    for path in sorted(folder.glob("*.json")):
        groups.setdefault(path.stem.rsplit("-", 1)[0], []).append(path)
    for name, paths in groups.items():
        epochs = json.loads(paths[0].read_text())["epochs"]
        at = [a for a in AT if a < epochs]
        print(f"\n{name}, {epochs} epochs   error at epoch " + " ".join(f"{a:>6g}" for a in at))
        everything = []
        for path in paths:
            run = json.loads(path.read_text())
            everything += show(run, f"{path.stem} ({run['total']:.0f} s)")
            if first:
                debug(run, first)
        summary(everything)


def wait_for_spare(manager: RunManager, off: bool) -> None:
    """As on a server that has been up a while: the spare is started and warm (it has said
    so: its connection has something to read)."""
    deadline = time.monotonic() + 60
    while not off and time.monotonic() < deadline:
        spare = manager._spare
        if spare is not None and (spare[0].poll() is not None or spare[1].poll()):
            return
        time.sleep(0.1)


if __name__ == "__main__":
    main()
