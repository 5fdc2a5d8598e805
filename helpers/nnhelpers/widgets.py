"""Slider-driven figures for the lectures: a generic SliderFigure and two explorers.

The figure is rendered to PNG and shown in an ``ipywidgets.Image``, so a browser sees the
``<img>`` change and a kernel test can compare ``.png`` bytes. Where no widget front end exists
(nbconvert, nbclient in CI, GitHub's viewer) the output still carries an ``image/png`` of the
figure: the display bundle holds both the widget view and the picture, and front ends that can
show widgets prefer the widget (nbconvert skips widget views without saved widget state).
"""

from __future__ import annotations

import base64
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import ipywidgets as widgets
import numpy as np
from matplotlib.figure import Figure

from nnhelpers.descent import DescentRun, descend
from nnhelpers.figures import CourseFigure, figure_png
from nnhelpers.gradcheck.numerical import gradient_2d
from nnhelpers.plots import (
    _vector_gradient,
    as_vector_loss,
    draw_activation,
    draw_loss_contours,
    draw_trajectory_2d,
    loss_grid,
    plot_loss_curves,
)

__all__ = [
    "LearningRateExplorer",
    "SliderFigure",
    "activation_explorer",
    "learning_rate_explorer",
    "widen_slider",
]


class SliderFigure:
    """Sliders plus a matplotlib figure that is redrawn whenever a slider moves.

    ``draw(figure, **values)`` receives a cleared figure and the sliders' current values keyed
    by their names in ``sliders``. ``.png`` holds the PNG bytes currently shown. Pass
    ``layout=None`` and place the axes yourself when redraws must be fast. Sliders whose width
    was left at the default are widened (see ``widen_slider``).
    """

    def __init__(
        self,
        draw: Callable[..., None],
        sliders: Mapping[str, widgets.ValueWidget],
        *,
        figsize: tuple[float, float] = (9.0, 4.0),
        dpi: int = 80,
        layout: str | None = "constrained",
    ) -> None:
        self.draw = draw
        self.sliders = dict(sliders)
        for control in self.sliders.values():
            widen_slider(control)
        self.figure: Figure = CourseFigure(figsize=figsize, dpi=dpi, layout=layout)
        self.image = widgets.Image(format="png", layout=widgets.Layout(max_width="100%"))
        self.error: str | None = None
        controls = widgets.VBox(list(self.sliders.values()))
        self.widget = widgets.VBox([controls, self.image])
        for slider in self.sliders.values():
            slider.observe(self._on_change, names="value")
        self.redraw(raise_errors=True)

    @property
    def values(self) -> dict:
        """Current slider values by name."""
        return {name: slider.value for name, slider in self.sliders.items()}

    @property
    def png(self) -> bytes:
        """PNG bytes of the figure as currently shown."""
        return bytes(self.image.value)

    def redraw(self, *, raise_errors: bool = False) -> None:
        """Clear the figure, call ``draw`` with the current values, show the new PNG.

        An error in ``draw`` during a slider move is written onto the figure (slider callbacks
        cannot show tracebacks in JupyterLab) and kept in ``.error``.
        """
        self.figure.clear()
        try:
            self.draw(self.figure, **self.values)
            self.error = None
        except Exception as exc:
            if raise_errors:
                raise
            self.error = "".join(traceback.format_exception_only(exc)).strip()
            self.figure.clear()
            self.figure.text(
                0.02, 0.5, f"drawing failed:\n{self.error}", color="red", va="center", wrap=True
            )
        self.image.value = figure_png(self.figure)

    def _on_change(self, change: dict) -> None:
        self.redraw()

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict:
        bundle = dict(self.widget._repr_mimebundle_() or {})
        bundle["image/png"] = base64.b64encode(self.png).decode("ascii")
        bundle["text/plain"] = f"<{type(self).__name__}: {self.values}>"
        return bundle


# ipywidgets draws a slider 300 px wide in all, label and readout included: with a 110 px label
# that leaves a track of about 94 px, too short to pick a learning rate out of three decades.
SLIDER_WIDTH = "100%"
SLIDER_MAX_WIDTH = "640px"  # leaves a track of about 450 px beside a 110 px label


def widen_slider(control: widgets.Widget) -> widgets.Widget:
    """Give a slider whose width was left at the default a usable track (about 450 px).

    Only sliders (controls with a ``readout``) whose layout width is unset are changed, so a
    width chosen by the caller wins; dropdowns and other controls are left as they are.
    """
    if hasattr(control, "readout") and not control.layout.width:
        control.layout.width = SLIDER_WIDTH
        control.layout.max_width = SLIDER_MAX_WIDTH
    return control


# --------------------------------------------------------------------------- learning rate
def _elongated_bowl(w: np.ndarray) -> float:
    """A generic quadratic bowl, eight times steeper along w2 than along w1.

    Gradient descent converges for learning rates below 0.125, zig-zags across the valley
    between 0.125 and 0.25 and diverges above 0.25.
    """
    return 0.5 * (w[0] ** 2 + 8.0 * w[1] ** 2)


@dataclass(frozen=True)
class DescentView:
    """What the learning-rate explorer starts with and shows: slider values, ranges, grid, size."""

    lr: float
    iterations: int
    decay: float
    w1_range: Sequence[float]
    w2_range: Sequence[float]
    lr_range: tuple[float, float]
    max_iterations: int
    resolution: int
    figsize: tuple[float, float]


class LearningRateExplorer(SliderFigure):
    """Gradient descent on a loss of two weights: trajectory on the contours and loss curve.

    After each redraw ``.trajectory`` (steps+1, 2), ``.losses``, ``.diverged`` and ``.status``
    describe the run; a diverging run is stopped early and flagged "diverged".
    """

    def __init__(
        self, loss: Callable, grad: Callable | None, w0: Sequence[float], view: DescentView
    ) -> None:
        self.loss = as_vector_loss(loss)
        self.grad = (
            _vector_gradient(grad) if grad is not None else (lambda w: gradient_2d(self.loss, w))
        )
        self.w0 = np.asarray(w0, dtype=float)
        self.grid = loss_grid(loss, view.w1_range, view.w2_range, resolution=view.resolution)
        self.run: DescentRun | None = None
        low, high = np.log10(view.lr_range[0]), np.log10(view.lr_range[1])
        sliders = {
            "lr": widgets.FloatLogSlider(
                value=view.lr,
                base=10,
                min=low,
                max=high,
                step=0.01,
                description="learning rate",
                readout_format=".3g",
                continuous_update=False,
                style=_WIDE,
            ),
            "iterations": widgets.IntSlider(
                value=view.iterations,
                min=1,
                max=view.max_iterations,
                description="iterations",
                continuous_update=False,
                style=_WIDE,
            ),
            "decay": widgets.FloatSlider(
                value=view.decay,
                min=0.8,
                max=1.0,
                step=0.005,
                description="decay per step",
                readout_format=".3f",
                continuous_update=False,
                style=_WIDE,
            ),
        }
        # Fixed margins: constrained layout would take most of each redraw.
        super().__init__(self._draw, sliders, figsize=view.figsize, layout=None)

    @property
    def trajectory(self) -> np.ndarray:
        """Weights visited, (steps+1, 2), starting at w0."""
        return self.run.trajectory

    @property
    def losses(self) -> np.ndarray:
        """Loss at each visited point."""
        return self.run.losses

    @property
    def diverged(self) -> bool:
        """True when the loss blew up or ended above where it started."""
        return self.run.diverged

    @property
    def status(self) -> str:
        """'converged', 'oscillating' (most steps turn back), 'not converged yet' or 'diverged'."""
        return self.run.status

    def _visible_part(self, run: DescentRun) -> np.ndarray:
        """A diverging path up to its first step out of the view; others whole."""
        if not run.diverged:
            return run.trajectory
        W1, W2, _ = self.grid
        w1, w2 = run.trajectory[:, 0], run.trajectory[:, 1]
        inside = (W1.min() <= w1) & (w1 <= W1.max()) & (W2.min() <= w2) & (w2 <= W2.max())
        gone = np.flatnonzero(~inside)
        return run.trajectory if gone.size == 0 else run.trajectory[: gone[0] + 1]

    def _draw(self, fig: Figure, *, lr: float, iterations: int, decay: float) -> None:
        run = descend(
            self.loss, self.grad, self.w0, rate=lr, steps=iterations, decay=decay, view=self.grid
        )
        self.run = run
        ax_surface, ax_curve = fig.subplots(1, 2, width_ratios=[1.1, 1])
        fig.subplots_adjust(left=0.07, right=0.98, bottom=0.13, top=0.86, wspace=0.2)
        W1, W2, L = self.grid
        draw_loss_contours(ax_surface, W1, W2, L)
        draw_trajectory_2d(ax_surface, self._visible_part(run))
        colour = (
            "red" if run.diverged else ("darkorange" if run.status != "converged" else "darkgreen")
        )
        ax_surface.set_title(f"learning rate {lr:.3g}: {run.status}", color=colour)
        if run.diverged:
            ax_surface.text(
                0.5,
                0.5,
                "diverged",
                transform=ax_surface.transAxes,
                fontsize=28,
                color="red",
                alpha=0.6,
                ha="center",
                va="center",
                weight="bold",
            )
        positive = bool(np.all(run.losses > 0))
        plot_loss_curves({"loss": run.losses}, ax=ax_curve, logy=positive)
        ax_curve.set_title(run.summary, color=colour, fontsize=10)


_WIDE = {"description_width": "110px"}


def learning_rate_explorer(
    loss: Callable | None = None,
    grad: Callable | None = None,
    w0: Sequence[float] = (-4.0, 2.0),
    *,
    lr: float = 0.1,
    iterations: int = 30,
    decay: float = 1.0,
    w1_range: Sequence[float] | None = None,
    w2_range: Sequence[float] | None = None,
    lr_range: tuple[float, float] = (1e-3, 1.0),
    max_iterations: int = 100,
    resolution: int = 60,
    figsize: tuple[float, float] = (10.0, 4.2),
) -> LearningRateExplorer:
    """Sliders for learning rate (log scale), iterations and decay over a gradient-descent run.

    ``loss(w)`` takes w = np.array([w1, w2]) (or ``loss(w1, w2)``); the default is a generic
    elongated quadratic bowl. ``grad(w)`` returns the gradient; if None it is estimated with
    central differences. The learning rate at step k is ``lr * decay**k``.
    """
    if loss is None:
        loss = _elongated_bowl
        w1_range = (-5.0, 5.0) if w1_range is None else w1_range
        w2_range = (-3.0, 3.0) if w2_range is None else w2_range
    extent = 1.25 * float(np.max(np.abs(w0))) + 1.0
    view = DescentView(
        lr=lr,
        iterations=iterations,
        decay=decay,
        w1_range=(-extent, extent) if w1_range is None else w1_range,
        w2_range=(-extent, extent) if w2_range is None else w2_range,
        lr_range=lr_range,
        max_iterations=max_iterations,
        resolution=resolution,
        figsize=figsize,
    )
    return LearningRateExplorer(loss, grad, w0, view)


# --------------------------------------------------------------------------- activations
def activation_explorer(
    functions: Mapping[str, Callable[[np.ndarray], np.ndarray]],
    derivatives: Mapping[str, Callable | None] | None = None,
    *,
    x: np.ndarray | None = None,
) -> SliderFigure:
    """A dropdown to pick one activation; shows it and its derivative (numerical if not given)."""
    if not functions:
        raise ValueError("activation_explorer: pass at least one function, e.g. {'relu': relu}.")
    derivatives = dict(derivatives or {})
    z = np.linspace(-5, 5, 401) if x is None else np.asarray(x, dtype=float)

    def draw(fig: Figure, *, name: str) -> None:
        ax_f, ax_d = fig.subplots(1, 2)
        draw_activation(ax_f, ax_d, name, functions[name], z, derivatives.get(name))
        given = derivatives.get(name) is not None
        ax_f.set_title(f"{name}(a)")
        ax_d.set_title(f"{name}'(a)" + ("" if given else " (numerical)"))
        for ax in (ax_f, ax_d):
            ax.set_xlabel("pre-activation $a$")
            ax.axhline(0, color="gray", lw=0.5)
            ax.axvline(0, color="gray", lw=0.5)
            ax.grid(True, alpha=0.3)

    chooser = widgets.Dropdown(options=list(functions), description="activation")
    return SliderFigure(draw, {"name": chooser}, figsize=(9.0, 3.6))
