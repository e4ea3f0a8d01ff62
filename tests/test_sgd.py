"""nn.sgd's fast step against the book's equations written plainly, and against calculus.

`book_step` is the oracle: the four equations of backpropagation (BP1-BP4, Nielsen chapter 2)
and the update rule, vectorised over the mini-batch in float64 with separate weights and
biases, no buffers, no folded constants. Slow and obviously right; the fast step must land on
the same weights within float32 rounding.
"""

import warnings

import numpy as np
import pytest

from nn.network import Network, sigmoid
from nn.sgd import SGD


def book_step(weights, biases, x, y, *, eta, cost, l2, n):
    """One SGD step on a mini-batch x (m, n_in) in [0, 1] with one-hot targets y (m, n_out).

    Returns the new (weights, biases). Rows are examples, so the book's w a becomes a w^T.
    """
    zs, acts = [], [x]
    for w, b in zip(weights, biases):
        zs.append(acts[-1] @ w.T + b)
        acts.append(1 / (1 + np.exp(-zs[-1])))

    def sigmoid_prime(z):
        return np.exp(-z) / (1 + np.exp(-z)) ** 2

    delta = acts[-1] - y  # BP1 (cross-entropy)
    if cost == "quadratic":
        delta = delta * sigmoid_prime(zs[-1])  # BP1 (quadratic)
    deltas = [delta]
    for w, z in zip(weights[:0:-1], zs[-2::-1]):
        deltas.insert(0, (deltas[0] @ w) * sigmoid_prime(z))  # BP2
    m = len(x)
    new_w, new_b = [], []
    for w, b, d, a in zip(weights, biases, deltas, acts[:-1]):
        grad_b = d.sum(axis=0)  # BP3, summed over the batch
        grad_w = d.T @ a  # BP4, summed over the batch
        new_w.append((1 - eta * l2 / n) * w - eta / m * grad_w)
        new_b.append(b - eta / m * grad_b)
    return new_w, new_b


@pytest.mark.parametrize("l2", [0.0, 5.0])
@pytest.mark.parametrize("cost", ["quadratic", "cross-entropy"])
@pytest.mark.parametrize("sizes", [[784, 30, 10], [20, 7, 5, 3]])
def test_fast_step_equals_the_book_step(sizes, cost, l2):
    rng = np.random.default_rng(sum(sizes) + int(l2) + len(cost))
    n = 40
    images = rng.integers(0, 256, size=(n, sizes[0]), dtype=np.uint8)
    labels = rng.integers(0, sizes[-1], size=n)
    net = Network(sizes, cost=cost, l2=l2, init="scaled", seed=int(rng.integers(1000)))
    sgd = SGD(net, images, labels)
    for m in (10, 3):  # two batch sizes: two programs, and a partial last batch
        batch = rng.choice(n, size=m, replace=False)
        weights = [w.astype(np.float64) for w in net.weights]
        biases = [b.astype(np.float64) for b in net.biases]
        expected_w, expected_b = book_step(
            weights,
            biases,
            images[batch] / 255.0,
            np.eye(sizes[-1])[labels[batch]],
            eta=3.0,
            cost=cost,
            l2=l2,
            n=n,
        )
        sgd.step(batch, 3.0)
        for got, want, before in zip(
            net.weights + net.biases, expected_w + expected_b, weights + biases
        ):
            assert not np.allclose(want, before)  # the step moved something
            np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)


def numerical_gradient(net, x, y, eps=1e-3):
    """dC/dparam by central differences of the cost, in float64, one parameter at a time."""
    params = [p.astype(np.float64) for p in net.params]
    grads = []
    for p in params:
        g = np.zeros_like(p)
        for idx in np.ndindex(p.shape):
            old = p[idx]
            p[idx] = old + eps
            plus = _cost64(net.cost, params, x, y)
            p[idx] = old - eps
            minus = _cost64(net.cost, params, x, y)
            p[idx] = old
            g[idx] = (plus - minus) / (2 * eps)
        grads.append(g)
    return grads


def _cost64(cost, params, x, y):
    a = x / 255.0
    for p in params:
        a = 1 / (1 + np.exp(-(a @ p[:, :-1].T + p[:, -1])))
    target = np.eye(params[-1].shape[0])[y]
    if cost == "quadratic":
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
    images = np.zeros((4, 6), dtype=np.uint8)  # zero input: the weight gradient is zero
    labels = np.zeros(4, dtype=int)
    net = Network([6, 3, 2], l2=10.0, seed=1)
    w0, b0 = net.weights[0].copy(), net.biases[0].copy()
    SGD(net, images, labels).step(np.arange(4), eta=0.1)
    # Decay factor 1 - eta * lambda / n = 1 - 0.1 * 10 / 4 = 0.75.
    np.testing.assert_allclose(net.weights[0], 0.75 * w0, rtol=1e-5)
    assert not np.allclose(net.biases[0], b0)  # biases follow their gradient only


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


def test_bad_training_data_is_refused():
    net = Network([6, 3, 2], seed=0)
    with pytest.raises(ValueError, match="uint8"):
        SGD(net, np.zeros((4, 6), dtype=np.float32), np.zeros(4, dtype=int))
    with pytest.raises(ValueError, match="length"):
        SGD(net, np.zeros((4, 6), dtype=np.uint8), np.zeros(3, dtype=int))


def test_the_no_digit_label_asks_every_output_to_stay_low():
    from nn.sgd import NO_DIGIT

    net = Network([784, 5, 10], seed=0)
    images = np.zeros((3, 784), dtype=np.uint8)
    sgd = SGD(net, images, np.array([3, NO_DIGIT, 9]))
    assert sgd.targets.shape == (3, 10)  # still ten outputs, no eleventh
    assert sgd.targets[0, 3] == 1 and sgd.targets[0].sum() == 1
    assert not sgd.targets[1].any()
    assert sgd.targets[2, 9] == 1


@pytest.mark.parametrize("cost", ["quadratic", "cross-entropy"])
def test_many_fast_steps_equal_the_book_steps(cost):
    """Step after step with one program: each step must start from the buffers as the last
    left them (the bias input of the first layer once drifted to 1/255, then 1/255^2...)."""
    rng = np.random.default_rng(7)
    n, sizes = 60, [784, 12, 10]
    images = rng.integers(0, 256, size=(n, 784), dtype=np.uint8)
    labels = rng.integers(0, 10, size=n)
    net = Network(sizes, cost=cost, init="scaled", seed=3)
    weights = [w.astype(np.float64) for w in net.weights]
    biases = [b.astype(np.float64) for b in net.biases]
    sgd = SGD(net, images, labels)
    for batch in sgd.shuffled_batches(rng, 10):
        x, y = images[batch] / 255.0, np.eye(10)[labels[batch]]
        weights, biases = book_step(weights, biases, x, y, eta=1.0, cost=cost, l2=0.0, n=n)
        sgd.step(batch, 1.0)
    for got, want in zip(net.weights + net.biases, weights + biases):
        np.testing.assert_allclose(got, want, rtol=1e-3, atol=1e-4)


@pytest.mark.parametrize("cost", ["quadratic", "cross-entropy"])
def test_a_step_returns_the_cost_its_batch_had_before_it(cost):
    rng = np.random.default_rng(11)
    n = 50
    images = rng.integers(0, 256, size=(n, 784), dtype=np.uint8)
    labels = rng.integers(0, 11, size=n)  # 10: no digit, every target 0
    net = Network([784, 9, 10], cost=cost, seed=5)
    sgd = SGD(net, images, labels)
    costs = []
    for m in (10, 10, 10, 7, 10):  # one program reused, and a second one
        batch = rng.choice(n, size=m, replace=False)
        a = 1 / (1 + np.exp(-(images[batch] / 255.0 @ net.weights[0].T + net.biases[0])))
        out = 1 / (1 + np.exp(-(a @ net.weights[1].T + net.biases[1])))
        y = np.eye(11, 10)[labels[batch]]
        if cost == "quadratic":
            want = 0.5 * np.sum((out - y) ** 2) / m
        else:
            want = -np.sum(y * np.log(out) + (1 - y) * np.log(1 - out)) / m
        got = sgd.step(batch, 0.5)
        costs.append(got)
        assert got == pytest.approx(want, rel=1e-3)
    assert len(set(costs)) == len(costs)  # each its own batch's, not a stale number
