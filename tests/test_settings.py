"""A run's settings and limits: absurd values refused with a message that says which."""

import io
import json

import numpy as np
import pytest

from nn.modelfile import ModelFileError, load_model, model_bytes
from nn.network import L2_MAX, Network
from nn.settings import Limits, Settings, SettingsError, check_eta


def small(**changes):
    return Settings(hidden=10, epochs=2, train_size=400, batch_size=10).replace(**changes)


@pytest.mark.parametrize(
    "change, words",
    [
        (dict(hidden=201), "hidden neurons"),
        (dict(hidden=0), "hidden neurons"),
        (dict(hidden=2.5), "hidden neurons"),
        (dict(epochs=51), "epochs"),
        (dict(eta=0), "eta"),
        (dict(eta=-1.0), "eta"),
        (dict(eta=float("nan")), "eta"),
        (dict(eta=1e9), "eta"),
        (dict(batch_size=0), "mini-batch"),
        (dict(batch_size=500), "mini-batch"),
        (dict(train_size=10**6), "training-set"),
        (dict(seed=-1), "seed"),
        (dict(init="zeros"), "initialisation"),
        (dict(cost="hinge"), "cost"),
        (dict(l2=float("inf")), "L2"),
        (dict(l2=-1), "L2"),
        (dict(l2=True), "L2"),
        (dict(augment=1), "distorted"),
    ],
)
def test_absurd_settings_are_refused(change, words):
    with pytest.raises(SettingsError, match=words):
        small(**change).check(Limits(max_hidden=200, max_epochs=50))


def test_sane_settings_pass_unchanged():
    settings = small(init="scaled", cost="cross-entropy", l2=5.0)
    assert settings.check() is settings


def test_eta_is_checked():
    assert check_eta(0.5) == 0.5 and check_eta(np.float32(2)) == 2.0
    for bad in (0, -3, float("inf"), "fast", None):
        with pytest.raises(SettingsError, match="eta"):
            check_eta(bad)


def test_network_settings_and_model_files_share_one_l2_bound():
    """One bound, one check: what a run may use, a network and a model file accept."""
    small(l2=L2_MAX).check()
    net = Network([784, 3, 10], l2=L2_MAX, seed=0)
    assert load_model(model_bytes(net, {}))[0].l2 == L2_MAX
    too_big = L2_MAX * 2
    with pytest.raises(SettingsError, match="L2"):
        small(l2=too_big).check()
    with pytest.raises(ValueError, match="L2"):
        Network([784, 3, 10], l2=too_big)
    with np.load(io.BytesIO(model_bytes(net, {})), allow_pickle=False) as f:
        arrays = dict(f)
    meta = json.loads(arrays["meta"].tobytes())
    assert meta["l2"] == L2_MAX
    arrays["meta"] = np.frombuffer(json.dumps({**meta, "l2": too_big}).encode(), np.uint8)
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    with pytest.raises(ModelFileError, match="L2"):
        load_model(buf.getvalue())


def test_limits_from_environment(monkeypatch):
    monkeypatch.setenv("DIGITLAB_MAX_HIDDEN", "64")
    monkeypatch.setenv("DIGITLAB_MAX_RUNS", "3")
    limits = Limits.from_env()
    assert limits.max_hidden == 64 and limits.max_concurrent == 3
    monkeypatch.setenv("DIGITLAB_MAX_EPOCHS", "many")
    with pytest.raises(SettingsError, match="DIGITLAB_MAX_EPOCHS"):
        Limits.from_env()


def test_label_names_what_differs_from_the_book():
    assert Settings().label() == "[784, 30, 10] eta 3 batch 10"
    assert small(cost="cross-entropy", l2=5.0).label() == (
        "[784, 10, 10] eta 3 batch 10 cross-entropy L2 5 400 images"
    )
