"""Digit Lab: draw a digit and watch a small neural network read it.

    streamlit run app.py

The page, top to bottom. Each section lives in the page package `ui/` (see ui/__init__.py);
the network, the drawing's preparation, model files and training runs live in `nn/`, which
never imports Streamlit. The tab's state has one owner, `ui/state.py`: every key is declared
there and every change to the picker is a function there.

Each part is run through `ui.page.section`: an exception in one shows a short message in its
place and the others still work. A stroke reruns only what follows the drawing: the drawing
row with its teaching panel and the hidden neurons' panel (fragments, `ui.drawing`,
`ui.neurons`), and the lab's panels while open (`ui.landing`, `ui.neighbours`, see
`ui.follow`); a training run's live part redraws itself twice a second (a fragment,
`ui.training`); the other widgets rerun the page.

The other panels are given what they show here. A fragment reads the tab's state itself
(`*_section_ui`): when it reruns alone, Streamlit calls it again with the arguments of the
last whole-page run, which a stroke has made stale.
"""

from __future__ import annotations

from ui.drawing import drawing_ui
from ui.explain import explanation_ui
from ui.landing import landing_section_ui
from ui.mistakes import mistakes_ui
from ui.neighbours import neighbours_section_ui
from ui.neurons import neurons_section_ui
from ui.page import header_ui, section, setup_page
from ui.share import restore_link
from ui.sidebar import model_picker_ui
from ui.state import current, current_run, init_state, networks, selected, tab
from ui.training import training_ui


def main() -> None:
    setup_page()
    init_state()
    # Each part below is guarded: an exception shows a short message in its place (and its
    # traceback in the server's log), and the rest of the page works (ui.page.section).
    section(restore_link)  # a shared link's settings and network, once per tab
    answering = current()  # the network that answers, as the picker and the link left it
    section(header_ui)
    section(model_picker_ui, list(networks()), answering, tab().network_note, tab().upload_note)
    section(drawing_ui)  # fragment: canvas, answer and teaching
    section(neurons_section_ui)  # fragment
    section(landing_section_ui)  # fragment
    section(neighbours_section_ui)  # fragment
    section(mistakes_ui, answering.net, selected(), current_run())
    section(training_ui)
    section(explanation_ui, answering.net)


main()
