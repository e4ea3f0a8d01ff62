"""The drawing page's logic (AppTest, with an injected drawing) and the model catalogue.

AppTest runs app.py headless. The canvas component cannot draw there, so a stand-in
`streamlit_drawable_canvas` module is put in sys.modules: its `st_canvas` returns the drawing
the test chose, and, like the real canvas, an empty one whenever the key changes (the page's
"Clear canvas" changes the key). The real canvas is covered by tests/browser.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from nn.modelfile import ModelFileError, load_model, model_bytes
from nn.models import (SHIPPED, as_grid, describe, download_name, label_for, load_shipped,
                       load_upload, pixelated, read, unique_label, upload_label)
from nn.preprocess import canvas_to_mnist
from tests.helpers import APP, STROKES, canvas_image

# Drawings as the canvas returns them (280x280 RGBA, white ink on opaque black).
ONE, SEVEN, ZERO = (canvas_image(STROKES[d]) for d in (1, 7, 0))
BLACK = canvas_image([])  # what the canvas's own "reset" sends back
DRAWINGS = {0: ZERO, 1: ONE, 7: SEVEN}


# --- the page, with a stand-in canvas -----------------------------------------------------


@pytest.fixture
def at(canvas) -> AppTest:
    app = AppTest.from_file(APP, default_timeout=30)
    app.run()
    assert not app.exception, app.exception
    return app


def rerun(app: AppTest) -> AppTest:
    app.run()
    assert not app.exception, app.exception
    return app


def charts(app: AppTest) -> list[dict]:
    return [json.loads(chart.proto.spec) for chart in app.get("plotly_chart")]


def answer(app: AppTest) -> str | None:
    return app.metric[0].value if len(app.metric) else None


def shows_prompt(app: AppTest) -> bool:
    return any("Draw a digit" in info.value for info in app.info)


# --- the page -------------------------------------------------------------------------------


def test_empty_canvas_prompts_without_answer(at, canvas):
    assert shows_prompt(at)
    assert answer(at) is None
    assert charts(at) == []
    assert at.session_state["drawing"] is None
    assert not at.error and not at.warning
    # the canvas is set up to answer on every stroke, MNIST polarity, fixed size
    assert canvas.kwargs["update_streamlit"] is True
    assert canvas.kwargs["return_image_data"] is True
    assert canvas.kwargs["background_color"] == "#000000"
    assert canvas.kwargs["stroke_color"] == "#FFFFFF"
    assert canvas.kwargs["drawing_mode"] == "freedraw"
    assert (canvas.kwargs["width"], canvas.kwargs["height"]) == (280, 280)


def test_reset_canvas_is_empty_too(at, canvas):
    canvas.image = BLACK  # after the canvas toolbar's reset the image is all black, not None
    rerun(at)
    assert shows_prompt(at) and answer(at) is None and charts(at) == []


@pytest.mark.parametrize("digit", sorted(DRAWINGS))
def test_drawing_is_read_and_charted(at, canvas, digit):
    canvas.image = DRAWINGS[digit]
    rerun(at)
    assert not shows_prompt(at)
    assert answer(at) == str(digit)

    image = at.session_state["drawing"]
    assert image.shape == (28, 28) and image.dtype == np.float32
    np.testing.assert_array_equal(image, canvas_to_mnist(DRAWINGS[digit]))

    net, _ = load_model(SHIPPED[0].path)
    expected = net.activations(image.reshape(-1))
    output, hidden = charts(at)
    bars = output["data"][0]
    assert bars["type"] == "bar"
    assert bars["x"] == [str(d) for d in range(10)]
    np.testing.assert_allclose(bars["y"], expected[-1], rtol=1e-5)
    colours = bars["marker"]["color"]
    assert len(set(colours)) == 2
    assert [d for d in range(10) if colours[d] != colours[(digit + 1) % 10]] == [digit]
    assert "activation" in json.dumps(output["layout"]["yaxis"]["title"]).lower()
    assert "not probabilities" in json.dumps(output["layout"]["title"])

    cells = np.array(hidden["data"][0]["z"], dtype=float)
    values = cells[~np.isnan(cells)]
    np.testing.assert_allclose(values, expected[1], rtol=1e-5)
    assert f"{net.sizes[1]} neurons" in json.dumps(hidden["layout"]["title"])
    assert len(at.get("image")) == 1  # the 28x28 image the network reads


def test_clear_canvas_brings_back_the_prompt(at, canvas):
    canvas.image = SEVEN
    rerun(at)
    assert answer(at) == "7"
    key = canvas.keys[-1]
    at.button[0].click()
    rerun(at)
    assert canvas.keys[-1] != key  # a new, empty canvas
    assert shows_prompt(at) and answer(at) is None and charts(at) == []
    assert at.session_state["drawing"] is None


def test_picker_offers_shipped_models_default_first(at):
    options = at.selectbox(key="selected").options
    assert options == list(load_shipped())
    assert options[0].startswith("Default: [784, ")
    assert options[1].startswith("The book's: [784, 30, 10]")
    assert at.selectbox(key="selected").value == options[0]


def test_switching_model_changes_the_reading(at, canvas):
    canvas.image = SEVEN
    rerun(at)
    default_output = charts(at)[0]["data"][0]["y"]
    at.selectbox(key="selected").select(at.selectbox(key="selected").options[1])
    rerun(at)
    book, _ = load_model(SHIPPED[1].path)
    output, hidden = charts(at)
    expected = book.activations(at.session_state["drawing"].reshape(-1))
    np.testing.assert_allclose(output["data"][0]["y"], expected[-1], rtol=1e-5)
    assert output["data"][0]["y"] != default_output
    assert "30 neurons" in json.dumps(hidden["layout"]["title"])
    assert answer(at) == str(int(np.argmax(expected[-1])))
    assert any("30 neurons" in m.value for m in at.markdown)  # the explanation follows


def test_a_network_added_to_session_state_can_answer(at, canvas):
    """What the training section will do: add a network to the tab's dict and select it."""
    book, meta = load_model(SHIPPED[1].path)
    at.session_state["networks"]["Trained here: [784, 30, 10]"] = (book, meta)
    rerun(at)
    at.selectbox(key="selected").select("Trained here: [784, 30, 10]")
    canvas.image = ONE
    rerun(at)
    assert at.selectbox(key="selected").options[-1] == "Trained here: [784, 30, 10]"
    assert at.selectbox(key="selected").value == "Trained here: [784, 30, 10]"
    assert answer(at) == "1"
    assert "30 neurons" in json.dumps(charts(at)[1]["layout"]["title"])


def test_page_shows_an_explanation_and_no_warnings(at):
    text = " ".join(m.value for m in at.markdown)
    assert "not probabilities" in text
    assert "28 × 28" in text
    assert not at.warning and not at.error and not at.exception


# --- the catalogue and helpers (nn.models) --------------------------------------------------


def test_shipped_models_in_picker_order():
    assert [m.path.name for m in SHIPPED] == ["default.npz", "book.npz"]
    models = load_shipped()
    labels = list(models)
    assert len(labels) == 2
    default, book = models[labels[0]][0], models[labels[1]][0]
    assert default.sizes[0] == 784 and default.sizes[-1] == 10
    assert book.sizes == [784, 30, 10]
    for label, (net, meta) in models.items():
        accuracy = f"{100 * meta['test_accuracy']:.1f} % on test"
        assert label.endswith(accuracy)


def test_labels_are_built_from_metadata():
    net, _ = load_model(SHIPPED[1].path)
    assert describe(net, {"test_accuracy": 0.9542}) == "[784, 30, 10], 95.4 % on test"
    assert describe(net, {}) == "[784, 30, 10]"
    assert describe(net, {"test_accuracy": "lots"}) == "[784, 30, 10]"
    assert label_for("Mine", net, {}) == "Mine: [784, 30, 10]"
    assert upload_label(" my\nnet.npz ", net, {}) == "Uploaded my net.npz: [784, 30, 10]"


def test_unique_label():
    assert unique_label("a", {}) == "a"
    assert unique_label("a", {"a": 1}) == "a (2)"
    assert unique_label("a", {"a": 1, "a (2)": 2}) == "a (3)"


def test_download_name():
    assert download_name("Default: [784, 100, 10], 97.4 % on test") == "default-784-100-10.npz"
    assert download_name("The book's: [784, 30, 10]") == "the-book-s-784-30-10.npz"
    assert download_name("Uploaded mine.npz: [784, 30, 10] (2)") == "mine-784-30-10.npz"
    assert download_name("???") == "network.npz"


def test_upload_of_a_good_file_gives_a_label_and_the_network():
    net, meta = load_model(SHIPPED[1].path)
    label, loaded, loaded_meta = load_upload("book copy.npz", model_bytes(net, meta))
    assert label.startswith("Uploaded book copy.npz: [784, 30, 10]")
    np.testing.assert_array_equal(loaded.feedforward(np.zeros(784)), net.feedforward(np.zeros(784)))
    assert loaded_meta["test_accuracy"] == meta["test_accuracy"]


@pytest.mark.parametrize("data, words", [
    (bytes(range(256)) * 8, "not a zip archive"),
    (b"", "empty"),
    (b"PK\x03\x04" + b"\0" * 100, "damaged"),
])
def test_upload_of_a_bad_file_raises_a_readable_error(data, words):
    with pytest.raises(ModelFileError, match=words):
        load_upload("bad.npz", data)


def test_read_gives_answer_output_and_hidden():
    net, _ = load_model(SHIPPED[1].path)
    image = canvas_to_mnist(SEVEN)
    reading = read(net, image)
    assert reading.answer == int(np.argmax(reading.output)) == net.predict(image.reshape(-1))
    assert reading.output.shape == (10,) and [h.shape for h in reading.hidden] == [(30,)]
    assert ((reading.output >= 0) & (reading.output <= 1)).all()  # float32 sigmoid may round


def test_pixelated_and_grid():
    image = np.zeros((28, 28), dtype=np.float32)
    image[3, 5] = 1.0
    big = pixelated(image, 8)
    assert big.shape == (224, 224) and big.dtype == np.uint8
    assert (big[24:32, 40:48] == 255).all() and big.sum() == 255 * 64
    assert as_grid(np.arange(30)).shape == (5, 6)
    assert as_grid(np.arange(100)).shape == (10, 10)
    grid = as_grid(np.arange(7))
    assert grid.shape == (3, 3) and np.isnan(grid).sum() == 2
    np.testing.assert_array_equal(grid.reshape(-1)[:7], np.arange(7))
