"""Digit Lab: draw a digit and watch a small neural network read it.

    streamlit run app.py

The page, top to bottom. Each section lives in the page package `ui/` (see ui/__init__.py);
the network, the drawing's preparation, model files and training runs live in `nn/`, which
never imports Streamlit. The tab's session state is declared in `ui/state.py`.

A stroke reruns only the drawing row (a fragment, `ui.drawing`); a training run's live part
redraws itself twice a second (a fragment, `ui.training`); the other widgets rerun the page.
"""

from __future__ import annotations

from ui.drawing import drawing_ui
from ui.explain import explanation_ui
from ui.page import header_ui, setup_page
from ui.sidebar import model_picker_ui
from ui.state import init_state
from ui.training import init_training_state, training_ui


def main() -> None:
    setup_page()
    init_state()
    init_training_state()
    header_ui()
    model_picker_ui()
    drawing_ui()
    training_ui()
    explanation_ui()


main()
