"""Figure plumbing shared by plots and widgets: a self-displaying Figure, PNG bytes, axes."""

from __future__ import annotations

import base64
import io

from matplotlib.axes import Axes
from matplotlib.figure import Figure


class CourseFigure(Figure):
    """A Figure that shows itself once in a notebook, whether returned, assigned or plt.show()n.

    Made through pyplot, so Jupyter shows it when the cell ends (also after ``fig = ...`` or
    ``plt.show()``); when it is instead displayed as the cell's value, it leaves pyplot at that
    moment, so the end-of-cell flush does not show it a second time.
    """

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict:
        import matplotlib.pyplot as plt

        plt.close(self)  # shown now: the end-of-cell flush must not show it again
        png = figure_png(self, tight=True)
        return {"image/png": base64.b64encode(png).decode("ascii"), "text/plain": repr(self)}


def figure_png(fig: Figure, *, tight: bool = False) -> bytes:
    """Render a figure to PNG bytes with Agg (deterministic: same drawing, same bytes)."""
    buffer = io.BytesIO()
    fig.savefig(
        buffer, format="png", bbox_inches="tight" if tight else None, metadata={"Software": None}
    )
    return buffer.getvalue()


def new_figure(figsize: tuple[float, float], *, layout: str | None = "constrained") -> CourseFigure:
    """A fresh pyplot-managed CourseFigure (constrained layout unless the caller places axes)."""
    import matplotlib.pyplot as plt

    return plt.figure(figsize=figsize, layout=layout, FigureClass=CourseFigure)


def axes_or_new(ax: Axes | None, *, figsize=(6.0, 4.5), projection: str | None = None) -> Axes:
    """The caller's axes, or new axes on a pyplot figure (shown by Jupyter when the cell ends)."""
    if ax is not None:
        if projection == "3d" and getattr(ax, "name", "") != "3d":
            raise ValueError(
                "kind='surface' needs 3-D axes: create them with "
                "fig.add_subplot(projection='3d') or leave ax=None."
            )
        return ax
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=figsize, layout="constrained")
    return fig.add_subplot(projection=projection)
