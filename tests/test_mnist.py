"""Tests of nn.mnist: real-data loading, refusing files that are not the published ones, and
the downloader against a local HTTP server (tests/helpers.py's MirrorServer) that serves good,
truncated, wrong, oversized, interrupted and missing files."""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path

import numpy as np
import pytest

from nn import mnist
from nn.mnist import FILES, TOTAL_BYTES, MnistError
from tests.helpers import MirrorServer

README_TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
README_TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
BOOK_DARKNESS_ACCURACY = 0.2225  # measured here: 2,225 / 10,000, as the book reports
MEASURED_VALIDATION_DARKNESS = 0.2334


@pytest.fixture(scope="module")
def data(mnist_data) -> mnist.MnistData:
    return mnist_data  # what load_mnist read, loaded once for the whole session


@pytest.fixture
def isolated(monkeypatch, tmp_path):
    """No MNIST_DIR and an empty project data folder, so only what a test sets up is found."""
    monkeypatch.delenv("MNIST_DIR", raising=False)
    empty = tmp_path / "project-data"
    empty.mkdir()
    monkeypatch.setattr(mnist, "DATA_DIR", empty)
    return empty


@pytest.fixture
def server(mnist_dir):
    srv = MirrorServer(mnist_dir)
    yield srv
    srv.close()


def _assert_verified(dest: Path):
    assert sorted(os.listdir(dest)) == sorted(FILES)
    for name, (_, sha) in FILES.items():
        assert mnist.sha256_of(dest / name) == sha


# --------------------------------------------------------------------------- real data


def test_shapes_dtypes_counts_and_split(data):
    for images, labels, n in (
        (data.train_images, data.train_labels, 50_000),
        (data.val_images, data.val_labels, 10_000),
        (data.test_images, data.test_labels, 10_000),
    ):
        assert images.shape == (n, 784) and images.dtype == np.uint8
        assert labels.shape == (n,) and labels.dtype == np.uint8
    assert data.train_images.max() == 255 and data.train_images.min() == 0
    # Well-known first digits of each file: the split keeps the original order.
    assert list(data.train_labels[:5]) == [5, 0, 4, 1, 9]
    assert list(data.test_labels[:5]) == [7, 2, 1, 0, 4]
    train_all = np.concatenate([data.train_labels, data.val_labels])
    assert np.bincount(train_all, minlength=10).tolist() == README_TRAIN_COUNTS
    assert np.bincount(data.test_labels, minlength=10).tolist() == README_TEST_COUNTS


def test_arrays_are_read_only_and_train_val_share_one_buffer(data):
    for name in (
        "train_images",
        "train_labels",
        "val_images",
        "val_labels",
        "test_images",
        "test_labels",
    ):
        array = getattr(data, name)
        with pytest.raises(ValueError):
            array[0] = 1
    for train, val in ((data.train_images, data.val_images), (data.train_labels, data.val_labels)):
        # Validation starts right where train ends, in the same buffer: views, no copies.
        assert np.shares_memory(train.base, val)
        assert (
            val.__array_interface__["data"][0] - train.__array_interface__["data"][0]
            == train.nbytes
        )


def test_average_darkness_matches_the_book(data):
    result = mnist.average_darkness(data)
    # The digit 1 has the least ink, 0 the most: the intuition behind the baseline.
    assert int(np.argmin(result["per_digit"])) == 1
    assert int(np.argmax(result["per_digit"])) == 0
    assert result["test_accuracy"] == pytest.approx(BOOK_DARKNESS_ACCURACY, abs=0.002)
    assert result["validation_accuracy"] == pytest.approx(MEASURED_VALIDATION_DARKNESS, abs=0.002)


def test_shared_mnist_is_one_object_for_all_callers(mnist_dir, monkeypatch):
    monkeypatch.setattr(mnist, "_SHARED", {})
    loads = []
    all_started = threading.Event()

    def load(directory):  # holds the first caller until every thread has asked
        loads.append(directory)
        all_started.wait(timeout=10)
        return object()

    monkeypatch.setattr(mnist, "load_mnist", load)
    results = []
    threads = [
        threading.Thread(target=lambda: results.append(mnist.shared_mnist(mnist_dir)))
        for _ in range(4)
    ]
    for t in threads:
        t.start()
    all_started.set()
    for t in threads:
        t.join(timeout=60)
    monkeypatch.setenv("MNIST_DIR", str(mnist_dir))
    results.append(mnist.shared_mnist())  # found via the environment: same folder, same object
    assert len(results) == 5 and all(r is results[0] for r in results)
    assert len(loads) == 1


# --------------------------------------------------------------------------- finding


def _touch_all(directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name in FILES:
        (directory / name).write_bytes(b"")
    return directory


def test_find_order_explicit_then_env_then_data(isolated, tmp_path, monkeypatch):
    assert mnist.find_mnist_dir() is None
    _touch_all(isolated)
    assert mnist.find_mnist_dir() == isolated.resolve()
    env_dir = _touch_all(tmp_path / "env")
    monkeypatch.setenv("MNIST_DIR", str(env_dir))
    assert mnist.find_mnist_dir() == env_dir.resolve()
    explicit = _touch_all(tmp_path / "explicit")
    assert mnist.find_mnist_dir(explicit) == explicit.resolve()
    (explicit / mnist.TRAIN_IMAGES).unlink()  # incomplete: falls through to MNIST_DIR
    assert mnist.find_mnist_dir(explicit) == env_dir.resolve()


def test_missing_files_error_says_where_and_how(isolated, tmp_path, monkeypatch):
    monkeypatch.setenv("MNIST_DIR", str(tmp_path / "nowhere"))
    with pytest.raises(MnistError) as info:
        mnist.load_mnist(tmp_path / "given")
    message = str(info.value)
    for place in (tmp_path / "given", tmp_path / "nowhere", isolated):
        assert str(place) in message
    assert "MNIST_DIR" in message and "download" in message
    with pytest.raises(MnistError):
        mnist.shared_mnist(tmp_path / "given")


# --------------------------------------------------------------------------- bad files


def _folder_of_real_files(mnist_dir: Path, target: Path, **replace: bytes) -> Path:
    """The four real files (links to them) in `target`; `replace` maps a name to other
    content, written as a file of its own."""
    target.mkdir()
    for name in FILES:
        if name in replace:
            (target / name).write_bytes(replace[name])
        else:
            (target / name).symlink_to(mnist_dir / name)
    return target


@pytest.mark.parametrize(
    ("case", "name"),  # the file read first (refused at once) and the one read last
    [
        ("cut short", mnist.TRAIN_IMAGES),
        ("one byte changed", mnist.TRAIN_IMAGES),
        ("another file's content", mnist.TRAIN_IMAGES),
        ("one byte changed", mnist.TEST_LABELS),
    ],
)
def test_a_file_that_is_not_the_published_one_is_refused_by_name(mnist_dir, tmp_path, case, name):
    real = (mnist_dir / name).read_bytes()
    other = mnist.TRAIN_LABELS if name == mnist.TEST_LABELS else mnist.TEST_IMAGES
    bad = {
        "cut short": real[:-10],
        "one byte changed": real[:100] + bytes([real[100] ^ 1]) + real[101:],
        "another file's content": (mnist_dir / other).read_bytes(),
    }[case]
    folder = _folder_of_real_files(mnist_dir, tmp_path / "bad", **{name: bad})
    with pytest.raises(MnistError) as info:
        mnist.load_mnist(folder)
    message = str(info.value)
    assert str(folder / name) in message and "SHA-256" in message
    assert "MNIST_DIR" in message and "download" in message  # and says what to do


def test_an_unreadable_file_is_a_clear_error(mnist_dir, tmp_path):
    folder = _folder_of_real_files(mnist_dir, tmp_path / "odd")
    (folder / mnist.TRAIN_LABELS).unlink()
    (folder / mnist.TRAIN_LABELS).mkdir()  # present by name, but a folder: cannot be read
    (folder / mnist.TRAIN_LABELS / "x").write_bytes(b"")
    with pytest.raises(MnistError, match="cannot be read"):
        mnist._read(folder, mnist.TRAIN_LABELS)


# --------------------------------------------------------------------------- downloading


def test_download_falls_back_to_second_mirror_with_progress(server, tmp_path):
    calls = []
    dest = mnist.download_mnist(
        tmp_path / "data",
        mirrors=[server.url("wrong"), server.url("good")],
        progress=lambda *args: calls.append(args),
    )
    assert dest == tmp_path / "data"
    _assert_verified(dest)
    assert all(total == TOTAL_BYTES and name in FILES for _, total, name in calls)
    done = [d for d, _, _ in calls]
    assert done == sorted(done) and done[-1] == TOTAL_BYTES and done[0] > 0
    assert len(calls) > 8  # reported while bytes arrive, not only per file
    assert {p.split("/")[1] for p in server.requests} == {"wrong", "good"}
    # the published bytes (checked above) are what load_mnist reads: test_shapes_... reads them


def test_all_mirrors_bad_leaves_nothing_behind(server, tmp_path):
    dest = tmp_path / "data"
    mirrors = [server.url(m) for m in ("missing", "short", "wrong", "big", "cut")]
    with pytest.raises(MnistError) as info:
        mnist.download_mnist(dest, mirrors=mirrors)
    message = str(info.value)
    for mirror in mirrors:
        assert mirror + mnist.TRAIN_IMAGES in message
    for words in ("404", "ended after", "SHA-256", "more than the expected"):
        assert words in message
    assert "MNIST_DIR" in message and str(dest) in message
    assert os.listdir(dest) == []


def test_interrupted_transfer_leaves_no_partial_file_and_retry_works(server, tmp_path):
    dest = tmp_path / "data"
    with pytest.raises(MnistError, match="broke off|ended after"):
        mnist.download_mnist(dest, mirrors=[server.url("flaky")])
    assert os.listdir(dest) == []
    mnist.download_mnist(dest, mirrors=[server.url("flaky")])
    _assert_verified(dest)


def test_keyboard_interrupt_removes_temp_file(server, tmp_path):
    dest = tmp_path / "data"

    def interrupt(done, total, name):
        if done > 100_000:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        mnist.download_mnist(dest, mirrors=[server.url("good")], progress=interrupt)
    assert os.listdir(dest) == []


def test_unwritable_destination_is_a_clear_error(server, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_bytes(b"")
    with pytest.raises(MnistError, match="Cannot save the MNIST download"):
        mnist.download_mnist(blocker / "data", mirrors=[server.url("good")])
    assert server.requests == []


def test_present_good_files_are_not_downloaded_again(server, mnist_dir, tmp_path):
    dest = tmp_path / "data"
    dest.mkdir()
    for name in FILES:
        shutil.copy(mnist_dir / name, dest / name)
    (dest / mnist.TEST_LABELS).write_bytes(b"damaged")
    calls = []
    mnist.download_mnist(dest, mirrors=[server.url("good")], progress=lambda *a: calls.append(a))
    assert server.requests == [f"/good/{mnist.TEST_LABELS}"]
    _assert_verified(dest)
    assert calls[-1] == (TOTAL_BYTES, TOTAL_BYTES, mnist.TEST_LABELS)
    mnist.download_mnist(dest, mirrors=[server.url("good")])
    assert len(server.requests) == 1


def test_load_with_download_fetches_into_the_given_folder(server, isolated, tmp_path, monkeypatch):
    real_download = mnist.download_mnist
    monkeypatch.setattr(
        mnist,
        "download_mnist",
        lambda dest, progress=None: real_download(dest, [server.url("good")], progress),
    )
    data = mnist.load_mnist(tmp_path / "fresh", download=True)
    _assert_verified(tmp_path / "fresh")
    assert len(data.test_labels) == 10_000
