"""nn.augment: distorted copies keep the digit, have the right shapes, and follow the seed."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw

from nn import augment


def drawn_digits() -> np.ndarray:
    """A few MNIST-like digits (uint8, (n, 784)): a 7, a 1, a 0 and a 4, 2-3 px strokes."""
    shapes = [
        [(8, 6), (20, 6), (12, 22)],
        [(14, 4), (14, 23)],
        None,
        [(17, 23), (17, 4), (8, 16), (21, 16)],
    ]
    out = []
    for shape in shapes:
        image = Image.new("L", (28, 28), 0)
        draw = ImageDraw.Draw(image)
        if shape is None:
            draw.ellipse((8, 4, 20, 23), outline=255, width=3)
        else:
            draw.line(shape, fill=255, width=3)
        out.append(np.asarray(image, dtype=np.uint8).reshape(784))
    return np.stack(out)


def centre_of_mass(image: np.ndarray) -> np.ndarray:
    grid = image.reshape(28, 28).astype(np.float64)
    rows, cols = np.mgrid[0:28, 0:28]
    return np.array([(grid * rows).sum(), (grid * cols).sum()]) / grid.sum()


def test_expand_keeps_the_originals_first_and_repeats_the_labels():
    images = drawn_digits()
    labels = np.array([7, 1, 0, 4], dtype=np.uint8)
    out, out_labels = augment.expand(images, labels, 3, seed=5)
    assert out.shape == (16, 784) and out.dtype == np.uint8
    assert out_labels.tolist() == labels.tolist() * 4 and out_labels.dtype == np.uint8
    assert np.array_equal(out[:4], images)
    assert not np.array_equal(out[4:8], images)  # the copies are distorted


def test_zero_copies_give_the_images_back():
    images = drawn_digits()
    out, labels = augment.expand(images, np.arange(4), 0)
    assert np.array_equal(out, images) and labels.tolist() == [0, 1, 2, 3]


def test_the_same_seed_gives_the_same_copies_and_another_seed_others():
    images = np.repeat(drawn_digits(), 50, axis=0)
    labels = np.zeros(len(images), dtype=np.uint8)
    first, _ = augment.expand(images, labels, 2, seed=3)
    again, _ = augment.expand(images, labels, 2, seed=3)
    other, _ = augment.expand(images, labels, 2, seed=4)
    assert np.array_equal(first, again)
    assert not np.array_equal(first, other)


def test_distortions_keep_the_ink_that_makes_the_digit():
    images = np.repeat(drawn_digits(), 250, axis=0)  # 1,000 copies of four digits
    out = augment.distort_batch(images, np.random.default_rng(0)).astype(np.float64)
    before = images.astype(np.float64).sum(axis=1)
    kept = out.sum(axis=1) / before
    # Scaling (0.85-1.1 each way) and thickness changes (thinning stops where it would keep
    # under 60 % of the ink) change the amount of ink, within bounds: never a blob.
    assert kept.min() > 0.4 and kept.max() < 2.2, (kept.min(), kept.max())
    assert 0.85 < np.median(kept) < 1.15
    # Small affine changes: the digit stays near the centre and inside the field.
    moved = np.array(
        [np.linalg.norm(centre_of_mass(a) - centre_of_mass(b)) for a, b in zip(out, images)]
    )
    assert moved.max() < 4.0, moved.max()
    grid = out.reshape(-1, 28, 28)
    edge = grid[:, 0].sum(1) + grid[:, -1].sum(1) + grid[:, :, 0].sum(1) + grid[:, :, -1].sum(1)
    assert (edge / out.sum(axis=1)).max() < 0.05
    # Most distorted digits still look most like their own original (nearest of the four in
    # pixel distance, a crude judge: a shifted, slanted 1 can be nearer a 7).
    originals = drawn_digits().astype(np.float64)
    distance = ((out[:, None, :] - originals[None]) ** 2).sum(axis=2)
    assert (distance.argmin(axis=1) == np.repeat(np.arange(4), 250)).mean() > 0.85


def test_the_copies_vary_in_slant_and_thickness():
    image = drawn_digits()[1:2]  # the vertical 1
    out = augment.distort_batch(np.repeat(image, 400, axis=0), np.random.default_rng(1))
    ink = out.astype(np.float64).sum(axis=1) / image.sum()
    assert ink.max() - ink.min() > 0.6  # thinner and thicker copies
    tilts = []
    for copy in out.reshape(-1, 28, 28).astype(np.float64):
        rows = np.arange(28)
        weight = copy.sum(axis=1)
        cols = (copy * np.arange(28)).sum(axis=1) / np.maximum(weight, 1e-9)
        top, bottom = rows[weight > 0][:5], rows[weight > 0][-5:]
        tilts.append(cols[bottom].mean() - cols[top].mean())
    assert np.ptp(tilts) > 6  # slanted both ways by several pixels over the stroke


def test_distort_of_one_image_matches_its_shape_and_dtype():
    out = augment.distort(drawn_digits()[0], np.random.default_rng(0))
    assert out.shape == (784,) and out.dtype == np.uint8


@pytest.mark.parametrize(
    "bad",
    [np.zeros((3, 784), np.float32), np.zeros((3, 28, 28), np.uint8), np.zeros((3, 100), np.uint8)],
)
def test_other_shapes_or_dtypes_are_refused(bad):
    with pytest.raises(ValueError, match="uint8"):
        augment.distort_batch(bad, np.random.default_rng(0))


def test_distorted_mnist_digits_are_still_read_by_the_default_model(mnist_data):
    from nn.models import SHIPPED

    net, _meta = SHIPPED[0].load()
    images, labels = mnist_data.test_images[:1000], mnist_data.test_labels[:1000]
    distorted = augment.distort_batch(images, np.random.default_rng(0))
    plain = (np.argmax(net.feedforward(images / np.float32(255)), axis=1) == labels).mean()
    warped = (np.argmax(net.feedforward(distorted / np.float32(255)), axis=1) == labels).mean()
    # The distortions are strong on purpose (the shipped default, trained on them, reads
    # 98.4 % of these digits and 94.5 % of their distorted copies), but the digit stays
    # readable: a distortion that destroyed it would bring this towards 10 %.
    assert plain > 0.95 and warped > 0.88, (plain, warped)
