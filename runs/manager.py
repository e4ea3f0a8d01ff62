"""Many visitors' jobs on one small server: worker processes, a slot limit, a bounded queue,
and a watchdog, in one service that contains its own failures.

Each job (a training run or a teach job, `runs.messages`) runs in its own process
(`runs.worker`, entered through `runs.worker_main`), not in a thread of the page's server:
threads of one process share one interpreter lock, so they would neither use both cores nor
leave the server free to answer strokes. `RunManager` (one per server,
`RunManager.shared()`) lets at most `limits.max_concurrent` jobs work at once; further jobs
wait in a first-come, first-served queue of at most `limits.max_queue` and start by
themselves when a slot frees. MNIST is written once to a temporary folder that every worker
maps read-only (`runs.data`).

What it guarantees (docs/runs.md says more):

- One thread, the manager's loop, owns every record and every process. Each pass over a job
  is guarded: an exception fails that job (logged, with a message for its visitor) and the
  loop goes on; the loop's heartbeat lets `shared()` and the health check notice a dead or
  stalled loop, and `shared()` then replaces the manager.
- Sending never blocks the loop: each worker has a writer thread (`_Outbox`) that sends its
  `Start` and then commands, coalesced (the newest of each kind replaces an unsent one).
- The watchdog kills (SIGKILL) a worker that is silent for `limits.stall_seconds` (hung,
  SIGSTOP'd), that ignores Stop for `STOP_GRACE` s, that outlives its run's wall-clock
  deadline (training time plus paused time plus slack), a teach job past
  `limits.teach_seconds`, and stops a job whose page has not asked for
  `limits.abandon_after` s. Its record says why, in words for the visitor; its slot frees and
  the queue goes on.
- A warm spare worker (started, `nn` imported, the shared data mapped) waits for the next job,
  so a teach click or a Train press does not wait for an interpreter to start. It warms up at
  the lowest priority, so that it does not slow the run that took the previous spare, and is
  handed a job only once it has said it is ready (`runs.worker_main`).
- A run belongs to its owner (the page passes the browser's identity): one owner has at most
  one training run queued or under way; a new one replaces the old. A run's token (in the
  page's URL) finds it again after a reload (`lookup`), and says so when the server that had
  it has restarted since.

The page holds a `RunHandle` per job: a read-only view of the manager's record with the
commands the visitor may give.
"""

from __future__ import annotations

import atexit
import contextlib
import dataclasses
import itertools
import logging
import os
import secrets
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections import OrderedDict, deque
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import cast

import numpy as np

from nn import mnist
from nn.lookstep import StepLook
from nn.network import Network
from nn.protocol import (
    ACTIVE,
    Command,
    IllegalTransition,
    Pause,
    Resume,
    SetEta,
    SetSpeed,
    State,
    Step,
    Stop,
    Watch,
)
from nn.settings import Limits, Settings, check_eta
from nn.teach import TeachError, TeachResult, check_lesson
from nn.trainer import COST_BINS, CostBin

from .data import (
    SharedDataError,
    copy_is_complete,
    remove_stale_copies,
    write_shared_data,
)
from .estimate import expected_wait
from .messages import READY, Job, Report, Start, TeachJob, TrainJob, command_slot
from .view import RunView, build_view
from .worker_main import SPARE_ENV

log = logging.getLogger("digitlab.runs")
ROOT = Path(__file__).resolve().parents[1]
BOOT = secrets.token_hex(4)  # this server process; a token naming another one is from before
#                              a restart
START_SECONDS = 30.0  # s a fresh worker may take to say its first word (a busy machine)
STOP_GRACE = 5.0  # s a worker has to act on Stop before it is killed
WALL_SLACK = 60.0  # s beyond training plus paused time (start, measurements) before a kill
LOOP_STALL = 15.0  # s without a pass of the loop: the service is broken
RECENT = 32  # finished jobs kept findable by token or owner (each holds its weights)
SPARE_DELAY = 1.0  # s after a training run starts before the next spare does (its first reports)
TEACH_GUESS = 1.0  # s a teach job is expected to take, for queue waits
UNITS_GUESS = 2.5e6  # image x neuron steps per second, until a run has been measured


class QueueFull(RuntimeError):
    """The queue is at its bound; the message is for the visitor."""


class ServiceError(RuntimeError):
    """The run service cannot take a job right now; the message is for the visitor."""


@dataclasses.dataclass(eq=False)
class _Record:
    """The manager's mutable record of one job. Only the manager's loop and the manager's
    methods (under its lock) change it; the page sees it through `RunHandle`."""

    id: int
    job: Job
    token: str
    owner: str | None
    state: State = State.QUEUED
    reason: str = ""
    progress: float = 0.0
    elapsed: float = 0.0
    history: list = dataclasses.field(default_factory=list)
    eta_changes: list = dataclasses.field(default_factory=list)
    samples: list = dataclasses.field(default_factory=list)  # (elapsed, progress) per report
    # the training time of the latest report made in slow motion or by a Step: the time left
    # is estimated from the samples after it (the full-speed ones since)
    slow_until: float = -1.0
    weights: tuple | None = None
    weights_version: int = 0
    speed: str = "full"  # as the visitor last asked (nn.protocol.SetSpeed): the worker obeys
    last_step: StepLook | None = None  # the latest mini-batch looked at (stepping or slow)
    cost_bins: list = dataclasses.field(default_factory=list)  # nn.trainer.CostBin, bounded
    open_cost_bin: CostBin | None = None  # the bin still filling
    taught: TeachResult | None = None  # a teach job's result, from its worker
    process: subprocess.Popen | None = None
    conn: Connection | None = None
    outbox: _Outbox | None = None
    pending: dict = dataclasses.field(default_factory=dict)  # commands before the outbox
    final: Report | None = None  # the worker's last word, applied once it exits
    forced: tuple[State, str] | None = None  # set when the watchdog killed it: why
    heard: bool = False  # a report arrived
    submitted: float = dataclasses.field(default_factory=time.monotonic)
    started: float = 0.0
    last_heard: float = 0.0
    touched: float = dataclasses.field(default_factory=time.monotonic)
    deadline: float = float("inf")
    stop_asked: float | None = None
    stop_reason: str = ""
    network: tuple[int, Network] | None = None  # (weights_version, net) built on demand


class _Outbox:
    """A worker's writer thread: sends `Start`, then the commands, never blocking the loop.

    Unsent commands of one kind replace each other (`command_slot`), so however fast a
    visitor clicks, at most one of each kind waits. The thread ends when the worker's end of
    the connection closes (the worker exited or was killed) or on `close()`.
    """

    def __init__(self, conn: Connection, start: Start):
        self._conn = conn
        self._waiting: OrderedDict[str, object] = OrderedDict(start=start)
        self._ready = threading.Condition()
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="digitlab-outbox", daemon=True)
        self._thread.start()

    def put(self, command: Command) -> None:
        with self._ready:
            slot = command_slot(command)
            self._waiting.pop(slot, None)
            self._waiting[slot] = command
            self._ready.notify()

    def close(self) -> None:
        with self._ready:
            self._closed = True
            self._ready.notify()

    def _run(self) -> None:
        while True:
            with self._ready:
                self._ready.wait_for(lambda: self._waiting or self._closed)
                if self._closed:
                    return
                _, message = self._waiting.popitem(last=False)
            try:
                self._conn.send(message)
            except (OSError, ValueError):
                return  # the worker is gone: the loop notices its exit and says why


class RunHandle:
    """The page's side of one job: a read-only view of the manager's record, and the commands
    the visitor may give. Every method is safe to call from any thread."""

    def __init__(self, manager: RunManager, record: _Record):
        self._manager, self._record = manager, record
        self.id, self.token, self.kind = record.id, record.token, record.job.kind

    @property
    def settings(self) -> Settings | None:
        return getattr(self._record.job, "settings", None)

    @property
    def state(self) -> State:
        return self._record.state

    @property
    def over(self) -> bool:
        return self._record.state.over

    def view(self) -> RunView:
        return self._manager._view(self._record)

    def network(self) -> Network | None:
        """The network with the latest weights the worker sent, or None before the first."""
        return self._manager._network(self._record)

    def metadata(self) -> dict:
        return self.view().metadata()

    def queue_position(self) -> int | None:
        return self._manager._queue_position(self._record)

    def pause(self) -> None:
        self._manager._command(self._record, "pause")

    def resume(self) -> None:
        self._manager._command(self._record, "resume")

    def set_eta(self, eta: float) -> None:
        self._manager._set_eta(self._record, check_eta(eta))

    def step(self) -> None:
        """One mini-batch, then paused (`nn.protocol.Step`)."""
        self._manager._command(self._record, "step")

    def watch(self, neuron: int | None) -> None:
        """Which hidden neuron's weight change the next looked-at steps keep (None: the one
        that changed most; `nn.protocol.Watch`)."""
        self._manager._send(self._record, Watch(neuron))

    def set_speed(self, speed: str) -> None:
        """'full' or 'slow' (`nn.protocol.SetSpeed`); ValueError for anything else."""
        self._manager._set_speed(self._record, SetSpeed(speed))

    def stop(self, reason: str = "stopped") -> None:
        self._manager._stop(self._record, reason)

    def touch(self) -> None:
        """Tell the manager the page is still there."""
        self._manager._touch(self._record)

    def result(self, timeout: float) -> TeachResult | None:
        """A teach job's result once its worker sent it, or None if not within `timeout`
        seconds (it may still wait for a slot: `queue_position()` says). Raises TeachError
        with the reason if it failed or was stopped."""
        return self._manager._result(self._record, timeout)


class RunManager:
    """Schedules jobs into worker processes; see the module docstring."""

    _shared: RunManager | None = None
    _shared_lock = threading.Lock()

    def __init__(
        self,
        data_dir=None,
        limits: Limits | None = None,
        *,
        abandon_after: float | None = None,
        report_every: float = 0.5,
        worker_command: list[str] | None = None,
        temp_root: str | Path | None = None,
        spare: bool = True,
        tick: float = 0.25,
        load=None,
    ):
        self.limits = limits or Limits.from_env()
        self.abandon_after = self.limits.abandon_after if abandon_after is None else abandon_after
        self.data_dir, self.report_every, self.tick = data_dir, report_every, tick
        self.worker_command = list(worker_command or [sys.executable, "-m", "runs.worker_main"])
        self.temp_root, self.spare = temp_root, spare
        self._load, self._given_data = load or self._read_mnist, load is not None  # tests
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)  # a record changed (teach results)
        self._queue: deque[_Record] = deque()
        self._active: list[_Record] = []
        self._tokens: dict[str, _Record] = {}
        self._owners: dict[str, _Record] = {}
        self._recent: OrderedDict[int, _Record] = OrderedDict()
        self._ids = itertools.count(1)
        self._folder: Path | None = None
        self._preparing = threading.Lock()  # one reader of MNIST at a time; not self._lock
        self.darkness_baseline: float | None = None  # test accuracy, once MNIST is read
        self._spare: tuple[subprocess.Popen, Connection] | None = None
        self._spare_after, self._spare_backoff = 0.0, 0.5
        self._units_per_second = UNITS_GUESS
        self._wake_r, self._wake_w = (Connection(s.detach()) for s in socket.socketpair())
        self._closed = False
        self.heartbeat = time.monotonic()
        self.loop_error: str | None = None
        remove_stale_copies(temp_root)
        self._thread = threading.Thread(target=self._loop, name="digitlab-runs", daemon=True)
        self._thread.start()
        atexit.register(self.close)

    # -- the server's one manager ---------------------------------------------------------
    @classmethod
    def shared(cls) -> RunManager:
        """The server's one manager (created on first use, limits from the environment). A
        manager whose loop died or stalled is replaced: its jobs fail with a message."""
        with cls._shared_lock:
            old = cls._shared
            if old is not None and not old._closed and not old.healthy()[0]:
                log.error("run service replaced: %s", old.healthy()[1])
                old.abandon(
                    "the server's training service stopped working and was restarted; "
                    "please press Train again"
                )
            if cls._shared is None or cls._shared._closed:
                cls._shared = cls(spare=os.environ.get("DIGITLAB_SPARE_WORKER", "1") != "0")
            return cls._shared

    @classmethod
    def health(cls) -> tuple[bool, str]:
        """For the server's health check: (False, why) while the shared manager is broken.
        The check also replaces it, so the next check (and the next visitor) finds a
        working one."""
        manager = cls._shared
        if manager is None or manager._closed:
            return True, "ok"
        ok, why = manager.healthy()
        if not ok:
            try:
                cls.shared()
            except Exception:  # noqa: BLE001 - the failure is reported, not raised
                log.exception("could not restart the run service")
        return ok, why

    def healthy(self) -> tuple[bool, str]:
        if not self._thread.is_alive():
            return False, f"the run service's loop died ({self.loop_error or 'no error'})"
        silent = time.monotonic() - self.heartbeat
        if silent > LOOP_STALL:
            return False, f"the run service's loop has been stuck for {silent:.0f} s"
        return True, "ok"

    # -- the page's calls -----------------------------------------------------------------
    def submit(self, settings: Settings, owner: str | None = None) -> RunHandle:
        """Queue a training run (it starts as soon as a slot is free). Raises SettingsError
        for settings beyond the limits, MnistError if MNIST is not on the machine,
        QueueFull or ServiceError with a message for the visitor. An `owner`'s earlier run,
        if it is still queued or training, is stopped: one run per owner."""
        settings = settings.check(self.limits)
        self.prepare_data()
        with self._lock:
            previous = self._owners.get(owner) if owner else None
            if previous is not None and not previous.state.over:
                self._stop(previous, "replaced by a newer run from the same browser")
            record = self._enqueue(TrainJob(settings, self.report_every), owner)
        return RunHandle(self, record)

    def submit_teach(self, net: Network, drawings, labels, **options) -> RunHandle:
        """Queue a fine-tune of a copy of `net` on the drawings (`nn.teach.fine_tune`'s
        arguments; replay and test come from the shared MNIST). Raises TeachError for a
        lesson that cannot be taught, MnistError if MNIST is not on the machine, QueueFull
        or ServiceError."""
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
        with self._lock:
            record = self._enqueue(job, None)
        return RunHandle(self, record)

    def _enqueue(self, job: Job, owner: str | None) -> _Record:
        if self._closed:
            raise ServiceError("the server is shutting down; please try again in a minute")
        if len(self._queue) >= self.limits.max_queue:
            raise QueueFull(
                f"the queue is full ({self.limits.max_queue} jobs are waiting for "
                f"{self.limits.max_concurrent} training slots); please try again in a minute"
            )
        run_id = next(self._ids)
        token = f"{BOOT}.{run_id}.{secrets.token_urlsafe(6)}"
        record = _Record(run_id, job, token, owner)
        self._queue.append(record)
        self._tokens[token] = record
        if owner:
            self._owners[owner] = record
        self._wake()
        return record

    def lookup(self, token: str) -> tuple[RunHandle | None, str]:
        """The job a page's URL names: (its handle, "") if this server has it; else (None,
        "restarted") if the token is from before a restart of the server, (None, "gone")."""
        with self._lock:
            record = self._tokens.get(str(token))
        if record is not None:
            return RunHandle(self, record), ""
        return None, "gone" if str(token).startswith(f"{BOOT}.") else "restarted"

    def owned_by(self, owner: str | None) -> RunHandle | None:
        """The owner's latest training run, if this server still has it."""
        with self._lock:
            record = self._owners.get(owner) if owner else None
        return RunHandle(self, record) if record is not None else None

    def counts(self) -> dict:
        with self._lock:
            return {
                "training": len(self._active),
                "waiting": len(self._queue),
                "slots": self.limits.max_concurrent,
            }

    def close(self) -> None:
        """Stop every job and worker, remove the shared data files."""
        if self._closed:
            return
        with self._lock:
            records = list(self._active) + list(self._queue)
            for record in records:
                self._stop(record, "the server is shutting down")
            self._closed = True
        self._wake()
        self._thread.join(5)
        for record in records:
            if record.process is not None:
                try:
                    record.process.wait(STOP_GRACE)
                except subprocess.TimeoutExpired:
                    record.process.kill()
                    record.process.wait()
        with contextlib.suppress(Exception):
            self._reap_all()
        self._retire_spare()
        self._remove_folder()

    def abandon(self, reason: str) -> None:
        """Give up on a broken manager without its loop: kill its workers, fail its jobs."""
        self._closed = True
        with self._lock:
            records = list(self._active) + list(self._queue)
            self._queue.clear()
            self._active.clear()
            for record in records:
                if record.process is not None:
                    with contextlib.suppress(OSError):
                        record.process.kill()
                if record.outbox is not None:
                    record.outbox.close()
                if not record.state.over:
                    self._become(record, State.FAILED, reason)
        self._retire_spare()
        self._remove_folder()

    # -- data -----------------------------------------------------------------------------
    def data_available(self) -> bool:
        """Whether MNIST is on this machine (training needs it; drawing does not)."""
        if self._folder is not None or self._given_data:
            return True
        return mnist.find_mnist_dir(self.data_dir) is not None

    def _read_mnist(self):
        return mnist.load_mnist(self.data_dir)

    def prepare_data(self) -> None:
        """Read MNIST once, write the workers' shared copy and compute the baseline; write
        the copy again if it vanished. The server process keeps no copy of the arrays.
        Raises MnistError if MNIST is not on the machine, ServiceError if the copy cannot
        be written (a full disk), which a later call tries again."""
        with self._preparing:
            if copy_is_complete(self._folder):
                return
            if self._folder is not None:
                log.warning("the shared MNIST copy %s vanished: writing it again", self._folder)
            data = self._load()
            try:
                folder = write_shared_data(data, self.temp_root)
            except SharedDataError as e:
                raise ServiceError(str(e)) from e
            baseline = mnist.average_darkness(data)["test_accuracy"]
            with self._lock:
                old, self._folder, self.darkness_baseline = self._folder, folder, baseline
            if old is not None:
                shutil.rmtree(old, ignore_errors=True)
            self._wake()

    def _remove_folder(self) -> None:
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)

    # -- what handles read ----------------------------------------------------------------
    def _view(self, record: _Record) -> RunView:
        with self._lock:
            position = self._position(record)
            wait_seconds = self._wait_for(position) if position else None
            return build_view(record, position, wait_seconds)

    def _queue_position(self, record: _Record) -> int | None:
        with self._lock:
            return self._position(record)

    def _position(self, record: _Record) -> int | None:
        for i, queued in enumerate(self._queue):
            if queued is record:
                return i + 1
        return None

    def _wait_for(self, position: int) -> float:
        """A queued job's expected wait: the active jobs' estimates, then the ones ahead."""
        busy = []
        for record in self._active:
            view = build_view(record, None, None)
            if view.seconds_left is not None:
                busy.append(view.seconds_left)
            else:
                busy.append(max(0.0, self._duration(record.job) - record.elapsed))
        ahead = [self._duration(r.job) for r in list(self._queue)[: position - 1]]
        return expected_wait(busy, self.limits.max_concurrent, ahead)

    def _duration(self, job: Job) -> float:
        if isinstance(job, TeachJob):
            return TEACH_GUESS
        s = job.settings
        units = s.epochs * s.train_size * (1 + s.augment) * (s.hidden + 10)
        return min(self.limits.max_seconds, units / self._units_per_second)

    def _network(self, record: _Record) -> Network | None:
        with self._lock:
            weights, version, cached = record.weights, record.weights_version, record.network
        job = record.job
        if weights is None or not isinstance(job, TrainJob):  # a teach job sends no weights
            return None
        if cached is None or cached[0] != version:
            s = job.settings
            net = Network.from_arrays(*weights, init=s.init, cost=s.cost, l2=s.l2)
            cached = (version, net)
            with self._lock:
                record.network = cached
        return cached[1]

    def _result(self, record: _Record, timeout: float) -> TeachResult | None:
        deadline = time.monotonic() + timeout
        with self._lock:
            while record.final is None and not record.state.over:
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self._changed.wait(left)
            final, state, reason = record.final, record.state, record.reason
        self._touch(record)
        taught = None
        if final is not None and record.forced is None:
            state, reason, taught = final.state, final.reason, final.taught
        if state is not State.FINISHED or taught is None:
            raise TeachError(reason or f"the fine-tune {state.value}")
        if not isinstance(record.job, TeachJob):  # only a teach job's worker sends `taught`
            raise TypeError(f"a {record.job.kind} job has no fine-tuned network")
        return taught

    # -- commands -------------------------------------------------------------------------
    def _touch(self, record: _Record) -> None:
        with self._lock:
            record.touched = time.monotonic()

    def _command(self, record: _Record, what: str) -> None:
        commands: dict[str, Command] = {"pause": Pause(), "resume": Resume(), "step": Step()}
        self._send(record, commands[what])

    def _set_speed(self, record: _Record, command: SetSpeed) -> None:
        with self._lock:
            if not isinstance(record.job, TrainJob) or record.state.over:
                return
            record.speed = command.speed
            if record.state is State.QUEUED:  # delivered with its Start
                record.pending[command_slot(command)] = command
                return
        self._send(record, command)

    def _set_eta(self, record: _Record, eta: float) -> None:
        with self._lock:
            if not isinstance(record.job, TrainJob) or record.state.over:
                return
            if record.state is State.QUEUED:  # not started: it simply starts with this eta
                settings = record.job.settings.replace(eta=eta)
                record.job = dataclasses.replace(record.job, settings=settings)
                return
        self._send(record, SetEta(eta))

    def _send(self, record: _Record, command: Command) -> None:
        with self._lock:
            if record.state not in ACTIVE or not isinstance(record.job, TrainJob):
                return
            if record.outbox is None:  # its worker is being started: delivered with Start
                record.pending[command_slot(command)] = command
            else:
                record.outbox.put(command)

    def _stop(self, record: _Record, reason: str) -> None:
        with self._lock:
            if record.state is State.QUEUED:
                with contextlib.suppress(ValueError):
                    self._queue.remove(record)
                self._become(record, State.STOPPED, reason)
                self._retire(record)
                return
            if record.state.over:
                return
            if isinstance(record.job, TeachJob):  # a fine-tune reads no commands: end it
                self._kill(record, State.STOPPED, reason)
                return
            if record.stop_asked is None:
                record.stop_asked, record.stop_reason = time.monotonic(), reason
        self._send(record, Stop(reason))
        self._wake()

    # -- the loop -------------------------------------------------------------------------
    def _wake(self) -> None:
        try:
            self._wake_w.send_bytes(b"!")
        except (OSError, ValueError):
            pass

    def _loop(self) -> None:
        try:
            while not self._closed:
                self.heartbeat = time.monotonic()
                try:
                    self._pass()
                except Exception as e:  # noqa: BLE001 - a bug outside any one job: go on
                    log.exception("run service: a pass of the loop failed")
                    self.loop_error = f"{type(e).__name__}: {e}"
                    time.sleep(self.tick)  # not a hot loop if it fails every time
        except BaseException as e:
            self.loop_error = f"{type(e).__name__}: {e}"
            raise

    def _pass(self) -> None:
        with self._lock:
            conns = {r.conn: r for r in self._active if r.conn is not None}
        ready = wait(list(conns) + [self._wake_r], timeout=self.tick)
        for conn in ready:
            if conn is self._wake_r:
                while self._wake_r.poll():
                    self._wake_r.recv_bytes()
            else:
                self._guarded(conns[cast(Connection, conn)], self._drain)
        with self._lock:
            active, queued = list(self._active), list(self._queue)
        for record in active:
            self._guarded(record, self._watch)
        now = time.monotonic()
        for record in queued:
            if now - record.touched > self.abandon_after:
                self._guarded(record, lambda r: self._stop(r, "the page was closed"))
        self._start_queued()
        try:
            self._keep_spare()
        except Exception:  # noqa: BLE001 - no spare: jobs start a fresh worker instead
            log.exception("run service: could not start a spare worker")

    def _guarded(self, record: _Record, step) -> None:
        """Run one step for one job; an exception fails that job alone."""
        try:
            step(record)
        except Exception as e:  # noqa: BLE001 - contained to this job, reported to its page
            log.exception("run service: job %s failed in the manager", record.id)
            with self._lock:
                if record.process is not None and record.process.poll() is None:
                    self._kill(record, State.FAILED, f"the training service hit an error ({e})")
                elif not record.state.over:
                    self._leave(record)
                    self._become(record, State.FAILED, f"the training service hit an error ({e})")

    def _drain(self, record: _Record) -> None:
        try:
            while record.conn is not None and record.conn.poll():
                self._receive(record, record.conn.recv())
        except (EOFError, OSError):
            pass  # the worker ended; _watch records how
        except (IllegalTransition, TypeError, AttributeError) as e:  # not a proper Report
            with self._lock:
                self._kill(record, State.FAILED, f"the training process misbehaved ({e})")

    def _receive(self, record: _Record, report: Report) -> None:
        if not isinstance(report, Report):
            raise TypeError(f"not a report: {type(report).__name__}")
        with self._lock:
            now = time.monotonic()
            record.last_heard, record.heard = now, True
            if record.forced is not None:
                return
            if report.state.over:
                record.state.to(report.state)  # IllegalTransition if it cannot end so
                record.final = report  # applied by _end once the process has exited
                self._changed.notify_all()
                return
            self._apply(record, report)

    def _apply(self, record: _Record, report: Report) -> None:
        """A report's state and its figures, in one step under the lock."""
        record.state = record.state.to(report.state)
        record.reason = report.reason
        record.progress, record.elapsed = report.progress, report.elapsed
        record.history.extend(report.points)
        record.eta_changes.extend(report.eta_changes)
        if not record.samples or record.samples[-1] != (report.elapsed, report.progress):
            record.samples.append((report.elapsed, report.progress))
            del record.samples[:-2000]  # a bounded timeline (about 7 minutes at 0.2 s)
        if report.step is not None or record.speed == "slow":
            # slow motion's waits count as training time (docs/step.md): its samples would
            # make a full-speed run look thousands of times slower for the next ~20 s
            record.slow_until = report.elapsed
        if report.weights is not None:
            record.weights, record.weights_version = report.weights, record.weights_version + 1
        if report.taught is not None:
            record.taught = report.taught
        if report.step is not None:
            record.last_step = report.step
        room = max(0, COST_BINS - len(record.cost_bins))  # the worker's bound, held here too
        record.cost_bins.extend(report.cost_bins[:room])
        record.open_cost_bin = report.open_cost_bin
        self._measure_speed(record)
        self._changed.notify_all()

    def _measure_speed(self, record: _Record) -> None:
        job = record.job
        if isinstance(job, TrainJob) and record.elapsed > 1.0 and record.progress > 0:
            s = job.settings
            units = record.progress * s.train_size * (1 + s.augment) * (s.hidden + 10)
            self._units_per_second = 0.8 * self._units_per_second + 0.2 * units / record.elapsed

    def _watch(self, record: _Record) -> None:
        """The watchdog for one active job: its exit, its silence, its time."""
        process = record.process
        if process is None:
            return
        if process.poll() is not None:
            self._drain(record)
            self._end(record)
            return
        if record.forced is not None:
            return  # killed; its exit is noticed on a later pass
        now = time.monotonic()
        limits = self.limits
        with self._lock:
            if isinstance(record.job, TeachJob) and now - record.started > limits.teach_seconds:
                self._kill(
                    record,
                    State.FAILED,
                    f"teaching took longer than {limits.teach_seconds:g} s and was ended",
                )
            elif now - record.last_heard > (
                limits.stall_seconds if record.heard else max(limits.stall_seconds, START_SECONDS)
            ):
                self._kill(
                    record,
                    State.FAILED,
                    f"the training process stopped answering for {limits.stall_seconds:g} s "
                    "and was ended",
                )
            elif record.stop_asked is not None and now - record.stop_asked > STOP_GRACE:
                self._kill(record, State.STOPPED, record.stop_reason)
            elif now > record.deadline:
                self._kill(
                    record,
                    State.STOPPED,
                    f"it ran past its time limit ({limits.max_seconds:g} s of training and "
                    f"{limits.max_paused_seconds:g} s of pauses at most)",
                )
            elif now - record.touched > self.abandon_after:
                self._stop(record, "the page was closed")

    def _kill(self, record: _Record, state: State, reason: str) -> None:
        """Under the lock: SIGKILL the job's worker; its record says `state`, `reason`."""
        if record.forced is None:
            record.forced = (state, reason)
        if record.process is not None:
            with contextlib.suppress(OSError):
                record.process.kill()
        self._wake()

    def _end(self, record: _Record) -> None:
        """The worker has exited: apply its last report, or say why it ended."""
        with self._lock:
            self._leave(record)
            code = None if record.process is None else record.process.returncode
            if record.forced is not None:
                state, reason = record.forced
                if record.final is not None and record.final.state is state:
                    self._apply(record, record.final)
                self._become(record, state, reason)
            elif record.final is not None:
                self._apply(record, record.final)
            elif not record.heard:
                self._become(
                    record,
                    State.FAILED,
                    f"the training process ended before it could start (exit code {code}); "
                    "please try again",
                )
            else:
                self._become(
                    record,
                    State.FAILED,
                    f"the training process ended unexpectedly (exit code {code})",
                )
            if record.outbox is not None:
                record.outbox.close()
            if record.conn is not None:
                record.conn.close()
                record.conn = None
            failed_on_data = record.state is State.FAILED and "MNIST" in record.reason
        if failed_on_data and not copy_is_complete(self._folder):
            log.warning("a job failed on the shared copy of MNIST; it is written again")
            threading.Thread(target=self._rewrite_data, daemon=True).start()

    def _rewrite_data(self) -> None:
        with contextlib.suppress(Exception):
            self.prepare_data()

    def _leave(self, record: _Record) -> None:
        """Under the lock: the job no longer holds a slot or a place in the queue."""
        if record in self._active:
            self._active.remove(record)
        with contextlib.suppress(ValueError):
            self._queue.remove(record)
        self._retire(record)

    def _retire(self, record: _Record) -> None:
        """Under the lock: keep an ended job findable for a while, then forget it."""
        self._recent[record.id] = record
        while len(self._recent) > RECENT:
            _, old = self._recent.popitem(last=False)
            self._tokens.pop(old.token, None)
            if old.owner and self._owners.get(old.owner) is old:
                del self._owners[old.owner]

    def _become(self, record: _Record, state: State, reason: str = "") -> None:
        record.state, record.reason = record.state.to(state), reason
        self._changed.notify_all()

    def _reap_all(self) -> None:
        with self._lock:
            active = list(self._active)
        for record in active:
            if record.process is not None and record.process.poll() is not None:
                self._drain(record)
                self._end(record)

    def _start_queued(self) -> None:
        while True:
            with self._lock:
                if (
                    self._closed
                    or not self._queue
                    or len(self._active) >= self.limits.max_concurrent
                ):
                    return
                record = self._queue.popleft()
                self._active.append(record)
                self._become(record, State.STARTING)
            self._guarded(record, self._launch)

    def _launch(self, record: _Record) -> None:
        """Give the job a worker: the warm spare if it is alive, else a fresh one."""
        folder = self._folder
        if not copy_is_complete(folder):
            self.prepare_data()
            folder = self._folder
        worker = self._take_spare(folder)
        if worker is None:
            worker = self._spawn_worker(folder)
        process, conn = worker
        now = time.monotonic()
        if isinstance(record.job, TrainJob):  # its first reports time it: no spare beside them
            self._spare_after = max(self._spare_after, now + SPARE_DELAY)
        limits = self.limits
        with self._lock:
            record.process, record.conn = process, conn
            record.started = record.last_heard = now
            if isinstance(record.job, TrainJob):
                record.deadline = now + limits.max_seconds + limits.max_paused_seconds + WALL_SLACK
            else:
                record.deadline = now + limits.teach_seconds + WALL_SLACK
            record.outbox = _Outbox(conn, Start(record.job, limits, str(folder)))
            for command in record.pending.values():
                record.outbox.put(command)
            record.pending.clear()

    def _spawn_worker(
        self, folder: Path | None, spare: bool = False
    ) -> tuple[subprocess.Popen, Connection]:
        """Start `python -m runs.worker_main FD [FOLDER]`, talking over a socket pair; a
        `spare` warms up at the lowest priority and says when it is ready.

        A fresh interpreter rather than multiprocessing's spawn, which would re-run the
        server's main script (Streamlit's) in every worker.
        """
        ours, theirs = socket.socketpair()
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(
                [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]
            ),
            SPARE_ENV: "1" if spare else "0",
        }
        try:
            process = subprocess.Popen(
                [*self.worker_command, str(theirs.fileno()), *([str(folder)] if folder else [])],
                pass_fds=[theirs.fileno()],
                cwd=ROOT,
                env=env,
            )
        except BaseException:
            ours.close()
            raise
        finally:
            theirs.close()
        return process, Connection(ours.detach())

    def _take_spare(self, folder) -> tuple[subprocess.Popen, Connection] | None:
        """The spare, if it is alive and has said it is warm (`READY`); else None, and a
        fresh worker takes the job: a spare still warming up does so at the lowest priority
        (`runs.worker_main`), so on a busy machine it may take a while."""
        spare = self._spare
        if spare is None:
            return None
        process, conn = spare
        if process.poll() is not None:
            self._spare = None
            conn.close()  # it died waiting: a fresh one for this job
            self._spare_backoff = min(60.0, self._spare_backoff * 2)
            return None
        try:
            ready = conn.poll() and conn.recv() == READY
        except (EOFError, OSError):
            ready = False  # dying: _keep_spare replaces it
        if not ready:
            return None
        self._spare = None
        self._spare_backoff = 0.5
        return spare

    def _keep_spare(self) -> None:
        if self._spare is not None and self._spare[0].poll() is not None:
            self._spare[1].close()  # it died waiting (killed, out of memory): replace it
            self._spare = None
            self._spare_backoff = min(60.0, self._spare_backoff * 2)
        if not self.spare or self._closed or self._spare is not None:
            return
        if not copy_is_complete(self._folder) or time.monotonic() < self._spare_after:
            return
        self._spare = self._spawn_worker(self._folder, spare=True)
        self._spare_after = time.monotonic() + self._spare_backoff

    def _retire_spare(self) -> None:
        spare, self._spare = self._spare, None
        if spare is not None:
            process, conn = spare
            try:
                conn.close()  # the spare sees EOF and exits
            except OSError:  # already closed where its death was noticed: it has exited
                pass
            try:
                process.wait(STOP_GRACE)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
