"""The engine/page boundary: nothing in nn/ imports Streamlit or plotly (the page's tools)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
ENGINE = sorted(p.stem for p in (REPO / "nn").glob("*.py") if p.stem != "__init__")
PAGE_ONLY = ("streamlit", "plotly", "streamlit_drawable_canvas")


@pytest.mark.parametrize("module", ENGINE)
def test_an_engine_module_imports_no_page_library(module):
    """Each module alone in a fresh interpreter: what it pulls in, directly or not."""
    code = (f"import sys, nn.{module}; "
            f"print(sorted({{m.split('.')[0] for m in sys.modules}} & {set(PAGE_ONLY)!r}))")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, check=False,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]", f"nn.{module} imports {out.stdout.strip()}"


def test_the_engine_list_is_not_empty():
    assert {"network", "models", "preprocess", "modelfile"} <= set(ENGINE)
