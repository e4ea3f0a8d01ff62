"""The shared, read-only copy of MNIST that every worker maps (`np.load(mmap_mode="r")`).

The server reads MNIST once and writes its arrays as `.npy` files into a temporary folder;
the operating system keeps one copy in memory however many workers map it. The folder's name
carries the owning server's process id (`digitlab-runs-<pid>-*`): a server that crashed left
its copy behind, and the next one to start removes every such folder whose process is gone
(`remove_stale_copies`). A copy that vanished (a cleaner of /tmp) is noticed and written
again (`copy_is_complete`); a full disk is a `SharedDataError` with a message for the visitor,
and the half-written folder is removed.
"""

from __future__ import annotations

import errno
import os
import re
import shutil
import tempfile
from pathlib import Path

import numpy as np

from nn import mnist

ARRAYS = ("train_images", "train_labels", "val_images", "val_labels", "test_images", "test_labels")
PREFIX = "digitlab-runs-"
_OWNED = re.compile(rf"^{re.escape(PREFIX)}(\d+)-")


class SharedDataError(RuntimeError):
    """The shared copy cannot be written (the message is for the visitor)."""


def write_shared_data(data, root: str | Path | None = None) -> Path:
    """Write MNIST's arrays into a new folder under `root` (the system's temporary folder by
    default), named for this process; SharedDataError if the disk is full or not writable."""
    try:
        folder = Path(tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-", dir=root))
    except OSError as e:
        raise _visitor_error(e) from e
    try:
        for name in ARRAYS:
            partial = folder / f".{name}.npy"
            with open(partial, "wb") as f:  # np.save on a path would add a second ".npy"
                np.save(f, np.ascontiguousarray(getattr(data, name)), allow_pickle=False)
            partial.rename(folder / f"{name}.npy")
    except OSError as e:
        shutil.rmtree(folder, ignore_errors=True)
        raise _visitor_error(e) from e
    return folder


def _visitor_error(e: OSError) -> SharedDataError:
    if e.errno in (errno.ENOSPC, errno.EDQUOT):
        return SharedDataError(
            "the server's disk is full, so training cannot start right now; "
            "please try again in a few minutes"
        )
    return SharedDataError(f"the server cannot write its copy of MNIST ({e.strerror or e})")


def copy_is_complete(folder: Path | None) -> bool:
    return folder is not None and all((Path(folder) / f"{n}.npy").is_file() for n in ARRAYS)


def open_shared_data(folder) -> mnist.MnistData:
    """MNIST as read-only memory maps of the files `write_shared_data` wrote."""
    return mnist.MnistData(
        **{
            name: np.load(Path(folder) / f"{name}.npy", mmap_mode="r", allow_pickle=False)
            for name in ARRAYS
        }
    )


def remove_stale_copies(root: str | Path | None = None) -> list[Path]:
    """Remove the copies whose owning process is gone; the removed folders."""
    root = Path(root or tempfile.gettempdir())
    removed: list[Path] = []
    try:
        entries = list(root.iterdir())
    except OSError:
        return removed
    for entry in entries:
        match = _OWNED.match(entry.name)
        if match and entry.is_dir() and not _alive(int(match.group(1))):
            shutil.rmtree(entry, ignore_errors=True)
            removed.append(entry)
    return removed


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True
