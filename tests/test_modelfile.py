"""Model files: a round trip, and every kind of bad or hostile file refused with a reason."""

import io
import json
import os
import pickle
import zipfile

import numpy as np
import pytest

from nn.modelfile import MAX_FILE_BYTES, ModelFileError, load_model, model_bytes, save_model
from nn.network import Network


def npz(**arrays) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def good_arrays(hidden=5):
    net = Network([784, hidden, 10], seed=0)
    return {
        "sizes": np.array([784, hidden, 10]),
        "W0": net.weights[0],
        "b0": net.biases[0],
        "W1": net.weights[1],
        "b1": net.biases[1],
    }


def test_round_trip_keeps_weights_and_metadata(tmp_path):
    net = Network([784, 30, 10], init="scaled", cost="cross-entropy", l2=5.0, seed=3)
    path = save_model(tmp_path / "m.npz", net, {"test_accuracy": 0.95, "seed": 3})
    loaded, meta = load_model(path)
    for a, b in zip(net.params, loaded.params):
        np.testing.assert_array_equal(a, b)
    assert (loaded.cost, loaded.init, loaded.l2) == ("cross-entropy", "scaled", 5.0)
    assert meta["test_accuracy"] == 0.95 and meta["sizes"] == [784, 30, 10] and meta["date"]
    assert [p.name for p in tmp_path.iterdir()] == ["m.npz"]  # no temp file left
    assert load_model(path.read_bytes())[1] == meta
    with open(path, "rb") as f:
        assert load_model(f)[1] == meta


def test_save_replaces_atomically_and_cleans_up_on_failure(tmp_path, monkeypatch):
    path = tmp_path / "m.npz"
    save_model(path, Network([784, 3, 10], seed=0))
    original = path.read_bytes()

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError):
        save_model(path, Network([784, 4, 10], seed=1))
    assert path.read_bytes() == original
    assert [p.name for p in tmp_path.iterdir()] == ["m.npz"]


class Evil:
    def __reduce__(self):
        return (os.system, ("touch /tmp/digitlab-pwned",))


def pickled_npz() -> bytes:
    arrays = good_arrays()
    arrays["meta"] = np.array([Evil()], dtype=object)
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def zip_with(name: str, payload: bytes) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(name, payload)
    return buf.getvalue()


def with_changes(**changes) -> bytes:
    arrays = good_arrays()
    arrays.update(changes)
    return npz(**{k: v for k, v in arrays.items() if v is not None})


BAD_FILES = {
    "empty": (b"", "empty"),
    "random bytes": (np.random.default_rng(0).bytes(5000), "not a zip"),
    "text": (b"hello, I am a model", "not a zip"),
    "zip that is not an npz": (zip_with("readme.txt", b"hi"), "unexpected entry"),
    "truncated zip": (npz(**good_arrays())[:3000], "damaged"),
    "pickle inside": (pickled_npz(), "only numbers"),
    "raw pickle": (pickle.dumps({"W0": 1}), "not a zip"),
    "no sizes": (with_changes(sizes=None), "no 'sizes'"),
    "wrong input size": (with_changes(sizes=np.array([100, 5, 10])), "784 inputs"),
    "wrong output size": (with_changes(sizes=np.array([784, 5, 9])), "10 outputs"),
    "two layers only": (with_changes(sizes=np.array([784, 10])), "3 to"),
    "absurd hidden size": (with_changes(sizes=np.array([784, 10**7, 10])), "hidden layers"),
    "shapes do not chain": (with_changes(W1=np.zeros((10, 6), np.float32)), "shape"),
    "missing bias": (with_changes(b1=None), "no 'b1'"),
    "NaN weights": (with_changes(W0=np.full((5, 784), np.nan, np.float32)), "NaN"),
    "infinite bias": (with_changes(b0=np.full(5, np.inf, np.float32)), "NaN or infinite"),
    "huge weights": (with_changes(W1=np.full((10, 5), 1e30, np.float32)), "absurdly large"),
    "integer weights": (with_changes(W1=np.zeros((10, 5), np.int64)), "floats"),
    "string sizes": (with_changes(sizes=np.array(["784", "5", "10"])), "only numbers"),
    "extra layer entry": (with_changes(W2=np.zeros((3, 3), np.float32)), "do not use"),
    "meta not json": (with_changes(meta=np.frombuffer(b"{oops", np.uint8)), "not valid JSON"),
    "meta not object": (with_changes(meta=np.frombuffer(b"[1, 2]", np.uint8)), "JSON object"),
    "meta bad cost": (
        with_changes(meta=np.frombuffer(json.dumps({"cost": "x"}).encode(), np.uint8)),
        "unknown init or cost",
    ),
}


@pytest.mark.parametrize("name", list(BAD_FILES))
def test_bad_file_is_refused_with_a_clear_message(name):
    data, words = BAD_FILES[name]
    with pytest.raises(ModelFileError, match=words):
        load_model(data)
    assert not os.path.exists("/tmp/digitlab-pwned")


def test_file_over_the_cap_is_refused_before_reading(tmp_path):
    path = tmp_path / "big.npz"
    path.write_bytes(b"PK" + b"\0" * (2 * 1024 * 1024))
    with pytest.raises(ModelFileError, match="too large"):
        load_model(path, max_bytes=1024 * 1024)
    with pytest.raises(ModelFileError, match="too large"):
        load_model(path.read_bytes(), max_bytes=1024 * 1024)


def test_zip_bomb_is_refused_before_decompressing():
    # just past what a file of the largest size may unpack to (4x), as zeros: ~65 KB packed
    unpacked = 4 * MAX_FILE_BYTES + 1024 * 1024
    bomb = zip_with("W0.npy", b"\0" * unpacked)
    assert len(bomb) < MAX_FILE_BYTES / 100
    with pytest.raises(ModelFileError, match="unpack to far more"):
        load_model(bomb)


def test_array_header_lying_about_its_shape_is_refused():
    arrays = good_arrays()
    header = np.lib.format.header_data_from_array_1_0(arrays["W0"])
    header["shape"] = (10**6, 10**6)  # would ask numpy for 4 TB
    raw = io.BytesIO()
    np.lib.format.write_array_header_1_0(raw, header)
    raw.write(arrays["W0"].tobytes())
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, a in arrays.items():
            if name != "W0":
                z.writestr(f"{name}.npy", _npy(a))
        z.writestr("W0.npy", raw.getvalue())
    with pytest.raises(ModelFileError, match="claims shape"):
        load_model(buf.getvalue())


def _npy(a) -> bytes:
    b = io.BytesIO()
    np.save(b, a)
    return b.getvalue()


def test_missing_file_gives_a_clear_error(tmp_path):
    with pytest.raises(ModelFileError, match="cannot read"):
        load_model(tmp_path / "nope.npz")


def test_fuzzed_files_never_raise_anything_but_model_file_error():
    good = model_bytes(Network([784, 4, 10], seed=0), {"note": "fuzz"})
    rng = np.random.default_rng(42)
    outcomes = {"refused": 0, "loaded": 0}
    for _ in range(400):
        data = bytearray(good)
        for _ in range(rng.integers(1, 20)):
            data[rng.integers(len(data))] = rng.integers(256)
        if rng.random() < 0.3:
            data = data[: rng.integers(len(data))]
        try:
            net, _ = load_model(bytes(data))
            assert all(np.all(np.isfinite(p)) for p in net.params)
            outcomes["loaded"] += 1
        except ModelFileError:
            outcomes["refused"] += 1
    assert outcomes["refused"] > 100


# --- issue 18: what a hostile file's metadata or declared size could do ------------------


def meta_file(text: str) -> bytes:
    return with_changes(meta=np.frombuffer(text.encode(), np.uint8))


HOSTILE_META = {
    "nested 30,000 deep": ("[" * 30_000 + "]" * 30_000, "nested more than"),
    "a 5,000-digit integer": ('{"seed": ' + "7" * 5000 + "}", "5000 digits"),
    "l2 as a 400-digit integer": ('{"l2": ' + "9" * 400 + "}", "400 digits"),
    "l2 as a 30-digit integer": ('{"l2": ' + "9" * 30 + "}", "bad l2"),
    "l2 infinite": ('{"l2": 1e400}', "bad l2"),
    "l2 NaN": ('{"l2": NaN}', "NaN"),
    "l2 a list": ('{"l2": [1]}', "bad l2"),
    "cost an object": ('{"cost": {"a": 1}}', "unknown init or cost"),
    "not UTF-8": ("\udcff", "not UTF-8"),
}


@pytest.mark.parametrize("name", list(HOSTILE_META))
def test_hostile_metadata_is_refused_with_a_model_file_error(name):
    text, words = HOSTILE_META[name]
    data = (
        meta_file(text)
        if name != "not UTF-8"
        else with_changes(meta=np.frombuffer(b'{"a": "\xff"}', np.uint8))
    )
    with pytest.raises(ModelFileError, match=words):
        load_model(data)


def test_brackets_inside_strings_do_not_count_as_nesting():
    _, meta = load_model(meta_file('{"note": "' + "[" * 100 + '"}'))
    assert meta["note"] == "[" * 100


def test_parameter_count_is_capped_before_the_weights_are_read():
    from nn.modelfile import MAX_PARAMS, parameter_count

    # The file: 55 KB of zeros declaring [784, 2000, 2000, 2000, 2000, 10].
    sizes = [784, 2000, 2000, 2000, 2000, 10]
    arrays = {"sizes": np.array(sizes)}
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        arrays[f"W{i}"] = np.zeros((n_out, n_in), np.float32)
        arrays[f"b{i}"] = np.zeros(n_out, np.float32)
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    assert len(buf.getvalue()) < 200_000 and parameter_count(sizes) > 8 * MAX_PARAMS
    with pytest.raises(ModelFileError, match="at most 1,600,000"):
        load_model(buf.getvalue())
    # The largest one-hidden-layer network of the file format still loads.
    assert parameter_count([784, 2000, 10]) <= MAX_PARAMS
    assert load_model(model_bytes(Network([784, 2000, 10], seed=0)))[0].sizes == [784, 2000, 10]
    with pytest.raises(ModelFileError, match="weights and biases"):
        load_model(model_bytes(Network([784, 1000, 1000, 10], seed=0)))


def test_any_exception_inside_the_loader_becomes_a_model_file_error(monkeypatch):
    import nn.modelfile as modelfile

    def broken(arrays):
        raise KeyError("a check that did not foresee this file")

    monkeypatch.setattr(modelfile, "_check_meta", broken)
    with pytest.raises(ModelFileError, match="cannot be read"):
        load_model(model_bytes(Network([784, 4, 10], seed=0)))
