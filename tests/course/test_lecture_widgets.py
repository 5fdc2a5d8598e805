"""Every slider figure a lecture creates is driven from its kernel: move it, the PNG changes.

The lecture runs in a fresh kernel (shared with test_lecture_notebooks.py through
the `lecture_runs` fixture); a probe cell appended after the lecture finds each SliderFigure
left in the namespace, moves each control to another value and reports what happened.
"""

from __future__ import annotations

import pytest
from _lecture_runs import LECTURES

# The widgets each lecture is expected to leave in its namespace (variable names).
EXPECTED_WIDGETS = {
    "01_perceptron.ipynb": set(),
    "02_gradient_descent.ipynb": {"explorer"},
    "03_activations_bias.ipynb": {"act_explorer"},
    "04_softmax_mnist.ipynb": set(),
    "05_mlp_backprop.ipynb": {"training_scrubber"},
    "06_sgd.ipynb": {"sgd_explorer"},
    "07_mlp_mnist.ipynb": {"decay_explorer"},
}


def _probe(name: str, lecture_runs) -> dict:
    run = lecture_runs(name)
    assert run.lecture_ok, f"{name}: the lecture failed before its widgets could be driven"
    assert run.error is None, f"{name}: the widget probe cell failed:\n{run.error}"
    return run.probe_report()


def test_expectations_cover_every_lecture():
    assert set(EXPECTED_WIDGETS) == set(LECTURES)


@pytest.mark.slow
@pytest.mark.parametrize("name", LECTURES)
def test_every_slider_redraws_its_figure(name: str, lecture_runs):
    report = _probe(name, lecture_runs)
    assert set(report) == EXPECTED_WIDGETS[name], (
        f"{name}: slider figures found {sorted(report)}, expected "
        f"{sorted(EXPECTED_WIDGETS[name])} (update EXPECTED_WIDGETS if the lecture changed)"
    )
    for widget, details in report.items():
        assert details["moves"], f"{name}: {widget} has no controls"
        for control, move in details["moves"].items():
            assert move["error"] is None, (
                f"{name}: {widget}.{control} {move['from']} -> {move['to']}: drawing failed: "
                f"{move['error']}"
            )
            assert move["png_changed"], (
                f"{name}: moving {widget}.{control} from {move['from']} to {move['to']} "
                "left the figure's PNG unchanged"
            )


@pytest.mark.slow
def test_learning_rate_slider_goes_from_converging_to_diverging(lecture_runs):
    """Notebook 2 starts at lr = 1/lambda_max (no divergence); the probe's large lr diverges."""
    details = _probe("02_gradient_descent.ipynb", lecture_runs)["explorer"]
    assert details["status"] != "diverged", f"default learning rate diverges: {details}"
    move = details["moves"]["lr"]
    assert float(move["to"]) > float(move["from"]), move
    assert move["status"] == "diverged", (
        f"learning rate {move['to']} (above 2/lambda_max ~ 0.98) should diverge, "
        f"the explorer says {move['status']!r}"
    )
