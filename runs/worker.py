"""The process a job runs in (started by `runs.manager.RunManager`).

    python -m runs.worker_main FD [DATA_FOLDER]

FD is one end of a socket pair to the server. The manager starts a worker before it has a
job for it (the warm spare: the interpreter started and `nn` imported, and with DATA_FOLDER the
shared MNIST already mapped; `runs.worker_main` says how it warms up without slowing the jobs
under way), so a teach click or a Train press only waits for the job itself. The worker then
receives `Start`:

- a `TrainJob`: it trains a `TrainingRun` in its one thread, as that run's `Control`: between
  mini-batches the loop asks it for the commands that arrived (a non-blocking poll of the
  connection) and, while paused, waits on the connection for the next one. It answers with
  `Report`s: at every metric point (with a copy of the weights, so the page can re-read the
  visitor's drawing with the network as it is now), whenever the state or eta changes, and
  otherwise every `PROGRESS_EVERY` seconds, and every `HEARTBEAT` s while paused. Each report
  carries the mini-batches' cost bins completed since the last one and the bin still filling
  (`nn.trainer.CostBin`: ~50 bytes each, at most `nn.trainer.COST_BINS` + 1 a run).
- a `TeachJob`: it runs `nn.teach.fine_tune` and sends one final report, FINISHED with the
  result or FAILED with the reason. A fine-tune reads no commands: the manager ends a teach
  job it no longer wants by killing its process, and bounds its time the same way.

The process runs at a lower priority than the web server (`runs.worker_main.NICENESS`), so
training never starves the page's answers to strokes.
"""

from __future__ import annotations

import math
import time
from multiprocessing.connection import Connection

import numpy as np

from nn.network import Network
from nn.protocol import Command, State, Stop
from nn.teach import TeachError, TeachResult, fine_tune
from nn.trainer import Control, TrainingRun

from .data import open_shared_data
from .messages import HEARTBEAT, READY, Report, Start, TeachJob

PROGRESS_EVERY = 0.2  # seconds between reports when nothing but progress changed
POLL_EVERY = 0.01  # seconds between two looks at the connection while training


class Worker(Control):
    """Runs one job and keeps the server informed over `conn`."""

    def __init__(self, conn: Connection, poll_every: float = POLL_EVERY, data=None, folder=None):
        self.conn, self.poll_every = conn, poll_every
        self.data, self.folder = data, folder  # MNIST mapped ahead (the warm spare), if any
        self._points_sent = 0
        self._eta_changes_sent = 0
        self._step_sent = -1  # the number of the last looked-at mini-batch sent
        self._bins_sent = 0  # of run.cost_bins
        self._state_sent: tuple[State, str] | None = None
        self._sent_at = -math.inf
        self._polled_at = -math.inf

    def main(self, data=None) -> None:
        """Receive `Start`, run the job, send the last report. `data`: MNIST, if not the
        shared files `Start` names (tests)."""
        try:
            start: Start = self.conn.recv()
        except (EOFError, OSError):
            return  # the server went away before it had a job for us
        try:
            if data is None:
                data = self._open(start.data_folder)
            if isinstance(start.job, TeachJob):
                self._send(Report(State.FINISHED, taught=teach(start.job, data)))
                return
            run = TrainingRun(
                start.job.settings,
                data,
                limits=start.limits,
                control=self,
                listener=self._on_point,
                report_every=start.job.report_every,
            )
        except TeachError as e:  # the visitor's lesson: the message is for them
            self._send(Report(State.FAILED, str(e)))
            return
        except OSError as e:
            self._send(Report(State.FAILED, f"the shared copy of MNIST could not be read ({e})"))
            return
        except Exception as e:  # noqa: BLE001 - reported to the page, not lost
            self._send(Report(State.FAILED, f"{type(e).__name__}: {e}"))
            return
        try:
            run.run()
        except Exception:  # noqa: BLE001 - run.state and run.reason say what happened
            pass
        self.report(run, force=True)

    def _open(self, folder: str):
        if self.data is not None and self.folder == folder:
            return self.data
        return open_shared_data(folder)

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
        """The next command, or None after `timeout` s; a heartbeat report meanwhile."""
        deadline = time.monotonic() + timeout
        while True:
            self.report(run, force=True)  # "paused", with the progress it paused at
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            try:
                if self.conn.poll(min(left, HEARTBEAT)):
                    return self.conn.recv()
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
        step = run.last_step
        if step is not None and step.number == self._step_sent:
            step = None  # sent already
        if not (
            step is not None
            or force
            or len(run.history) > self._points_sent
            or len(run.eta_changes) > self._eta_changes_sent
            or state != self._state_sent
            or now - self._sent_at >= PROGRESS_EVERY
        ):
            return
        points = run.history[self._points_sent :]
        eta_changes = run.eta_changes[self._eta_changes_sent :]
        bins = run.cost_bins[self._bins_sent :]
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
                tuple(points),
                tuple(eta_changes),
                weights,
                step=step,
                cost_bins=tuple(bins),
                open_cost_bin=run.open_cost_bin,
            )
        )
        self._bins_sent += len(bins)
        if step is not None:
            self._step_sent = step.number
        self._points_sent += len(points)
        self._eta_changes_sent += len(eta_changes)
        self._state_sent, self._sent_at = state, now

    def _send(self, report: Report) -> None:
        try:
            self.conn.send(report)
        except (OSError, ValueError):
            pass  # the server is gone: the next poll or wait notices and stops the run


def teach(job: TeachJob, data) -> TeachResult:
    """Run a teach job on `data` (MNIST): replay its training digits, test on its test set."""
    net = Network.from_arrays(*job.weights, init=job.init, cost=job.cost, l2=job.l2)
    drawings = job.pixels.reshape(-1, 28, 28).astype(np.float32) / 255
    return fine_tune(
        net,
        drawings,
        list(job.labels),
        replay=(data.train_images, data.train_labels),
        test=(data.test_images, data.test_labels),
        **job.options,
    )


def serve(fd: int, folder: str | None, data=None, ready: bool = False) -> None:
    """Run one job over the connection FD (`runs.worker_main` calls it once warm): `data`,
    the shared MNIST in `folder` mapped ahead, if it could be; `ready`: say `READY` first
    (a spare, which the manager hands a job only once it has)."""
    conn = Connection(fd)
    if ready:
        try:
            conn.send(READY)
        except (OSError, ValueError):
            return  # the server went away while we warmed up
    Worker(conn, data=data, folder=folder).main()
