"""The MNIST digits: finding, downloading, checking and loading the four original files.

The page and the training code both need the same 70,000 labelled digits. This module gets
them from disk (or, once, from a public mirror), refuses any file whose SHA-256 is not the
published one, and hands out one shared, read-only copy per process so that many visitors of
one server do not each hold their own 55 MB.

Because every file is checked against its known hash before it is read, reading is simple:
ungzip, skip the IDX header, view the bytes. Images stay uint8 (0 = background, 255 = ink),
one row of 784 pixels per digit; `nn.network.as_unit_float` turns any slice of them into the
float32 [0, 1] inputs the network expects. The split is the book's: the first 50,000 training
images train, the last 10,000 validate, t10k tests.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import http.client
import os
import tempfile
import threading
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

DATA_DIR = Path(__file__).resolve().parent.parent / "data"

TRAIN_IMAGES = "train-images-idx3-ubyte.gz"
TRAIN_LABELS = "train-labels-idx1-ubyte.gz"
TEST_IMAGES = "t10k-images-idx3-ubyte.gz"
TEST_LABELS = "t10k-labels-idx1-ubyte.gz"

# Size in bytes and SHA-256 of each published .gz file.
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

PIXELS = 28 * 28
TRAIN_COUNT, VALIDATION_COUNT = 60_000, 10_000
CHUNK = 64 * 1024
USER_AGENT = "DigitLab/1.0 (MNIST downloader; python-urllib)"

Progress = Callable[[int, int, str], None]


class MnistError(ValueError):
    """The MNIST files are missing, damaged, mixed up or could not be downloaded.

    The message always names what was wrong and what to do about it, because it is shown to
    the person running the page.
    """


# --------------------------------------------------------------------------- loading


@dataclass(frozen=True, eq=False)
class MnistData:
    """The book's three splits. Images uint8 (n, 784) 0-255, labels uint8 (n,).

    Every array is read-only, so one instance can safely be shared by all visitors; train
    and validation are views into the same training array (no copies).
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


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _read(directory: Path, name: str) -> np.ndarray:
    """One verified file's items: images (n, 784) or labels (n,), read-only uint8."""
    path = directory / name
    try:
        packed = path.read_bytes()
    except OSError as e:
        raise MnistError(f"MNIST file {path} cannot be read ({e}).") from e
    if hashlib.sha256(packed).hexdigest() != FILES[name][1]:
        raise MnistError(
            f"MNIST file {path} is not the published {name} (its SHA-256 differs: damaged, "
            f"cut short or another file under this name). Delete it and download again "
            f"(nn.mnist.download_mnist), or put the four original files in one folder and "
            f"set MNIST_DIR to that folder."
        )
    header = 16 if "images" in name else 8  # IDX: magic, item count (and rows, columns)
    items = np.frombuffer(gzip.decompress(packed), dtype=np.uint8, offset=header)
    return items.reshape(-1, PIXELS) if header == 16 else items


def _candidate_dirs(explicit: Path | str | None) -> list[tuple[str, Path]]:
    """Where the files may be, in the order they are looked for, each with how it was chosen."""
    places = []
    if explicit is not None:
        places.append(("the folder given", Path(explicit)))
    if os.environ.get("MNIST_DIR"):
        places.append(("MNIST_DIR", Path(os.environ["MNIST_DIR"])))
    places.append(("the project's data folder", DATA_DIR))
    return places


def find_mnist_dir(explicit: Path | str | None = None) -> Path | None:
    """Return the first of (explicit, $MNIST_DIR, data/) holding all four files, else None.

    Only presence is checked here; the hashes are checked when the files are read.
    """
    for _, directory in _candidate_dirs(explicit):
        if all((directory / name).is_file() for name in FILES):
            return directory.resolve()
    return None


def _not_found(explicit: Path | str | None) -> MnistError:
    looked = "; ".join(f"{how}: {path}" for how, path in _candidate_dirs(explicit))
    return MnistError(
        f"The MNIST files ({', '.join(FILES)}) were not found together in any of the places "
        f"looked at ({looked}). Either download them (load_mnist(download=True) or "
        f"nn.mnist.download_mnist(), which saves them in {DATA_DIR}), or put the four files "
        f"in one folder and set the MNIST_DIR environment variable to it."
    )


def load_mnist(
    data_dir: Path | str | None = None, *, download: bool = False, progress: Progress | None = None
) -> MnistData:
    """Find, verify and read the four files into the book's train/validation/test split.

    Looks in `data_dir`, then $MNIST_DIR, then data/. If none holds the files, downloads them
    (into `data_dir` if given, else data/) when `download` is true, and otherwise raises
    MnistError saying where it looked and how to fix it.
    """
    directory = find_mnist_dir(data_dir)
    if directory is None:
        if not download:
            raise _not_found(data_dir)
        directory = download_mnist(
            Path(data_dir) if data_dir is not None else DATA_DIR, progress=progress
        )
    train_x, train_y = _read(directory, TRAIN_IMAGES), _read(directory, TRAIN_LABELS)
    test_x, test_y = _read(directory, TEST_IMAGES), _read(directory, TEST_LABELS)
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
            raise _not_found(data_dir)
        if directory not in _SHARED:
            _SHARED[directory] = load_mnist(directory)
        return _SHARED[directory]


# --------------------------------------------------------------------------- downloading


class _MirrorFailed(Exception):
    """One mirror could not deliver one file; the next mirror is tried."""


def _cannot_write(dest: Path, error: OSError) -> MnistError:
    return MnistError(
        f"Cannot save the MNIST download in {dest} ({error}). Free some disk space or make the "
        f"folder writable, or put the four files in a folder of your own and set MNIST_DIR to it."
    )


def _fetch(url: str, target: Path, timeout: float, on_bytes: Callable[[int], None]) -> None:
    """Download `url` to a temp file beside `target`, check its size and hash, move it in.

    The temp file is removed on every way out (errors, KeyboardInterrupt), so the folder only
    ever holds complete, verified files. A local write error is a MnistError at once (no
    mirror can fix a full or read-only disk); a mirror's failure is a _MirrorFailed.
    """
    size, sha = FILES[target.name]
    if not url.startswith(("http://", "https://")):
        raise _MirrorFailed("only http:// and https:// mirrors are supported")
    try:
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    except OSError as e:
        raise _cannot_write(target.parent, e) from e
    try:
        with os.fdopen(fd, "wb") as out:
            digest, got = hashlib.sha256(), 0
            request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
            try:
                with urllib.request.urlopen(request, timeout=timeout) as response:
                    while chunk := response.read(CHUNK):
                        got += len(chunk)
                        if got > size:
                            raise _MirrorFailed(
                                f"the server sent more than the expected {size:,} bytes; refused"
                            )
                        digest.update(chunk)
                        try:
                            out.write(chunk)
                        except OSError as e:
                            raise _cannot_write(target.parent, e) from e
                        on_bytes(got)
            except urllib.error.HTTPError as e:
                raise _MirrorFailed(f"HTTP error {e.code} {e.reason}") from e
            except urllib.error.URLError as e:
                raise _MirrorFailed(f"could not connect ({e.reason})") from e
            except (OSError, http.client.HTTPException) as e:
                raise _MirrorFailed(
                    f"the transfer broke off after {got:,} of {size:,} bytes "
                    f"({type(e).__name__}: {e})"
                ) from e
        if got != size:
            raise _MirrorFailed(f"the transfer ended after {got:,} of {size:,} bytes")
        if digest.hexdigest() != sha:
            raise _MirrorFailed(
                f"the file's SHA-256 is {digest.hexdigest()}, not the published {sha}"
            )
        os.replace(tmp, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


_DOWNLOAD_LOCK = threading.Lock()


def download_mnist(
    dest: Path | str = DATA_DIR,
    mirrors=MIRRORS,
    progress: Progress | None = None,
    timeout: float = 30.0,
) -> Path:
    """Make sure `dest` holds the four verified MNIST files, downloading what is missing.

    Files already there with the published hash are kept; others are fetched from the mirrors
    in order. `progress(done_bytes, TOTAL_BYTES, filename)` is called as bytes arrive;
    done_bytes never decreases (a mirror that fails halfway does not move it back) and ends
    at TOTAL_BYTES. Returns `dest`. Raises MnistError when a file cannot be had.
    """
    dest = Path(dest)
    shown = -1

    def report(done: int, name: str) -> None:
        nonlocal shown
        if done > shown:
            shown = done
            if progress is not None:
                progress(done, TOTAL_BYTES, name)

    with _DOWNLOAD_LOCK:
        try:
            dest.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise _cannot_write(dest, e) from e
        before = 0  # bytes of the files already done
        for name, (size, sha) in FILES.items():
            target = dest / name
            if not (target.is_file() and sha256_of(target) == sha):

                def on_bytes(got: int, done: int = before, name: str = name) -> None:
                    report(done + got, name)

                failures = []
                for base in mirrors:
                    url = base.rstrip("/") + "/" + name
                    try:
                        _fetch(url, target, timeout, on_bytes)
                        break
                    except _MirrorFailed as e:
                        failures.append(f"  - {url}: {e}")
                else:
                    raise MnistError(
                        f"Could not download {name} from any mirror:\n"
                        + ("\n".join(failures) or "  (no mirrors were given)")
                        + f"\n\nCheck the internet connection and try again, or get the four "
                        f"MNIST files ({', '.join(FILES)}) another way and put them in {dest}, "
                        f"or in a folder named by the MNIST_DIR environment variable."
                    )
            before += size
            report(before, name)
    return dest


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


# --------------------------------------------------------------------------- partial loads

TRAIN_POOL = 10_000  # training digits the page keeps for its neighbours (float32: 31 MB)


@dataclass(frozen=True, eq=False)
class TrainSample:
    """What the page's data panel keeps of the training split: the first `count` training
    digits (uint8 images, labels) and each digit's average over all 50,000 (float32 (10, 784),
    0-255). Read-only; the rest of the training file is dropped after reading."""

    images: np.ndarray
    labels: np.ndarray
    means: np.ndarray

    def __post_init__(self) -> None:
        for value in vars(self).values():
            value.flags.writeable = False


_TEST_PARTS: dict[Path, tuple[np.ndarray, np.ndarray]] = {}
_TRAIN_PARTS: dict[tuple[Path, int], TrainSample] = {}


def shared_test_set(data_dir: Path | str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """MNIST's 10,000 test digits (images uint8 (10000, 784), labels), read-only, once per
    process: 7.9 MB, not the 55 MB of all four files. Reuses `shared_mnist`'s copy if it is
    already loaded."""
    with _SHARED_LOCK:
        directory = find_mnist_dir(data_dir)
        if directory is None:
            raise _not_found(data_dir)
        if directory in _SHARED:
            data = _SHARED[directory]
            return data.test_images, data.test_labels
        if directory not in _TEST_PARTS:
            images, labels = _read(directory, TEST_IMAGES), _read(directory, TEST_LABELS)
            images.flags.writeable = labels.flags.writeable = False
            _TEST_PARTS[directory] = (images, labels)
        return _TEST_PARTS[directory]


def shared_train_sample(count: int = TRAIN_POOL, data_dir: Path | str | None = None) -> TrainSample:
    """The first `count` of the book's 50,000 training digits and the ten average digits,
    once per process (a copy of `count` rows: the decompressed file is let go)."""
    count = max(1, min(int(count), TRAIN_COUNT - VALIDATION_COUNT))
    with _SHARED_LOCK:
        directory = find_mnist_dir(data_dir)
        if directory is None:
            raise _not_found(data_dir)
        key = (directory, count)
        if key not in _TRAIN_PARTS:
            if directory in _SHARED:
                data = _SHARED[directory]
                images, labels = data.train_images, data.train_labels
            else:
                cut = TRAIN_COUNT - VALIDATION_COUNT
                images = _read(directory, TRAIN_IMAGES)[:cut]
                labels = _read(directory, TRAIN_LABELS)[:cut]
            means = np.stack(
                [images[labels == d].mean(axis=0, dtype=np.float64) for d in range(10)]
            ).astype(np.float32)
            _TRAIN_PARTS[key] = TrainSample(images[:count].copy(), labels[:count].copy(), means)
        return _TRAIN_PARTS[key]
