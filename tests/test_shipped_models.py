"""Every shipped model's recorded test accuracy holds on the real MNIST test set, and the
command recorded in it is the one that makes it."""

import shlex

import pytest

from nn.models import SHIPPED
from nn.train import parser


@pytest.mark.parametrize("model", SHIPPED, ids=lambda m: m.path.name)
def test_recorded_accuracy_matches_the_real_test_set(model, mnist_data):
    net, meta = model.load()
    measured = net.evaluate(mnist_data.test_images, mnist_data.test_labels) / 10_000
    print(
        f"{model.path.name}: {net.sizes}, recorded {meta['test_accuracy']:.4f}, "
        f"measured {measured:.4f}"
    )
    assert measured == pytest.approx(meta["test_accuracy"], abs=1e-4)


@pytest.mark.parametrize("model", SHIPPED, ids=lambda m: m.path.name)
def test_the_recorded_command_gives_the_recorded_settings_and_file(model):
    """`command` run through the command line's own parser asks for exactly the settings the
    file records and the network it holds, and saves to the file's place."""
    net, meta = model.load()
    words = shlex.split(meta["command"])
    assert words[:3] == ["python", "-m", "nn.train"]
    args = parser().parse_args(words[3:])
    asked = {name: getattr(args, name) for name in meta["settings"]}
    assert asked == meta["settings"]
    assert [784, args.hidden, 10] == net.sizes
    assert model.path.as_posix().endswith(args.save)
    assert bool(args.fonts) == ("fonts" in meta) and bool(args.synthetic) == ("synthetic" in meta)


def test_the_default_model_is_the_stronger_one():
    default, book = (m.load() for m in SHIPPED)
    assert default[1]["test_accuracy"] >= 0.975
    assert book[0].sizes == [784, 30, 10] and book[1]["settings"]["eta"] == 3.0
    assert default[1]["test_accuracy"] > book[1]["test_accuracy"]


def test_the_default_model_learned_drawn_styles_and_keeps_mnist():
    # assets/models/README.md: fonts and stroke digits beside MNIST, MNIST test >= 98 %
    _net, meta = SHIPPED[0].load()
    assert meta["test_accuracy"] >= 0.98
    assert meta["fonts"]["images"] > 10_000 and meta["synthetic"]["images"] >= 10_000
    assert "--fonts auto" in meta["command"] and "--synthetic" in meta["command"]


def test_the_default_model_was_trained_on_exactly_the_pinned_fonts():
    # `--fonts auto` means the manifest's files (issue 14: a reproducible command)
    from nn.glyphs import MANIFEST

    _net, meta = SHIPPED[0].load()
    pinned = [line for line in MANIFEST.read_text().splitlines() if line.startswith("file ")]
    assert meta["fonts"]["fonts"] == len(pinned)
