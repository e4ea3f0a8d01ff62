"""Many visitors' training runs on one small server: processes, a slot limit and a queue.

Each run trains in its own process (`nn.worker`), not in a thread of the page's server:
threads of one process share one interpreter lock, which the Python between numpy calls
holds, so they neither use both cores nor leave the server free to answer strokes (the
measurements are in the README and `benchmarks/bench_parallel.py`).

`RunManager` (one per server, `RunManager.shared()`) lets at most `limits.max_concurrent`
runs train at once; further runs wait in a first-come, first-served queue and start by
themselves when a slot frees. MNIST is written once to `.npy` files in a temporary folder
that every worker maps read-only (`np.load(mmap_mode="r")`): the operating system keeps one
copy in memory, however many runs there are.

The page holds a `RunHandle` per run: `pause()`, `resume()`, `stop()`, `set_eta()` send a
command (`nn.protocol`) that the worker applies before its next mini-batch; `view()` returns
the run's state, history and queue position; `network()` the latest weights (sent with every
metric point). A handle's state changes only as `nn.protocol.State` allows: to "starting"
and (for a queued run) "stopped" by the manager, otherwise by a worker's `Report`, which
brings the figures that go with it in the same step. A handle must be `touch()`ed by its
page at least every `abandon_after` seconds: a run whose page stopped asking (its tab was
closed) is stopped and its slot freed.

`submit_teach` queues a fine-tune of a visitor's drawings (`nn.teach`) the same way: it is
training, so it waits for the same slots in the same queue, in a worker, never in the page's
server. Its `TeachHandle.result(timeout)` waits for the outcome.
"""

from __future__ import annotations

import atexit
import itertools
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from multiprocessing.connection import Connection, wait
from pathlib import Path

import numpy as np

from . import mnist
from .network import Network
from .protocol import (
    ACTIVE,
    Command,
    IllegalTransition,
    Pause,
    Report,
    Resume,
    SetEta,
    Start,
    State,
    Stop,
    TeachJob,
)
from .settings import Limits, Settings, check_eta
from .teach import TeachError, TeachResult, check_lesson
from .trainer import metadata

ARRAYS = ("train_images", "train_labels", "val_images", "val_labels", "test_images", "test_labels")
ROOT = Path(__file__).resolve().parents[1]


def write_shared_data(data, folder: Path) -> Path:
    """Write MNIST's arrays as .npy files that worker processes can map read-only."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in ARRAYS:
        np.save(folder / f"{name}.npy", np.ascontiguousarray(getattr(data, name)))
    return folder


def open_shared_data(folder) -> mnist.MnistData:
    """MNIST as read-only memory maps of the files `write_shared_data` wrote."""
    return mnist.MnistData(
        **{
            name: np.load(Path(folder) / f"{name}.npy", mmap_mode="r", allow_pickle=False)
            for name in ARRAYS
        }
    )


class RunHandle:
    """The page's side of one run; every method is safe to call from any thread."""

    def __init__(self, manager: RunManager, run_id: int, settings: Settings):
        self.id, self.settings, self._manager = run_id, settings, manager
        self._lock = threading.Lock()
        self.state, self.reason = State.QUEUED, ""
        self.history: list[dict] = []
        self.eta_changes: list[tuple[float, float]] = []
        self.eta = settings.eta
        self.progress = 0.0
        self.elapsed = 0.0
        self.last_touch = time.monotonic()
        self._weights = None
        self._network_cache: tuple[int, Network] | None = None
        self._weights_version = 0
        self.process: subprocess.Popen | None = None
        self._conn: Connection | None = None  # to and from the worker
        self._final: Report | None = None  # the worker's last word, applied once it exits
        self._pending: list[Command] = []  # commands given while the worker was starting

    # -- commands -------------------------------------------------------------------------
    def pause(self) -> None:
        self._send(Pause())

    def resume(self) -> None:
        self._send(Resume())

    def stop(self, reason: str = "stopped") -> None:
        self._manager._stop(self, reason)

    def set_eta(self, eta: float) -> None:
        eta = check_eta(eta)
        with self._lock:
            if self.state.over or eta == self.eta:
                return
            self.eta = eta
            if self.state is State.QUEUED:  # not started: it simply starts with this eta
                self.settings = self.settings.replace(eta=eta)
                return
        self._send(SetEta(eta))

    def touch(self) -> None:
        """Tell the manager the page is still there."""
        self.last_touch = time.monotonic()

    def _send(self, command: Command) -> None:
        with self._lock:
            if self.state not in ACTIVE:
                return
            if self._conn is None:  # its worker is being started: deliver once it is
                self._pending.append(command)
                return
            try:
                self._conn.send(command)
            except (OSError, ValueError):
                pass  # the worker is gone; the manager notices and records why

    # -- what the page reads --------------------------------------------------------------
    def view(self) -> dict:
        """A consistent copy of the run's state for the page to draw ("state" is a
        `State`'s value, e.g. "paused")."""
        with self._lock:
            view = {
                "id": self.id,
                "settings": self.settings,
                "label": self.settings.label(),
                "state": self.state.value,
                "reason": self.reason,
                "history": list(self.history),
                "eta_changes": list(self.eta_changes),
                "eta": self.eta,
                "progress": self.progress,
                "elapsed": self.elapsed,
            }
        view["queue_position"] = self._manager.queue_position(self)
        rate = view["progress"] / view["elapsed"] if view["elapsed"] > 0 else 0.0
        images = self.settings.train_size * (1 + self.settings.augment)
        view["images_per_second"] = rate * images
        left = self.settings.epochs - view["progress"]
        view["seconds_left"] = left / rate if rate > 0 else None
        return view

    def network(self) -> Network | None:
        """The network with the latest weights the worker sent, or None before the first."""
        with self._lock:
            weights, version = self._weights, self._weights_version
        if weights is None:
            return None
        cached = self._network_cache
        if cached is None or cached[0] != version:
            net = Network.from_arrays(
                *weights, init=self.settings.init, cost=self.settings.cost, l2=self.settings.l2
            )
            self._network_cache = cached = (version, net)
        return cached[1]

    def metadata(self) -> dict:
        """What a model file saved from this run records (`nn.trainer.metadata`)."""
        with self._lock:
            final = self.history[-1] if self.history else None
            meta = metadata(self.settings, self.progress, final, self.eta_changes)
        return {**meta, "name": "trained on the Digit Lab page"}

    @property
    def over(self) -> bool:
        return self.state.over

    # -- from the manager's thread --------------------------------------------------------
    def _receive(self, report: Report) -> None:
        if report.state.over:
            self._final = report  # applied by _end once the process has exited
        else:
            self._apply(report)

    def _apply(self, report: Report) -> None:
        """The report's state and its figures, in one step under the lock."""
        with self._lock:
            self.state = self.state.to(report.state)
            self.reason = report.reason
            self.progress, self.elapsed = report.progress, report.elapsed
            self.history.extend(report.points)
            self.eta_changes.extend(report.eta_changes)
            if report.weights is not None:
                self._weights, self._weights_version = report.weights, self._weights_version + 1
        self._after_change()

    def _become(self, state: State, reason: str = "") -> None:
        with self._lock:
            self.state, self.reason = self.state.to(state), reason
        self._after_change()

    def _after_change(self) -> None:
        """Called after the manager or a report changed the state (subclasses may listen)."""

    def _start_message(self, limits: Limits, folder: str, report_every: float) -> Start:
        return Start(self.settings, limits, folder, report_every)

    def _end(self) -> None:
        """The worker has exited: apply its last report, or record that it died."""
        if self._final is not None:
            self._apply(self._final)
        else:
            self._become(
                State.FAILED,
                f"the training process ended unexpectedly (exit code {self.process.returncode})",
            )
        with self._lock:
            self._conn.close()
            self._conn = None


class TeachHandle(RunHandle):
    """The page's side of one teach job: `result(timeout)` waits for the fine-tuned copy."""

    def __init__(self, manager: RunManager, run_id: int, net: Network, job: TeachJob):
        super().__init__(
            manager, run_id, Settings(hidden=net.sizes[1], init=net.init, cost=net.cost)
        )
        self.job, self._net = job, net
        self._changed = threading.Condition(self._lock)

    def _receive(self, report: Report) -> None:
        super()._receive(report)
        if report.state.over:  # the result is complete: no need to wait for the exit
            self._after_change()

    def _after_change(self) -> None:
        with self._changed:
            self._changed.notify_all()

    def _start_message(self, limits: Limits, folder: str, report_every: float) -> Start:
        return Start(None, limits, folder, report_every, teach=self.job)

    def result(self, timeout: float) -> TeachResult | None:
        """The fine-tune's result once the worker sent it, or None if not within `timeout`
        seconds (it may still be waiting for a slot: `queue_position()` says). Raises
        TeachError with the reason if it failed or was stopped.

        The result is taken from the worker's last report as soon as it arrives: the
        process's exit (which frees the slot) can take a second on a loaded machine."""
        with self._changed:
            self._changed.wait_for(lambda: self._final is not None or self.state.over, timeout)
            final, state, reason = self._final, self.state, self.reason
        self.touch()
        taught = None
        if final is not None:
            state, reason, taught = final.state, final.reason, final.taught
        elif not state.over:
            return None
        if state is not State.FINISHED or taught is None:
            raise TeachError(reason or f"the fine-tune {state.value}")
        net = Network.from_arrays(
            *taught.weights, init=self._net.init, cost=self._net.cost, l2=self._net.l2
        )
        return TeachResult(
            net=net,
            answers=list(taught.answers),
            answers_before=list(taught.answers_before),
            accuracy_before=taught.accuracy_before,
            accuracy_after=taught.accuracy_after,
            rounds=taught.rounds,
            steps=taught.steps,
            seconds=taught.seconds,
        )

    def queue_position(self) -> int | None:
        return self._manager.queue_position(self)


class RunManager:
    """Schedules training runs into worker processes; see the module docstring."""

    _shared = None
    _shared_lock = threading.Lock()

    def __init__(
        self,
        data_dir=None,
        limits: Limits | None = None,
        *,
        abandon_after: float | None = None,
        report_every: float = 0.5,
    ):
        self.limits = limits or Limits.from_env()
        self.abandon_after = self.limits.abandon_after if abandon_after is None else abandon_after
        self.data_dir, self.report_every = data_dir, report_every
        self._lock = threading.Lock()
        self._queue: deque[RunHandle] = deque()
        self._active: list[RunHandle] = []
        self._ids = itertools.count(1)
        self._folder: Path | None = None
        self._preparing = threading.Lock()  # one reader of MNIST at a time; not self._lock
        self.darkness_baseline: float | None = None  # test accuracy, once MNIST is read
        self._wake_r, self._wake_w = (Connection(s.detach()) for s in socket.socketpair())
        self._closed = False
        self._thread = threading.Thread(target=self._loop, name="digitlab-runs", daemon=True)
        self._thread.start()
        atexit.register(self.close)

    @classmethod
    def shared(cls) -> RunManager:
        """The server's one manager (created on first use, limits from the environment)."""
        with cls._shared_lock:
            if cls._shared is None or cls._shared._closed:
                cls._shared = cls()
            return cls._shared

    # -- the page's calls -----------------------------------------------------------------
    def submit(self, settings: Settings) -> RunHandle:
        """Queue a run (it starts as soon as a slot is free). Raises SettingsError for
        settings beyond the limits, MnistError if MNIST is not on the machine."""
        settings = settings.check(self.limits)
        self.prepare_data()
        handle = RunHandle(self, next(self._ids), settings)
        with self._lock:
            self._queue.append(handle)
        self._wake()
        return handle

    def submit_teach(self, net: Network, drawings, labels, **options) -> TeachHandle:
        """Queue a fine-tune of a copy of `net` on the drawings (`nn.teach.fine_tune`'s
        arguments; replay and test come from the shared MNIST). Raises TeachError for a
        lesson that cannot be taught, MnistError if MNIST is not on the machine."""
        pixels, labels = check_lesson(net, drawings, labels)
        self.prepare_data()
        job = TeachJob(
            (tuple(np.array(w) for w in net.weights), tuple(np.array(b) for b in net.biases)),
            net.init,
            net.cost,
            float(net.l2),
            pixels,
            tuple(int(d) for d in labels),
            dict(options),
        )
        handle = TeachHandle(self, next(self._ids), net, job)
        with self._lock:
            self._queue.append(handle)
        self._wake()
        return handle

    def queue_position(self, handle: RunHandle) -> int | None:
        """1 for the next run to start, None if the run is not waiting."""
        with self._lock:
            for i, queued in enumerate(self._queue):
                if queued is handle:
                    return i + 1
        return None

    def counts(self) -> dict:
        with self._lock:
            return {
                "training": len(self._active),
                "waiting": len(self._queue),
                "slots": self.limits.max_concurrent,
            }

    def close(self) -> None:
        """Stop every run and worker, remove the shared data files."""
        if self._closed:
            return
        self._closed = True
        with self._lock:
            handles = list(self._active) + list(self._queue)
        for handle in handles:
            self._stop(handle, "the server is shutting down")
        self._wake()
        self._thread.join(5)
        for handle in handles:
            if handle.process is not None:
                try:
                    handle.process.wait(5)
                except subprocess.TimeoutExpired:
                    handle.process.kill()
                    handle.process.wait()
        self._reap()
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)

    # -- internals ------------------------------------------------------------------------
    def data_available(self) -> bool:
        """Whether MNIST is on this machine (training needs it; drawing does not)."""
        return self._folder is not None or mnist.find_mnist_dir(self.data_dir) is not None

    def prepare_data(self) -> None:
        """Read MNIST once, write the workers' shared copy and compute the baseline.

        The server process keeps no copy: the parsed arrays are dropped once written. The
        53 MB are read and written outside `self._lock` (which every `view()` takes) and
        published under it. Raises MnistError if MNIST is not on the machine.
        """
        with self._preparing:
            if self._folder is not None:
                return
            data = mnist.load_mnist(self.data_dir)
            folder = Path(tempfile.mkdtemp(prefix="digitlab-mnist-"))
            try:
                write_shared_data(data, folder)
                baseline = mnist.average_darkness(data)["test_accuracy"]
            except BaseException:
                shutil.rmtree(folder, ignore_errors=True)
                raise
            with self._lock:
                self._folder, self.darkness_baseline = folder, baseline

    def _stop(self, handle: RunHandle, reason: str) -> None:
        with self._lock:
            if handle in self._queue:
                self._queue.remove(handle)
                handle._become(State.STOPPED, reason)
                return
        handle._send(Stop(reason))
        self._wake()

    def _wake(self) -> None:
        try:
            self._wake_w.send_bytes(b"!")
        except (OSError, ValueError):
            pass

    def _loop(self) -> None:
        while not self._closed:
            with self._lock:
                conns = {h._conn: h for h in self._active if h._conn is not None}
            ready = wait(list(conns) + [self._wake_r], timeout=0.5)
            for conn in ready:
                if conn is self._wake_r:
                    while self._wake_r.poll():
                        self._wake_r.recv_bytes()
                else:
                    self._drain(conns[conn])
            self._reap()
            self._stop_abandoned()
            self._start_queued()

    def _drain(self, handle: RunHandle) -> None:
        try:
            while handle._conn.poll():
                handle._receive(handle._conn.recv())
        except (EOFError, OSError):
            pass  # the worker ended; _reap records how
        except (IllegalTransition, TypeError, AttributeError) as e:  # not a proper Report
            handle._final = Report(State.FAILED, f"the training process misbehaved ({e})")
            handle.process.kill()

    def _reap(self) -> None:
        with self._lock:
            ended = [h for h in self._active if h.process.poll() is not None]
            for handle in ended:
                self._active.remove(handle)
        for handle in ended:
            self._drain(handle)
            handle._end()

    def _stop_abandoned(self) -> None:
        now = time.monotonic()
        with self._lock:
            handles = list(self._active) + list(self._queue)
        for handle in handles:
            if now - handle.last_touch > self.abandon_after:
                self._stop(handle, "the page was closed")

    def _start_queued(self) -> None:
        while True:
            with self._lock:
                if (
                    self._closed
                    or not self._queue
                    or len(self._active) >= self.limits.max_concurrent
                ):
                    return
                handle = self._queue.popleft()
                self._active.append(handle)
                handle._become(State.STARTING)  # never queued without a place in the queue
            self._spawn(handle)

    def _spawn(self, handle: RunHandle) -> None:
        """Start the worker: `python -m nn.worker FD`, talking over a socket pair.

        A fresh interpreter rather than multiprocessing's spawn, which would re-run the
        server's main script (Streamlit's) in every worker.
        """
        ours, theirs = socket.socketpair()
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(
                [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]
            ),
        }
        try:
            process = subprocess.Popen(
                [sys.executable, "-m", "nn.worker", str(theirs.fileno())],
                pass_fds=[theirs.fileno()],
                cwd=ROOT,
                env=env,
            )
        except OSError as e:
            handle._become(State.FAILED, f"could not start a worker: {e}")
            with self._lock:
                self._active.remove(handle)
            return
        finally:
            theirs.close()
        conn = Connection(ours.detach())
        conn.send(handle._start_message(self.limits, str(self._folder), self.report_every))
        with handle._lock:
            handle.process, handle._conn = process, conn
            for command in handle._pending:
                conn.send(command)
            handle._pending.clear()
