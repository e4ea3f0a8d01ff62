"""The process one training run lives in (started by `nn.runs.RunManager`).

    python -m nn.worker FD

FD is one end of a socket pair to the server. The worker receives the run's settings on it,
maps the shared MNIST files, trains a `TrainingRun` in its main thread and, in a second
thread, applies the commands the page sends (pause, resume, stop, eta) and reports state
changes. Every metric point goes back with a copy of the weights, so the page can re-read
the visitor's drawing with the network as it is now. The process runs at a lower priority
than the web server, so training never starves the page's answers to strokes.
"""

from __future__ import annotations

import dataclasses
import os
import sys
import threading
from multiprocessing.connection import Connection

from .training import TrainingRun

NICENESS = 10
OVER = ("finished", "stopped", "failed")


class Worker:
    """Trains one run and keeps the server informed over `conn`."""

    def __init__(self, conn: Connection):
        self.conn = conn
        self._send_lock = threading.Lock()
        self._eta_changes_sent = 0
        self.run: TrainingRun | None = None

    def main(self) -> None:
        from .runs import open_shared_data
        settings, limits, data_folder, report_every = self.conn.recv()
        try:
            os.nice(NICENESS)
        except OSError:
            pass
        try:
            self.run = TrainingRun(settings, open_shared_data(data_folder), limits=limits,
                                   listener=self._on_point, report_every=report_every)
        except Exception as e:  # noqa: BLE001 - reported to the page, not lost
            self.send("state", "failed", f"{type(e).__name__}: {e}")
            return
        threading.Thread(target=self._follow_commands, daemon=True).start()
        self.send("state", "running", "")
        try:
            self.run.run()
        except Exception:  # noqa: BLE001 - run.state and run.reason say what happened
            pass
        self._send_eta_changes()
        self.send("state", self.run.state, self.run.reason)

    def send(self, *message) -> None:
        with self._send_lock:
            try:
                self.conn.send(message)
            except (OSError, ValueError):
                pass  # the server is gone: _follow_commands notices and stops the run

    def _on_point(self, run: TrainingRun, point) -> None:
        """Called by the training thread between mini-batches for every new point."""
        self._send_eta_changes()
        weights = ([w.copy() for w in run.network.weights],
                   [b.copy() for b in run.network.biases])
        self.send("point", dataclasses.asdict(point), weights)

    def _send_eta_changes(self) -> None:
        """Report the eta changes the training thread has applied and not yet reported."""
        changes = list(self.run.eta_changes)
        for change in changes[self._eta_changes_sent:]:
            self.send("eta", *change)
        self._eta_changes_sent = len(changes)

    def _follow_commands(self) -> None:
        """Apply the page's commands; report state, progress and eta changes as they come."""
        run, reported = self.run, None
        while run.state not in OVER:
            try:
                if self.conn.poll(0.2):
                    self._apply(self.conn.recv())
            except (EOFError, OSError):
                run.stop("the server went away")
                return
            state = run.state
            if state != reported and state in ("running", "paused"):
                self.send("state", state, "")
                reported = state
            self.send("progress", run.progress, run.training_time())

    def _apply(self, command: tuple) -> None:
        kind, args = command[0], command[1:]
        if kind == "pause":
            self.run.pause()
        elif kind == "resume":
            self.run.resume()
        elif kind == "stop":
            self.run.stop(*args)
        elif kind == "eta":
            self.run.set_eta(*args)  # applied before the next mini-batch, then reported


if __name__ == "__main__":
    Worker(Connection(int(sys.argv[1]))).main()
