"""Figure plumbing shared by plots and widgets: a self-displaying Figure, PNG bytes, axes."""

from __future__ import annotations

import io

from matplotlib.axes import Axes
from matplotlib.figure import Figure


class CourseFigure(Figure):
    """A Figure outside pyplot that shows itself once as a PNG in any notebook front end.

    pyplot figures returned from a function appear twice in Jupyter (once when the cell ends,
    once as its value); figures kept out of pyplot appear once, and never leak.
    """

    def _repr_png_(self) -> bytes:
        return figure_png(self, tight=True)


def figure_png(fig: Figure, *, tight: bool = False) -> bytes:
    """Render a figure to PNG bytes with Agg (deterministic: same drawing, same bytes)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", bbox_inches="tight" if tight else None,
                metadata={"Software": None})
    return buffer.getvalue()


def new_figure(figsize: tuple[float, float]) -> CourseFigure:
    """A fresh CourseFigure with constrained layout."""
    return CourseFigure(figsize=figsize, layout="constrained")


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
