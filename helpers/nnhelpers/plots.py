"""Course figures: loss curves, decision boundaries, loss surfaces, activations, digits, weights.

Functions taking ``ax=`` draw into those axes (or a new pyplot figure) and return the Axes;
the others return a Figure that shows itself once when it is a cell's value (``display(fig)``
otherwise). Nothing here calls ``plt.show()``, and nothing here knows any activation formula:
the notebooks pass their own functions in.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from nnhelpers.figures import CourseFigure, axes_or_new, new_figure
from nnhelpers.gradcheck.numerical import elementwise_derivative

__all__ = [
    "CourseFigure",
    "confusion_matrix",
    "loss_grid",
    "plot_activations",
    "plot_confusion_matrix",
    "plot_decision_boundary",
    "plot_digits",
    "plot_loss_curves",
    "plot_loss_surface",
    "plot_weight_images",
]

TRAJECTORY_GID = "trajectory"
MAX_DIGITS = 100


# --------------------------------------------------------------------------- loss curves
def plot_loss_curves(
    curves: Mapping[str, Sequence[float]] | Sequence[float] | np.ndarray,
    *,
    x: Sequence[float] | None = None,
    xlabel: str = "iteration",
    ax: Axes | None = None,
    logy: bool = False,
) -> Axes:
    """Plot one or several loss curves, e.g. ``{"train": train_losses, "test": test_losses}``.

    Non-finite values (a diverged run) leave a gap instead of breaking the plot.
    """
    named = dict(curves) if isinstance(curves, Mapping) else {"loss": curves}
    ax = axes_or_new(ax)
    for name, values in named.items():
        values = np.asarray(values, dtype=float).ravel()
        values = np.where(np.isfinite(values), values, np.nan)
        xs = np.arange(len(values)) if x is None else np.asarray(x, dtype=float)
        if len(xs) != len(values):
            raise ValueError(
                f"plot_loss_curves: curve '{name}' has {len(values)} values but x has {len(xs)}; "
                "pass x of the same length (e.g. the epoch of each value) or leave x=None."
            )
        ax.plot(xs, values, label=str(name))
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("loss")
    if x is None:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    if len(named) > 1:
        ax.legend()
    ax.grid(True, alpha=0.3)
    return ax


# --------------------------------------------------------------------------- decision boundary
def _grid_around(X: np.ndarray, resolution: int) -> tuple[np.ndarray, np.ndarray]:
    low, high = X.min(axis=0), X.max(axis=0)
    margin = np.maximum(0.1 * (high - low), 0.5)
    g1 = np.linspace(low[0] - margin[0], high[0] + margin[0], resolution)
    g2 = np.linspace(low[1] - margin[1], high[1] + margin[1], resolution)
    return np.meshgrid(g1, g2)


def _predictions_on_grid(predict: Callable, points: np.ndarray) -> np.ndarray:
    out = np.asarray(predict(points))
    if out.ndim == 2 and out.shape[1] == 1:
        out = out[:, 0]
    elif out.ndim == 2 and out.shape[0] == 1 and out.shape[1] == len(points):
        out = out[0]
    elif out.ndim == 2 and out.shape[0] == len(points):
        out = np.argmax(out, axis=1)  # one score/probability column per class
    if out.shape != (len(points),):
        raise ValueError(
            f"plot_decision_boundary: predict returned shape {out.shape} for {len(points)} "
            f"points of shape {points.shape}; expected ({len(points)},) labels or class-1 "
            "probabilities, or (n, classes) scores. Does predict use its argument, not a "
            "global X?"
        )
    if out.dtype == bool:
        out = out.astype(int)
    return out


def plot_decision_boundary(
    predict: Callable[[np.ndarray], np.ndarray],
    X: np.ndarray,
    y: np.ndarray | None,
    *,
    ax: Axes | None = None,
    resolution: int = 200,
    title: str | None = None,
    threshold: float = 0.5,
) -> Axes:
    """Shade the plane by what a 2-D classifier predicts and scatter the data on top.

    ``predict(points)`` gets an (n, 2) array and returns labels (ints), class-1 probabilities
    (floats; the boundary is drawn at ``threshold``) or (n, classes) scores (argmax is used).
    """
    X = np.asarray(X, dtype=float)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"plot_decision_boundary: X must have shape (n, 2), got {X.shape}.")
    ax = axes_or_new(ax)
    g1, g2 = _grid_around(X, resolution)
    points = np.column_stack([g1.ravel(), g2.ravel()])
    out = _predictions_on_grid(predict, points)
    labels_given = np.issubdtype(out.dtype, np.integer) or bool(np.all(out == np.round(out)))
    y = None if y is None else np.asarray(y).ravel()
    seen = [np.unique(y)] if y is not None else []
    if labels_given:
        out = out.astype(int)
        classes = np.unique(np.concatenate([np.unique(out), *seen]))  # e.g. 0/1, -1/+1, 0..9
        colour_of = {c: f"C{k % 10}" for k, c in enumerate(classes)}
        region = np.searchsorted(classes, out).reshape(g1.shape)
        levels = np.arange(len(classes) + 1) - 0.5
        ax.contourf(
            g1,
            g2,
            region,
            levels=levels,
            alpha=0.3,
            cmap=ListedColormap([colour_of[c] for c in classes]),
        )
        ax.contour(g1, g2, region, levels=levels[1:-1], colors="k", linewidths=1)
    else:
        surface = out.reshape(g1.shape).astype(float)
        shade = ax.contourf(g1, g2, surface, levels=20, cmap="RdBu_r", alpha=0.5)
        if surface.min() < threshold < surface.max():
            ax.contour(g1, g2, surface, levels=[threshold], colors="k", linewidths=1.5)
        ax.figure.colorbar(shade, ax=ax, label="predicted value")
        classes = seen[0] if seen else np.array([])
        ends = ["tab:blue", "tab:red"] if len(classes) == 2 else None  # the shading's two ends
        colour_of = {c: ends[k] if ends else f"C{k % 10}" for k, c in enumerate(classes)}
    if y is None:
        ax.scatter(X[:, 0], X[:, 1], s=15, c="k")
    else:
        for c in np.unique(y):
            chosen = y == c
            ax.scatter(
                X[chosen, 0],
                X[chosen, 1],
                s=18,
                edgecolors="k",
                linewidths=0.5,
                color=colour_of[c],
                label=f"class {c}",
            )
        ax.legend(loc="best", fontsize="small")
    ax.set_xlim(g1.min(), g1.max())
    ax.set_ylim(g2.min(), g2.max())
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    if title:
        ax.set_title(title)
    return ax


# --------------------------------------------------------------------------- loss surface
def _takes_two_weights(f: Callable) -> bool:
    """True for ``f(w1, w2)``, False for ``f(w)`` (w = np.array([w1, w2]))."""
    try:
        required = [
            p
            for p in inspect.signature(f).parameters.values()
            if p.default is p.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        ]
    except (TypeError, ValueError):
        return False
    return len(required) == 2


def as_vector_loss(loss: Callable) -> Callable[[np.ndarray], float]:
    """Accept ``loss(w)`` with w = [w1, w2] or ``loss(w1, w2)``; return a loss of a 2-vector."""
    if _takes_two_weights(loss):
        return lambda w: float(loss(w[0], w[1]))
    return lambda w: float(loss(np.asarray(w, dtype=float)))


def _vector_gradient(grad: Callable) -> Callable[[np.ndarray], np.ndarray]:
    """Accept ``grad(w)`` or ``grad(w1, w2)``; return the gradient as a 2-vector."""
    if _takes_two_weights(grad):
        return lambda w: np.asarray(grad(w[0], w[1]), dtype=float).ravel()
    return lambda w: np.asarray(grad(np.asarray(w, dtype=float)), dtype=float).ravel()


def _axis_values(span: Sequence[float] | np.ndarray, resolution: int) -> np.ndarray:
    values = np.asarray(span, dtype=float).ravel()
    if values.size == 2:
        return np.linspace(values[0], values[1], resolution)
    return values


def loss_grid(
    loss: Callable, w1_range: Sequence[float], w2_range: Sequence[float], *, resolution: int = 60
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Evaluate a loss of two weights on a grid: returns (W1, W2, L), each (n2, n1).

    A range is a pair (low, high), giving ``resolution`` points, or 3+ explicit values.
    """
    vector_loss = as_vector_loss(loss)
    w1 = _axis_values(w1_range, resolution)
    w2 = _axis_values(w2_range, resolution)
    W1, W2 = np.meshgrid(w1, w2)
    with np.errstate(over="ignore", invalid="ignore"):
        whole = _whole_grid_at_once(loss, W1, W2, vector_loss)
        if whole is not None:
            return W1, W2, whole
        L = np.array(
            [vector_loss(np.array([a, b])) for a, b in zip(W1.ravel(), W2.ravel(), strict=True)]
        )
    return W1, W2, L.reshape(W1.shape)


def _whole_grid_at_once(
    loss: Callable, W1: np.ndarray, W2: np.ndarray, vector_loss: Callable
) -> np.ndarray | None:
    """``loss(W1, W2)`` in one call when a two-weight loss works on grids (checked at 3 points)."""
    if not _takes_two_weights(loss):
        return None
    try:
        L = np.asarray(loss(W1, W2), dtype=float)
    except Exception:
        return None
    if L.shape != W1.shape:
        return None
    probes = [(0, 0), (W1.shape[0] // 2, W1.shape[1] // 3), (-1, -1)]
    for i, j in probes:
        single = vector_loss(np.array([W1[i, j], W2[i, j]]))
        if not np.isclose(L[i, j], single, rtol=1e-9, atol=1e-12, equal_nan=True):
            return None
    return L


def _contour_levels(L: np.ndarray, count: int = 20) -> np.ndarray | int:
    finite = L[np.isfinite(L)]
    if finite.size == 0:
        return count
    levels = np.unique(np.quantile(finite, np.linspace(0, 1, count)))
    return levels if levels.size >= 2 else count


def draw_loss_contours(ax: Axes, W1: np.ndarray, W2: np.ndarray, L: np.ndarray) -> None:
    """Filled contours with levels at quantiles, so both valley floor and walls show detail."""
    levels = _contour_levels(L)
    masked = np.ma.masked_invalid(L)
    ax.contourf(W1, W2, masked, levels=levels, cmap="viridis", alpha=0.85)
    ax.contour(W1, W2, masked, levels=levels, colors="white", linewidths=0.4, alpha=0.6)
    ax.set_xlim(W1.min(), W1.max())
    ax.set_ylim(W2.min(), W2.max())
    ax.set_xlabel("$w_1$")
    ax.set_ylabel("$w_2$")


def draw_trajectory_2d(ax: Axes, trajectory: np.ndarray, *, label: str = "gradient descent"):
    """Trajectory as a line with markers, its start and end marked (limits set before stay)."""
    (line,) = ax.plot(
        trajectory[:, 0],
        trajectory[:, 1],
        "o-",
        color="tab:red",
        ms=3,
        lw=1.2,
        label=label,
        gid=TRAJECTORY_GID,
    )
    ax.plot(*trajectory[0], "s", color="white", mec="k", ms=7, label="start")
    ax.plot(*trajectory[-1], "*", color="gold", mec="k", ms=12, label="end")
    return line


def plot_loss_surface(
    loss: Callable,
    w1_range: Sequence[float],
    w2_range: Sequence[float],
    *,
    trajectory: np.ndarray | Sequence[Sequence[float]] | None = None,
    kind: str = "contour",
    ax: Axes | None = None,
    resolution: int = 60,
) -> Axes:
    """Loss of two weights as contours (``kind="contour"``) or a 3-D surface (``"surface"``).

    ``loss(w)`` takes w = np.array([w1, w2]) (or ``loss(w1, w2)``) and returns a number.
    ``trajectory`` is a (steps, 2) array of weights visited by gradient descent; its line
    carries ``gid="trajectory"``. Points outside the ranges are clipped, not rescaled to.
    """
    if kind not in ("contour", "surface"):
        raise ValueError(f"plot_loss_surface: kind must be 'contour' or 'surface', got {kind!r}.")
    W1, W2, L = loss_grid(loss, w1_range, w2_range, resolution=resolution)
    path = None
    if trajectory is not None:
        path = np.asarray(trajectory, dtype=float)
        if path.ndim != 2 or path.shape[1] != 2:
            raise ValueError(
                f"plot_loss_surface: trajectory must have shape (steps, 2), got {path.shape}; "
                "stack the weights of each step, e.g. np.array(history)."
            )
    if kind == "contour":
        ax = axes_or_new(ax)
        draw_loss_contours(ax, W1, W2, L)
        if path is not None:
            draw_trajectory_2d(ax, path)
            ax.legend(loc="upper right", fontsize="small")
        return ax
    ax = axes_or_new(ax, figsize=(7.0, 5.5), projection="3d")
    ax.computed_zorder = False  # draw the path over the surface, not hidden behind it
    ax.plot_surface(
        W1,
        W2,
        np.ma.masked_invalid(L),
        cmap="viridis",
        alpha=0.7,
        linewidth=0,
        antialiased=True,
        zorder=1,
    )
    ax.set_xlabel("$w_1$")
    ax.set_ylabel("$w_2$")
    ax.set_zlabel("loss")
    if path is not None:
        vector_loss = as_vector_loss(loss)
        heights = np.array([vector_loss(w) for w in path])
        ax.plot(
            path[:, 0],
            path[:, 1],
            heights,
            "o-",
            color="tab:red",
            ms=3,
            gid=TRAJECTORY_GID,
            label="gradient descent",
            axlim_clip=True,
            zorder=10,
        )
    ax.set_xlim(W1.min(), W1.max())
    ax.set_ylim(W2.min(), W2.max())
    return ax


# --------------------------------------------------------------------------- activations
def _evaluate(name: str, f: Callable, x: np.ndarray, what: str) -> np.ndarray:
    values = np.asarray(f(x), dtype=float)
    if values.shape != x.shape:
        raise ValueError(
            f"plot_activations: {what} '{name}' returned shape {values.shape} for an input of "
            f"shape {x.shape}; it must work elementwise on numpy arrays (use np.where, "
            "np.maximum, np.exp rather than if/else or math.*)."
        )
    return values


def draw_activation(
    ax_f: Axes,
    ax_d: Axes,
    name: str,
    f: Callable,
    x: np.ndarray,
    derivative: Callable | None = None,
) -> None:
    """Draw one activation and its derivative (numerical when no derivative is passed)."""
    ax_f.plot(x, _evaluate(name, f, x, "function"), label=name)
    if derivative is None:
        slope = elementwise_derivative(f, x)
        ax_d.plot(x, slope, label=f"{name} (numerical)")
    else:
        ax_d.plot(x, _evaluate(name, derivative, x, "derivative"), label=name)


def plot_activations(
    functions: Mapping[str, Callable[[np.ndarray], np.ndarray]],
    *,
    x: np.ndarray | None = None,
    derivatives: Mapping[str, Callable | None] | None = None,
) -> Figure:
    """Activation functions (left) and their derivatives (right), as passed in by the notebook.

    A derivative that is not given is estimated with central differences; where it does not
    exist (a kink or a jump) the curve has a gap.
    """
    x = np.linspace(-5, 5, 401) if x is None else np.asarray(x, dtype=float)
    derivatives = dict(derivatives or {})
    unknown = set(derivatives) - set(functions)
    if unknown:
        raise ValueError(
            f"plot_activations: derivatives given for {sorted(unknown)} but no function of that "
            f"name; functions are {sorted(functions)}."
        )
    fig = new_figure((10.0, 4.0))
    ax_f, ax_d = fig.subplots(1, 2)
    for name, f in functions.items():
        draw_activation(ax_f, ax_d, name, f, x, derivatives.get(name))
    for ax, title in ((ax_f, "activation $g(a)$"), (ax_d, "derivative $g'(a)$")):
        ax.set_title(title)
        ax.set_xlabel("pre-activation $a$")
        ax.axhline(0, color="gray", lw=0.5)
        ax.axvline(0, color="gray", lw=0.5)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize="small")
    return fig


# --------------------------------------------------------------------------- digits
def _image_shape(n_pixels: int, image_shape: tuple[int, int] | None) -> tuple[int, int]:
    if image_shape is not None:
        if image_shape[0] * image_shape[1] != n_pixels:
            raise ValueError(
                f"image_shape {image_shape} holds {image_shape[0] * image_shape[1]} pixels but "
                f"each image has {n_pixels}."
            )
        return tuple(image_shape)
    side = int(round(np.sqrt(n_pixels)))
    if side * side != n_pixels:
        raise ValueError(
            f"cannot guess the image shape of {n_pixels} pixels; pass image_shape=(h, w)."
        )
    return side, side


def _as_images(images: np.ndarray, image_shape: tuple[int, int] | None) -> np.ndarray:
    images = np.asarray(images)
    if images.ndim == 1:
        images = images[None]
    if images.ndim == 2:
        shape = _image_shape(images.shape[1], image_shape)
        return images.reshape(len(images), *shape)
    if images.ndim == 3:
        return images
    raise ValueError(f"images must be (n, pixels) or (n, h, w), got shape {images.shape}.")


def _labels(values, name: str, n: int) -> np.ndarray | None:
    if values is None:
        return None
    values = np.asarray(values)
    if values.ndim == 2:
        values = values.argmax(axis=1)  # one-hot labels or class probabilities
    if len(values) < n:
        raise ValueError(f"plot_digits: {name} has {len(values)} entries for {n} images.")
    return values[:n]


def plot_digits(
    images: np.ndarray,
    labels: np.ndarray | None = None,
    *,
    predictions: np.ndarray | None = None,
    n: int | None = None,
    ncols: int = 10,
    image_shape: tuple[int, int] | None = None,
) -> Figure:
    """A grid of digit images, titled with labels and predictions; wrong predictions in red.

    Shows the first ``n`` images (default: all, at most 100). Labels and predictions may be
    integers, one-hot rows or probability rows.
    """
    all_images = _as_images(images, image_shape)
    n = min(len(all_images), MAX_DIGITS) if n is None else min(n, len(all_images))
    shown = all_images[:n]
    true = _labels(labels, "labels", n)
    guess = _labels(predictions, "predictions", n)
    ncols = max(1, min(ncols, n))
    nrows = int(np.ceil(n / ncols))
    titled = true is not None or guess is not None
    summary = true is not None and guess is not None
    # Placed by hand in inches (constrained layout is slow on 100 small axes).
    width = 1.1 * ncols
    cell = 0.98 * width / (ncols + 0.1 * (ncols - 1))
    gap = 0.3 if titled else 0.08
    top = (0.3 if titled else 0.05) + (0.3 if summary else 0.0)
    height = nrows * cell + (nrows - 1) * gap + top + 0.05
    fig = new_figure((width, height), layout=None)
    axes = fig.subplots(
        nrows,
        ncols,
        squeeze=False,
        gridspec_kw=dict(
            left=0.01,
            right=0.99,
            bottom=0.05 / height,
            top=1 - top / height,
            wspace=0.1,
            hspace=gap / cell,
        ),
    ).ravel()
    for k, ax in enumerate(axes):
        ax.set_xticks([])
        ax.set_yticks([])
        if k >= n:
            ax.set_axis_off()
            continue
        ax.imshow(shown[k], cmap="gray_r", interpolation="nearest")
        wrong = true is not None and guess is not None and guess[k] != true[k]
        if guess is not None and true is not None:
            text = f"{guess[k]} (true {true[k]})" if wrong else f"{guess[k]}"
        elif guess is not None:
            text = f"pred {guess[k]}"
        elif true is not None:
            text = f"{true[k]}"
        else:
            text = ""
        ax.set_title(text, fontsize=9, color="red" if wrong else "black")
        if wrong:
            ax.set_gid("wrong")
            for spine in ax.spines.values():
                spine.set_color("red")
                spine.set_linewidth(2.5)
    if summary:
        errors = int(np.sum(guess != true))
        fig.suptitle(f"{errors} of {n} wrong (red)", fontsize=10, y=1 - 0.05 / height, va="top")
    return fig


# --------------------------------------------------------------------------- confusion matrix
def _class_labels(values, name: str) -> np.ndarray:
    values = np.asarray(values)
    if values.ndim == 2:
        values = values.argmax(axis=1)  # one-hot rows or probabilities
    if values.ndim != 1:
        raise ValueError(f"confusion_matrix: {name} must be 1-D labels, got shape {values.shape}.")
    if values.size and not np.all(values == np.round(values)):
        raise ValueError(f"confusion_matrix: {name} must hold integer class labels.")
    return values.astype(np.int64)


def confusion_matrix(y_true, y_pred, n_classes: int = 10) -> np.ndarray:
    """Counts C[i, j] of examples of true class i predicted as class j (int64, n x n)."""
    true = _class_labels(y_true, "y_true")
    pred = _class_labels(y_pred, "y_pred")
    if true.shape != pred.shape:
        raise ValueError(
            f"confusion_matrix: y_true has {true.size} labels but y_pred has {pred.size}."
        )
    for name, values in (("y_true", true), ("y_pred", pred)):
        outside = (values < 0) | (values >= n_classes)
        if outside.any():
            raise ValueError(
                f"confusion_matrix: {int(outside.sum())} entries of {name} are outside "
                f"0..{n_classes - 1} (e.g. {values[outside][0]}); pass n_classes= or check "
                "the labels."
            )
    counts = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(counts, (true, pred), 1)
    return counts


def plot_confusion_matrix(
    y_true,
    y_pred,
    *,
    ax: Axes | None = None,
    normalize: bool = False,
    n_classes: int | None = None,
) -> Axes:
    """Confusion matrix as an image with the counts written in; accuracy in the title.

    Labels may be integers, one-hot rows or probability rows (argmax is taken).
    ``normalize=True`` divides each row by the number of examples of that true class.
    """
    true = _class_labels(y_true, "y_true")
    pred = _class_labels(y_pred, "y_pred")
    if n_classes is None:
        n_classes = int(max(true.max(initial=0), pred.max(initial=0))) + 1
    counts = confusion_matrix(true, pred, n_classes)
    shown = counts.astype(float)
    if normalize:
        totals = counts.sum(axis=1, keepdims=True)
        shown = np.divide(shown, totals, out=np.zeros_like(shown), where=totals > 0)
    ax = axes_or_new(ax, figsize=(6.0, 5.0))
    image = ax.imshow(shown, cmap="Blues")
    ax.figure.colorbar(image, ax=ax, label="fraction of the true class" if normalize else "count")
    if n_classes <= 20:
        peak = shown.max() if shown.size else 0
        for i in range(n_classes):
            for j in range(n_classes):
                text = f"{shown[i, j]:.2f}" if normalize else str(counts[i, j])
                ax.text(
                    j,
                    i,
                    text,
                    ha="center",
                    va="center",
                    fontsize=8,
                    color="white" if shown[i, j] > 0.5 * peak else "black",
                )
    ax.set_xticks(range(n_classes))
    ax.set_yticks(range(n_classes))
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    total = int(counts.sum())
    accuracy = np.trace(counts) / total if total else float("nan")
    ax.set_title(f"accuracy {100 * accuracy:.1f}% ({int(np.trace(counts))} of {total})")
    return ax


# --------------------------------------------------------------------------- weights
def _templates(w: np.ndarray, n_pixels: int) -> np.ndarray:
    """Rows of templates from weights stored either (pixels, k) or (k, pixels)."""
    if w.ndim == 1 and w.size == n_pixels:
        return w[None]
    if w.ndim == 2 and w.shape[0] == n_pixels:
        return w.T
    if w.ndim == 2 and w.shape[1] == n_pixels:
        return w
    hint = ""
    if w.ndim == 2 and n_pixels + 1 in w.shape:
        hint = (
            " It has one entry too many: if the bias is stored with the weights, drop it "
            "first (e.g. w[:-1] or w[1:])."
        )
    raise ValueError(
        f"plot_weight_images: weights of shape {w.shape} do not hold images of {n_pixels} "
        f"pixels; expected ({n_pixels}, k) or (k, {n_pixels}).{hint}"
    )


def plot_weight_images(
    w: np.ndarray,
    image_shape: tuple[int, int] = (28, 28),
    *,
    titles: Sequence[str] | None = None,
    ncols: int = 5,
) -> Figure:
    """Each weight vector drawn as an image (e.g. the 10 templates of a linear classifier).

    One diverging colour scale centred at 0 for all images: red pulls towards the class,
    blue pushes away, white is indifferent.
    """
    w = np.asarray(w, dtype=float)
    templates = _templates(w, image_shape[0] * image_shape[1])
    count = len(templates)
    titles = [str(k) for k in range(count)] if titles is None else [str(t) for t in titles]
    if len(titles) != count:
        raise ValueError(f"plot_weight_images: {len(titles)} titles for {count} images.")
    ncols = max(1, min(ncols, count))
    nrows = int(np.ceil(count / ncols))
    fig = new_figure((1.8 * ncols + 1.0, 1.9 * nrows))
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    limit = float(np.nanmax(np.abs(templates))) or 1.0
    image = None
    for k, ax in enumerate(axes):
        ax.set_xticks([])
        ax.set_yticks([])
        if k >= count:
            ax.set_axis_off()
            continue
        image = ax.imshow(
            templates[k].reshape(image_shape),
            cmap="RdBu_r",
            vmin=-limit,
            vmax=limit,
            interpolation="nearest",
        )
        ax.set_title(titles[k], fontsize=10)
    fig.colorbar(image, ax=list(axes), shrink=0.8, label="weight")
    return fig
