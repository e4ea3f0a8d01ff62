"""A stand-in for `python -m runs.worker` that misbehaves on purpose (the run service's
fault tests): `python tests/fake_worker.py MODE FD [FOLDER]`.

    train        obeys Pause, Resume, Stop; 0.05 epochs per report, a report every 20 ms;
                 finishes when its epochs are done
    exit         exits at once, before reading Start (a worker that fails to start)
    ignore-stop  like train, but a Stop changes nothing
    silent       reads Start, reports "running" once, then says nothing more (hung)
    teach-hang   reads Start and never answers (a fine-tune that does not end)

It speaks the real protocol (runs.messages), so the manager cannot tell it from a worker.
Whatever its mode, it ends by itself after LIFETIME seconds: the tests kill it long before,
and one left behind by a test run that crashed does not stay.
"""

from __future__ import annotations

import sys
import time
from multiprocessing.connection import Connection
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from nn.protocol import Pause, Resume, State, Stop  # noqa: E402
from nn.trainer import Point  # noqa: E402
from runs.messages import Report, TrainJob  # noqa: E402

STEP, EVERY = 0.05, 0.02
LIFETIME = 300.0  # s
DEADLINE = time.monotonic() + LIFETIME


def point(epoch: float, elapsed: float) -> Point:
    return Point(epoch, 0.5, 0.5, 5000, 0.1, elapsed, 3.0, epoch == int(epoch))


def main(mode: str, fd: int) -> None:
    if mode == "exit":
        sys.exit(3)
    conn = Connection(fd)
    try:
        start = conn.recv()
    except EOFError:
        return
    if mode == "teach-hang" or not isinstance(start.job, TrainJob):
        time.sleep(max(0.0, DEADLINE - time.monotonic()))  # hung: never answers
        return
    epochs = start.job.settings.epochs
    conn.send(Report(State.RUNNING, "", 0.0, 0.0, (point(0.0, 0.0),), (), ((), ())))
    if mode == "silent":
        time.sleep(max(0.0, DEADLINE - time.monotonic()))  # hung: says nothing more
        return
    state, progress, elapsed = State.RUNNING, 0.0, 0.0
    while time.monotonic() < DEADLINE:
        while time.monotonic() < DEADLINE and conn.poll(EVERY if state is State.RUNNING else 0.2):
            command = conn.recv()
            if isinstance(command, Stop) and mode != "ignore-stop":
                conn.send(Report(State.STOPPED, command.reason, progress, elapsed))
                return
            if isinstance(command, Pause):
                state = State.PAUSED
            elif isinstance(command, Resume):
                state = State.RUNNING
        if state is State.RUNNING:
            progress, elapsed = round(progress + STEP, 6), elapsed + EVERY
        if progress >= epochs:
            conn.send(Report(State.FINISHED, "", epochs, elapsed, (point(epochs, elapsed),)))
            return
        conn.send(Report(state, "", progress, elapsed))


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
