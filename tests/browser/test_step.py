"""Step and slow motion in a real browser: a paused run steps one mini-batch, the step panel
shows it; slow motion and back to full speed. Screenshots (laptop and phone) in artifacts/."""

from __future__ import annotations

from tests.helpers import ARTIFACTS, playwright_expect

expect = playwright_expect()


def step_once(page, name: str) -> None:
    page.get_by_role("button", name="Train", exact=True).click()
    page.get_by_role("button", name="Slow motion").click()
    expect(page.get_by_role("button", name="Full speed")).to_be_visible()
    expect(page.get_by_text("The mini-batch just done")).to_be_visible()  # slow: shown live
    page.get_by_role("button", name="Pause").click()
    step = page.get_by_role("button", name="Step", exact=True)
    expect(step).to_be_visible()
    title = page.locator("p", has_text="The mini-batch just done")
    expect(title).to_have_count(1)
    # "paused" is drawn from the same view as the panel: its mini-batch is the last one now
    expect(page.get_by_text("· paused")).to_be_visible()
    shown = title.inner_text()
    step.click()
    # the panel names a newer mini-batch: the step was done, in the worker, and shown
    expect(title).not_to_have_text(shown)
    expect(page.get_by_text("BP4: neuron").first).to_be_attached()
    # the mini-batches' cost is on the cost chart while stepping too (named in its legend)
    page.wait_for_function(
        """() => [...document.querySelectorAll('.js-plotly-plot')].some(el =>
            (el.data || []).some(t => t.meta && t.meta.series === 'batch cost' && t.name
                && t.name.startsWith('mini-batch cost') && t.x.length > 0))""",
        timeout=30_000,
    )
    title.scroll_into_view_if_needed()
    page.wait_for_timeout(1500)  # let plotly finish drawing before the picture is taken
    page.screenshot(path=str(ARTIFACTS / f"step-{name}.png"))
    page.locator(".js-plotly-plot", has_text="BP4").scroll_into_view_if_needed()
    page.wait_for_timeout(1000)
    page.screenshot(path=str(ARTIFACTS / f"step-{name}-figures.png"))
    page.get_by_role("button", name="Stop").click()
    expect(page.get_by_role("button", name="Train", exact=True)).to_be_visible()


def test_step_shows_the_mini_batch_on_a_laptop(page):
    step_once(page, "laptop")


def test_step_shows_the_mini_batch_on_a_phone(phone):
    step_once(phone, "phone")
