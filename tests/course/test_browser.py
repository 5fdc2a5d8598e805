"""Notebook 2 in a real browser: JupyterLab (as `make lab` runs it) and headless Debian Chromium.

Playwright drives /usr/bin/chromium (never a downloaded browser): open the notebook, run all
cells, drag the learning-rate slider, and check that the figure's <img> shows a new picture.
Screenshots go to test-artifacts/ (gitignored).
"""

from __future__ import annotations

import pytest
from _lab_server import ROOT, lab_server
from offline_browser import ARTEFACTS, CHROMIUM, CHROMIUM_ARGS, SECOND, needs_chromium

NOTEBOOK = ROOT / "notebooks" / "02_gradient_descent.ipynb"

pytestmark = [pytest.mark.browser, pytest.mark.slow, needs_chromium]

ALL_CODE_CELLS_RAN = """() => {
    const prompts = [...document.querySelectorAll('.jp-CodeCell .jp-InputArea-prompt')];
    return prompts.length > 0 && prompts.every(p => /\\[\\d+\\]/.test(p.textContent));
}"""


def _dismiss_news_prompt(page) -> None:
    """JupyterLab asks once whether to fetch Jupyter news; say no so the toast hides nothing."""
    no = page.locator(".jp-Notification-Toast button, .Toastify button", has_text="No")
    if no.count():
        no.first.click()


SOME_CELL_STARTED = """() => [...document.querySelectorAll('.jp-CodeCell .jp-InputArea-prompt')]
    .some(p => /\\[(\\*|\\d+)\\]/.test(p.textContent))"""


def _run_all_cells(page, attempts: int = 3) -> None:
    """Run > Run All Cells; retry when a busy machine swallowed the click (no cell started)."""
    for attempt in range(1, attempts + 1):
        page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
        page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click()
        try:
            page.wait_for_function(SOME_CELL_STARTED, timeout=30 * SECOND)
            return
        except Exception:
            if attempt == attempts:
                raise
            page.keyboard.press("Escape")


def _drag_slider(page, slider, fraction: float) -> None:
    """Drag the slider's handle to `fraction` of its track, as a student would with the mouse."""
    track = slider.locator(".noUi-target").first.bounding_box()
    handle = slider.locator(".noUi-handle").first.bounding_box()
    y = handle["y"] + handle["height"] / 2
    page.mouse.move(handle["x"] + handle["width"] / 2, y)
    page.mouse.down()
    page.mouse.move(track["x"] + fraction * track["width"], y, steps=12)
    page.mouse.up()


def test_learning_rate_slider_redraws_the_plot_in_jupyterlab(tmp_path):
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import sync_playwright

    ARTEFACTS.mkdir(exist_ok=True)
    with lab_server(tmp_path, [NOTEBOOK]) as lab, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        try:
            page.goto(lab.notebook_url(NOTEBOOK.name))
            page.wait_for_selector(
                '.jp-Notebook-ExecutionIndicator[data-status="idle"]', timeout=180 * SECOND
            )
            _dismiss_news_prompt(page)
            _run_all_cells(page)

            image = page.locator(".jp-OutputArea-output img.widget-image").first
            image.wait_for(state="visible", timeout=240 * SECOND)
            page.wait_for_function(ALL_CODE_CELLS_RAN, timeout=240 * SECOND)
            _dismiss_news_prompt(page)

            explorer = image.locator("xpath=..")  # the VBox: sliders above, figure below
            slider = explorer.locator(".widget-slider", has_text="learning rate").first
            explorer.scroll_into_view_if_needed()
            page.screenshot(path=str(ARTEFACTS / "browser-02-before.png"))
            old_src, old_pixels = image.get_attribute("src"), image.screenshot()
            old_readout = slider.locator(".widget-readout").inner_text()
            track_width = slider.locator(".noUi-target").first.bounding_box()["width"]
            assert track_width >= 300, (
                f"the learning-rate slider's track is {track_width:.0f} px wide: too short to "
                "pick a rate out of three decades (nnhelpers.widgets.widen_slider)"
            )

            _drag_slider(page, slider, 0.9)
            try:
                page.wait_for_function(
                    "([img, old]) => img.src !== old",
                    arg=[image.element_handle(), old_src],
                    timeout=60 * SECOND,
                )
            except PlaywrightTimeout:
                page.screenshot(path=str(ARTEFACTS / "browser-02-after.png"))
                pytest.fail(
                    "the plot's <img> kept its picture for 60 s after the learning-rate slider "
                    f"was dragged from {old_readout} to "
                    f"{slider.locator('.widget-readout').inner_text()} (see "
                    f"{ARTEFACTS.name}/browser-02-after.png and the kernel's widget callbacks)"
                )
            page.wait_for_timeout(500)  # let the new PNG decode before taking pictures
            new_readout = slider.locator(".widget-readout").inner_text()
            explorer.screenshot(path=str(ARTEFACTS / "learning-rate-slider.png"))
            page.screenshot(path=str(ARTEFACTS / "browser-02-after.png"))

            assert new_readout != old_readout, (
                f"the learning-rate readout stayed at {old_readout} after dragging the slider"
            )
            assert float(new_readout) > float(old_readout), (old_readout, new_readout)
            assert image.screenshot() != old_pixels, (
                "the plot's <img> got a new src but shows the same pixels after the slider moved "
                f"from {old_readout} to {new_readout}"
            )
        except Exception:
            page.screenshot(path=str(ARTEFACTS / "browser-02-failure.png"))
            raise
        finally:
            browser.close()
    lab.assert_no_tracebacks()


def test_browser_artefacts_are_gitignored():
    """Screenshots must never be committed by accident."""
    ignored = (ROOT / ".gitignore").read_text().splitlines()
    assert f"{ARTEFACTS.name}/" in ignored, f".gitignore should list {ARTEFACTS.name}/"
