"""A run's labels say every eta it had, once each, and name the layers once (issue 16)."""

from nn.network import Network
from nn.settings import Settings
from nn.trainer import etas, metadata
from ui.sidebar import etas_text, network_facts


def test_every_eta_a_run_had_in_order_without_repeats():
    assert etas(3.0, []) == [3.0]
    assert etas(3.0, [(1.5, 1.0), (2.0, 1.0), (4.0, 0.5)]) == [3.0, 1.0, 0.5]
    settings = Settings(hidden=30, eta=3.0)
    assert settings.label([3.0, 1.0]) == "[784, 30, 10] eta 3 -> 1 batch 10"
    assert settings.label([3.0, 1.0], layers=False) == "eta 3 -> 1 batch 10"
    assert settings.label() == "[784, 30, 10] eta 3 batch 10"


def test_the_sidebar_and_the_download_carry_every_eta():
    settings = Settings(hidden=30, eta=3.0)
    meta = metadata(settings, 2.5, None, [(1.2, 1.0)])
    assert meta["etas"] == [3.0, 1.0] and "accuracy_measured_on" not in meta
    facts = network_facts(Network([784, 30, 10], seed=0), meta)
    assert "η = 3 → 1," in facts
    assert etas_text({"etas": [3.0]}) is None  # no change: the settings' eta says it
    decayed = [0.3 * 0.7**k for k in range(11)]  # the shipped default's step decay
    assert etas_text({"etas": decayed}) == "0.3 → 0.21 → … → 0.00847 (10 changes)"
    assert etas_text({"etas": ["<b>", 1]}) is None  # a file's metadata is not trusted


def test_a_run_stopped_early_says_how_far_it_got():
    settings = Settings(hidden=30, eta=3.0, epochs=30)
    net = Network([784, 30, 10], seed=0)

    def facts(meta) -> str:
        return network_facts(net, meta).replace("\\", "")  # (Markdown escapes)

    stopped = facts(metadata(settings, 16.2349, None, []))
    assert "Trained 16.2 of 30 epochs with η" in stopped  # not "Trained 30 epochs"
    assert "Trained 30 epochs" in facts(metadata(settings, 30.0, None, []))
    odd = metadata(settings, 30.0, None, [])
    odd["epochs"] = "lots"  # a file's metadata: not a number, the settings' count is shown
    assert "Trained 30 epochs" in facts(odd)


def test_an_uploaded_file_without_some_settings_shows_only_those_it_has():
    """A file whose settings name no epochs or eta: the sidebar leaves them out ('Trained ?
    epochs' was shown, seen in chromium)."""
    net = Network([784, 30, 10], seed=0)
    shown = network_facts(net, {"settings": {"batch_size": 10}}).replace("\\", "")
    assert "?" not in shown and "Trained with quadratic cost." in shown, shown
    shown = network_facts(net, {"settings": {"eta": 0.5}}).replace("\\", "")
    assert "Trained with η = 0.5, quadratic cost." in shown, shown


def test_an_accuracy_measured_on_a_subset_says_so_in_the_picker_and_the_sidebar():
    """A run stopped mid-epoch was measured on the first 2,000 test digits: its metrics said
    so, but the picker and the sidebar said "91.8 % on test" (seen in chromium)."""
    from nn.trainer import Point
    from ui.state import label_for

    settings = Settings(hidden=30, eta=3.0, epochs=30)
    net = Network([784, 30, 10], seed=0)
    mid = Point(5.9, 0.9315, 0.918, 9180, 0.05, 5.9, 3.0, False)  # between epochs' ends
    meta = metadata(settings, 5.9, mid, [])
    assert meta["accuracy_measured_on"] == 2000
    assert label_for("Trained here", net, meta).endswith("91.8 % on 2,000 test digits")
    assert "91.8 % on 2,000 test digits." in network_facts(net, meta).replace("\\", "")
    end = Point(6.0, 0.9315, 0.918, 9180, 0.05, 6.0, 3.0, True)  # an epoch's end: all 10,000
    assert label_for("Trained here", net, metadata(settings, 6.0, end, [])).endswith(
        "91.8 % on test"
    )
