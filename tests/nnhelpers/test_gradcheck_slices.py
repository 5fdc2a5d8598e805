"""A wrong gradient equal to part of another parameter's gradient (issue 14): the input factor of
one parameter given to another, e.g. a bias gradient multiplied by an input. Named with the
slice it equals; never for gradients that are merely wrong, zero, or right."""

import numpy as np
import pytest
from nnhelpers.gradcheck import check_gradient, check_vjp


@pytest.fixture
def layer():
    rng = np.random.default_rng(11)
    X, G = rng.normal(size=(5, 3)), rng.normal(size=(5, 4))
    W, b = rng.normal(size=(4, 3)), rng.normal(size=4)
    return X, G, W, b


def _affine(X):
    return lambda W, b: X @ W.T + b


def test_a_bias_gradient_with_an_input_factor_is_named_as_a_column_of_the_weights(layer):
    X, G, W, b = layer
    grads = {"W": G.T @ X, "b": G.T @ X[:, 1]}  # the bias got the input x[:, 1] as a factor
    result = check_vjp(_affine(X), {"W": W, "b": b}, G, grads, batch_size=5)
    assert result["W"].ok
    assert result["b"].cause_codes == ["wrong-input"], str(result)
    assert "W[:, 1]" in result["b"].likely_cause
    assert "wrong input" in result["b"].likely_cause


def test_a_single_bias_entry_equal_to_one_weight_gradient_is_named():
    X = np.array([[1.0, 2.0], [0.0, -1.0], [3.0, 1.0], [0.5, 0.5]])
    y = np.array([1.0, 0.0, 0.25, 0.5])

    def loss(w, b):
        return 0.5 * float(np.sum((np.tanh(X @ w + b[0]) - y) ** 2))

    w, b = np.array([0.5, -1.0]), np.array([0.3])
    delta = (np.tanh(X @ w + b[0]) - y) * (1 - np.tanh(X @ w + b[0]) ** 2)
    result = check_gradient(loss, {"w": w, "b": b},
                            {"w": X.T @ delta, "b": np.array([delta @ X[:, 0]])})  # fmt: skip
    assert result["b"].cause_codes == ["wrong-input"], str(result)
    assert "w[0]" in result["b"].likely_cause


@pytest.mark.parametrize("wrong", ["random", "zeros", "scaled"])
def test_other_wrong_bias_gradients_are_not_called_a_wrong_input(layer, wrong):
    X, G, W, b = layer
    right = G.sum(axis=0)
    db = {
        "random": np.random.default_rng(5).normal(size=4),
        "zeros": np.zeros(4),
        "scaled": 3 * right,
    }[wrong]
    result = check_vjp(_affine(X), {"W": W, "b": b}, G, {"W": G.T @ X, "b": db}, batch_size=5)
    assert not result["b"].ok
    assert "wrong-input" not in result["b"].cause_codes, str(result)


def test_right_gradients_pass_without_causes(layer):
    X, G, W, b = layer
    result = check_vjp(_affine(X), {"W": W, "b": b}, G, {"W": G.T @ X, "b": G.sum(axis=0)})
    assert result.ok
    assert not result["b"].causes
