"""Distorted copies of MNIST digits, to train a network that reads drawn digits well.

A fully connected network is not shift- or rotation-invariant, and a digit drawn with a
mouse differs from MNIST's pen strokes mostly in slant, stroke width and small offsets
that survive centring. `expand` adds copies of each training image that are slightly
rotated, sheared, scaled, shifted by a pixel or two, and made thinner or thicker.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageFilter


def distort(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One random, small distortion of a 28x28 uint8 digit (a (784,) array)."""
    img = Image.fromarray(image.reshape(28, 28))
    angle = np.deg2rad(rng.uniform(-12, 12))
    shear, scale = rng.uniform(-0.2, 0.2), rng.uniform(0.9, 1.1)
    dx, dy = rng.integers(-2, 3, size=2)
    cos, sin = np.cos(angle) / scale, np.sin(angle) / scale
    # PIL maps each output pixel (x, y) back to the input: x' = a x + b y + c, y' = d x + e y + f.
    a, b, d, e = cos, sin + shear * cos, -sin, cos - shear * sin
    cx = cy = 13.5
    c = cx - a * (cx + dx) - b * (cy + dy)
    f = cy - d * (cx + dx) - e * (cy + dy)
    img = img.transform((28, 28), Image.Transform.AFFINE, (a, b, c, d, e, f),
                        resample=Image.Resampling.BILINEAR)
    stroke = rng.integers(0, 4)  # 0: as is, 1: thicker, 2: thinner, 3: as is
    if stroke == 1:
        img = img.filter(ImageFilter.MaxFilter(3))
    elif stroke == 2 and np.count_nonzero(np.asarray(img) > 128) > 60:
        img = img.filter(ImageFilter.MinFilter(3))
    return np.asarray(img, dtype=np.uint8).reshape(784)


def expand(images: np.ndarray, labels: np.ndarray, copies: int, seed: int = 0):
    """The images followed by `copies` distorted copies of each, and the matching labels."""
    rng = np.random.default_rng([seed, 2])
    extra = [np.stack([distort(img, rng) for img in images]) for _ in range(copies)]
    return (np.concatenate([images, *extra]),
            np.concatenate([labels] * (copies + 1)))
