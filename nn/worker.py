"""The process one training run lives in (started by `nn.runs.RunManager`).

It maps the shared MNIST files, trains a `TrainingRun` in its main thread and, in a second
thread, applies the commands the page sends (pause, resume, stop, eta) and reports state
changes. Every metric point goes back with a copy of the weights, so the page can re-read
the visitor's drawing with the network as it is now. The process runs at a lower priority
than the web server, so training never starves the page's answers to strokes.
"""

from __future__ import annotations

import dataclasses
import os
import threading

from .training import TrainingRun

NICENESS = 10


def worker_main(conn) -> None:
    """Receive the run's settings on `conn`, train, report back on `conn`."""
    from .runs import open_shared_data
    settings, limits, data_folder, report_every = conn.recv()
    commands = results = conn
    try:
        os.nice(NICENESS)
    except OSError:
        pass
    send_lock = threading.Lock()

    def send(*message) -> None:
        with send_lock:
            try:
                results.send(message)
            except (OSError, ValueError):
                pass  # the server is gone; the command thread stops the run

    def on_point(run: TrainingRun, point) -> None:
        weights = ([w.copy() for w in run.network.weights], [b.copy() for b in run.network.biases])
        send("point", dataclasses.asdict(point), weights)

    try:
        run = TrainingRun(settings, open_shared_data(data_folder), limits=limits,
                          listener=on_point, report_every=report_every)
    except Exception as e:  # noqa: BLE001 - reported to the page, not raised into the void
        send("state", "failed", f"{type(e).__name__}: {e}")
        return
    listener = threading.Thread(target=_follow_commands, args=(run, commands, send), daemon=True)
    listener.start()
    send("state", "running", "")
    try:
        run.run()
    except Exception:  # noqa: BLE001 - run.reason holds the message
        pass
    send("state", run.state, run.reason)


def _follow_commands(run: TrainingRun, commands, send) -> None:
    """Apply the page's commands and report the run's state and progress as they change."""
    reported = None
    while run.state not in ("finished", "stopped", "failed"):
        try:
            if commands.poll(0.2):
                _apply(run, commands.recv(), send)
        except (EOFError, OSError):
            run.stop("the server went away")
            return
        state = run.state
        if state != reported and state in ("running", "paused"):
            send("state", state, "")
            reported = state
        send("progress", run.progress, run.training_time())


def _apply(run: TrainingRun, command: tuple, send) -> None:
    kind = command[0]
    if kind == "pause":
        run.pause()
    elif kind == "resume":
        run.resume()
    elif kind == "stop":
        run.stop(command[1] if len(command) > 1 else "stopped")
    elif kind == "eta":
        before = len(run.eta_changes)
        run.set_eta(command[1])
        if len(run.eta_changes) > before:
            send("eta", *run.eta_changes[-1])


if __name__ == "__main__":
    import sys
    from multiprocessing.connection import Connection
    worker_main(Connection(int(sys.argv[1])))
