"""The networks the page ships with, and what one network makes of one drawing.

`SHIPPED` lists the shipped model files in the order of the page's picker: the stronger
default first, then the book's [784, 30, 10]. Each has a title; the page builds its label
from the title and the file's metadata (layer sizes and test accuracy), so a better
`default.npz` dropped in later names itself.

`read(net, image)` is everything the page shows about one drawing for one network: the
answer, the output activations and the hidden layers' activations.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .modelfile import load_model
from .network import Network

__all__ = ["ShippedModel", "SHIPPED", "MODELS_DIR", "Reading", "read"]

MODELS_DIR = Path(__file__).resolve().parents[1] / "assets" / "models"


@dataclass(frozen=True)
class ShippedModel:
    """A model file that comes with the page; `title` starts its label in the picker."""

    title: str
    path: Path

    def load(self) -> tuple[Network, dict]:
        """(network, metadata), read and validated like any other model file."""
        return load_model(self.path)


SHIPPED: tuple[ShippedModel, ...] = (
    ShippedModel("Default", MODELS_DIR / "default.npz"),
    ShippedModel("The book's", MODELS_DIR / "book.npz"),
)


@dataclass(frozen=True)
class Reading:
    """What one network makes of one prepared drawing."""

    answer: int  # the digit: the index of the largest output activation
    output: np.ndarray  # (10,) output activations, each in (0, 1); not probabilities
    hidden: list[np.ndarray]  # each hidden layer's activations, (N,) each


def read(net: Network, image: np.ndarray) -> Reading:
    """Feed a prepared (28, 28) image in [0, 1] (from `canvas_to_mnist`) to the network.

    Whatever reaches it, the page gets a clean answer: NaN pixels count as 0 and values are
    clipped to [0, 1] (the network's sigmoids cannot overflow, see `nn.network.sigmoid`).
    """
    pixels = np.clip(np.nan_to_num(np.asarray(image, dtype=np.float32).reshape(-1)), 0, 1)
    layers = net.activations(pixels)
    output = layers[-1]
    return Reading(answer=int(np.argmax(output)), output=output, hidden=layers[1:-1])
