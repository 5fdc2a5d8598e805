"""nnhelpers.plots renders under Agg with the content it claims (counts, data, labels)."""

import base64
import io

import matplotlib.pyplot as plt
import nbformat
import numpy as np
import pytest
from matplotlib.collections import PathCollection
from matplotlib.image import AxesImage
from nbclient import NotebookClient
from nnhelpers import plots


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _images(fig):
    return [a for ax in fig.axes for a in ax.get_images() if isinstance(a, AxesImage)]


def _render(fig):
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    assert buffer.getvalue().startswith(b"\x89PNG")


# --------------------------------------------------------------------------- loss curves
def test_loss_curves_plot_each_curve_with_its_values():
    ax = plots.plot_loss_curves({"train": [3.0, 2.0, 1.0], "test": [3.5, 2.5, 2.0]}, logy=True)
    lines = {line.get_label(): line for line in ax.get_lines()}
    assert set(lines) == {"train", "test"}
    np.testing.assert_array_equal(lines["test"].get_ydata(), [3.5, 2.5, 2.0])
    np.testing.assert_array_equal(lines["train"].get_xdata(), [0, 1, 2])
    assert ax.get_yscale() == "log"
    assert ax.get_legend() is not None
    _render(ax.figure)


def test_loss_curve_accepts_a_plain_sequence_and_shared_x():
    ax = plots.plot_loss_curves(np.array([1.0, np.inf, 0.5]), x=[10, 20, 30], xlabel="epoch")
    (line,) = ax.get_lines()
    np.testing.assert_array_equal(line.get_xdata(), [10, 20, 30])
    assert np.isnan(line.get_ydata()[1])  # a diverged value becomes a gap
    assert ax.get_xlabel() == "epoch"


def test_loss_curve_length_mismatch_is_explained():
    with pytest.raises(ValueError, match="curve 'loss' has 3 values but x has 2"):
        plots.plot_loss_curves([1, 2, 3], x=[0, 1])


# --------------------------------------------------------------------------- decision boundary
def _blobs():
    rng = np.random.default_rng(0)
    X = np.vstack([rng.normal(-2, 0.5, (20, 2)), rng.normal(2, 0.5, (20, 2))])
    y = np.repeat([0, 1], 20)
    return X, y


def test_decision_boundary_calls_predict_on_a_grid_and_scatters_every_point():
    X, y = _blobs()
    seen = []

    def predict(points):
        seen.append(points.shape)
        return (points.sum(axis=1) > 0).astype(int)

    ax = plots.plot_decision_boundary(predict, X, y, resolution=50, title="blobs")
    assert seen == [(2500, 2)]
    scattered = sum(len(c.get_offsets()) for c in ax.collections if isinstance(c, PathCollection))
    assert scattered == len(X)
    assert ax.get_title() == "blobs"
    low, high = ax.get_xlim()
    assert low < X[:, 0].min() and high > X[:, 0].max()
    _render(ax.figure)


def test_decision_boundary_with_probabilities_draws_the_half_level():
    X, y = _blobs()
    ax = plots.plot_decision_boundary(
        lambda p: 1 / (1 + np.exp(-p.sum(axis=1))), X, y, resolution=40
    )
    levels = [list(getattr(c, "levels", [])) for c in ax.collections]
    assert [0.5] in levels
    assert len(ax.figure.axes) == 2  # colour bar of the probability


def test_decision_boundary_multiclass_scores_use_argmax():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(30, 2))
    y = rng.integers(0, 3, 30)
    ax = plots.plot_decision_boundary(
        lambda p: np.column_stack([p[:, 0], p[:, 1], -p[:, 0]]), X, y, resolution=30
    )
    assert ax.get_legend() is not None
    assert len(ax.get_legend().get_texts()) == 3


def test_decision_boundary_wrong_predict_shape_is_explained():
    X, y = _blobs()
    with pytest.raises(ValueError, match=r"predict returned shape \(40,\) for 400 points"):
        plots.plot_decision_boundary(lambda p: np.zeros(len(X)), X, y, resolution=20)


# --------------------------------------------------------------------------- loss surface
def bowl(w):
    return w[0] ** 2 + 3 * w[1] ** 2


def test_loss_grid_evaluates_the_loss_at_every_grid_point():
    W1, W2, L = plots.loss_grid(bowl, (-1, 1), (-2, 2), resolution=7)
    assert W1.shape == W2.shape == L.shape == (7, 7)
    np.testing.assert_allclose(L, W1**2 + 3 * W2**2)


def test_loss_grid_accepts_two_argument_losses_and_explicit_values():
    W1, W2, L = plots.loss_grid(lambda a, b: a - b, [0.0, 1.0, 2.0], [5.0, 6.0, 7.0, 8.0])
    assert L.shape == (4, 3)
    np.testing.assert_allclose(L, W1 - W2)


def test_contour_trajectory_line_equals_the_trajectory_and_view_is_kept():
    path = np.array([[1.5, 1.0], [0.9, -0.2], [0.3, 0.1], [5.0, 5.0]])  # last point off view
    ax = plots.plot_loss_surface(bowl, (-2, 2), (-1.5, 1.5), trajectory=path)
    (line,) = [ln for ln in ax.get_lines() if ln.get_gid() == plots.TRAJECTORY_GID]
    np.testing.assert_array_equal(line.get_xdata(), path[:, 0])
    np.testing.assert_array_equal(line.get_ydata(), path[:, 1])
    assert ax.get_xlim() == (-2, 2) and ax.get_ylim() == (-1.5, 1.5)
    _render(ax.figure)


def test_surface_kind_uses_3d_axes_and_lifts_the_trajectory_onto_the_loss():
    path = np.array([[1.0, 1.0], [0.5, 0.2], [0.0, 0.0]])
    ax = plots.plot_loss_surface(
        lambda a, b: a**2 + 3 * b**2,
        (-2, 2),
        (-2, 2),
        trajectory=path,
        kind="surface",
        resolution=20,
    )
    assert ax.name == "3d"
    (line,) = [ln for ln in ax.get_lines() if ln.get_gid() == plots.TRAJECTORY_GID]
    xs, ys, zs = line.get_data_3d()
    np.testing.assert_allclose(zs, [4.0, 0.37, 0.0])
    _render(ax.figure)


def test_loss_surface_errors_name_the_problem():
    with pytest.raises(ValueError, match="kind must be"):
        plots.plot_loss_surface(bowl, (-1, 1), (-1, 1), kind="heatmap")
    with pytest.raises(ValueError, match=r"trajectory must have shape \(steps, 2\)"):
        plots.plot_loss_surface(bowl, (-1, 1), (-1, 1), trajectory=[1, 2, 3])
    _, flat_ax = plt.subplots()
    with pytest.raises(ValueError, match="3-D axes"):
        plots.plot_loss_surface(bowl, (-1, 1), (-1, 1), kind="surface", ax=flat_ax)


# --------------------------------------------------------------------------- activations
def _line(ax, label):
    (line,) = [ln for ln in ax.get_lines() if ln.get_label() == label]
    return line


def test_missing_derivatives_are_computed_numerically():
    fig = plots.plot_activations({"sin": np.sin, "cube": lambda z: z**3})
    ax_f, ax_d = fig.axes
    x = _line(ax_f, "sin").get_xdata()
    np.testing.assert_allclose(_line(ax_d, "sin (numerical)").get_ydata(), np.cos(x), atol=1e-8)
    np.testing.assert_allclose(
        _line(ax_d, "cube (numerical)").get_ydata(), 3 * x**2, rtol=1e-6, atol=1e-8
    )
    _render(fig)


def test_given_derivative_is_used_as_is():
    marker = lambda z: np.full_like(z, 7.0)  # noqa: E731  deliberately not the derivative
    fig = plots.plot_activations(
        {"sin": np.sin}, derivatives={"sin": marker}, x=np.linspace(-1, 1, 11)
    )
    np.testing.assert_array_equal(_line(fig.axes[1], "sin").get_ydata(), np.full(11, 7.0))


def test_numerical_derivative_leaves_a_gap_at_kinks_and_jumps():
    x = np.linspace(-2, 2, 41)  # contains 0 exactly
    fig = plots.plot_activations({"abs": np.abs, "jump": lambda z: (z > 0) * 1.0}, x=x)
    for name, away in (("abs", np.sign(x)), ("jump", np.zeros_like(x))):
        slope = _line(fig.axes[1], f"{name} (numerical)").get_ydata()
        assert np.isnan(slope[20]), f"{name}: no derivative at 0"
        np.testing.assert_allclose(np.delete(slope, 20), np.delete(away, 20), atol=1e-6)


def test_activation_errors_name_the_function():
    with pytest.raises(ValueError, match="function 'scalar' returned shape"):
        plots.plot_activations({"scalar": lambda z: 1.0})
    with pytest.raises(ValueError, match="no function of that name"):
        plots.plot_activations({"sin": np.sin}, derivatives={"cos": np.cos})


def test_figure_shown_as_a_cell_value_leaves_pyplot_so_it_is_shown_once():
    fig = plots.plot_activations({"sin": np.sin})
    assert fig.number in plt.get_fignums()  # so plt.show() and Jupyter's flush show it
    bundle = fig._repr_mimebundle_()
    assert base64.b64decode(bundle["image/png"]).startswith(b"\x89PNG")
    assert fig.number not in plt.get_fignums()  # ... but not a second time


@pytest.mark.slow
def test_in_a_kernel_every_figure_appears_exactly_once(monkeypatch):
    monkeypatch.delenv("MPLBACKEND", raising=False)  # the kernel uses Jupyter's inline backend
    cells = {
        "from nnhelpers.plots import plot_activations\nimport numpy as np\n"
        "plot_activations({'sin': np.sin})": 1,  # first: pyplot not yet imported by the user
        "import matplotlib.pyplot as plt\nfrom nnhelpers.plots import plot_digits\n"
        "fig = plot_activations({'sin': np.sin})": 1,
        "fig = plot_activations({'sin': np.sin})\nplt.show()": 1,
        "plot_activations({'sin': np.sin});": 1,
        "plot_digits(np.zeros((3, 16)))\nplot_activations({'sin': np.sin})": 2,
        "display(fig)\nx = 1": 1,
        "from nnhelpers.plots import plot_loss_curves\nplot_loss_curves([1, 2])": 1,
    }
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source) for source in cells]
    NotebookClient(nb, timeout=180, kernel_name="python3").execute()
    shown = {c.source: sum("image/png" in o.get("data", {}) for o in c.outputs) for c in nb.cells}
    assert shown == cells


# --------------------------------------------------------------------------- digits
def test_digit_grid_has_one_image_per_digit_and_marks_wrong_predictions():
    rng = np.random.default_rng(0)
    images = rng.random((23, 784))
    labels = np.arange(23) % 10
    predictions = labels.copy()
    predictions[[2, 5, 17]] = (predictions[[2, 5, 17]] + 1) % 10
    fig = plots.plot_digits(images, labels, predictions=predictions, ncols=10)
    assert len(_images(fig)) == 23
    assert len(fig.axes) == 30  # 3 rows of 10, unused ones switched off
    wrong = [k for k, ax in enumerate(fig.axes) if ax.get_gid() == "wrong"]
    assert wrong == [2, 5, 17]
    assert fig.axes[2].title.get_color() == "red"
    assert fig.axes[2].get_title() == f"{predictions[2]} (true {labels[2]})"
    assert fig.axes[3].get_title() == "3"
    assert fig.get_suptitle() == "3 of 23 wrong (red)"
    np.testing.assert_array_equal(_images(fig)[4].get_array(), images[4].reshape(28, 28))
    _render(fig)


def test_digit_grid_shapes_labels_and_limits():
    hw4 = np.zeros((8, 196))
    fig = plots.plot_digits(hw4, np.eye(10)[np.arange(8)], n=5, ncols=3)
    assert len(_images(fig)) == 5
    assert _images(fig)[0].get_array().shape == (14, 14)
    assert [ax.get_title() for ax in fig.axes[:5]] == ["0", "1", "2", "3", "4"]
    many = plots.plot_digits(np.zeros((150, 4, 4)))
    assert len(_images(many)) == plots.MAX_DIGITS
    with pytest.raises(ValueError, match="cannot guess the image shape of 50 pixels"):
        plots.plot_digits(np.zeros((3, 50)))


# --------------------------------------------------------------------------- confusion matrix
def test_confusion_matrix_counts_match_a_hand_made_example():
    y_true = [0, 0, 1, 1, 1, 2, 2, 2, 2]
    y_pred = [0, 1, 1, 1, 2, 2, 2, 0, 2]
    expected = np.array([[1, 1, 0], [0, 2, 1], [1, 0, 3]])
    counts = plots.confusion_matrix(y_true, y_pred, n_classes=3)
    np.testing.assert_array_equal(counts, expected)
    assert counts.dtype == np.int64
    np.testing.assert_array_equal(
        plots.confusion_matrix(np.eye(3)[y_true], np.eye(3)[y_pred], 3), expected
    )


def test_confusion_matrix_rejects_labels_outside_the_classes():
    with pytest.raises(ValueError, match=r"1 entries of y_pred are outside 0..2 \(e.g. 5\)"):
        plots.confusion_matrix([0, 1], [0, 5], n_classes=3)
    with pytest.raises(ValueError, match="y_true has 2 labels but y_pred has 3"):
        plots.confusion_matrix([0, 1], [0, 1, 1])


def test_confusion_matrix_plot_shows_counts_and_accuracy():
    y_true = [0, 0, 1, 1, 1, 2, 2, 2, 2]
    y_pred = [0, 1, 1, 1, 2, 2, 2, 0, 2]
    ax = plots.plot_confusion_matrix(y_true, y_pred)
    assert ax.get_title() == "accuracy 66.7% (6 of 9)"
    np.testing.assert_array_equal(
        ax.get_images()[0].get_array(), plots.confusion_matrix(y_true, y_pred, 3)
    )
    cell_texts = [t.get_text() for t in ax.texts]
    assert cell_texts == ["1", "1", "0", "0", "2", "1", "1", "0", "3"]
    normalised = plots.plot_confusion_matrix(y_true, y_pred, normalize=True)
    np.testing.assert_allclose(normalised.get_images()[0].get_array().sum(axis=1), 1.0)
    _render(ax.figure)


# --------------------------------------------------------------------------- weights
def test_weight_images_one_per_class_on_a_diverging_scale_centred_at_zero():
    rng = np.random.default_rng(0)
    w = rng.normal(size=(784, 10))
    w[0, 3] = -9.0
    fig = plots.plot_weight_images(w)
    images = _images(fig)
    assert len(images) == 10
    for image in images:
        low, high = image.get_clim()
        assert low == -9.0 and high == 9.0
        assert image.get_cmap().name == "RdBu_r"
    np.testing.assert_array_equal(images[3].get_array(), w[:, 3].reshape(28, 28))
    assert [ax.get_title() for ax in fig.axes[:10]] == [str(k) for k in range(10)]
    rows = plots.plot_weight_images(w.T, titles=list("abcdefghij"))
    np.testing.assert_array_equal(_images(rows)[3].get_array(), w[:, 3].reshape(28, 28))
    _render(fig)


def test_weight_images_with_a_bias_row_get_a_hint():
    with pytest.raises(ValueError, match="drop it first"):
        plots.plot_weight_images(np.zeros((785, 10)))


def test_loss_grid_uses_one_call_for_losses_that_work_on_grids():
    calls = []

    def on_grids(w1, w2):
        calls.append(np.shape(w1))
        return np.asarray(w1) ** 2 + np.asarray(w2)

    W1, W2, L = plots.loss_grid(on_grids, (-1, 1), (0, 2), resolution=30)
    np.testing.assert_allclose(L, W1**2 + W2)
    assert calls[0] == (30, 30) and len(calls) == 4  # one grid call, three spot checks


def test_loss_grid_falls_back_to_point_by_point_when_the_grid_call_is_wrong():
    def scalar_only(w1, w2):
        return float(np.sum(np.asarray(w1) * 0 + 1)) * (w1 - w2)  # wrong on arrays

    W1, W2, L = plots.loss_grid(scalar_only, (-1, 1), (0, 2), resolution=5)
    np.testing.assert_allclose(L, W1 - W2)


def test_decision_boundary_with_minus_one_plus_one_labels_colours_both_regions():
    X, y01 = _blobs()
    y = np.where(y01 == 1, 1, -1)
    ax = plots.plot_decision_boundary(
        lambda p: np.sign(p.sum(axis=1)).astype(int), X, y, resolution=40
    )
    ax.figure.canvas.draw()
    pixels = np.asarray(ax.figure.canvas.buffer_rgba())
    height = pixels.shape[0]
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    for corner in (
        (x0 + 0.05 * (x1 - x0), y0 + 0.05 * (y1 - y0)),  # predicted -1
        (x1 - 0.05 * (x1 - x0), y1 - 0.05 * (y1 - y0)),  # predicted +1
    ):
        px, py = ax.transData.transform(corner)
        r, g, b, _ = pixels[height - int(py), int(px)]
        assert (r, g, b) != (255, 255, 255), f"region around {corner} is not shaded"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["class -1", "class 1"]
