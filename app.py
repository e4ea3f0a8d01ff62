"""Digit Lab: draw a digit and watch a small neural network read it.

    streamlit run app.py

The page, top to bottom. Each section lives in the page package `ui/` (see ui/__init__.py);
the network, the drawing's preparation, model files and training runs live in `nn/`, which
never imports Streamlit. The tab's session state is declared in `ui/state.py`.

Each part is run through `ui.page.section`: an exception in one shows a short message in its
place and the others still work. A stroke reruns only what follows the drawing: the drawing
row with its teaching panel and the hidden neurons' panel (fragments, `ui.drawing`,
`ui.neurons`), and the lab's panels while open (`ui.landing`, `ui.neighbours`, see
`ui.follow`); a training run's live part redraws itself twice a second (a fragment,
`ui.training`); the other widgets rerun the page.
"""

from __future__ import annotations

from ui.drawing import drawing_ui
from ui.explain import explanation_ui
from ui.landing import landing_section_ui
from ui.mistakes import mistakes_section_ui
from ui.neighbours import neighbours_section_ui
from ui.neurons import neurons_section_ui
from ui.page import header_ui, section, setup_page
from ui.sidebar import model_picker_ui
from ui.state import init_state
from ui.training import init_training_state, restore_link, training_ui


def main() -> None:
    setup_page()
    init_state()
    init_training_state()
    # Each part below is guarded: an exception shows a short message in its place (and its
    # traceback in the server's log), and the rest of the page works (ui.page.section).
    for part in (
        restore_link,
        header_ui,
        model_picker_ui,
        drawing_ui,
        neurons_section_ui,
        landing_section_ui,
        neighbours_section_ui,
        mistakes_section_ui,
        training_ui,
        explanation_ui,
    ):
        section(part)


main()
