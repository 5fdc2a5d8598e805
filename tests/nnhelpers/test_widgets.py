"""nnhelpers.widgets: slider moves redraw the PNG; the explorer names convergence and divergence;
executed without a widget front end the output still carries a static image/png."""

import base64
import contextlib
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import ipywidgets as widgets
import matplotlib.pyplot as plt
import nbformat
import numpy as np
import pytest
from nnhelpers import plots
from nnhelpers.widgets import (
    LearningRateExplorer,
    SliderFigure,
    activation_explorer,
    learning_rate_explorer,
    widen_slider,
)

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _counting_slider_figure():
    calls = []

    def draw(fig, *, height, colour):
        calls.append((height, colour))
        ax = fig.add_subplot()
        ax.bar([0], [height], color=colour)
        ax.set_ylim(0, 10)

    sliders = {
        "height": widgets.FloatSlider(value=2.0, min=0, max=10),
        "colour": widgets.Dropdown(options=["red", "blue"], value="red"),
    }
    return SliderFigure(draw, sliders, figsize=(3, 2)), calls


# --------------------------------------------------------------------------- SliderFigure
def test_slider_change_redraws_and_changes_the_png():
    view, calls = _counting_slider_figure()
    first = view.png
    assert first.startswith(b"\x89PNG") and view.image.value == first
    assert calls == [(2.0, "red")]
    view.sliders["height"].value = 7.0
    assert calls[-1] == (7.0, "red")
    assert view.png != first
    view.sliders["colour"].value = "blue"
    assert calls[-1] == (7.0, "blue")


def test_same_value_does_not_redraw_and_redraw_is_deterministic():
    view, calls = _counting_slider_figure()
    before = view.png
    view.sliders["height"].value = 2.0
    assert len(calls) == 1 and view.png == before
    view.redraw()
    assert len(calls) == 2 and view.png == before  # same values, same bytes


def test_draw_error_on_a_slider_move_is_shown_on_the_figure():
    def draw(fig, *, k):
        if k > 1:
            raise ZeroDivisionError("k too large")
        fig.add_subplot().plot([0, k])

    view = SliderFigure(draw, {"k": widgets.IntSlider(value=0, min=0, max=3)}, figsize=(3, 2))
    assert view.error is None
    view.sliders["k"].value = 2
    assert "ZeroDivisionError: k too large" in view.error
    assert any("k too large" in t.get_text() for t in view.figure.texts)
    view.sliders["k"].value = 1
    assert view.error is None


def test_draw_error_at_construction_is_raised():
    def broken(fig, *, k):
        raise KeyError("no such column")

    with pytest.raises(KeyError, match="no such column"):
        SliderFigure(broken, {"k": widgets.IntSlider()})


def test_display_bundle_carries_widget_view_and_current_png():
    view, _ = _counting_slider_figure()
    view.sliders["height"].value = 5.0
    bundle = view._repr_mimebundle_()
    assert bundle[WIDGET_VIEW]["model_id"] == view.widget.model_id
    assert base64.b64decode(bundle["image/png"]) == view.png
    assert "height" in bundle["text/plain"]


def test_slider_figure_stays_out_of_pyplot():
    before = plt.get_fignums()
    _counting_slider_figure()
    assert plt.get_fignums() == before


# --------------------------------------------------------------------------- learning rate
def _trajectory_line(explorer):
    ax = explorer.figure.axes[0]
    (line,) = [ln for ln in ax.get_lines() if ln.get_gid() == plots.TRAJECTORY_GID]
    return line


def test_default_explorer_converges_and_draws_its_trajectory():
    explorer = learning_rate_explorer()
    assert isinstance(explorer, LearningRateExplorer)
    assert isinstance(explorer.sliders["lr"], widgets.FloatLogSlider)
    assert isinstance(explorer.sliders["iterations"], widgets.IntSlider)
    assert isinstance(explorer.sliders["decay"], widgets.FloatSlider)
    assert explorer.status == "converged" and not explorer.diverged
    assert explorer.trajectory.shape == (31, 2)
    np.testing.assert_array_equal(explorer.trajectory[0], [-4.0, 2.0])
    line = _trajectory_line(explorer)
    np.testing.assert_array_equal(line.get_xdata(), explorer.trajectory[:, 0])
    np.testing.assert_array_equal(line.get_ydata(), explorer.trajectory[:, 1])
    (curve,) = explorer.figure.axes[1].get_lines()
    np.testing.assert_allclose(curve.get_ydata(), explorer.losses)
    assert explorer.losses[-1] < 1e-3 * explorer.losses[0]


def test_learning_rate_slider_changes_trajectory_and_png():
    explorer = learning_rate_explorer()
    before_png, before_path = explorer.png, explorer.trajectory.copy()
    explorer.sliders["lr"].value = 0.01
    assert explorer.png != before_png
    assert not np.allclose(explorer.trajectory, before_path)
    assert explorer.status == "not converged yet"
    np.testing.assert_array_equal(_trajectory_line(explorer).get_xdata(), explorer.trajectory[:, 0])
    same = explorer.png
    explorer.sliders["lr"].value = explorer.sliders["lr"].value
    assert explorer.png == same


def test_too_large_learning_rate_is_flagged_diverged_and_stopped():
    explorer = learning_rate_explorer(lr=0.5, iterations=50)
    assert explorer.diverged and explorer.status == "diverged"
    assert len(explorer.trajectory) < 51  # stopped early, before the numbers explode
    assert np.all(np.isfinite(explorer.trajectory)) and np.all(np.isfinite(explorer.losses))
    texts = [t.get_text() for ax in explorer.figure.axes for t in ax.texts]
    assert "diverged" in texts
    ax = explorer.figure.axes[0]
    assert ax.get_xlim() == (-5.0, 5.0) and ax.get_ylim() == (-3.0, 3.0)  # view kept readable
    assert "diverged" in ax.get_title()
    # the path is drawn up to its first step out of the view, not as a fan of long lines
    out = np.flatnonzero(np.abs(explorer.trajectory[:, 1]) > 3.0)[0]
    np.testing.assert_array_equal(
        _trajectory_line(explorer).get_ydata(), explorer.trajectory[: out + 1, 1]
    )


def test_slightly_too_large_learning_rate_diverges_slowly_but_is_still_flagged():
    explorer = learning_rate_explorer(lr=0.26, iterations=30)
    assert explorer.diverged
    assert len(explorer.trajectory) == 31


def test_oscillation_is_named():
    explorer = learning_rate_explorer(lr=0.23)
    assert explorer.status == "oscillating"
    steps = np.diff(explorer.trajectory[:, 1])
    assert np.all(steps[1:] * steps[:-1] < 0)


def test_iterations_and_decay_sliders_take_effect():
    explorer = learning_rate_explorer(lr=0.05)
    explorer.sliders["iterations"].value = 12
    assert explorer.trajectory.shape == (13, 2)
    explorer.sliders["decay"].value = 0.9
    np.testing.assert_allclose(explorer.run.rates, 0.05 * 0.9 ** np.arange(12))


def _px(value: str) -> float:
    assert value.endswith("px"), value
    return float(value[:-2])


def test_sliders_get_a_usable_track():
    """Default ipywidgets sliders are 300 px in all: a 110 px label left a 94 px track.

    The explorer's sliders fill their row up to a maximum that leaves at least 300 px of track
    beside the label and the readout (the browser tests measure the drawn track).
    """
    explorer = learning_rate_explorer()
    for name, control in explorer.sliders.items():
        assert control.layout.width == "100%", (name, control.layout.width)
        label = _px(control.style.description_width)
        readout = 80  # the readout box and the gaps around the track
        assert _px(control.layout.max_width) - label - readout >= 300, (name, control.layout)


def test_widen_slider_respects_explicit_widths_and_leaves_other_controls():
    plain = widgets.IntSlider()
    chosen = widgets.FloatSlider(layout=widgets.Layout(width="200px"))
    dropdown = widgets.Dropdown(options=["a", "b"])
    SliderFigure(lambda fig, a, b, c: None, {"a": plain, "b": chosen, "c": dropdown})
    assert plain.layout.width == "100%" and plain.layout.max_width
    assert chosen.layout.width == "200px" and not chosen.layout.max_width
    assert not dropdown.layout.width
    assert widen_slider(plain) is plain


def test_numerical_gradient_matches_a_given_gradient():
    def loss(w1, w2):
        return (w1 - 1) ** 2 + 2 * (w2 + 0.5) ** 2 + 0.5 * w1 * w2

    def grad(w1, w2):
        return np.array([2 * (w1 - 1) + 0.5 * w2, 4 * (w2 + 0.5) + 0.5 * w1])

    numeric = learning_rate_explorer(loss, w0=(2.0, 2.0), lr=0.1)
    exact = learning_rate_explorer(loss, grad, w0=(2.0, 2.0), lr=0.1)
    np.testing.assert_allclose(numeric.trajectory, exact.trajectory, atol=1e-6)
    assert exact.status == "converged"
    np.testing.assert_allclose(
        exact.trajectory[-1], np.linalg.solve([[2, 0.5], [0.5, 4]], [2, -2]), atol=1e-3
    )


# --------------------------------------------------------------------------- activations
def test_activation_dropdown_switches_the_curve():
    explorer = activation_explorer(
        {"sin": np.sin, "cube": lambda z: z**3}, derivatives={"sin": np.cos}
    )
    assert isinstance(explorer.sliders["name"], widgets.Dropdown)
    first = explorer.png
    ax_f, ax_d = explorer.figure.axes
    assert ax_d.get_title() == "sin'(a)"
    explorer.sliders["name"].value = "cube"
    assert explorer.png != first
    ax_f, ax_d = explorer.figure.axes
    assert ax_d.get_title() == "cube'(a) (numerical)"
    x = ax_f.get_lines()[0].get_xdata()
    np.testing.assert_allclose(ax_d.get_lines()[0].get_ydata(), 3 * x**2, rtol=1e-6, atol=1e-8)


# --------------------------------------------------------------------------- no front end
def _explorer_notebook(arguments: str) -> nbformat.NotebookNode:
    """A one-cell python3 notebook that shows `learning_rate_explorer(arguments)`."""
    nb = nbformat.v4.new_notebook()
    source = (
        f"from nnhelpers.widgets import learning_rate_explorer\nlearning_rate_explorer({arguments})"
    )
    nb.cells = [nbformat.v4.new_code_cell(source)]
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    return nb


@pytest.mark.slow
def test_executed_without_front_end_the_output_keeps_a_static_png():
    from nbclient import NotebookClient
    from nbconvert import HTMLExporter

    nb = _explorer_notebook("lr=0.5")
    NotebookClient(nb, timeout=180, kernel_name="python3").execute()
    (output,) = nb.cells[0].outputs
    assert output["output_type"] == "execute_result"
    assert WIDGET_VIEW in output["data"]
    png = base64.b64decode(output["data"]["image/png"])
    assert png.startswith(b"\x89PNG")
    # nbconvert without saved widget state falls back to the picture.
    nb.metadata.pop("widgets", None)
    html, _ = HTMLExporter().from_notebook_node(nb)
    assert "data:image/png;base64," + output["data"]["image/png"][:40] in html


def test_loss_running_off_to_minus_infinity_counts_as_diverged():
    explorer = learning_rate_explorer(
        lambda w: -(w[0] ** 2) + w[1] ** 2,
        w0=(0.5, 0.5),
        lr=0.9,
        iterations=100,
        max_iterations=100,
    )
    assert explorer.losses[-1] < explorer.losses[0]
    assert explorer.diverged
    assert len(explorer.trajectory) < 101


# --------------------------------------------------------------------------- in JupyterLab
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def _jupyterlab(root: Path):
    """A JupyterLab server on 127.0.0.1 serving root; yields its base URL with the token."""
    port, token = _free_port(), secrets.token_hex(12)
    env = dict(os.environ, JUPYTER_RUNTIME_DIR=str(root / ".runtime"))
    log = open(root / "server.log", "w")  # noqa: SIM115  closed below
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "jupyterlab",
            "--no-browser",
            "--allow-root",
            "--ip=127.0.0.1",
            f"--port={port}",
            f"--IdentityProvider.token={token}",
            f"--ServerApp.root_dir={root}",
            "--LabApp.news_url=",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        for _ in range(240):
            try:
                urllib.request.urlopen(
                    f"http://127.0.0.1:{port}/api/status?token={token}", timeout=2
                )
                break
            except OSError:
                if server.poll() is not None:
                    raise RuntimeError((root / "server.log").read_text()[-2000:]) from None
                time.sleep(0.5)
        yield f"http://127.0.0.1:{port}", token
    finally:
        server.terminate()
        server.wait(30)
        log.close()


@pytest.mark.slow
@pytest.mark.browser
def test_in_jupyterlab_the_slider_changes_the_shown_image(tmp_path):
    sync_api = pytest.importorskip("playwright.sync_api")
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.skip("chromium is not installed (.ci/run installs it with apt)")
    nb = _explorer_notebook("")
    nbformat.write(nb, tmp_path / "explore.ipynb")
    image = ".jupyter-widgets img"
    with _jupyterlab(tmp_path) as (url, token), sync_api.sync_playwright() as play:
        browser = play.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        try:
            page.goto(f"{url}/lab/tree/explore.ipynb?token={token}")
            # The status bar says "Idle" once the kernel is up; then run the cell, and run it
            # again if a loaded machine swallowed the key press before the notebook was ready.
            page.locator(".jp-StatusBar-TextItem", has_text="Idle").first.wait_for(timeout=180_000)
            for attempt in range(3):
                page.click(".jp-Cell .jp-InputArea-editor")
                page.keyboard.press("Shift+Enter")
                try:
                    page.wait_for_selector(image, timeout=90_000)
                    break
                except sync_api.TimeoutError:
                    if attempt == 2:
                        raise
            page.wait_for_function(f"document.querySelector('{image}').src.length > 0")
            first = page.locator(image).get_attribute("src")
            # JupyterLab prefers the live widget to the image/png fallback in the same bundle.
            assert page.locator(".jp-RenderedImage img").count() == 0
            page.locator(".widget-readout").first.click()
            page.keyboard.press("Control+A")
            page.keyboard.type("0.5")
            page.keyboard.press("Enter")
            page.wait_for_function(
                f"document.querySelector('{image}').src !== {json.dumps(first)}", timeout=60_000
            )
        except Exception:
            page.screenshot(path=str(tmp_path / "failure.png"))
            print("screenshot of the failure:", tmp_path / "failure.png")
            raise
        finally:
            browser.close()
