"""The server's one MNIST download, in a thread, that every visitor's page can watch.

The page must not download in its own script run: a stroke on the canvas reruns the script
and would cut the download off, and two visitors clicking would download twice. The download
itself (mirrors, hashes, atomic files) is `nn.mnist.download_mnist`.

A failure's details (mirrors, server folders) go to the server's log; the status a page
shows says only what happened, in words for a visitor (issue 18: say less to strangers).
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from nn.mnist import DATA_DIR, MIRRORS, TOTAL_BYTES, MnistError, download_mnist


class BackgroundDownload:
    """`BackgroundDownload.start()` returns the download under way, or starts one (again, if
    the last one failed); `status()` is a copy of its progress for a progress bar."""

    _current: BackgroundDownload | None = None
    _start_lock = threading.Lock()

    def __init__(self, dest: Path, mirrors, timeout: float):
        self._lock = threading.Lock()
        self._status = {
            "done": 0,
            "total": TOTAL_BYTES,
            "file": "",
            "error": None,
            "finished": False,
        }
        self._thread = threading.Thread(
            target=self._run,
            args=(dest, mirrors, timeout),
            name="digitlab-mnist-download",
            daemon=True,
        )

    @classmethod
    def start(
        cls, dest: Path | str = DATA_DIR, mirrors=MIRRORS, timeout: float = 30.0
    ) -> BackgroundDownload:
        with cls._start_lock:
            job = cls._current
            if job is None or (job.status()["finished"] and job.status()["error"]):
                job = cls._current = cls(Path(dest), mirrors, timeout)
                job._thread.start()
            return job

    @classmethod
    def current(cls) -> BackgroundDownload | None:
        return cls._current

    def status(self) -> dict:
        with self._lock:
            return dict(self._status)

    def wait(self, timeout: float | None = None) -> dict:
        self._thread.join(timeout)
        return self.status()

    def _progress(self, done: int, total: int, name: str) -> None:
        with self._lock:
            self._status.update(done=done, total=total, file=name)

    def _run(self, dest: Path, mirrors, timeout: float) -> None:
        try:
            download_mnist(dest, mirrors, progress=self._progress, timeout=timeout)
            error = None
        except MnistError:
            logging.getLogger("digitlab.download").exception("MNIST download failed")
            error = "no mirror could deliver the files right now; try again later"
        except Exception:  # noqa: BLE001 - reported on the page, not lost in a thread
            logging.getLogger("digitlab.download").exception("MNIST download failed")
            error = "the download failed unexpectedly; try again later"
        with self._lock:
            self._status.update(error=error, finished=True)
