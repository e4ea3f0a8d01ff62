"""The "inside the network" panels in a real browser: hidden neurons, mistakes, teaching the
network a drawing, and a set-up shared by link. Screenshots go to artifacts/.
"""

from __future__ import annotations

import re

from tests.helpers import ARTIFACTS, SEVEN, ZERO, answer, draw, missing, picker, playwright_expect

expect = playwright_expect()


def need_mnist() -> None:
    from nn.mnist import find_mnist_dir

    if find_mnist_dir() is None:
        missing("MNIST not found (set MNIST_DIR): the mistakes and teaching panels need it")


def open_panel(page, title: str):
    page.get_by_text(title, exact=True).click()
    return page.get_by_test_id("stExpander").filter(has_text=title)


def choose_book(page) -> None:
    picker(page).click()
    page.get_by_role("option", name=re.compile("^The book's")).click()
    expect(picker(page)).to_have_value(re.compile(r"^The book's: \[784, 30, 10\]"))


def test_hidden_neurons_panel(page):
    panel = open_panel(page, "What each hidden neuron looks for")
    expect(panel.get_by_text("Draw a digit to see which fire most")).to_be_visible()
    draw(page, ZERO)  # a stroke reruns the open panel too: it now follows the drawing
    expect(answer(page)).to_have_text("0")
    expect(panel.get_by_text("Draw a digit to see which fire most")).to_have_count(0)
    from nn.models import SHIPPED

    hidden = SHIPPED[0].load()[0].sizes[1]  # the default answers
    expect(panel.get_by_text(f"{hidden} hidden neurons")).to_be_visible()
    expect(panel.get_by_test_id("stImage").first.locator("img")).to_be_visible()
    expect(panel.get_by_text(re.compile(r"^Neuron #\d+ fires at$"))).to_be_visible()
    number = panel.get_by_role("spinbutton")
    number.fill("5")
    number.press("Enter")
    expect(panel.get_by_text("Neuron #5 fires at")).to_be_visible()
    expect(panel.get_by_text("your ink over them")).to_be_visible()
    page.screenshot(path=ARTIFACTS / "insight-neurons.png", full_page=True)


def test_mistakes_panel(page):
    need_mnist()
    from nn.mnist import shared_mnist
    from nn.models import SHIPPED

    data, (net, _) = shared_mnist(), SHIPPED[0].load()  # the default answers
    right = net.evaluate(data.test_images, data.test_labels)
    panel = open_panel(page, "What it gets wrong")
    expect(panel.get_by_text(f"{right:,} right")).to_be_visible()
    expect(panel.locator(".js-plotly-plot")).to_have_count(1)
    expect(panel.get_by_text(re.compile(r"test digits \d read as \d"))).to_be_visible()
    panel.get_by_role("tab", name="Most confident mistakes").click()
    expect(panel.get_by_text(re.compile("The wrong answers it was surest of"))).to_be_visible()
    expect(panel.get_by_test_id("stImage").nth(1).locator("img")).to_be_visible()
    page.screenshot(path=ARTIFACTS / "insight-mistakes.png", full_page=True)


def test_teach_it_a_drawing_then_forget_it(page):
    need_mnist()
    choose_book(page)
    draw(page, ZERO)
    expect(answer(page)).to_have_text("0")
    teach = page.locator(".st-key-teach")
    teach.get_by_role("radio", name="6", exact=True).click()
    expect(picker(page)).to_have_value(re.compile(r"^Taught: The book's \+ 1 drawing"))
    # the taught copy answers 6, alone or with its old reading as a close second ("6 or 0?")
    expect(answer(page)).to_have_text(re.compile(r"^6\b"))
    expect(teach.get_by_text(re.compile(r"it now reads your last drawing as 6"))).to_be_visible()
    expect(teach.get_by_text("as 6", exact=True)).to_be_visible()  # the thumbnail's caption
    page.screenshot(path=ARTIFACTS / "insight-taught.png", full_page=True)
    teach.get_by_role("button", name=re.compile("close")).click()
    expect(picker(page)).to_have_value(re.compile(r"^The book's: "))
    expect(answer(page)).to_have_text("0")


def test_a_link_restores_a_set_up(page, app_url):
    page.goto(f"{app_url}/?preset=2&net=book&eta=oops")
    expect(picker(page)).to_have_value(re.compile(r"^The book's: "))
    expect(page.get_by_text(re.compile("not understood and is ignored: eta")).first).to_be_visible()
    expect(page.get_by_role("combobox", name="The book's experiments")).to_have_value(
        "100 hidden neurons"
    )
    page.get_by_role("button", name=re.compile("Share this set-up")).click()
    code = page.get_by_test_id("stCode")
    expect(code).to_contain_text("preset=2")
    expect(code).to_contain_text("net=book")
    page.screenshot(path=ARTIFACTS / "insight-link.png", full_page=True)
    draw(page, SEVEN)  # the page works as usual
    expect(answer(page)).to_have_text("7")
