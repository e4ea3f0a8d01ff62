"""nn.teach: fine-tuning a copy of a network on taught drawings mixed with replayed digits.

The fast tests use a small random network and random "digits" to replay; the slow one
teaches the shipped book's network a test digit it misreads, on the real MNIST.
"""

from __future__ import annotations

import numpy as np
import pytest

from nn.network import Network
from nn.teach import MAX_TAUGHT, TeachError, as_pixels, check_lesson, fine_tune


@pytest.fixture
def replay():
    rng = np.random.default_rng(1)
    images = rng.integers(0, 256, size=(400, 784), dtype=np.uint8)
    return images, rng.integers(0, 10, size=400).astype(np.uint8)


def bar(column: int) -> np.ndarray:
    image = np.zeros((28, 28), dtype=np.float32)
    image[5:23, column : column + 3] = 1.0
    return image


def test_the_copy_learns_the_drawing_and_the_original_is_untouched(replay):
    net = Network([784, 16, 10], seed=2)
    before = [layer.copy() for layer in net.params]
    wanted = (int(net.predict(bar(13).reshape(-1))) + 3) % 10  # a digit it does not answer
    result = fine_tune(net, [bar(13)], [wanted], replay=replay, test=replay)
    assert result.answers == [wanted]
    assert result.answers_before == [int(net.predict(bar(13).reshape(-1)))]
    assert result.net is not net
    for layer, saved in zip(net.params, before):
        np.testing.assert_array_equal(layer, saved)
    assert 1 <= result.rounds <= 8 and result.steps > 0 and result.seconds > 0
    assert result.accuracy_before == net.evaluate(*replay) / 400
    assert result.accuracy_after == result.net.evaluate(*replay) / 400


def test_the_copy_keeps_the_networks_cost_and_l2(replay):
    net = Network([784, 8, 10], seed=4, cost="quadratic", l2=5.0)
    result = fine_tune(net, [bar(10)], [1], replay=replay, max_rounds=1)
    assert (result.net.cost, result.net.l2, result.net.sizes) == ("quadratic", 5.0, net.sizes)
    assert result.accuracy_before is None and result.accuracy_after is None  # no test set


def test_several_drawings_are_taught_together(replay):
    net = Network([784, 20, 10], seed=6)
    drawings, digits = [bar(6), bar(13), bar(20)], [2, 5, 8]
    result = fine_tune(net, drawings, digits, replay=replay, max_rounds=20)
    assert result.answers == digits


def test_drawings_become_mnist_pixels():
    pixels = as_pixels(np.stack([bar(4), np.full((28, 28), np.nan)]))
    assert pixels.dtype == np.uint8 and pixels.shape == (2, 784)
    assert pixels[0].max() == 255 and pixels[1].max() == 0  # NaN is no ink


@pytest.mark.parametrize(
    "drawings, digits, message",
    [
        ([], [], "nothing to teach"),
        ([bar(5)] * (MAX_TAUGHT + 1), [1] * (MAX_TAUGHT + 1), "at most"),
        ([bar(5)], [1, 2], "labels"),
        ([bar(5)], [10], "from 0 to 9"),
        ([bar(5)], [2.5], "from 0 to 9"),
        ([np.zeros((20, 20))], [1], "28 x 28"),
    ],
)
def test_bad_lessons_are_refused(replay, drawings, digits, message):
    with pytest.raises(TeachError, match=message):
        fine_tune(Network([784, 4, 10], seed=0), drawings, digits, replay=replay)


def test_only_784_to_10_networks_can_be_taught(replay):
    with pytest.raises(TeachError, match="only"):
        fine_tune(Network([784, 4, 3], seed=0), [bar(5)], [1], replay=replay)


def test_a_lesson_is_checked_without_training():
    """What the run manager checks before it queues a teach job."""
    pixels, labels = check_lesson(Network([784, 4, 10], seed=0), [bar(5), bar(9)], [1.0, 7])
    assert pixels.dtype == np.uint8 and pixels.shape == (2, 784)
    assert labels.tolist() == [1, 7]
    with pytest.raises(TeachError, match="from 0 to 9"):
        check_lesson(Network([784, 4, 10], seed=0), [bar(5)], [-1])


@pytest.mark.slow
def test_the_books_network_learns_a_digit_it_misread_and_forgets_little(mnist_data):
    from tests.helpers import shipped_models as load_shipped

    net = next(n for n, _ in load_shipped().values() if n.sizes == [784, 30, 10])
    test = (mnist_data.test_images, mnist_data.test_labels)
    wrong = np.flatnonzero(net.predict(test[0]) != test[1])[:3]
    drawings = [mnist_data.test_images[i].reshape(28, 28) / 255.0 for i in wrong]
    digits = [int(mnist_data.test_labels[i]) for i in wrong]
    result = fine_tune(
        net, drawings, digits, replay=(mnist_data.train_images, mnist_data.train_labels), test=test
    )
    assert result.answers == digits
    assert result.answers_before != digits
    assert abs(result.accuracy_after - result.accuracy_before) < 0.02
