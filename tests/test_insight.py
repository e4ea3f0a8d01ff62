"""nn.insight: weight pictures, neuron order, confusion matrix and galleries.

Oracles are written independently of the code under test: activations from the sigmoid's
textbook formula in float64, the confusion matrix counted image by image in a Python loop.
"""

from __future__ import annotations

import numpy as np
import pytest

from nn import insight
from nn.network import Network


def sigmoid64(z):
    return 1.0 / (1.0 + np.exp(-np.asarray(z, dtype=np.float64)))


@pytest.fixture
def net() -> Network:
    return Network([784, 12, 10], seed=3)


@pytest.fixture
def drawing() -> np.ndarray:
    image = np.zeros((28, 28), dtype=np.float32)
    image[6:22, 12:16] = 1.0  # a vertical bar: a "1"
    return image


def test_diverging_colours_red_white_blue_on_one_scale():
    rgb = insight.diverging(np.array([2.0, 0.0, -2.0, 9.0, -9.0, np.nan, 1.0]), 2.0)
    assert rgb.dtype == np.uint8 and rgb.shape == (7, 3)
    assert tuple(rgb[0]) == tuple(insight.RED.astype(int))
    assert tuple(rgb[1]) == (255, 255, 255)
    assert tuple(rgb[2]) == tuple(insight.BLUE.astype(int))
    assert tuple(rgb[3]) == tuple(rgb[0]) and tuple(rgb[4]) == tuple(rgb[2])  # clipped
    assert tuple(rgb[5]) == (255, 255, 255)  # NaN counts as 0
    assert 255 > rgb[6, 1] > insight.RED[1]  # half way: a pale red


def test_shared_scale_ignores_a_few_extreme_weights():
    values = np.concatenate([np.full(999, 0.5), [1000.0]])
    assert insight.shared_scale(values) == pytest.approx(0.5)
    assert insight.shared_scale(np.zeros(10)) == 1.0  # never 0


def test_weight_images_are_each_neurons_input_weights_row_by_row(net):
    images = insight.weight_images(net)
    assert images.shape == (12, 28, 28)
    w = net.weights[0]
    for i, (r, c) in [(0, (0, 0)), (5, (3, 17)), (11, (27, 27))]:
        assert images[i, r, c] == w[i, r * 28 + c]


def test_neurons_are_ordered_by_activation_on_the_drawing(net, drawing):
    order, activations = insight.neuron_order(net, drawing)
    z = net.weights[0].astype(np.float64) @ drawing.reshape(-1) + net.biases[0]
    expected = sigmoid64(z)
    np.testing.assert_allclose(activations, expected, rtol=1e-5, atol=1e-6)
    assert list(order) == sorted(range(12), key=lambda i: -expected[i])
    assert sorted(order) == list(range(12))


def test_without_a_drawing_the_order_is_by_number(net):
    order, activations = insight.neuron_order(net, None)
    assert list(order) == list(range(12)) and activations is None


def test_grid_puts_the_first_neuron_of_the_order_top_left(net, drawing):
    blocks = insight.neuron_tiles(net, scale=2)
    h, w = blocks.shape[1:3]
    assert w == 56 and h == 56 + insight.LABEL_HEIGHT
    order = np.arange(12)[::-1]
    grid = insight.weight_grid(blocks, order)
    np.testing.assert_array_equal(grid[:h, :w], blocks[11])
    np.testing.assert_array_equal(grid[:h, w + 4 : 2 * w + 4], blocks[10])
    columns = insight.grid_columns(12)
    assert grid.shape[1] == columns * (w + 4) - 4


def test_activation_bars_are_as_long_as_the_activation(net, drawing):
    blocks = insight.neuron_tiles(net, scale=2)
    h, w = blocks.shape[1:3]
    activations = np.linspace(0, 1, 12)
    grid = insight.weight_grid(blocks, np.arange(12), activations)
    for k in (0, 6, 11):
        r, c = divmod(k, insight.grid_columns(12))
        cell_h = h + insight.ACTIVATION_BAR + 2 + 4
        bar = grid[r * cell_h + h, c * (w + 4) : c * (w + 4) + w]
        lit = np.all(bar == insight.ACTIVATION_INK, axis=1).sum()
        assert lit == round(activations[k] * w)


def test_a_grid_of_200_neurons_has_20_columns():
    big = Network([784, 200, 10], seed=0)
    grid = insight.weight_grid(insight.neuron_tiles(big))
    assert insight.grid_columns(200) == 20
    assert grid.shape[0] == 10 * (56 + insight.LABEL_HEIGHT + 4)


def test_neuron_detail_matches_the_textbook_formula(net, drawing):
    detail = insight.neuron_detail(net, 4, drawing)
    z = float(net.weights[0][4].astype(np.float64) @ drawing.reshape(-1) + net.biases[0][4])
    assert detail.activation == pytest.approx(float(sigmoid64(z)), rel=1e-5)
    assert detail.contribution.sum() + detail.bias == pytest.approx(z, rel=1e-4, abs=1e-4)
    np.testing.assert_array_equal(detail.outgoing, net.weights[1][:, 4])
    assert insight.neuron_detail(net, 4, None).activation is None
    with pytest.raises(ValueError, match="does not exist"):
        insight.neuron_detail(net, 12, drawing)


def test_ink_overlay_darkens_only_where_there_is_ink(net, drawing):
    detail = insight.neuron_detail(net, 0, drawing)
    plain = insight.diverging(detail.weights, detail.scale)
    over = insight.ink_overlay(detail.weights, drawing, detail.scale)
    np.testing.assert_array_equal(over[drawing == 0], plain[drawing == 0])
    assert np.all(
        over[drawing == 1].astype(int).sum(axis=1) < plain[drawing == 1].astype(int).sum(axis=1)
    )


def test_fingerprint_follows_the_weights(net):
    copy = Network.from_arrays(net.weights, net.biases)
    assert insight.fingerprint(copy) == insight.fingerprint(net)
    copy.params[1][3, 2] += 0.001
    assert insight.fingerprint(copy) != insight.fingerprint(net)


# --- mistakes --------------------------------------------------------------------------


@pytest.fixture
def labelled():
    rng = np.random.default_rng(5)
    images = rng.integers(0, 256, size=(300, 784), dtype=np.uint8)
    labels = rng.integers(0, 10, size=300).astype(np.uint8)
    return images, labels


def test_confusion_matrix_counts_every_image_once(net, labelled):
    images, labels = labelled
    mistakes = insight.Mistakes.of(net, images, labels)
    expected = np.zeros((10, 10), dtype=int)
    for image, label in zip(images, labels):
        output = sigmoid64(
            net.weights[1].astype(np.float64)
            @ sigmoid64(net.weights[0].astype(np.float64) @ (image / 255.0) + net.biases[0])
            + net.biases[1]
        )
        expected[label, int(np.argmax(output))] += 1
    np.testing.assert_array_equal(mistakes.matrix, expected)
    assert mistakes.total == 300 and mistakes.correct == int(np.trace(expected))


def test_a_cells_digits_are_those_digits_most_confident_first(net, labelled):
    images, labels = labelled
    mistakes = insight.Mistakes.of(net, images, labels)
    true, read, count = mistakes.worst_cells(1)[0]
    cell = mistakes.cell(true, read)
    assert len(cell) == count == mistakes.matrix[true, read]
    assert all(labels[i] == true and mistakes.answers[i] == read for i in cell)
    confidence = mistakes.outputs[cell, read]
    assert np.all(np.diff(confidence) <= 0)


def test_most_confident_mistakes_are_wrong_and_sorted(net, labelled):
    images, labels = labelled
    mistakes = insight.Mistakes.of(net, images, labels)
    top = mistakes.most_confident(10)
    assert len(top) == 10
    assert all(mistakes.answers[i] != labels[i] for i in top)
    wrong = np.flatnonzero(mistakes.answers != labels)
    best = mistakes.outputs[wrong, mistakes.answers[wrong]].max()
    assert mistakes.outputs[top[0], mistakes.answers[top[0]]] == best
    worst = mistakes.worst_cells(5)
    assert [c[2] for c in worst] == sorted((c[2] for c in worst), reverse=True)
    assert all(t != r for t, r, _ in worst)


def test_gallery_draws_each_digit_with_its_bars(net, labelled):
    images, labels = labelled
    mistakes = insight.Mistakes.of(net, images, labels)
    picture = insight.digit_gallery(images, mistakes.most_confident(12), mistakes, columns=10)
    assert picture.dtype == np.uint8 and picture.ndim == 3
    assert picture.shape[1] == 10 * 56 + 9 * 6  # ten columns of 2x digits, 6 px apart
    assert np.any(np.all(picture == insight.WRONG_BAR, axis=2))  # the answers' red bars
    empty = insight.digit_gallery(images, np.array([], dtype=int), mistakes)
    assert empty.shape == (56, 56, 3)


def test_bar_strip_colours_true_and_read_digits():
    output = np.zeros(10)
    output[[3, 8]] = 1.0
    strip = insight.bar_strip(output, true=3, read=8, width=50, height=10)
    assert tuple(strip[1, 3 * 5]) == insight.TRUE_BAR  # full height: all but the top row
    assert tuple(strip[1, 8 * 5]) == insight.WRONG_BAR
    assert tuple(strip[1, 0]) == insight.BACKGROUND  # digit 0's bar is 1 px tall
    assert tuple(strip[0, 3 * 5]) == insight.BACKGROUND


def test_a_network_without_ten_outputs_is_refused(labelled):
    with pytest.raises(ValueError, match="not one per digit"):
        insight.Mistakes.of(Network([784, 5, 3], seed=0), *labelled)


@pytest.mark.slow
def test_shipped_networks_confusion_on_real_mnist(mnist_data):
    from tests.helpers import shipped_models as load_shipped

    for net, meta in load_shipped().values():
        mistakes = insight.Mistakes.of(net, mnist_data.test_images, mnist_data.test_labels)
        assert mistakes.total == 10_000
        assert mistakes.correct == net.evaluate(mnist_data.test_images, mnist_data.test_labels)
        assert mistakes.correct / 10_000 == pytest.approx(meta["test_accuracy"], abs=5e-4)
        np.testing.assert_array_equal(
            mistakes.matrix.sum(axis=1), np.bincount(mnist_data.test_labels, minlength=10)
        )
