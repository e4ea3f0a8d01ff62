"""Hostile and broken input, generated: whatever a canvas or an uploader sends, the page gets
a clean answer, a clean "nothing drawn", or a clear refusal; never an exception."""

import io
import warnings
import zipfile

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from PIL import Image, ImageDraw

from nn.modelfile import MAX_ABS_PARAM, ModelFileError, load_model, model_bytes
from nn.models import SHIPPED, read
from nn.network import Network
from nn.preprocess import canvas_to_mnist
from tests.helpers import examples

NETWORKS = [m.load()[0] for m in SHIPPED]
FAST = settings(
    max_examples=examples(120), deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@st.composite
def strokes(draw):
    """A canvas with a few random strokes: pens from 1 to 200 px, anywhere, any length."""
    size = draw(st.sampled_from([280, 100, 512]))
    image = Image.new("RGBA", (size, size), (0, 0, 0, 255))
    pen = ImageDraw.Draw(image)
    for _ in range(draw(st.integers(0, 4))):
        points = draw(
            st.lists(
                st.tuples(st.integers(-50, size + 50), st.integers(-50, size + 50)),
                min_size=1,
                max_size=6,
            )
        )
        width = draw(st.integers(1, 200))
        if len(points) == 1:
            x, y = points[0]
            pen.ellipse(
                (x - width / 2, y - width / 2, x + width / 2, y + width / 2),
                fill=(255, 255, 255, 255),
            )
        else:
            pen.line(points, fill=(255, 255, 255, 255), width=width)
    return np.asarray(image)


def check_reading(image):
    for net in NETWORKS:
        reading = read(net, image)
        assert 0 <= reading.answer <= 9
        assert np.all(np.isfinite(reading.output))
        assert np.all((reading.output >= 0) & (reading.output <= 1))


@FAST
@given(strokes())
def test_any_strokes_give_nothing_drawn_or_a_clean_answer(canvas):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow or invalid-value warning either
        image = canvas_to_mnist(canvas)
        if image is not None:
            check_reading(image)


@pytest.mark.parametrize(
    "canvas",
    [
        np.zeros((280, 280, 4), np.uint8),  # empty, transparent
        np.full((280, 280, 4), 255, np.uint8),  # all ink
        np.dstack([np.zeros((280, 280, 3), np.uint8), np.full((280, 280), 255, np.uint8)]),
        np.full((280, 280, 4), np.nan, np.float32),  # NaN everywhere
        np.full((1, 1, 4), 255, np.uint8),  # one pixel
        np.full((4000, 3, 4), 255, np.uint8),  # a sliver
    ],
)
def test_extreme_canvases_never_raise(canvas):
    image = canvas_to_mnist(canvas)
    if image is not None:
        check_reading(image)


@FAST
@given(
    arrays(
        np.float32,
        (28, 28),
        elements=st.sampled_from([np.nan, np.inf, -np.inf, -5.0, 0.0, 0.5, 1.0, 7.0, 1e30]),
    )
)
def test_nan_and_out_of_range_pixels_in_the_model_path_give_a_clean_answer(image):
    check_reading(image)


def test_the_most_extreme_loadable_network_still_answers_cleanly():
    net = Network([784, 50, 10], seed=0)
    rng = np.random.default_rng(0)
    for layer in net.params:
        layer[:] = rng.choice([-MAX_ABS_PARAM, MAX_ABS_PARAM], size=layer.shape)
    net, _ = load_model(model_bytes(net))  # the loader accepts it: values at the cap
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        reading = read(net, np.ones((28, 28), np.float32))
    assert np.all(np.isfinite(reading.output)) and 0 <= reading.answer <= 9


@settings(max_examples=examples(200), deadline=None)
@given(st.binary(max_size=4096))
def test_random_bytes_are_refused_with_a_message(data):
    with pytest.raises(ModelFileError):
        load_model(data)


@settings(max_examples=examples(100), deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(["sizes", "meta", "W0", "b0", "W1", "b1", "W9", "x"]),
        st.sampled_from(["int8", "float16", "float64", "uint8", "bool"]),
        min_size=1,
        max_size=6,
    ),
    st.integers(0, 3),
)
def test_archives_of_arbitrary_arrays_are_refused_or_valid(entries, ndim):
    buf = io.BytesIO()
    rng = np.random.default_rng(ndim)
    with zipfile.ZipFile(buf, "w") as archive:
        for name, dtype in entries.items():
            array = rng.normal(size=(3,) * ndim).astype(dtype)
            member = io.BytesIO()
            np.save(member, array)
            archive.writestr(f"{name}.npy", member.getvalue())
    with pytest.raises(ModelFileError):
        load_model(buf.getvalue())


def _json_values():
    """Any JSON value: nested containers, long strings, big and odd numbers, control and
    bidi characters."""
    leaves = (
        st.none()
        | st.booleans()
        | st.integers(min_value=-(10**60), max_value=10**60)
        | st.floats(allow_nan=False)
        | st.text(alphabet=st.characters(codec="utf-8"), max_size=40)
        | st.sampled_from(["\u202e", "\x00", "\x1b[31m", "normal", "cross-entropy", "scaled"])
    )
    return st.recursive(
        leaves,
        lambda inner: (
            st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
        ),
        max_leaves=20,
    )


@settings(max_examples=examples(150), deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(
            ["l2", "cost", "init", "settings", "test_accuracy", "seed", "sizes", "name", "x"]
        ),
        _json_values(),
        max_size=6,
    )
    | _json_values(),
    st.integers(0, 40),
)
def test_hostile_metadata_loads_or_is_refused_and_never_breaks_the_labels(meta, depth):
    """Any metadata (also nested `depth` lists deep): a ModelFileError or a network whose
    picker label and facts can be built (what the page does with an uploaded file)."""
    import json

    from ui.sidebar import network_facts
    from ui.state import label_for

    for _ in range(depth):
        meta = [meta]
    net = Network([784, 3, 10], seed=0)
    arrays = {"sizes": np.array(net.sizes)}
    for i, (w, b) in enumerate(zip(net.weights, net.biases)):
        arrays[f"W{i}"], arrays[f"b{i}"] = w, b
    arrays["meta"] = np.frombuffer(json.dumps(meta).encode(), np.uint8)
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    try:
        loaded, loaded_meta = load_model(buf.getvalue())
    except ModelFileError:
        return
    assert isinstance(loaded_meta, dict)
    label = label_for("Uploaded x.npz", loaded, loaded_meta)
    assert isinstance(label, str) and isinstance(network_facts(loaded, loaded_meta), str)
