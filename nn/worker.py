"""The process one training run lives in (started by `nn.run_manager.RunManager`).

    python -m nn.worker FD

FD is one end of a socket pair to the server. The worker receives `Start` on it, maps the
shared MNIST files and trains a `TrainingRun` in its one thread, as that run's `Control`:
between mini-batches the loop asks it for the commands that arrived (a non-blocking poll of
the connection) and, while paused, waits on the connection for the next one. The worker
answers with `Report`s (`nn.protocol`): at every metric point (with a copy of the weights, so
the page can re-read the visitor's drawing with the network as it is now), whenever the state
changes or eta changes, and otherwise every `PROGRESS_EVERY` seconds. Given a `TeachJob`
instead, it runs `nn.teach.fine_tune` (under a second, so no commands are read) and sends one
final report with the result. The process runs at a
lower priority than the web server, so training never starves the page's answers to strokes.
"""

from __future__ import annotations

import dataclasses
import math
import os
import sys
import time
from multiprocessing.connection import Connection

import numpy as np

from .network import Network
from .protocol import Command, Report, Start, State, Stop, Taught, TeachJob
from .teach import TeachError, fine_tune
from .trainer import Control, TrainingRun

NICENESS = 10
PROGRESS_EVERY = 0.2  # seconds between reports when nothing but progress changed
POLL_EVERY = 0.01  # seconds between two looks at the connection while training


class Worker(Control):
    """Trains one run and keeps the server informed over `conn`."""

    def __init__(self, conn: Connection, poll_every: float = POLL_EVERY):
        self.conn, self.poll_every = conn, poll_every
        self._points_sent = 0
        self._eta_changes_sent = 0
        self._state_sent: tuple[State, str] | None = None
        self._sent_at = -math.inf
        self._polled_at = -math.inf

    def main(self, data=None) -> None:
        """Receive `Start`, train, send the last report. `data`: MNIST, if not the shared
        files `Start` names (tests)."""
        from .run_manager import open_shared_data

        start: Start = self.conn.recv()
        try:
            if data is None:
                data = open_shared_data(start.data_folder)
            if start.teach is not None:
                self._send(Report(State.FINISHED, taught=teach(start.teach, data)))
                return
            run = TrainingRun(
                start.settings,
                data,
                limits=start.limits,
                control=self,
                listener=self._on_point,
                report_every=start.report_every,
            )
        except TeachError as e:  # the visitor's lesson: the message is for them
            self._send(Report(State.FAILED, str(e)))
            return
        except Exception as e:  # noqa: BLE001 - reported to the page, not lost
            self._send(Report(State.FAILED, f"{type(e).__name__}: {e}"))
            return
        try:
            run.run()
        except Exception:  # noqa: BLE001 - run.state and run.reason say what happened
            pass
        self.report(run, force=True)

    # -- the run's Control ----------------------------------------------------------------
    def poll(self, run: TrainingRun) -> list[Command]:
        """Called every few mini-batches (about every 0.3 ms at batch size 10): a look at
        the connection costs a system call, so it is taken every `poll_every` s at most."""
        self.report(run)
        now = time.monotonic()
        if now - self._polled_at < self.poll_every:
            return []
        self._polled_at = now
        commands = []
        try:
            while self.conn.poll():
                commands.append(self.conn.recv())
        except (EOFError, OSError):
            commands.append(Stop("the server went away"))
        return commands

    def wait(self, run: TrainingRun, timeout: float) -> Command | None:
        self.report(run)  # "paused", with the progress it paused at
        try:
            if self.conn.poll(None if math.isinf(timeout) else timeout):
                return self.conn.recv()
            return None
        except (EOFError, OSError):
            return Stop("the server went away")

    def _on_point(self, run: TrainingRun, point) -> None:
        self.report(run, force=True)

    # -- reports --------------------------------------------------------------------------
    def report(self, run: TrainingRun, force: bool = False) -> None:
        """Send what changed since the last report: always if the state, the eta or the
        points did (or `force`), else at most every `PROGRESS_EVERY` seconds."""
        now = time.monotonic()
        state = (run.state, run.reason)
        if not (
            force
            or len(run.history) > self._points_sent
            or len(run.eta_changes) > self._eta_changes_sent
            or state != self._state_sent
            or now - self._sent_at >= PROGRESS_EVERY
        ):
            return
        points = run.history[self._points_sent :]
        eta_changes = run.eta_changes[self._eta_changes_sent :]
        weights = None
        if points:
            weights = (
                tuple(w.copy() for w in run.network.weights),
                tuple(b.copy() for b in run.network.biases),
            )
        self._send(
            Report(
                run.state,
                run.reason,
                run.progress,
                run.training_time(),
                tuple(dataclasses.asdict(p) for p in points),
                tuple(eta_changes),
                weights,
            )
        )
        self._points_sent += len(points)
        self._eta_changes_sent += len(eta_changes)
        self._state_sent, self._sent_at = state, now

    def _send(self, report: Report) -> None:
        try:
            self.conn.send(report)
        except (OSError, ValueError):
            pass  # the server is gone: the next poll or wait notices and stops the run


def teach(job: TeachJob, data) -> Taught:
    """Run a teach job on `data` (MNIST): replay its training digits, test on its test set."""
    net = Network.from_arrays(*job.weights, init=job.init, cost=job.cost, l2=job.l2)
    drawings = job.pixels.reshape(-1, 28, 28).astype(np.float32) / 255
    result = fine_tune(
        net,
        drawings,
        list(job.labels),
        replay=(data.train_images, data.train_labels),
        test=(data.test_images, data.test_labels),
        **job.options,
    )
    weights = (
        tuple(w.copy() for w in result.net.weights),
        tuple(b.copy() for b in result.net.biases),
    )
    return Taught(
        weights,
        tuple(result.answers),
        tuple(result.answers_before),
        result.accuracy_before,
        result.accuracy_after,
        result.rounds,
        result.steps,
        result.seconds,
    )


def main(fd: int) -> None:
    try:
        os.nice(NICENESS)
    except OSError:
        pass
    Worker(Connection(fd)).main()


if __name__ == "__main__":
    main(int(sys.argv[1]))
