"""The drawing page's logic (AppTest, with an injected drawing), the picker's labels and
untrusted text.

AppTest runs app.py headless. The canvas component cannot draw there, so a stand-in
`streamlit_drawable_canvas` module is put in sys.modules: its `st_canvas` returns the drawing
the test chose, and, like the real canvas, an empty one whenever the key changes (the page's
"Clear canvas" changes the key). The real canvas is covered by tests/browser.
"""

from __future__ import annotations

import json
import math
import re

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from nn.modelfile import load_model, model_bytes
from nn.models import SHIPPED, read
from nn.network import Network
from nn.preprocess import canvas_to_mnist
from tests.helpers import APP, STROKES, canvas_image
from ui.state import Choice, describe, file_name, label_for, unique_label, upload_title

# Drawings as the canvas returns them (280x280 RGBA, white ink on opaque black).
ONE, SEVEN, ZERO = (canvas_image(STROKES[d]) for d in (1, 7, 0))
BLACK = canvas_image([])  # what the canvas's own "reset" sends back
DRAWINGS = {0: ZERO, 1: ONE, 7: SEVEN}


# --- the page, with a stand-in canvas -----------------------------------------------------


def started() -> AppTest:
    app = AppTest.from_file(APP, default_timeout=30)
    app.run()
    assert not app.exception, app.exception
    return app


@pytest.fixture
def at(canvas) -> AppTest:
    return started()


@pytest.fixture
def at_with_mnist(canvas, mnist_dir, monkeypatch) -> AppTest:
    """The page on a server that has MNIST: without it, the page rightly shows a warning
    that offers to download it (the tests that look for no warning at all need this)."""
    monkeypatch.setenv("MNIST_DIR", str(mnist_dir))
    return started()


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


def test_empty_canvas_prompts_without_answer(at_with_mnist, canvas):
    at = at_with_mnist
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


@pytest.mark.parametrize(
    "strokes, why",
    [
        ([[(140, 125), (140, 155)]], "dash"),  # 1.4 pen widths long: the network reads a 1
        (  # a face with one eye higher: the network reads a 0
            [
                [(140 + 94 * math.cos(a / 10), 140 + 90 * math.sin(a / 10)) for a in range(64)],
                [(108, 90), (108, 92)],
                [(172, 113), (172, 115)],
                [(140 + 90 * math.cos(a / 10), 140 + 67 * math.sin(a / 10)) for a in range(3, 29)],
            ],
            "face",
        ),
    ],
    ids=["short dash", "face"],
)
def test_the_answer_uses_what_the_canvas_says_about_the_drawing(at, canvas, strokes, why):
    # prepared, a short dash is a 1 and the face's eyes run into its outline: only the
    # drawing's facts on the canvas (nn.preprocess.prepare) tell the page's verdict otherwise
    canvas.image = canvas_image(strokes)
    rerun(at)
    assert answer(at) == "?"
    assert any(why in caption.value for caption in at.caption)
    assert at.session_state["drawn"] is not None
    at.button[0].click()  # Clear canvas: the facts go with the drawing
    rerun(at)
    assert at.session_state["drawn"] is None


def shipped_labels() -> list[str]:
    return [label_for(model.title, *model.load()) for model in SHIPPED]


def test_picker_offers_shipped_models_default_first(at):
    options = at.selectbox(key="selected").options
    assert options == shipped_labels()
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
    at.session_state["networks"]["Trained here: [784, 30, 10]"] = Choice(book, meta, "t.npz")
    rerun(at)
    at.selectbox(key="selected").select("Trained here: [784, 30, 10]")
    canvas.image = ONE
    rerun(at)
    assert at.selectbox(key="selected").options[-1] == "Trained here: [784, 30, 10]"
    assert at.selectbox(key="selected").value == "Trained here: [784, 30, 10]"
    assert answer(at) == "1"
    assert "30 neurons" in json.dumps(charts(at)[1]["layout"]["title"])


def test_page_shows_an_explanation_and_no_warnings(at_with_mnist):
    at = at_with_mnist
    text = " ".join(m.value for m in at.markdown)
    assert "not probabilities" in text
    assert "28 × 28" in text
    assert not at.warning and not at.error and not at.exception


# --- the picker's labels and file names (ui.state) ----------------------------------------


def test_shipped_models_in_picker_order():
    assert [m.path.name for m in SHIPPED] == ["default.npz", "book.npz"]
    labels = shipped_labels()
    assert len(labels) == 2
    default, book = SHIPPED[0].load()[0], SHIPPED[1].load()[0]
    assert default.sizes[0] == 784 and default.sizes[-1] == 10
    assert book.sizes == [784, 30, 10]
    for label, model in zip(labels, SHIPPED):
        accuracy = f"{100 * model.load()[1]['test_accuracy']:.1f} % on test"
        assert label.endswith(accuracy)


def test_labels_are_built_from_metadata():
    net, _ = load_model(SHIPPED[1].path)
    assert describe(net, {"test_accuracy": 0.9542}) == "[784, 30, 10], 95.4 % on test"
    assert describe(net, {}) == "[784, 30, 10]"
    assert describe(net, {"test_accuracy": "lots"}) == "[784, 30, 10]"
    assert label_for("Mine", net, {}) == "Mine: [784, 30, 10]"
    assert label_for(upload_title(" my\nnet.npz "), net, {}) == "Uploaded my net.npz: [784, 30, 10]"


def test_unique_label():
    assert unique_label("a", {}) == "a"
    assert unique_label("a", {"a": 1}) == "a (2)"
    assert unique_label("a", {"a": 1, "a (2)": 2}) == "a (3)"


def test_file_names_come_from_the_title_and_layers():
    net = Network([784, 30, 10])
    assert file_name("Default", Network([784, 100, 10])) == "default-784-100-10.npz"
    assert file_name("The book's", net) == "the-book-s-784-30-10.npz"
    assert file_name(upload_title("mine.NPZ"), net) == "mine-784-30-10.npz"
    assert file_name("???", net) == "784-30-10.npz"


def download_name(app: AppTest) -> str:
    """The file name the sidebar's download uses: stored with the picker's entry."""
    return app.session_state["networks"][app.selectbox(key="selected").value].file_name


def test_the_download_is_named_after_the_network_that_answers(at):
    sizes = "-".join(map(str, SHIPPED[0].load()[0].sizes))
    assert download_name(at) == f"default-{sizes}.npz"
    at.selectbox(key="selected").select(at.selectbox(key="selected").options[1])
    rerun(at)
    assert download_name(at) == "the-book-s-784-30-10.npz"


def test_an_uploaded_file_is_added_selected_and_named_after_the_file(at, canvas):
    net, meta = load_model(SHIPPED[1].path)
    at.file_uploader(key="upload").set_value(
        ("book copy.npz", model_bytes(net, meta), "application/octet-stream")
    )
    rerun(at)
    selected = at.selectbox(key="selected").value
    assert selected.startswith("Uploaded book copy.npz: [784, 30, 10]")
    assert download_name(at) == "book-copy-784-30-10.npz"
    assert any("now answering" in s.value for s in at.success)
    canvas.image = ONE
    rerun(at)
    assert answer(at) == "1"


@pytest.mark.parametrize(
    "data, words",
    [
        (bytes(range(256)) * 8, "not a zip archive"),
        (b"PK\x03\x04" + b"\0" * 100, "damaged"),
    ],
)
def test_a_bad_upload_says_why_and_the_network_stays(at, data, words):
    before = at.selectbox(key="selected").value
    at.file_uploader(key="upload").set_value(("bad.npz", data, "application/octet-stream"))
    rerun(at)
    assert at.selectbox(key="selected").value == before
    assert any(
        words in un_markdown(e.value) and "bad.npz" in un_markdown(e.value) for e in at.error
    )


# --- untrusted text is shown as text ------------------------------------------------------

EVIL = "[click me](http://evil.example/x) ![img](http://evil.example/i.png) <b>bold</b> :red[x]"


def markdown_bodies(app: AppTest) -> list[str]:
    """The Markdown of every element that renders it, page and sidebar."""
    kinds = ("markdown", "caption", "error", "success", "info", "warning")
    return [e.value for kind in kinds for e in app.get(kind)]


def unescaped(body: str) -> str:
    """`body` with every backslash-escaped character removed: what Markdown could parse."""
    return re.sub(r"\\.", "", body)


def test_a_model_files_metadata_and_name_are_shown_as_text(at):
    """A crafted model file: its metadata and its name try to inject a link, an image, HTML
    and a colour into the sidebar; they must show literally and start no Markdown."""
    net, _ = load_model(SHIPPED[1].path)
    meta = {"test_accuracy": 0.9, "settings": {"epochs": EVIL, "eta": "![x](http://e.x/y)"}}
    at.file_uploader(key="upload").set_value(
        (f"{EVIL}.npz", model_bytes(net, meta), "application/octet-stream")
    )
    rerun(at)
    bodies = markdown_bodies(at)
    facts = next(b for b in bodies if b.startswith("Layers "))
    # the accuracy shown is measured (or absent without MNIST), never the file's 90.0 %
    assert re.match(
        r"Layers \[784, 30, 10\](, \d+\.\d % on test)?\. Trained " + re.escape(EVIL[:40]),
        un_markdown(facts),
    ), facts
    assert "90.0 %" not in un_markdown(facts)
    assert "![x](http://e.x/y)" in un_markdown(facts)
    for body in bodies:  # nothing anywhere can open a link, an image, a tag or a directive
        assert not re.search(r"\]\(|<[a-z/]|!\[|:red\[", unescaped(body)), body
    note = next(s.value for s in at.success)
    assert EVIL[:40] in un_markdown(note)
    # a bad file's name and the engine's message (which quotes the file's entries) too
    at.file_uploader(key="upload").set_value(
        (f"{EVIL}.npz", b"PK\x03\x04" + b"\0" * 100, "application/octet-stream")
    )
    rerun(at)
    error = next(e.value for e in at.error)
    assert EVIL in un_markdown(error)
    assert not re.search(r"\]\(|<[a-z/]|!\[", unescaped(error))


def un_markdown(body: str) -> str:
    """What a visitor reads: escaped characters shown as themselves, emphasis marks gone."""
    return re.sub(r"\\(.)", r"\1", re.sub(r"(?<!\\)[*_]", "", body))


def test_read_gives_answer_output_and_hidden():
    net, _ = load_model(SHIPPED[1].path)
    image = canvas_to_mnist(SEVEN)
    reading = read(net, image)
    assert reading.answer == int(np.argmax(reading.output)) == net.predict(image.reshape(-1))
    assert reading.output.shape == (10,) and [h.shape for h in reading.hidden] == [(30,)]
    assert ((reading.output >= 0) & (reading.output <= 1)).all()  # float32 sigmoid may round
