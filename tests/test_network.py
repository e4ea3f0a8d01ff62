"""The network and its batched backpropagation, checked against first principles."""

import warnings

import numpy as np
import pytest

from nn.network import Network, sigmoid
from nn.sgd import SGD


def numerical_gradient(net, x, y, eps=1e-3):
    """dC/dparam by central differences, in float64, one parameter at a time."""
    net64 = [p.astype(np.float64) for p in net.params]
    grads = []
    for l, p in enumerate(net64):
        g = np.zeros_like(p)
        for idx in np.ndindex(p.shape):
            old = p[idx]
            p[idx] = old + eps
            plus = _cost64(net, net64, x, y)
            p[idx] = old - eps
            minus = _cost64(net, net64, x, y)
            p[idx] = old
            g[idx] = (plus - minus) / (2 * eps)
        grads.append(g)
    return grads


def _cost64(net, params, x, y):
    a = x / 255.0
    for p in params:
        a = 1 / (1 + np.exp(-(a @ p[:, :-1].T + p[:, -1])))
    target = np.eye(params[-1].shape[0])[y]
    if net.cost == "quadratic":
        return 0.5 * np.sum((a - target) ** 2) / len(x)
    return -np.sum(target * np.log(a) + (1 - target) * np.log(1 - a)) / len(x)


@pytest.mark.parametrize("cost", ["quadratic", "cross-entropy"])
@pytest.mark.parametrize("sizes", [[12, 5, 3], [12, 6, 4, 3]])
def test_backpropagation_matches_numerical_gradient(cost, sizes):
    rng = np.random.default_rng(3)
    images = rng.integers(0, 256, size=(7, sizes[0]), dtype=np.uint8)
    labels = rng.integers(0, sizes[-1], size=7)
    net = Network(sizes, cost=cost, init="scaled", seed=5)
    expected = numerical_gradient(net, images, labels)
    before = [p.copy() for p in net.params]
    # One SGD step with eta = 1 on the whole batch subtracts exactly the mean gradient.
    SGD(net, images, labels).step(np.arange(7), eta=1.0)
    for b, a, g in zip(before, net.params, expected):
        np.testing.assert_allclose(b - a, g, rtol=2e-2, atol=2e-4)


def test_l2_shrinks_weights_but_not_biases():
    images = np.zeros((4, 6), dtype=np.uint8)   # zero input: the weight gradient is zero
    labels = np.zeros(4, dtype=int)
    net = Network([6, 3, 2], l2=10.0, seed=1)
    w0, b0 = net.weights[0].copy(), net.biases[0].copy()
    SGD(net, images, labels).step(np.arange(4), eta=0.1)
    # Decay factor 1 - eta * lambda / n = 1 - 0.1 * 10 / 4 = 0.75.
    np.testing.assert_allclose(net.weights[0], 0.75 * w0, rtol=1e-5)
    assert not np.allclose(net.biases[0], b0)  # biases follow their gradient only


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


def test_initialisation_follows_the_chosen_scheme():
    wide = Network([784, 100, 10], seed=0)
    scaled = Network([784, 100, 10], init="scaled", seed=0)
    assert wide.weights[0].std() == pytest.approx(1.0, rel=0.02)
    assert scaled.weights[0].std() == pytest.approx(1 / np.sqrt(784), rel=0.02)
    assert scaled.biases[0].std() == pytest.approx(1.0, rel=0.2)


def test_same_seed_same_network_and_run():
    def train(seed):
        rng = np.random.default_rng(9)
        images = rng.integers(0, 256, size=(200, 784), dtype=np.uint8)
        labels = rng.integers(0, 10, size=200)
        net = Network([784, 20, 10], seed=seed)
        sgd = SGD(net, images, labels)
        for batch in sgd.shuffled_batches(np.random.default_rng(seed), 10):
            sgd.step(batch, 3.0)
        return net.params
    for a, b in zip(train(4), train(4)):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(train(4)[0], train(5)[0])


def test_no_overflow_or_nan_with_huge_eta_and_saturated_neurons():
    rng = np.random.default_rng(1)
    images = rng.integers(0, 256, size=(500, 784), dtype=np.uint8)
    labels = rng.integers(0, 10, size=500)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any RuntimeWarning (overflow, invalid) fails
        for cost in ("quadratic", "cross-entropy"):
            net = Network([784, 30, 10], cost=cost, seed=0)
            net.params[0] *= 1000  # every hidden neuron saturated
            sgd = SGD(net, images, labels)
            for _ in range(3):
                for batch in sgd.shuffled_batches(rng, 10):
                    sgd.step(batch, 100.0)
            assert all(np.all(np.isfinite(p)) for p in net.params)
            assert np.isfinite(net.total_cost(images, labels))
        assert np.all(np.isfinite(sigmoid(np.array([-1e30, -500, 0, 500, 1e30], np.float32))))


def test_partial_last_batch_is_trained_on():
    images = np.full((25, 784), 200, dtype=np.uint8)
    labels = np.zeros(25, dtype=int)
    net = Network([784, 5, 10], seed=0)
    sgd = SGD(net, images, labels)
    batches = sgd.shuffled_batches(np.random.default_rng(0), 10)
    assert [len(b) for b in batches] == [10, 10, 5]
    before = net.params[1].copy()
    sgd.step(batches[-1], 1.0)
    assert not np.array_equal(before, net.params[1])


@pytest.mark.parametrize("bad", [dict(sizes=[784]), dict(sizes=[784, 0, 10]),
                                 dict(sizes=[784, 30, 10], init="zeros"),
                                 dict(sizes=[784, 30, 10], cost="hinge"),
                                 dict(sizes=[784, 30, 10], l2=float("nan"))])
def test_bad_options_are_refused(bad):
    with pytest.raises(ValueError):
        Network(**bad)


def test_total_cost_is_finite_for_saturated_cross_entropy():
    net = Network([4, 3, 2], cost="cross-entropy", seed=0)
    net.params[1][:] = 1e4  # outputs exactly 1.0 in float32
    cost = net.total_cost(np.full((2, 4), 255, np.uint8), np.array([0, 1]))
    assert np.isfinite(cost) and cost > 1000
