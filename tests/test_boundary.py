"""The engine (`nn/`) and the run service (`runs/`) import neither Streamlit nor Plotly: each
of their modules, imported alone in a fresh interpreter, leaves both out of sys.modules; and
the engine never imports the run service."""

import json
import subprocess
import sys

import pytest

from tests.helpers import REPO

ENGINE_MODULES = ["nn"] + sorted(
    f"nn.{path.stem}" for path in (REPO / "nn").glob("*.py") if path.stem != "__init__"
)
SERVICE_MODULES = ["runs"] + sorted(
    f"runs.{path.stem}" for path in (REPO / "runs").glob("*.py") if path.stem != "__init__"
)
PAGE_LIBRARIES = ("streamlit", "plotly", "streamlit_drawable_canvas")

PROBE = """import importlib, json, sys
module, libraries = sys.argv[1], sys.argv[2:]
importlib.import_module(module)
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in libraries)))
"""


@pytest.fixture(scope="module")
def page_libraries_loaded() -> dict[str, list[str]]:
    """For each module (and `plotly` itself, to show the probe sees it), the page libraries
    in sys.modules after importing it alone: one fresh interpreter each, all run at once."""
    names = [*ENGINE_MODULES, *SERVICE_MODULES, "plotly"]
    probes = {
        name: subprocess.Popen(
            [sys.executable, "-c", PROBE, name, *PAGE_LIBRARIES, "runs"],
            cwd=REPO,
            text=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for name in names
    }
    loaded = {}
    for name, probe in probes.items():
        out, err = probe.communicate(timeout=120)
        assert probe.returncode == 0, f"importing {name} failed:\n{err}"
        loaded[name] = json.loads(out.strip().splitlines()[-1])
    return loaded


@pytest.mark.parametrize("module", ENGINE_MODULES)
def test_engine_module_imports_no_page_library_nor_the_run_service(module, page_libraries_loaded):
    assert page_libraries_loaded[module] == []


@pytest.mark.parametrize("module", SERVICE_MODULES)
def test_run_service_module_imports_no_page_library(module, page_libraries_loaded):
    assert [m for m in page_libraries_loaded[module] if m.split(".")[0] != "runs"] == []


def test_the_probe_sees_a_page_library(page_libraries_loaded):
    assert "plotly" in page_libraries_loaded["plotly"]
