"""Every place the page relies on Streamlit's or the canvas component's internals.

The page otherwise uses only public API. Each function here leans on something a library does
not promise (a name, a private attribute, a hidden option), pinned in requirements.txt today;
tests/test_compat.py checks each one against the installed libraries in a fraction of a second,
so an upgrade that changes one fails the fast loop, not only a browser test or a visitor.

- `canvas_with_toolbar_style`: the canvas component's registration name and files.
- `unvalidated_figure`: how `st.plotly_chart` treats a plotly Figure (`to_dict()`, trusted).
- `reruns_only_fragments`: `ScriptRunContext.fragment_ids_this_run`.
- `POST_SCRIPT_GC`: the hidden option `runner.postScriptGC`, set in .streamlit/config.toml.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from typing import Any

import streamlit.components.v2 as components_v2
from plotly.graph_objects import Figure

# The name streamlit_drawable_canvas 0.13.0 registers its v2 component under
# ("<distribution>.<component in its pyproject.toml>"), and what it registers.
CANVAS_COMPONENT = "streamlit-drawable-canvas.streamlit_drawable_canvas"
CANVAS_ROOT_HTML = '<div class="canvas-root"></div>'

# Streamlit's hidden option for its full garbage collection after every script run;
# .streamlit/config.toml switches it off (see docs/measuring.md for why).
POST_SCRIPT_GC = "runner.postScriptGC"


def canvas_with_toolbar_style(style: str) -> Callable[..., Any]:
    """`st_canvas`, with `style` (CSS) added inside the component's shadow root.

    The component's toolbar floats over the canvas and has no option to move it, and the
    page's own CSS cannot reach into the shadow root. A v2 component's inline HTML is placed
    inside that root, so the style goes into the HTML the component is registered with. It is
    registered once: `streamlit_drawable_canvas` registers itself when imported, so it is
    imported here with `st.components.v2.component` wrapped for that one call, adding the
    style to its HTML. (Registering it a second time under its name, as the page once did,
    makes Streamlit log "already registered ... may lead to unexpected behavior".)

    The canvas module must not have been imported before (the page imports it only through
    here); if it was, its own `st_canvas` is returned and the toolbar keeps its own look.
    A stand-in module that tests put in sys.modules is returned as it is.
    """
    if "streamlit_drawable_canvas" not in sys.modules:
        register = components_v2.component

        def register_with_style(name: str, **kwargs: Any) -> Any:
            if name == CANVAS_COMPONENT and kwargs.get("html") == CANVAS_ROOT_HTML:
                kwargs["html"] = f"{CANVAS_ROOT_HTML}<style>{style}</style>"
            return register(name, **kwargs)

        components_v2.component = register_with_style
        try:
            importlib.import_module("streamlit_drawable_canvas")
        finally:
            components_v2.component = register
    return sys.modules["streamlit_drawable_canvas"].st_canvas


class _Unvalidated(Figure):
    """A figure dict passed to st.plotly_chart as it is.

    `st.plotly_chart` runs a dict through plotly's validators (`Figure(**spec)`, slow: it cost
    more than the rest of a stroke), but takes a `Figure`'s `to_dict()` as already checked.
    """

    def __init__(self, spec: dict):  # deliberately not Figure.__init__: nothing to validate
        self._spec = spec

    def to_dict(self) -> dict:
        return self._spec


def unvalidated_figure(spec: dict) -> Figure:
    """`spec`, for `st.plotly_chart`, which then sends it to the browser unchecked.

    Only for dicts whose shape tests check (ui/charts.py's, tests/test_charts.py)."""
    return _Unvalidated(spec)


def reruns_only_fragments() -> bool:
    """Whether the current script run reruns only fragments (not the whole page).

    Streamlit keeps this in its script run context (`fragment_ids_this_run`, empty or None for
    a whole-page run). If that ever cannot be read, True: the caller then reruns the page,
    which is safe, only slower.
    """
    try:
        from streamlit.runtime.scriptrunner import get_script_run_ctx

        ctx = get_script_run_ctx()
        return bool(ctx is not None and ctx.fragment_ids_this_run)
    except (ImportError, AttributeError):
        return True
