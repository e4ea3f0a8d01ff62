"""Model files: a trained network and what is known about it, in one `.npz` file.

A file holds `sizes` (int64), `W0, b0, W1, b1, ...` (float32) and `meta`, a UTF-8 JSON
object stored as bytes (settings, seed, epochs, test accuracy, date). Nothing in it is
a pickle, and loading never unpickles (`allow_pickle=False`).

Model files come from visitors of a public page, so loading trusts nothing: the size is
capped before anything is read, the zip's members are listed and sized before they are
decompressed (a zip bomb is refused), each array's header is checked before numpy
allocates it, the network's parameter count is capped (`MAX_PARAMS`, what a network costs
in memory and in every reading) before its weights are decompressed, and then every shape,
dtype and value is validated; the metadata is parsed with a depth and number-length limit.
Each way a file can be wrong raises `ModelFileError` with a message that says what is wrong,
in plain words, and `load_model` raises nothing else (any other exception from the parsing
libraries is turned into one: a file is data, never a reason for a crash).
Saving is atomic: a temporary file in the same folder, then a rename.
"""

from __future__ import annotations

import datetime as _dt
import io
import json
import os
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from .network import Network, check_options

FORMAT = 1
MAX_FILE_BYTES = 16 * 1024 * 1024  # a [784, 2000, 10] float32 network is 6.3 MB
MAX_HIDDEN = 2000  # neurons in one hidden layer
MAX_LAYERS = 6  # input and output included
MAX_PARAMS = 1_600_000  # weights and biases: [784, 2000, 10] has 1,590,010 (6.4 MB in float32)
MAX_META_BYTES = 64 * 1024
MAX_META_DEPTH = 20  # nesting of the metadata's JSON (our own files use 3)
MAX_META_DIGITS = 40  # digits of one number in the metadata's JSON
MAX_ABS_PARAM = 1e6  # any trained sigmoid network stays far below this
N_IN, N_OUT = 784, 10


class ModelFileError(ValueError):
    """A model file that cannot be used; the message says why, for a visitor to read."""


def model_bytes(net: Network, meta: dict | None = None) -> bytes:
    """The contents of a model file for `net` (what the page offers as a download)."""
    meta = {
        **(meta or {}),
        "sizes": net.sizes,
        "init": net.init,
        "cost": net.cost,
        "l2": net.l2,
        "format": FORMAT,
    }
    meta.setdefault("date", _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"))
    arrays: dict[str, np.ndarray] = {
        "sizes": np.asarray(net.sizes, dtype=np.int64),
        "meta": np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8),
    }
    for i, (w, b) in enumerate(zip(net.weights, net.biases)):
        arrays[f"W{i}"], arrays[f"b{i}"] = np.ascontiguousarray(w), np.ascontiguousarray(b)
    buf = io.BytesIO()
    np.savez(buf, allow_pickle=False, **arrays)  # plain arrays only: no pickle in a file
    return buf.getvalue()


def save_model(path, net: Network, meta: dict | None = None) -> Path:
    """Write a model file atomically: a reader sees the old file or the new one, never half."""
    path = Path(path)
    data = model_bytes(net, meta)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes it private; a model file is for sharing
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def load_model(source, max_bytes: int = MAX_FILE_BYTES) -> tuple[Network, dict]:
    """Read and validate a model file (a path, bytes, or a binary file object).

    Returns the network and its metadata; raises `ModelFileError` for anything wrong, and
    nothing else (a bug in a check or a parser's surprise is reported as a damaged file).
    """
    try:
        return _load(source, max_bytes)
    except ModelFileError:
        raise
    except MemoryError:
        raise ModelFileError("the model file needs more memory than this server gives it") from None
    except Exception as e:  # anything a parser raised for a file no check foresaw
        raise ModelFileError(f"the model file cannot be read ({type(e).__name__})") from None


def parameter_count(sizes) -> int:
    """Weights and biases of a fully connected network with these layer sizes."""
    sizes = [int(n) for n in sizes]
    return sum((n_in + 1) * n_out for n_in, n_out in zip(sizes[:-1], sizes[1:]))


def _load(source, max_bytes: int) -> tuple[Network, dict]:
    data = _read_capped(source, max_bytes)
    arrays = _read_arrays(data, max_bytes)
    sizes = _check_sizes(arrays)
    weights, biases = _check_layers(arrays, sizes)
    meta = _check_meta(arrays)
    options = {key: meta[key] for key in ("init", "cost", "l2") if key in meta}
    net = Network.from_arrays(weights, biases, **options)
    return net, meta


def _read_capped(source, max_bytes: int) -> bytes:
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
    elif isinstance(source, (str, os.PathLike)):
        try:
            size = os.path.getsize(source)
        except OSError as e:
            raise ModelFileError(f"cannot read the model file: {e.strerror or e}") from None
        if size > max_bytes:
            raise ModelFileError(_too_big(size, max_bytes))
        with open(source, "rb") as f:
            data = f.read(max_bytes + 1)
    else:
        data = source.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise ModelFileError(_too_big(len(data), max_bytes))
    if not data:
        raise ModelFileError("the model file is empty")
    return data


def too_big(size: int, max_bytes: int = MAX_FILE_BYTES) -> str:
    """The message for a file of `size` bytes over the cap (also the page's, for a file it
    kept by name only)."""
    return _too_big(size, max_bytes)


def _too_big(size: int, max_bytes: int) -> str:
    return (
        f"the model file is too large ({size / 2**20:.1f} MB); "
        f"the limit is {max_bytes / 2**20:.0f} MB"
    )


def _read_arrays(data: bytes, max_bytes: int) -> dict[str, np.ndarray]:
    """The arrays of an npz archive, each checked before it is decompressed or allocated."""
    if not data.startswith(b"PK"):
        raise ModelFileError("this is not a model file (.npz): it is not a zip archive")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except Exception as e:  # zipfile raises many kinds for a damaged archive
        raise ModelFileError(f"this is not a readable .npz file (a damaged zip: {e})") from None
    if len(members) > 2 * MAX_LAYERS + 2:
        raise ModelFileError(
            f"the file holds {len(members)} entries; a model has at most {2 * MAX_LAYERS + 2}"
        )
    for member in members:
        name = member.filename.removesuffix(".npy")
        if not member.filename.endswith(".npy") or not _known_name(name):
            raise ModelFileError(f"unexpected entry {member.filename!r} in the model file")
    arrays = {}
    # 'sizes' first (a few bytes): the parameter count is checked before anything large is
    # decompressed, so a small file declaring a huge network is refused for what it is.
    sizes = [m for m in members if m.filename == "sizes.npy"]
    if sizes and sizes[0].file_size <= 1024:
        arrays["sizes"] = _read_member(archive, sizes[0])
        _check_sizes(arrays)
    # float64 weights at the parameter cap, the metadata and the arrays' headers
    most = min(4 * max_bytes, 8 * MAX_PARAMS + MAX_META_BYTES + 64 * 1024)
    if sum(m.file_size for m in members) > most:
        raise ModelFileError("the file's contents unpack to far more than any model needs")
    for member in members:
        name = member.filename.removesuffix(".npy")
        if name not in arrays:
            arrays[name] = _read_member(archive, member)
    return arrays


def _known_name(name: str) -> bool:
    if name in ("sizes", "meta"):
        return True
    return name[:1] in ("W", "b") and name[1:].isdigit() and int(name[1:]) < MAX_LAYERS


def _read_member(archive: zipfile.ZipFile, member: zipfile.ZipInfo) -> np.ndarray:
    label = member.filename.removesuffix(".npy")
    try:
        raw = archive.read(member)
    except Exception as e:  # bad CRC, bad compression data, unsupported zip features...
        raise ModelFileError(f"entry {label!r} is damaged ({e})") from None
    stream = io.BytesIO(raw)
    try:
        version = np.lib.format.read_magic(stream)
        read_header = (
            np.lib.format.read_array_header_1_0
            if version == (1, 0)
            else np.lib.format.read_array_header_2_0
        )
        shape, _, dtype = read_header(stream)
    except (ValueError, OSError, SyntaxError, TypeError) as e:
        raise ModelFileError(f"entry {label!r} is not a valid array ({e})") from None
    if dtype.hasobject or dtype.kind not in "fiu":
        raise ModelFileError(f"entry {label!r} has type {dtype}; only numbers are allowed")
    expected = int(np.prod(shape, dtype=np.float64)) * dtype.itemsize
    if expected != len(raw) - stream.tell():
        raise ModelFileError(
            f"entry {label!r} claims shape {shape} but holds "
            f"{len(raw) - stream.tell()} bytes of data"
        )
    stream.seek(0)
    try:
        return np.load(stream, allow_pickle=False)
    except Exception as e:
        raise ModelFileError(f"entry {label!r} is not a valid array ({e})") from None


def _check_sizes(arrays: dict) -> list[int]:
    if "sizes" not in arrays:
        raise ModelFileError("the file has no 'sizes' entry (the layer sizes)")
    sizes = arrays["sizes"]
    if sizes.ndim != 1 or sizes.dtype.kind not in "iu" or not 3 <= len(sizes) <= MAX_LAYERS:
        raise ModelFileError(
            f"'sizes' must list 3 to {MAX_LAYERS} layer sizes as integers, got {sizes.tolist()!r}"[
                :300
            ]
        )
    sizes = [int(s) for s in sizes]
    if sizes[0] != N_IN or sizes[-1] != N_OUT:
        raise ModelFileError(
            f"the network has layers {sizes}: it must take {N_IN} inputs "
            f"(28x28 pixels) and give {N_OUT} outputs (digits 0-9)"
        )
    if not all(1 <= n <= MAX_HIDDEN for n in sizes[1:-1]):
        raise ModelFileError(
            f"the hidden layers {sizes[1:-1]} must each have 1 to {MAX_HIDDEN} neurons"
        )
    if parameter_count(sizes) > MAX_PARAMS:
        raise ModelFileError(
            f"the network has layers {sizes}, {parameter_count(sizes):,} weights and biases; "
            f"this page takes networks of at most {MAX_PARAMS:,}"
        )
    return sizes


def _check_layers(arrays: dict, sizes: list[int]):
    weights: list[np.ndarray] = []
    biases: list[np.ndarray] = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        for name, shape, bucket in ((f"W{i}", (n_out, n_in), weights), (f"b{i}", (n_out,), biases)):
            if name not in arrays:
                raise ModelFileError(f"the file has no {name!r} entry, needed by layers {sizes}")
            a = arrays[name]
            if a.dtype.kind != "f":
                raise ModelFileError(f"{name!r} holds {a.dtype} values; it must hold floats")
            if a.shape != shape:
                raise ModelFileError(f"{name!r} has shape {a.shape}; layers {sizes} need {shape}")
            if not np.all(np.isfinite(a)):
                raise ModelFileError(f"{name!r} contains NaN or infinite values")
            if np.max(np.abs(a), initial=0) > MAX_ABS_PARAM:
                raise ModelFileError(
                    f"{name!r} holds absurdly large values (above {MAX_ABS_PARAM:g})"
                )
            bucket.append(a)
    used = {"sizes", "meta"} | {f"{p}{i}" for p in "Wb" for i in range(len(sizes) - 1)}
    extra = set(arrays) - used
    if extra:
        raise ModelFileError(f"the file has entries {sorted(extra)} that layers {sizes} do not use")
    return weights, biases


def _check_meta(arrays: dict) -> dict:
    if "meta" not in arrays:
        return {}
    raw = arrays["meta"]
    if raw.dtype != np.uint8 or raw.ndim != 1 or raw.size > MAX_META_BYTES:
        raise ModelFileError("the 'meta' entry must be UTF-8 JSON text of at most 64 KB")
    try:
        text = raw.tobytes().decode("utf-8")
    except UnicodeDecodeError as e:
        raise ModelFileError(f"the 'meta' entry is not UTF-8 text ({e.reason})") from None
    _check_json_shape(text)
    try:
        meta = json.loads(text, parse_int=_bounded_int, parse_constant=_no_constant)
    except json.JSONDecodeError as e:
        raise ModelFileError(f"the 'meta' entry is not valid JSON ({e})") from None
    if not isinstance(meta, dict):
        raise ModelFileError("the 'meta' entry must be a JSON object")
    try:
        check_options(
            meta.get("init", "normal"), meta.get("cost", "quadratic"), meta.get("l2", 0.0)
        )
    except (ValueError, TypeError) as e:
        raise ModelFileError(
            f"the 'meta' entry names an unknown init or cost, or a bad l2: {str(e)[:200]}"
        ) from None
    return meta


def _check_json_shape(text: str) -> None:
    """Refuse JSON nested deeper than MAX_META_DEPTH (json.loads would recurse into a
    RecursionError) before parsing it; brackets inside strings are skipped."""
    depth, in_string, escaped = 0, False, False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            if depth > MAX_META_DEPTH:
                raise ModelFileError(
                    f"the 'meta' entry is nested more than {MAX_META_DEPTH} levels deep"
                )
        elif ch in "]}":
            depth -= 1


def _bounded_int(digits: str) -> int:
    if len(digits.lstrip("-")) > MAX_META_DIGITS:
        raise ModelFileError(
            f"the 'meta' entry holds a number of {len(digits)} digits; "
            f"at most {MAX_META_DIGITS} are allowed"
        )
    return int(digits)


def _no_constant(name: str):
    raise ModelFileError(f"the 'meta' entry holds {name}, which is not a JSON number")
