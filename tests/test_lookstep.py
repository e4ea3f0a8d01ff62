"""nn.lookstep: the step it takes is SGD's own, and what it reports of it is the book's BP1,
BP2 and BP4 for that step, bounded in size whatever the batch."""

import numpy as np
import pytest

from nn.lookstep import SHOWN, look_at_step
from nn.network import Network
from nn.sgd import SGD


def setup(cost="cross-entropy", l2=0.0, hidden=12, n=60, seed=4):
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(n, 784), dtype=np.uint8)
    labels = rng.integers(0, 10, size=n)
    net = Network([784, hidden, 10], cost=cost, l2=l2, init="scaled", seed=seed)
    return net, SGD(net, images, labels), images, labels


@pytest.mark.parametrize("cost", ["quadratic", "cross-entropy"])
def test_the_step_is_sgds_own(cost):
    net, sgd, images, labels = setup(cost, l2=5.0)
    twin = Network.from_arrays(net.weights, net.biases, cost=cost, l2=5.0)
    twin_sgd = SGD(twin, images, labels)
    batch = np.arange(10, 20)
    look_at_step(net, sgd, batch, 0.5)
    twin_sgd.step(batch, 0.5)
    for ours, theirs in zip(net.params, twin.params):
        np.testing.assert_array_equal(ours, theirs)


@pytest.mark.parametrize("cost", ["quadratic", "cross-entropy"])
def test_it_reports_bp1_bp2_and_bp4_of_that_step(cost):
    net, sgd, images, labels = setup(cost)
    w1, b1, w2 = (a.astype(np.float64) for a in (net.weights[0], net.biases[0], net.weights[1]))
    batch, eta = np.arange(5, 15), 0.7
    look = look_at_step(net, sgd, batch, eta, number=3, epoch=0.25)
    x = images[batch] / 255.0
    y = np.eye(10)[labels[batch]]
    a = look.outputs.astype(np.float64)
    bp1 = a - y if cost == "cross-entropy" else (a - y) * a * (1 - a)
    np.testing.assert_allclose(look.delta_out, bp1, atol=1e-6)
    assert look.labels.tolist() == labels[batch].tolist()
    np.testing.assert_array_equal(look.images, images[batch])
    # BP2 from BP1 and the hidden activations before the step, recomputed here in float64
    h = 1 / (1 + np.exp(-(x @ w1.T + b1)))
    bp2 = (bp1 @ w2) * h * (1 - h)
    np.testing.assert_allclose(look.delta_hidden, bp2, atol=1e-6)
    # BP4: the neuron's change is -(eta/m) sum_x delta_j a_in: the step did what BP2 says
    j = look.neuron
    expected = -(eta / 10) * look.delta_hidden[:, j].astype(np.float64) @ x
    np.testing.assert_allclose(look.weight_change, expected, atol=1e-5)
    assert j == int(np.argmax(look.changes)) and (look.number, look.epoch) == (3, 0.25)


def test_the_batch_cost_before_and_after_is_the_networks_cost_on_it():
    net, sgd, images, labels = setup()
    batch = np.arange(0, 10)
    before = net.total_cost(images[batch], labels[batch])
    look = look_at_step(net, sgd, batch, 3.0)
    after = net.total_cost(images[batch], labels[batch])
    assert look.cost_before == pytest.approx(before, rel=1e-5)
    assert look.cost_after == pytest.approx(after, rel=1e-5)
    assert look.cost_after < look.cost_before  # a step down the gradient, on its own batch


def test_a_chosen_neuron_is_kept_and_a_wrong_one_falls_back_to_the_most_changed():
    net, sgd, *_ = setup()
    assert look_at_step(net, sgd, np.arange(10), 1.0, neuron=7).neuron == 7
    look = look_at_step(net, sgd, np.arange(10), 1.0, neuron=99)
    assert look.neuron == int(np.argmax(look.changes))


def test_what_it_keeps_is_bounded_whatever_the_batch():
    net, sgd, *_ = setup(hidden=200, n=600)
    look = look_at_step(net, sgd, np.arange(500), 1.0)
    assert look.size == 500
    assert look.images.shape == (SHOWN, 784) and look.delta_hidden.shape == (SHOWN, 200)
    assert look.weight_change.shape == (784,) and look.changes.shape == (200,)
    assert look.nbytes < 24_000  # ~20.6 kB: 7.8 kB of images, 8 kB of BP2


def test_only_three_layer_networks():
    net = Network([784, 5, 5, 10])
    sgd = SGD(net, np.zeros((10, 784), np.uint8), np.zeros(10, int))
    with pytest.raises(ValueError, match=r"\[784, N, 10\]"):
        look_at_step(net, sgd, np.arange(10), 1.0)
