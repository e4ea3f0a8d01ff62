"""ui.download: the server's one background download of MNIST, watched by every page."""

import os

import pytest

from nn.mnist import FILES, TOTAL_BYTES, sha256_of
from tests.helpers import MirrorServer
from ui.download import BackgroundDownload


@pytest.fixture
def server(mnist_dir):
    srv = MirrorServer(mnist_dir)
    yield srv
    srv.close()


@pytest.fixture(autouse=True)
def no_download_yet(monkeypatch):
    monkeypatch.setattr(BackgroundDownload, "_current", None)


def test_background_download_is_shared_reports_progress_and_can_be_retried(
    server, tmp_path, caplog
):
    dest = tmp_path / "data"
    assert BackgroundDownload.current() is None
    failing = BackgroundDownload.start(dest, mirrors=[server.url("missing")])
    status = failing.wait(30)
    # the page is told what happened; the details (mirrors, folders) go to the server's log
    assert status["finished"] and "no mirror could deliver" in status["error"]
    assert str(dest) not in status["error"] and "MNIST_DIR" in caplog.text
    assert os.listdir(dest) == []
    job = BackgroundDownload.start(dest, mirrors=[server.url("good")])  # a retry
    assert job is not failing and BackgroundDownload.current() is job
    assert BackgroundDownload.start(dest, mirrors=[server.url("good")]) is job  # shared
    status = job.wait(60)
    assert status["finished"] and status["error"] is None
    assert status["done"] == status["total"] == TOTAL_BYTES
    assert all(sha256_of(dest / name) == sha for name, (_, sha) in FILES.items())
    assert BackgroundDownload.start(dest, mirrors=[server.url("good")]) is job  # done: kept


def test_an_unexpected_error_is_reported_not_lost(monkeypatch, tmp_path, caplog):
    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr("ui.download.download_mnist", broken)
    status = BackgroundDownload.start(tmp_path).wait(30)
    assert status["finished"] and "failed unexpectedly" in status["error"]
    assert "RuntimeError: boom" in caplog.text
