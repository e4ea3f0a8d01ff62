"""The network: its one forward pass, its cost, its options. Training is in test_sgd.py."""

import numpy as np
import pytest

from nn.network import Network, as_unit_float, layers_label, sigmoid


def test_feedforward_single_and_batch_agree_and_accept_uint8_or_float():
    rng = np.random.default_rng(0)
    net = Network([784, 30, 10], seed=2)
    images = rng.integers(0, 256, size=(3000, 784), dtype=np.uint8)
    batch = net.feedforward(images)
    assert batch.shape == (3000, 10) and batch.dtype == np.float32
    for i in (0, 1500, 2999):
        np.testing.assert_allclose(net.feedforward(images[i]), batch[i], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(net.feedforward(images / 255.0), batch, rtol=1e-5, atol=1e-6)
    assert net.predict(images[0]) == int(np.argmax(batch[0]))
    hidden = net.activations(images[0])
    assert [a.shape for a in hidden] == [(784,), (30,), (10,)]
    assert np.all((hidden[1] >= 0) & (hidden[1] <= 1))
    assert net.feedforward(images[:0]).shape == (0, 10)


def test_forward_pass_is_the_book_formula():
    rng = np.random.default_rng(4)
    net = Network([12, 5, 4, 3], seed=1)
    x = rng.random((6, 12))
    a = x
    for w, b in zip(net.weights, net.biases):
        a = 1 / (1 + np.exp(-(a @ w.T.astype(np.float64) + b)))
    np.testing.assert_allclose(net.feedforward(x.astype(np.float32)), a, rtol=1e-5, atol=1e-6)


def test_sigmoid_also_in_place():
    z = np.array([-3.0, 0.0, 2.0], dtype=np.float32)
    expected = 1 / (1 + np.exp(-z.astype(np.float64)))
    np.testing.assert_allclose(sigmoid(z), expected, rtol=1e-6)
    out = sigmoid(z, out=z)
    assert out is z
    np.testing.assert_allclose(z, expected, rtol=1e-6)


def test_total_cost_quadratic_and_cross_entropy_by_hand():
    images = np.array([[0, 255], [255, 0]], dtype=np.uint8)
    labels = np.array([1, 0])
    for cost in ("quadratic", "cross-entropy"):
        net = Network([2, 2], cost=cost, l2=1.0, seed=3)
        a = net.feedforward(images).astype(np.float64)
        y = np.eye(2)[labels]
        if cost == "quadratic":
            per_image = 0.5 * np.sum((a - y) ** 2, axis=1)
        else:
            per_image = -np.sum(y * np.log(a) + (1 - y) * np.log(1 - a), axis=1)
        penalty = 0.5 * 1.0 / 2 * np.sum(net.weights[0].astype(np.float64) ** 2)
        assert net.total_cost(images, labels) == pytest.approx(per_image.mean() + penalty, rel=1e-5)


def test_initialisation_follows_the_chosen_scheme():
    wide = Network([784, 100, 10], seed=0)
    scaled = Network([784, 100, 10], init="scaled", seed=0)
    assert wide.weights[0].std() == pytest.approx(1.0, rel=0.02)
    assert scaled.weights[0].std() == pytest.approx(1 / np.sqrt(784), rel=0.02)
    assert scaled.biases[0].std() == pytest.approx(1.0, rel=0.2)


def test_from_arrays_round_trip_and_label():
    net = Network([784, 30, 10], seed=7)
    again = Network.from_arrays(net.weights, net.biases, cost="cross-entropy")
    for a, b in zip(net.params, again.params):
        np.testing.assert_array_equal(a, b)
    assert again.cost == "cross-entropy"
    assert layers_label(again.sizes) == "[784, 30, 10]"
    assert "[784, 30, 10]" in repr(again)


def test_as_unit_float_scales_uint8_only():
    pixels = np.array([0, 51, 255], dtype=np.uint8)
    unit = as_unit_float(pixels)
    assert unit.dtype == np.float32
    np.testing.assert_allclose(unit, [0, 0.2, 1], rtol=1e-6)
    floats = np.array([0.5], dtype=np.float32)
    assert as_unit_float(floats) is floats


@pytest.mark.parametrize(
    "bad",
    [
        dict(sizes=[784]),
        dict(sizes=[784, 0, 10]),
        dict(sizes=[784, 30, 10], init="zeros"),
        dict(sizes=[784, 30, 10], cost="hinge"),
        dict(sizes=[784, 30, 10], l2=float("nan")),
    ],
)
def test_bad_options_are_refused(bad):
    with pytest.raises(ValueError):
        Network(**bad)


def test_total_cost_is_finite_for_saturated_cross_entropy():
    net = Network([4, 3, 2], cost="cross-entropy", seed=0)
    net.params[1][:] = 1e4  # outputs exactly 1.0 in float32
    cost = net.total_cost(np.full((2, 4), 255, np.uint8), np.array([0, 1]))
    assert np.isfinite(cost) and cost > 1000
