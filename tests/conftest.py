"""Fixtures shared by the tests: where the real MNIST is, one loaded copy of it, a tiny
stand-in for it (`FakeData`), and a stand-in for the drawing canvas (AppTest cannot draw on
the real one). Helpers that are not fixtures live in tests/helpers.py."""

import sys
import types
from pathlib import Path

import pytest

from tests.helpers import FAST_EXAMPLES, FAST_PROFILE, find_real_mnist

# The fast loop's marker expressions: they deselect every browser test (all are `slow`).
FAST_LOOP = ("not slow", "not browser", "not slow and not browser")


def pytest_configure(config):
    """The fast loop draws fewer examples in the property tests (see `examples` in
    tests/helpers.py); every other run draws each test's full count."""
    if config.getoption("markexpr") in FAST_LOOP:
        from hypothesis import settings

        settings.register_profile(FAST_PROFILE, max_examples=FAST_EXAMPLES)
        settings.load_profile(FAST_PROFILE)


@pytest.fixture(scope="session", autouse=True)
def _one_component_scan():
    """Every AppTest scans all installed packages' metadata for Streamlit components (about
    0.1 s of CPU each, some 50 AppTests per run): scan once per session instead. Nothing is
    installed while the tests run, so every scan would find the same. If Streamlit moves the
    scanner, the tests still run, only slower."""
    if "streamlit" not in sys.modules:  # no test module imported it: no AppTest in this run
        yield
        return
    import functools

    try:
        from streamlit.components.v2 import manifest_scanner
    except ImportError:
        manifest_scanner = None
    scan = getattr(manifest_scanner, "scan_component_manifests", None)
    if scan is None:
        yield
        return
    manifest_scanner.scan_component_manifests = functools.cache(scan)
    yield
    manifest_scanner.scan_component_manifests = scan


def pytest_ignore_collect(collection_path, config):
    """In the fast loop, do not even import tests/browser (Playwright alone takes ~0.5 s to
    import) nor a module marked slow as a whole (`pytestmark = pytest.mark.slow` on a line of
    its own): their tests would all be deselected anyway, and importing them costs about a
    second (websockets, networks built at import)."""
    if config.getoption("markexpr") not in FAST_LOOP:
        return None
    if collection_path.name == "browser":
        return True
    if collection_path.suffix == ".py" and collection_path.name.startswith("test_"):
        lines = collection_path.read_text(encoding="utf-8").splitlines()
        if "pytestmark = pytest.mark.slow" in lines:
            return True
    return None


@pytest.fixture(scope="session")
def mnist_dir() -> Path:
    return find_real_mnist()


@pytest.fixture(scope="session")
def mnist_data(mnist_dir):
    from nn.mnist import shared_mnist

    return shared_mnist(mnist_dir)


class FakeCanvas:
    """Stands in for st_canvas: returns `image` until the page asks for a new key."""

    def __init__(self):
        self.image = None
        self.keys = []
        self.kwargs = {}

    def __call__(self, **kwargs):
        if self.keys and kwargs.get("key") != self.keys[-1]:
            self.image = None  # a new key mounts a new, empty canvas
        self.keys.append(kwargs.get("key"))
        self.kwargs = kwargs
        return types.SimpleNamespace(image_data=self.image, json_data=None)


@pytest.fixture
def canvas(monkeypatch) -> FakeCanvas:
    fake = FakeCanvas()
    module = types.ModuleType("streamlit_drawable_canvas")
    module.st_canvas = fake
    monkeypatch.setitem(sys.modules, "streamlit_drawable_canvas", module)
    if "ui.drawing" in sys.modules:  # imported by an earlier test: it holds that test's fake
        monkeypatch.setattr(sys.modules["ui.drawing"], "st_canvas", fake)
    return fake
