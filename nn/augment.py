"""Distorted copies of digits, to train a network that reads drawn digits well.

A fully connected network is neither shift- nor rotation-invariant, and a digit drawn with a
mouse differs from MNIST's pen strokes in slant, proportions, wobble and stroke width. `expand`
adds copies of each training image distorted in those ways, all at once for a whole batch of
images (numpy, no per-image Python loop):

- an affine map: rotation up to 15 degrees, slant (shear) up to 0.35, width and height scaled
  independently by 0.85-1.1, a shift of up to 1.5 pixels;
- an elastic warp: a smooth random displacement field (random offsets on a coarse 4x4 grid,
  interpolated to every pixel), about a pixel at most;
- a stroke-width change in half of the copies: a fraction of a grey-level dilation (thicker,
  up to +2 px) or erosion (thinner, skipped where it would erase most of the ink).

The same seed gives the same copies.
"""

from __future__ import annotations

import numpy as np

SIDE = 28
CHUNK = 4096  # images distorted at once (bounds the memory of the coordinate maps)
MAX_ANGLE = 15.0  # degrees
MAX_SHEAR = 0.35
SCALE = (0.85, 1.1)
MAX_SHIFT = 1.5  # pixels
ELASTIC = 0.8  # standard deviation of the coarse grid's offsets, pixels
GRID = 4  # the elastic field's coarse grid is GRID x GRID
MIN_INK_KEPT = 0.6  # thinning that would keep less of the ink than this is not done


def _interpolation_matrix(fine: int, coarse: int) -> np.ndarray:
    """(fine, coarse) weights that interpolate a coarse grid's values linearly to fine points."""
    where = np.linspace(0, coarse - 1, fine)
    low = np.minimum(np.floor(where).astype(int), coarse - 2)
    frac = where - low
    out = np.zeros((fine, coarse))
    out[np.arange(fine), low] = 1 - frac
    out[np.arange(fine), low + 1] = frac
    return out


_UP = _interpolation_matrix(SIDE, GRID)


def _source_coordinates(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """For each of n images, where each output pixel is read from: (n, 28, 28) rows, cols."""
    angle = np.deg2rad(rng.uniform(-MAX_ANGLE, MAX_ANGLE, n))
    shear = rng.uniform(-MAX_SHEAR, MAX_SHEAR, n)
    sx, sy = rng.uniform(*SCALE, n), rng.uniform(*SCALE, n)
    shift = rng.uniform(-MAX_SHIFT, MAX_SHIFT, (n, 2))
    coarse = rng.normal(0.0, ELASTIC, (n, 2, GRID, GRID))
    field = np.einsum("ia,nkab,jb->nkij", _UP, coarse, _UP)  # (n, 2, 28, 28)
    centre = (SIDE - 1) / 2
    y, x = np.mgrid[0:SIDE, 0:SIDE] - centre
    cos, sin = np.cos(angle)[:, None, None], np.sin(angle)[:, None, None]
    # The inverse map (output -> input): undo the shift, rotate back, unshear, unscale.
    xs = x - shift[:, 0, None, None]
    ys = y - shift[:, 1, None, None]
    xr, yr = cos * xs + sin * ys, -sin * xs + cos * ys
    xr = xr - shear[:, None, None] * yr
    cols = xr / sx[:, None, None] + centre + field[:, 0]
    rows = yr / sy[:, None, None] + centre + field[:, 1]
    return rows, cols


def _sample(images: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Bilinear sampling of (n, 28, 28) images at (n, 28, 28) coordinates; 0 outside."""
    n = len(images)
    padded = np.zeros((n, SIDE + 2, SIDE + 2), dtype=np.float32)
    padded[:, 1:-1, 1:-1] = images
    r = np.clip(rows + 1, 0, SIDE + 0.999)
    c = np.clip(cols + 1, 0, SIDE + 0.999)
    r0, c0 = np.floor(r).astype(np.intp), np.floor(c).astype(np.intp)
    fr, fc = (r - r0).astype(np.float32), (c - c0).astype(np.float32)
    r1, c1 = np.minimum(r0 + 1, SIDE + 1), np.minimum(c0 + 1, SIDE + 1)
    k = np.arange(n)[:, None, None]
    top = padded[k, r0, c0] * (1 - fc) + padded[k, r0, c1] * fc
    bottom = padded[k, r1, c0] * (1 - fc) + padded[k, r1, c1] * fc
    return top * (1 - fr) + bottom * fr


def _neighbourhood(images: np.ndarray, op) -> np.ndarray:
    """Grey-level dilation (np.maximum) or erosion (np.minimum) by a 3x3 cross."""
    out = images.copy()
    op(out[:, 1:], images[:, :-1], out=out[:, 1:])
    op(out[:, :-1], images[:, 1:], out=out[:, :-1])
    op(out[:, :, 1:], images[:, :, :-1], out=out[:, :, 1:])
    op(out[:, :, :-1], images[:, :, 1:], out=out[:, :, :-1])
    return out


def _change_thickness(images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Half the images made thicker or thinner by a random fraction of one pixel's dilation."""
    n = len(images)
    amount = rng.uniform(-1.0, 1.0, n).astype(np.float32)
    amount[rng.random(n) < 0.5] = 0.0
    thick = amount > 0
    out = images.copy()
    if thick.any():
        a = amount[thick, None, None]
        out[thick] = images[thick] + a * (_neighbourhood(images[thick], np.maximum) - images[thick])
    thin = amount < 0
    if thin.any():
        eroded = _neighbourhood(images[thin], np.minimum)
        a = -amount[thin, None, None]
        thinner = images[thin] - a * (images[thin] - eroded)
        kept = thinner.sum(axis=(1, 2)) / np.maximum(images[thin].sum(axis=(1, 2)), 1e-6)
        ok = kept >= MIN_INK_KEPT  # thin strokes would vanish: leave those alone
        index = np.flatnonzero(thin)[ok]
        out[index] = thinner[ok]
    return out


def distort_batch(images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Random distortions of (n, 784) uint8 digits, returned as (n, 784) uint8."""
    images = np.asarray(images)
    if images.dtype != np.uint8 or images.ndim != 2 or images.shape[1] != SIDE * SIDE:
        raise ValueError(
            f"images must be uint8 of shape (n, {SIDE * SIDE}); got {images.dtype} {images.shape}"
        )
    out = np.empty_like(images)
    for start in range(0, len(images), CHUNK):
        chunk = images[start : start + CHUNK].reshape(-1, SIDE, SIDE).astype(np.float32)
        rows, cols = _source_coordinates(len(chunk), rng)
        warped = _change_thickness(_sample(chunk, rows, cols), rng)
        out[start : start + CHUNK] = np.clip(warped + 0.5, 0, 255).reshape(-1, SIDE * SIDE)
    return out


def distort(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One random distortion of a 28x28 uint8 digit (a (784,) array)."""
    return distort_batch(np.asarray(image).reshape(1, SIDE * SIDE), rng)[0]


def expand(images: np.ndarray, labels: np.ndarray, copies: int, seed: int = 0):
    """The images followed by `copies` distorted copies of each, and the matching labels."""
    rng = np.random.default_rng([seed, 2])
    extra = [distort_batch(images, rng) for _ in range(copies)]
    return (np.concatenate([images, *extra]), np.concatenate([labels] * (copies + 1)))
