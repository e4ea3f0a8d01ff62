"""The MNIST digits: finding, downloading, checking and loading the four original files.

The page and the training code both need the same 70,000 labelled digits. This module gets
them from disk (or, once, from a public mirror), refuses anything that is not exactly the
published data, and hands out one shared, read-only copy per process so that many visitors of
one server do not each hold their own 55 MB.

Images stay uint8 (0 = background, 255 = ink), one row of 784 pixels per digit; `to_unit`
turns any slice of them into the float32 [0, 1] inputs the network expects. The split is the
book's: the first 50,000 training images train, the last 10,000 validate, t10k tests.

Nothing here imports Streamlit.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import http.client
import os
import struct
import tempfile
import threading
import urllib.error
import urllib.request
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

# Pixels as float32 in [0, 1], computed per use (a float copy of MNIST is 4x larger): the
# network's own conversion, so there is one.
from .network import as_unit_float as to_unit  # noqa: F401 - part of this module's API

__all__ = [
    "DATA_DIR", "FILES", "MIRRORS", "TOTAL_BYTES", "MnistData", "MnistError",
    "average_darkness", "download_mnist", "find_mnist_dir", "load_mnist", "read_images",
    "read_labels", "shared_mnist", "to_unit",
]

DATA_DIR = Path(__file__).resolve().parent.parent / "data"

TRAIN_IMAGES = "train-images-idx3-ubyte.gz"
TRAIN_LABELS = "train-labels-idx1-ubyte.gz"
TEST_IMAGES = "t10k-images-idx3-ubyte.gz"
TEST_LABELS = "t10k-labels-idx1-ubyte.gz"

# Size in bytes and SHA-256 of each published .gz file (measured on the original files).
FILES: dict[str, tuple[int, str]] = {
    TRAIN_IMAGES: (9_912_422, "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609"),
    TRAIN_LABELS: (28_881, "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c"),
    TEST_IMAGES: (1_648_877, "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6"),
    TEST_LABELS: (4_542, "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6"),
}
TOTAL_BYTES = sum(size for size, _ in FILES.values())

# Public mirrors of the same four files, tried in this order (the first two are the ones
# torchvision and TensorFlow use; the original site is last because it is often unavailable).
MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
)

IMAGE_MAGIC, LABEL_MAGIC = 0x803, 0x801
ROWS = COLS = 28
PIXELS = ROWS * COLS
TRAIN_COUNT, TEST_COUNT, VALIDATION_COUNT = 60_000, 10_000, 10_000
MAX_ITEMS = 100_000  # more than any MNIST file holds; bounds memory for a corrupt header
CHUNK = 64 * 1024
USER_AGENT = "DigitLab/1.0 (MNIST downloader; python-urllib)"

Progress = Callable[[int, int, str], None]

_FIX_FILE = (
    "Replace it with the original file: delete it and download again "
    "(nn.mnist.download_mnist), or put the four original MNIST .gz files in one folder "
    "and set MNIST_DIR to that folder."
)


class MnistError(ValueError):
    """The MNIST files are missing, damaged, mixed up or could not be downloaded.

    The message always names what was wrong and what to do about it, because it is shown to
    the person running the page.
    """


def _bad_file(path: Path, problem: str) -> MnistError:
    return MnistError(f"MNIST file {path} is unusable: {problem}. {_FIX_FILE}")


# --------------------------------------------------------------------------- parsing

def _read_idx(path: Path, magic: int, dims: int, item_shape: tuple[int, ...]) -> np.ndarray:
    """Parse one gzip IDX file strictly; return a read-only uint8 array (count, *item_shape).

    Every deviation (not gzip, cut short, wrong magic or shape, extra bytes) becomes a
    MnistError naming the file. The payload is read in one piece whose size comes from the
    header, capped at MAX_ITEMS, so a corrupt header cannot ask for gigabytes.
    """
    header_len = 4 + 4 * dims
    try:
        with gzip.open(path, "rb") as f:
            header = f.read(4)
            if len(header) == 4:  # the magic first, so a wrong kind of file is named as such
                _check_magic(path, struct.unpack(">I", header)[0], magic)
                header += f.read(header_len - 4)
            if len(header) < header_len:
                raise _bad_file(path, f"the header is cut short ({len(header)} of {header_len} bytes)")
            _, count, *shape = struct.unpack(f">{dims + 1}I", header)
            _check_header(path, count, tuple(shape), item_shape)
            payload_len = count * int(np.prod(item_shape, dtype=np.int64))
            payload = f.read(payload_len)
            if len(payload) != payload_len:
                raise _bad_file(path, f"the data is cut short ({len(payload):,} of {payload_len:,} bytes)")
            if f.read(1):
                raise _bad_file(path, f"there are extra bytes after the {count:,} items the header announces")
    except (EOFError, zlib.error, gzip.BadGzipFile) as e:
        raise _bad_file(path, f"it is not a complete gzip file ({e})") from e
    except OSError as e:
        raise _bad_file(path, f"it cannot be read ({e})") from e
    array = np.frombuffer(payload, dtype=np.uint8).reshape((count, *item_shape))
    array.flags.writeable = False
    return array


def _check_magic(path: Path, found: int, magic: int) -> None:
    """Refuse a file that is not the expected kind of IDX file (images vs labels)."""
    if found != magic:
        kind = "images" if magic == IMAGE_MAGIC else "labels"
        raise _bad_file(path, f"magic number 0x{found:08x} is not 0x{magic:08x} of an IDX {kind} file")


def _check_header(path: Path, count: int, shape: tuple[int, ...], item_shape: tuple[int, ...]) -> None:
    """Refuse an item count or image size that MNIST does not have."""
    if count > MAX_ITEMS:
        raise _bad_file(path, f"the header claims {count:,} items, more than MNIST ever holds")
    if shape != item_shape:
        raise _bad_file(path, f"images are {shape[0]}x{shape[1]} pixels, not {ROWS}x{COLS}")


def read_images(path: Path | str) -> np.ndarray:
    """Read an IDX images file: read-only uint8 array (n, 784), one flattened digit per row."""
    array = _read_idx(Path(path), IMAGE_MAGIC, 3, (ROWS, COLS))
    return array.reshape(len(array), PIXELS)


def read_labels(path: Path | str) -> np.ndarray:
    """Read an IDX labels file: read-only uint8 array (n,), each a digit 0-9."""
    path = Path(path)
    labels = _read_idx(path, LABEL_MAGIC, 1, ())
    if labels.size and labels.max() > 9:
        bad = int(np.argmax(labels > 9))
        raise _bad_file(path, f"label #{bad} is {labels[bad]}, but digits only go up to 9")
    return labels


# --------------------------------------------------------------------------- finding

def _candidate_dirs(explicit: Path | str | None) -> list[tuple[str, Path]]:
    """Where the files may be, in the order they are looked for, each with how it was chosen."""
    places = []
    if explicit is not None:
        places.append(("the folder given", Path(explicit)))
    if os.environ.get("MNIST_DIR"):
        places.append(("MNIST_DIR", Path(os.environ["MNIST_DIR"])))
    places.append(("the project's data folder", DATA_DIR))
    return places


def _holds_all(directory: Path) -> bool:
    return all((directory / name).is_file() for name in FILES)


def find_mnist_dir(explicit: Path | str | None = None) -> Path | None:
    """Return the first of (explicit, $MNIST_DIR, data/) holding all four files, else None.

    Only presence is checked here; the files are verified when they are parsed.
    """
    for _, directory in _candidate_dirs(explicit):
        if _holds_all(directory):
            return directory.resolve()
    return None


def _not_found_message(explicit: Path | str | None) -> str:
    looked = "; ".join(f"{how}: {path}" for how, path in _candidate_dirs(explicit))
    return (
        f"The MNIST files ({', '.join(FILES)}) were not found together in any of the places "
        f"looked at ({looked}). Either download them (load_mnist(download=True) or "
        f"nn.mnist.download_mnist(), which saves them in {DATA_DIR}), or put the four files "
        f"in one folder and set the MNIST_DIR environment variable to it."
    )


# --------------------------------------------------------------------------- downloading

class _MirrorFailed(Exception):
    """One mirror could not deliver one file; the next mirror is tried."""


class _Progress:
    """Reports overall bytes to the callback, never going backwards.

    When a mirror fails halfway and the next one starts the file again, the reported number
    holds still until the new transfer passes it, so a progress bar never jumps back.
    """

    def __init__(self, callback: Progress | None, total: int):
        self.callback, self.total = callback, total
        self.base = self.attempt = 0
        self.shown = -1

    def start_file(self) -> None:
        self.attempt = 0

    def add(self, nbytes: int, name: str) -> None:
        self.attempt += nbytes
        if self.base + self.attempt > self.shown:
            self._show(self.base + self.attempt, name)

    def finish_file(self, size: int, name: str) -> None:
        self.base += size
        self.attempt = 0
        self._show(max(self.base, self.shown), name)

    def _show(self, done: int, name: str) -> None:
        self.shown = done
        if self.callback is not None:
            self.callback(done, self.total, name)


def _sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _is_good_copy(path: Path, name: str) -> bool:
    """True when `path` already is the published file (same size and SHA-256)."""
    size, sha = FILES[name]
    return path.is_file() and path.stat().st_size == size and _sha256_of(path) == sha


def _cannot_write(dest: Path, error: OSError) -> MnistError:
    return MnistError(
        f"Cannot save the MNIST download in {dest} ({error}). Free some disk space or make the "
        f"folder writable, or put the four files in a folder of your own and set MNIST_DIR to it."
    )


def _write(out, chunk: bytes) -> None:
    """Write to the local temp file; a local failure stops the download instead of trying
    the next mirror, since no mirror can fix a full or read-only disk."""
    try:
        out.write(chunk)
    except OSError as e:
        raise _cannot_write(Path(out.name).parent, e) from e


def _stream(url: str, out, name: str, timeout: float, progress: _Progress) -> str:
    """Copy `url` into the open file `out`; return the SHA-256 of what arrived.

    Refuses a transfer that is longer or shorter than the published file.
    """
    size = FILES[name][0]
    if not url.startswith(("http://", "https://")):
        raise _MirrorFailed("only http:// and https:// mirrors are supported")
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    digest, got = hashlib.sha256(), 0
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            announced = response.headers.get("Content-Length", "").strip()
            if announced.isdigit() and int(announced) != size:
                raise _MirrorFailed(f"the server announced {int(announced):,} bytes, expected {size:,}")
            while chunk := response.read(CHUNK):
                got += len(chunk)
                if got > size:
                    raise _MirrorFailed(f"the server sent more than the expected {size:,} bytes; refused")
                digest.update(chunk)
                _write(out, chunk)
                progress.add(len(chunk), name)
    except urllib.error.HTTPError as e:
        raise _MirrorFailed(f"HTTP error {e.code} {e.reason}") from e
    except urllib.error.URLError as e:
        raise _MirrorFailed(f"could not connect ({e.reason})") from e
    except (OSError, http.client.HTTPException) as e:
        raise _MirrorFailed(f"the transfer broke off after {got:,} of {size:,} bytes ({type(e).__name__}: {e})") from e
    if got != size:
        raise _MirrorFailed(f"the transfer ended after {got:,} of {size:,} bytes")
    return digest.hexdigest()


def _fetch(url: str, dest: Path, name: str, timeout: float, progress: _Progress) -> None:
    """Download one file to a temp file beside its target, verify it, then move it in place.

    The temp file is removed on every way out (errors, KeyboardInterrupt), so `dest` only
    ever holds complete, verified files.
    """
    try:
        fd, tmp = tempfile.mkstemp(dir=dest, prefix=f".{name}.", suffix=".part")
    except OSError as e:
        raise _cannot_write(dest, e) from e
    try:
        with os.fdopen(fd, "wb") as out:
            sha = _stream(url, out, name, timeout, progress)
        if sha != FILES[name][1]:
            raise _MirrorFailed(f"the file's SHA-256 is {sha}, not the published {FILES[name][1]}")
        os.replace(tmp, dest / name)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


def _download_one(name: str, dest: Path, mirrors, timeout: float, progress: _Progress) -> None:
    """Try each mirror in turn for one file; MnistError listing every failure if none works."""
    failures = []
    for base in mirrors:
        url = base.rstrip("/") + "/" + name
        progress.start_file()
        try:
            _fetch(url, dest, name, timeout, progress)
            return
        except _MirrorFailed as e:
            failures.append(f"  - {url}: {e}")
    tried = "\n".join(failures) or "  (no mirrors were given)"
    raise MnistError(
        f"Could not download {name} from any mirror:\n{tried}\n\n"
        f"Check the internet connection and try again, or get the four MNIST files "
        f"({', '.join(FILES)}) another way and put them in {dest}, or in a folder named by "
        f"the MNIST_DIR environment variable."
    )


_DOWNLOAD_LOCK = threading.Lock()


def download_mnist(dest: Path | str = DATA_DIR, mirrors=MIRRORS, progress: Progress | None = None,
                   timeout: float = 30.0) -> Path:
    """Make sure `dest` holds the four verified MNIST files, downloading what is missing.

    Files already there with the published checksum are kept; others are fetched from the
    mirrors in order. `progress(done_bytes, total_bytes, filename)` is called as bytes arrive
    (total_bytes is TOTAL_BYTES; done_bytes never decreases and ends at total_bytes).
    Returns `dest`. Raises MnistError when a file cannot be had from any mirror.
    """
    dest = Path(dest)
    reporter = _Progress(progress, TOTAL_BYTES)
    with _DOWNLOAD_LOCK:
        try:
            dest.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise _cannot_write(dest, e) from e
        for name, (size, _) in FILES.items():
            if not _is_good_copy(dest / name, name):
                _download_one(name, dest, mirrors, timeout, reporter)
            reporter.finish_file(size, name)
    return dest


class BackgroundDownload:
    """The server's one download of MNIST, in a thread, that any visitor's page can watch.

    The page must not download in its own script run: a stroke on the canvas reruns the
    script and would cut the download off, and two visitors clicking would download twice.
    `BackgroundDownload.start()` returns the download under way, or starts one (again, if
    the last one failed); `status()` is a copy of its progress for a progress bar.
    """

    _current: "BackgroundDownload | None" = None
    _start_lock = threading.Lock()

    def __init__(self, dest: Path, mirrors, timeout: float):
        self._lock = threading.Lock()
        self._status = {"done": 0, "total": TOTAL_BYTES, "file": "", "error": None,
                        "finished": False}
        self._thread = threading.Thread(target=self._run, args=(dest, mirrors, timeout),
                                        name="digitlab-mnist-download", daemon=True)

    @classmethod
    def start(cls, dest: Path | str = DATA_DIR, mirrors=MIRRORS,
              timeout: float = 30.0) -> "BackgroundDownload":
        with cls._start_lock:
            job = cls._current
            if job is None or (job.status()["finished"] and job.status()["error"]):
                job = cls._current = cls(Path(dest), mirrors, timeout)
                job._thread.start()
            return job

    @classmethod
    def current(cls) -> "BackgroundDownload | None":
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
        except MnistError as e:
            error = str(e)
        except Exception as e:  # noqa: BLE001 - shown on the page rather than lost in a thread
            error = f"the download failed unexpectedly: {type(e).__name__}: {e}"
        with self._lock:
            self._status.update(error=error, finished=True)


# --------------------------------------------------------------------------- loading

@dataclass(frozen=True, eq=False)
class MnistData:
    """The book's three splits. Images uint8 (n, 784) 0-255, labels uint8 (n,).

    Every array is read-only, so one instance can safely be shared by all visitors; train
    and validation are views into the same parsed training array (no copies).
    """

    train_images: np.ndarray
    train_labels: np.ndarray
    val_images: np.ndarray
    val_labels: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray

    def __post_init__(self) -> None:
        for value in vars(self).values():
            value.flags.writeable = False

    def split(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """(images, labels) of "train", "validation" or "test"."""
        pairs = {
            "train": (self.train_images, self.train_labels),
            "validation": (self.val_images, self.val_labels),
            "test": (self.test_images, self.test_labels),
        }
        if name not in pairs:
            raise ValueError(f"unknown split {name!r}; choose one of {', '.join(pairs)}")
        return pairs[name]


def _read_pair(directory: Path, images_name: str, labels_name: str, expected: int):
    """Read one images/labels pair and make sure both hold the expected number of items.

    A count that does not match (say, the training labels saved under the test name) is
    reported against the file that holds it.
    """
    images = read_images(directory / images_name)
    labels = read_labels(directory / labels_name)
    for path, count in ((directory / images_name, len(images)), (directory / labels_name, len(labels))):
        if count != expected:
            raise _bad_file(path, f"it holds {count:,} items where this file should hold {expected:,} "
                                  f"(is it another MNIST file saved under this name?)")
    return images, labels


def load_mnist(data_dir: Path | str | None = None, *, download: bool = False,
               progress: Progress | None = None) -> MnistData:
    """Find, verify and parse the four files into the book's train/validation/test split.

    Looks in `data_dir`, then $MNIST_DIR, then data/. If none holds the files, downloads them
    (into `data_dir` if given, else data/) when `download` is true, and otherwise raises
    MnistError saying where it looked and how to fix it.
    """
    directory = find_mnist_dir(data_dir)
    if directory is None:
        if not download:
            raise MnistError(_not_found_message(data_dir))
        directory = download_mnist(Path(data_dir) if data_dir is not None else DATA_DIR, progress=progress)
    train_x, train_y = _read_pair(directory, TRAIN_IMAGES, TRAIN_LABELS, TRAIN_COUNT)
    test_x, test_y = _read_pair(directory, TEST_IMAGES, TEST_LABELS, TEST_COUNT)
    cut = TRAIN_COUNT - VALIDATION_COUNT
    return MnistData(train_x[:cut], train_y[:cut], train_x[cut:], train_y[cut:], test_x, test_y)


_SHARED: dict[Path, MnistData] = {}
_SHARED_LOCK = threading.Lock()


def shared_mnist(data_dir: Path | str | None = None) -> MnistData:
    """The one process-wide MnistData for the directory the files are found in.

    Loaded once (under a lock, so simultaneous first visitors wait rather than load twice)
    and then handed to every caller; safe because all its arrays are read-only.
    """
    with _SHARED_LOCK:
        directory = find_mnist_dir(data_dir)
        if directory is None:
            raise MnistError(_not_found_message(data_dir))
        if directory not in _SHARED:
            _SHARED[directory] = load_mnist(directory)
        return _SHARED[directory]


# --------------------------------------------------------------------------- baseline

def average_darkness(data: MnistData) -> dict:
    """The book's "average darkness" baseline, the bar any real classifier must clear.

    Darkness is an image's pixel sum. Per digit, average it over the training split; then
    call each image the digit whose average darkness is nearest to its own. Returns
    {"per_digit": 10 floats (in 0-255 pixel units), "test_accuracy", "validation_accuracy"}.
    """
    darkness = data.train_images.sum(axis=1, dtype=np.int64)
    per_digit = np.array([darkness[data.train_labels == d].mean() for d in range(10)])

    def accuracy(images: np.ndarray, labels: np.ndarray) -> float:
        own = images.sum(axis=1, dtype=np.int64).astype(np.float64)
        guesses = np.abs(own[:, None] - per_digit[None, :]).argmin(axis=1)
        return float(np.mean(guesses == labels))

    return {
        "per_digit": [float(v) for v in per_digit],
        "test_accuracy": accuracy(data.test_images, data.test_labels),
        "validation_accuracy": accuracy(data.val_images, data.val_labels),
    }
