"""ui.step: when the step panel shows, and that its figures carry the worker's numbers under
the book's names (no browser: the figures are dicts)."""

import types

import numpy as np

from nn.lookstep import look_at_step
from nn.network import Network
from nn.protocol import State
from nn.sgd import SGD
from ui.step import (
    delta_hidden_figure,
    delta_out_figure,
    outputs_figure,
    shown,
    strip,
    weight_change_figure,
)


def a_look(hidden=7):
    rng = np.random.default_rng(1)
    images = rng.integers(0, 256, size=(30, 784), dtype=np.uint8)
    labels = rng.integers(0, 10, size=30)
    net = Network([784, hidden, 10], seed=1)
    return look_at_step(net, SGD(net, images, labels), np.arange(12), 3.0)


def view(state, speed="full", look=True):
    return types.SimpleNamespace(
        state=state, speed=speed, over=state.over, last_step=a_look() if look else None
    )


def test_the_panel_shows_while_paused_or_slow_and_only_with_a_looked_at_step():
    assert shown(view(State.PAUSED))
    assert shown(view(State.RUNNING, "slow"))
    assert not shown(view(State.RUNNING, "full"))  # full speed: the batch is long gone
    assert not shown(view(State.PAUSED, look=False))
    assert not shown(view(State.STOPPED, "slow"))


def test_the_figures_carry_the_steps_numbers_under_the_books_names():
    look = a_look()
    out = outputs_figure(look)
    np.testing.assert_allclose(out["data"][0]["z"], look.outputs, atol=1e-4)
    assert out["data"][1]["x"] == [str(d) for d in look.labels]  # the desired outputs marked
    bp1 = delta_out_figure(look)
    assert "BP1" in bp1["layout"]["title"]["text"]
    np.testing.assert_allclose(bp1["data"][0]["z"], look.delta_out, atol=1e-4)
    assert bp1["data"][0]["zmid"] == 0
    bp2 = delta_hidden_figure(look)
    assert "BP2" in bp2["layout"]["title"]["text"] and len(bp2["data"][0]["x"]) == 7
    bp4 = weight_change_figure(look)
    assert "BP4" in bp4["layout"]["title"]["text"]
    assert f"neuron #{look.neuron}'s" in bp4["layout"]["title"]["text"]
    np.testing.assert_allclose(np.ravel(bp4["data"][0]["z"]), look.weight_change, atol=1e-5)


def test_a_neuron_is_named_as_everywhere_else_and_an_image_is_not_named_like_one():
    # "#12" is a neuron on the whole page (the heatmap, the grid, the operation): the batch's
    # images were "#1 (7)" .. "#10 (2)" beside neurons numbered from 0, in one heatmap
    look = a_look()
    bp2 = delta_hidden_figure(look)
    images = bp2["data"][0]["y"]
    assert images[0] == f"x1 ({look.labels[0]})" and not any("#" in y for y in images)
    assert "neuron #%{x}" in bp2["data"][0]["hovertemplate"]
    assert outputs_figure(look)["data"][0]["y"] == images


def test_the_images_strip_holds_every_shown_image():
    look = a_look()
    picture = strip(look.images, scale=2, gap=4)
    assert picture.shape == (56, 10 * 56 + 9 * 4)
    np.testing.assert_array_equal(picture[::2, 60:116:2], look.images[1].reshape(28, 28))
