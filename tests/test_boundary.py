"""The engine (`nn/`) and the run service (`runs/`) import neither Streamlit nor Plotly nor
the canvas, and the engine never imports the run service: one fresh interpreter imports each
module in turn and reports which of those libraries each import brought into sys.modules."""

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

# Imports the modules named on its command line one after the other; for each, the page
# libraries that were not in sys.modules before it and are after. A module that imports one
# is named (an engine module imported earlier would be named instead, and fail too).
PROBE = """import importlib, json, sys
libraries, modules = sys.argv[1].split(","), sys.argv[2:]
def page():
    return {m for m in sys.modules if m.split(".")[0] in libraries}
report = {}
for module in modules:
    before = page()
    importlib.import_module(module)
    report[module] = sorted(page() - before)
print(json.dumps(report))
"""


@pytest.fixture(scope="module")
def page_libraries_loaded() -> dict[str, list[str]]:
    """For each engine module, then each run-service module, then `plotly` itself (to show
    the probe sees one), the page libraries (and `runs`) its import added."""
    watched = ",".join([*PAGE_LIBRARIES, "runs"])
    probe = subprocess.run(
        [sys.executable, "-c", PROBE, watched, *ENGINE_MODULES, *SERVICE_MODULES, "plotly"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert probe.returncode == 0, probe.stderr
    return json.loads(probe.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("module", ENGINE_MODULES)
def test_engine_module_imports_no_page_library_nor_the_run_service(module, page_libraries_loaded):
    assert page_libraries_loaded[module] == []


@pytest.mark.parametrize("module", SERVICE_MODULES)
def test_run_service_module_imports_no_page_library(module, page_libraries_loaded):
    assert [m for m in page_libraries_loaded[module] if m.split(".")[0] != "runs"] == []


def test_the_probe_sees_a_page_library(page_libraries_loaded):
    assert "plotly" in page_libraries_loaded["plotly"]
