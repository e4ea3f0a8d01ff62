"""The networks the page ships with, how the page names networks, and what it reads from one.

`SHIPPED` lists the shipped model files in the order of the page's picker: the stronger
default first, then the book's [784, 30, 10]. Labels are built from each file's metadata
(layer sizes and test accuracy), so a better `default.npz` dropped in later names itself.

`read(net, image)` is everything the page shows about one drawing for one network: the
answer, the output activations and the hidden layers' activations.

No Streamlit here: the page (app.py) only lays these out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .modelfile import load_model
from .network import Network, layers_label

__all__ = ["ShippedModel", "SHIPPED", "MODELS_DIR", "describe", "label_for", "load_shipped",
           "unique_label", "upload_label", "load_upload", "download_name", "Reading", "read", "pixelated",
           "as_grid"]

MODELS_DIR = Path(__file__).resolve().parents[1] / "assets" / "models"


@dataclass(frozen=True)
class ShippedModel:
    """A model file that comes with the page; `title` starts its label in the picker."""

    title: str
    path: Path

    def load(self) -> tuple[Network, dict]:
        """(network, metadata), read and validated like any other model file."""
        return load_model(self.path)

    def label(self, net: Network, meta: dict) -> str:
        return label_for(self.title, net, meta)


SHIPPED: tuple[ShippedModel, ...] = (
    ShippedModel("Default", MODELS_DIR / "default.npz"),
    ShippedModel("The book's", MODELS_DIR / "book.npz"),
)


def describe(net: Network, meta: dict) -> str:
    """'[784, 100, 10], 97.4 % on test' (the accuracy only if the metadata has it)."""
    text = layers_label(net.sizes)
    accuracy = meta.get("test_accuracy")
    if isinstance(accuracy, (int, float)) and not isinstance(accuracy, bool) \
            and 0 <= accuracy <= 1:
        text += f", {100 * accuracy:.1f} % on test"
    return text


def label_for(title: str, net: Network, meta: dict) -> str:
    """A picker label: 'Default: [784, 100, 10], 97.4 % on test'."""
    return f"{title}: {describe(net, meta)}"


def load_shipped() -> dict[str, tuple[Network, dict]]:
    """Every shipped model, label -> (network, metadata), in picker order."""
    models = {}
    for model in SHIPPED:
        net, meta = model.load()
        models[model.label(net, meta)] = (net, meta)
    return models


def unique_label(label: str, taken) -> str:
    """`label`, or `label (2)`, `label (3)`, ... if it is already taken."""
    if label not in taken:
        return label
    n = 2
    while f"{label} ({n})" in taken:
        n += 1
    return f"{label} ({n})"


def upload_label(file_name: str, net: Network, meta: dict) -> str:
    """A picker label for an uploaded file: 'Uploaded mine.npz: [784, 30, 10], 95.1 % on test'."""
    name = re.sub(r"\s+", " ", str(file_name)).strip()[:60] or "file"
    return label_for(f"Uploaded {name}", net, meta)


def load_upload(file_name: str, data: bytes) -> tuple[str, Network, dict]:
    """(picker label, network, metadata) from an uploaded model file's bytes.

    Raises `ModelFileError` (a ValueError) with a visitor-readable message for a bad file.
    """
    net, meta = load_model(data)
    return upload_label(file_name, net, meta), net, meta


def download_name(label: str) -> str:
    """A file name for a label: 'Default: [784, 100, 10], 97.4 %...' -> 'default-784-100-10.npz'."""
    head = label.split(":", 1)[0]
    head = re.sub(r"\.npz$", "", head.removeprefix("Uploaded ").strip(), flags=re.IGNORECASE)
    sizes = re.search(r"\[([\d,\s]+)\]", label)
    parts = [head] + ([sizes.group(1)] if sizes else [])
    slug = re.sub(r"[^a-z0-9]+", "-", " ".join(parts).lower()).strip("-")
    return f"{slug or 'network'}.npz"


@dataclass(frozen=True)
class Reading:
    """What one network makes of one prepared drawing."""

    answer: int                  # the digit: the index of the largest output activation
    output: np.ndarray           # (10,) output activations, each in (0, 1); not probabilities
    hidden: list[np.ndarray]     # each hidden layer's activations, (N,) each


def read(net: Network, image: np.ndarray) -> Reading:
    """Feed a prepared (28, 28) image in [0, 1] (from `canvas_to_mnist`) to the network.

    Whatever reaches it, the page gets a clean answer: NaN pixels count as 0 and values are
    clipped to [0, 1] (the network's sigmoids cannot overflow, see `nn.network.sigmoid`).
    """
    pixels = np.clip(np.nan_to_num(np.asarray(image, dtype=np.float32).reshape(-1)), 0, 1)
    layers = net.activations(pixels)
    output = layers[-1]
    return Reading(answer=int(np.argmax(output)), output=output, hidden=layers[1:-1])


def pixelated(image: np.ndarray, scale: int = 8) -> np.ndarray:
    """A (28, 28) [0, 1] image enlarged `scale` times with square pixels, as uint8 grey.

    Enlarging here (not in the browser) keeps the pixels crisp whatever the browser's
    smoothing, so a visitor sees the 28x28 grid the network reads.
    """
    grey = np.rint(np.clip(image, 0.0, 1.0) * 255).astype(np.uint8)
    return np.repeat(np.repeat(grey, scale, axis=0), scale, axis=1)


def as_grid(values: np.ndarray) -> np.ndarray:
    """N values laid out row by row in a near-square grid (ceil(sqrt N) columns), NaN-padded.

    30 hidden neurons become 5 rows of 6, 100 become 10 rows of 10.
    """
    values = np.asarray(values, dtype=np.float64).reshape(-1)
    cols = max(1, int(np.ceil(np.sqrt(values.size))))
    rows = max(1, -(-values.size // cols))
    grid = np.full(rows * cols, np.nan)
    grid[:values.size] = values
    return grid.reshape(rows, cols)
