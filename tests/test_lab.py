"""The lab's engine (nn/lab.py): the hidden layer's map, operating on neurons, a drawing's
nearest training digits; and the partial MNIST loads the page uses for them."""

from __future__ import annotations

import numpy as np
import pytest

from nn import lab
from nn.network import Network


def small_net(hidden=6, seed=0) -> Network:
    return Network([784, hidden, 10], seed=seed)


def random_digits(n=300, seed=1):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, size=(n, 784), dtype=np.uint8), rng.integers(0, 10, size=n)


# --- the map -------------------------------------------------------------------------------


def test_map_is_pca_of_the_hidden_activations():
    net, (images, labels) = small_net(), random_digits()
    m = lab.HiddenMap.of(net, images, labels, count=200)
    assert m.points.shape == (200, 2) and list(m.labels) == list(labels[:200])
    hidden = net.activations(images[:200])[1].astype(np.float64)
    centred = hidden - hidden.mean(axis=0)
    # the axes are orthonormal and the first carries the most variance of any direction
    assert np.allclose(m.axes @ m.axes.T, np.eye(2), atol=1e-6)
    top = np.linalg.eigh(np.cov(centred.T))[1][:, -1]
    assert abs(abs(float(top @ m.axes[0])) - 1) < 1e-6
    assert np.var(m.points[:, 0]) >= np.var(m.points[:, 1])
    assert 0 < m.explained[1] <= m.explained[0] <= 1


def test_a_wide_layer_gets_the_same_leading_direction_by_subspace_iteration():
    rng = np.random.default_rng(3)
    # three strong directions (as a layer's activations have) and some noise
    strong = rng.standard_normal((400, 3)) * [5.0, 3.0, 2.0]
    hidden = strong @ rng.standard_normal((3, 500)) + 0.3 * rng.standard_normal((400, 500))
    centred = hidden - hidden.mean(axis=0)
    singular, vt = lab._leading_directions(centred)  # 500 > EXACT_UP_TO columns
    exact = np.linalg.svd(centred, full_matrices=False)
    assert abs(float(vt[0] @ exact[2][0])) > 0.999
    assert abs(float(vt[1] @ exact[2][1])) > 0.999
    assert singular[0] == pytest.approx(exact[1][0], rel=1e-3)


def test_a_drawing_lands_where_the_same_digit_lands():
    net, (images, labels) = small_net(), random_digits()
    m = lab.HiddenMap.of(net, images, labels, count=100)
    for i in (0, 17, 99):
        x, y = m.place(net, images[i].reshape(28, 28) / 255.0)
        assert np.allclose((x, y), m.points[i], atol=1e-4)


def test_map_sign_convention_is_stable():
    net, (images, labels) = small_net(), random_digits()
    first = lab.HiddenMap.of(net, images, labels, count=150)
    again = lab.HiddenMap.of(net, images, labels, count=150)
    assert np.array_equal(first.points, again.points)
    for axis in first.axes:
        assert axis[np.argmax(np.abs(axis))] > 0


def test_a_network_without_a_hidden_layer_has_no_map():
    with pytest.raises(ValueError, match="no hidden layer"):
        lab.HiddenMap.of(Network([784, 10]), *random_digits(20))


# --- operating on neurons --------------------------------------------------------------------


def test_switching_a_neuron_off_removes_its_say_and_only_its_say():
    net = small_net()
    operated = lab.operate(net, {2: 0.0, 4: 2.0})
    assert np.all(operated.weights[1][:, 2] == 0)
    assert np.allclose(operated.weights[1][:, 4], 2 * net.weights[1][:, 4])
    untouched = [0, 1, 3, 5]
    assert np.array_equal(operated.weights[1][:, untouched], net.weights[1][:, untouched])
    assert np.array_equal(operated.weights[0], net.weights[0])
    assert np.array_equal(operated.biases[1], net.biases[1])
    assert not np.all(net.weights[1][:, 2] == 0)  # the original is untouched


def test_an_operated_network_answers_as_if_the_neuron_were_silent():
    net, (images, _) = small_net(), random_digits(50)
    operated = lab.operate(net, {3: 0.0})
    hidden = net.activations(images)[1].copy()
    hidden[:, 3] = 0
    z = hidden @ net.weights[1].T + net.biases[1]
    assert np.allclose(operated.feedforward(images), 1 / (1 + np.exp(-z)), atol=1e-5)


@pytest.mark.parametrize("factors", [{6: 0.0}, {-1: 0.0}, {0: float("nan")}])
def test_operating_on_a_neuron_that_is_not_there_is_refused(factors):
    with pytest.raises(ValueError):
        lab.operate(small_net(), factors)


def test_factors_described_in_words():
    assert lab.describe_factors({7: 2.0, 3: 0.0, 12: 0.5}) == "#3 off, #7 × 2, #12 × 0.5"
    assert lab.describe_factors({}) == ""


# --- neighbours --------------------------------------------------------------------------------


def test_nearest_is_plain_pixel_distance():
    images, labels = random_digits(400)
    pool = lab.Neighbours.of(images, labels)
    drawing = images[123].reshape(28, 28) / 255.0
    near, dist = pool.nearest(drawing, k=5)
    brute = np.sqrt(((images / 255.0 - drawing.reshape(-1)) ** 2).sum(axis=1))
    assert list(near) == list(np.argsort(brute, kind="stable")[:5])
    assert near[0] == 123 and dist[0] == pytest.approx(0, abs=1e-3)
    assert np.allclose(dist, brute[near], atol=1e-3)


def test_the_vote_takes_the_majority_and_breaks_ties_by_nearness():
    assert lab.vote([3, 8, 8, 3, 8]) == 8
    assert lab.vote([3, 8, 8, 3, 1]) == 3  # 3 and 8 tie: the nearest (first) wins
    assert lab.vote([5]) == 5


def test_examples_of_each_digit():
    labels = np.array([1, 0, 1, 2, 0, 1])
    ex = lab.examples(labels, 2)
    assert ex.tolist()[:3] == [[1, 4], [0, 2], [3, -1]]
    assert (ex[3:] == -1).all()


# --- the partial loads, on the real files ------------------------------------------------------


def test_test_set_alone_and_a_training_sample(mnist_dir):
    from nn import mnist

    images, labels = mnist.shared_test_set(mnist_dir)
    assert images.shape == (10_000, 784) and labels.shape == (10_000,)
    assert not images.flags.writeable
    sample = mnist.shared_train_sample(1000, mnist_dir)
    assert sample.images.shape == (1000, 784) and sample.means.shape == (10, 784)
    assert not sample.images.flags.writeable and not sample.means.flags.writeable
    assert sample.images.base is None  # a copy: the whole decompressed file is let go
    assert mnist.shared_train_sample(1000, mnist_dir) is sample  # once per process
    # the average 1 has less ink than the average 0 (the book's darkness baseline)
    assert sample.means[1].sum() < sample.means[0].sum()
