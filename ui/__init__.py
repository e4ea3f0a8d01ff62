"""Digit Lab's page: everything a visitor sees, laid out by `app.py` (the entry point).

One module per part of the page, each with its `*_ui()` functions:

- `ui.state`: the tab's session state, with one owner: every key (`TabState`, the widgets'
  and fragments' keys) and every change to the networks the picker offers.
- `ui.sidebar`: which network answers: the picker, its facts, download and upload.
- `ui.drawing`: the drawing row (canvas, answer, 28x28 image, output bars, hidden layer),
  a fragment: a stroke reruns only this row.
- `ui.training`: the training section: presets, settings, buttons and the live part (a
  fragment that redraws itself twice a second while a run is under way); `ui.step`: the
  mini-batch just done (BP1, BP2, BP4), under the live part while paused or slow.
- `ui.teach`: "teach it your handwriting" (part of the drawing row); `ui.neurons`: what
  each hidden neuron looks for (a fragment a stroke reruns); `ui.mistakes`: the confusion
  matrix and galleries of mistakes; `ui.share`: a set-up carried by the page's link.
- The learner's lab: `ui.landing` (where the drawing lands: a PCA map of the hidden layer),
  `ui.surgery` (operating on hidden neurons, inside `ui.neurons`), `ui.neighbours` (the data
  and the drawing's nearest training digits), `ui.hints` (the book's hints under a run's
  curves); `ui.follow`: which open panels a stroke reruns.
- `ui.download`: the one background MNIST download per server, with its progress.
- `ui.explain`: "What am I looking at?"; `ui.page`: the page's frame (configuration, icon,
  style, title, the bounds installed once per server, the guard around each section).
- `ui.charts`: the drawing's and the training's charts, as plain plotly dicts (the insight
  panels build theirs as plotly figures); `ui.presets`: the book's runs; `ui.text`: untrusted
  text made safe to show.
- `ui.compat`: every use of Streamlit's or the canvas component's internals, each checked by
  tests/test_compat.py or tests/test_compat_bounds.py.
- `ui.bounds`: what one visitor and one server copy may make the server hold (docs/bounds.md);
  `ui.analysis`: an uploaded network measured on MNIST's test digits within a CPU bound.

The engine (`nn/`) never imports Streamlit or plotly; the page only calls it.
"""
