"""nnhelpers.gradcheck: correct gradients pass, each named bug is caught and named.

The functions under test (a matrix product, tanh, an affine layer, a two-layer net) are defined
here, never in helpers/, because the helpers must not hold course solutions.
"""

import numpy as np
import pytest
from nnhelpers.gradcheck import (
    GradCheckResult,
    GradientCheckError,
    check_gradient,
    check_vjp,
    numerical_gradient,
)

R, D, H, K = 4, 3, 5, 2  # batch size, inputs, hidden units, outputs


@pytest.fixture
def rng():
    return np.random.default_rng(7)


# ---- functions and their correct gradients (test-side only) ----


def matmul_loss(A, x, C):
    return float(np.sum(C * (A @ x)))


def matmul_grads(A, x, C):
    return {"A": C @ x.T, "x": A.T @ C}


def tanh_loss(z, c):
    return float(np.sum(c * np.tanh(z)))


def tanh_grad(z, c):
    return c * (1 - np.tanh(z) ** 2)


def affine(x, W, b):
    return x @ W + b


def affine_backward(upstream, x, W):
    return {"x": upstream @ W.T, "W": x.T @ upstream, "b": upstream.sum(axis=0)}


def two_layer_loss(W1, b1, W2, b2, X, Y):
    """Mean squared error of a tanh hidden layer and a linear output, averaged over the batch."""
    hidden = np.tanh(X @ W1 + b1)
    out = hidden @ W2 + b2
    return float(0.5 * np.sum((out - Y) ** 2) / X.shape[0])


def two_layer_grads(W1, b1, W2, b2, X, Y):
    pre = X @ W1 + b1
    hidden = np.tanh(pre)
    dout = (hidden @ W2 + b2 - Y) / X.shape[0]
    dhidden = dout @ W2.T * (1 - hidden**2)
    return {
        "W1": X.T @ dhidden,
        "b1": dhidden.sum(axis=0),
        "W2": hidden.T @ dout,
        "b2": dout.sum(axis=0),
    }


def _net(rng):
    params = {
        "W1": rng.normal(size=(D, H)),
        "b1": rng.normal(size=H) * 0.1,
        "W2": rng.normal(size=(H, K)),
        "b2": rng.normal(size=K) * 0.1,
    }
    data = {"X": rng.normal(size=(R, D)), "Y": rng.normal(size=(R, K))}
    return params, data


# ---- numerical_gradient ----


def test_numerical_gradient_matches_a_known_gradient(rng):
    A = rng.normal(size=(3, 3))
    x = rng.normal(size=3)
    grad = numerical_gradient(lambda v: float(v @ A @ v), x)
    np.testing.assert_allclose(grad, (A + A.T) @ x, rtol=1e-7, atol=1e-9)


def test_numerical_gradient_leaves_the_input_untouched_and_accepts_float32(rng):
    x = rng.normal(size=(2, 3)).astype(np.float32)
    before = x.copy()
    grad = numerical_gradient(lambda v: float(np.sum(v**2)), x)
    assert grad.dtype == np.float64
    np.testing.assert_array_equal(x, before)
    np.testing.assert_allclose(grad, 2 * x.astype(np.float64), rtol=1e-6)


def test_numerical_gradient_explains_a_non_scalar_function():
    with pytest.raises(TypeError, match="one number"):
        numerical_gradient(lambda v: v * 2, np.ones(3))
    with pytest.raises(TypeError, match="tuple"):
        numerical_gradient(lambda v: (float(v.sum()), v), np.ones(3))


# ---- correct gradients pass ----


def test_correct_matmul_gradient_passes(rng):
    A, x, C = rng.normal(size=(3, 4)), rng.normal(size=(4, 2)), rng.normal(size=(3, 2))
    params = {"A": A, "x": x, "C": C}
    result = check_gradient(matmul_loss, params, matmul_grads(A, x, C), name="matmul")
    assert isinstance(result, GradCheckResult)
    assert result.ok, str(result)
    assert result["A"].status == "good"
    assert result.unchecked == ["C"]
    result.raise_if_failed()


def test_correct_elementwise_gradient_passes(rng):
    z, c = rng.normal(size=(3, 4)), rng.normal(size=(3, 4))
    result = check_gradient(tanh_loss, {"z": z, "c": c}, {"z": tanh_grad(z, c)})
    assert result.ok, str(result)
    assert result["z"].rel_error < 1e-7


def test_correct_two_layer_net_passes(rng):
    params, data = _net(rng)
    grads = two_layer_grads(**params, **data)
    result = check_gradient(two_layer_loss, {**params, **data}, grads, batch_size=R, name="net")
    assert result.ok, str(result)
    assert set(result.reports) == {"W1", "b1", "W2", "b2"}
    assert all(r.rel_error < 1e-7 for r in result.reports.values()), str(result)


def test_correct_backward_function_passes_check_vjp(rng):
    x, W, b = rng.normal(size=(R, D)), rng.normal(size=(D, K)), rng.normal(size=K)
    upstream = rng.normal(size=(R, K))
    result = check_vjp(affine, {"x": x, "W": W, "b": b}, upstream, affine_backward(upstream, x, W))
    assert result.ok, str(result)


def test_check_vjp_with_a_tuple_output_and_a_skipped_cache(rng):
    def forward(z):
        return np.tanh(z), {"cache": z}

    z = rng.normal(size=(2, 3))
    up = rng.normal(size=(2, 3))
    result = check_vjp(forward, {"z": z}, (up, None), {"z": up * (1 - np.tanh(z) ** 2)})
    assert result.ok, str(result)


def test_the_callers_arrays_are_never_modified(rng):
    params, data = _net(rng)
    inputs = {**params, **data}
    before = {k: v.copy() for k, v in inputs.items()}
    grads = two_layer_grads(**params, **data)
    grads_before = {k: v.copy() for k, v in grads.items()}
    check_gradient(two_layer_loss, inputs, grads)
    for k in inputs:
        np.testing.assert_array_equal(inputs[k], before[k])
    for k in grads:
        np.testing.assert_array_equal(grads[k], grads_before[k])


def test_a_function_that_mutates_its_input_is_reported(rng):
    def clobbering(z):
        z *= 2
        return float(np.sum(z))

    z = rng.normal(size=3)
    result = check_gradient(
        lambda z, c: clobbering(c) + float(np.sum(z)), {"z": z, "c": np.ones(3)}, {"z": np.ones(3)}
    )
    assert any("in place" in note for note in result.notes), str(result)


# ---- each named bug is caught and diagnosed ----


def _net_result(rng, bug, **kwargs):
    params, data = _net(rng)
    grads = two_layer_grads(**params, **data)
    grads = bug(grads, params, data)
    return check_gradient(two_layer_loss, {**params, **data}, grads, name="net", **kwargs)


def _assert_caught(result, param, code):
    assert not result.ok, str(result)
    report = result[param]
    assert not report.ok
    assert code in report.cause_codes, f"expected cause {code!r}, got:\n{result}"
    text = str(result)
    assert param in text and "likely cause" in text
    with pytest.raises(GradientCheckError) as caught:
        result.raise_if_failed()
    assert isinstance(caught.value, AssertionError)
    assert str(caught.value) == text


@pytest.mark.parametrize(
    ("factor", "code"),
    [
        (-1.0, "sign"),
        (2.0, "factor-2"),
        (0.5, "factor-1/2"),
        (R, "factor-R"),
        (1 / R, "factor-1/R"),
        (3.7, "factor"),
    ],
)
def test_a_constant_factor_is_named(rng, factor, code):
    result = _net_result(rng, lambda g, p, d: {**g, "W2": g["W2"] * factor}, batch_size=R)
    _assert_caught(result, "W2", code)
    assert result["W1"].ok and result["b2"].ok


def test_sign_and_factor_together_are_both_named(rng):
    result = _net_result(rng, lambda g, p, d: {**g, "W1": -2 * g["W1"]})
    _assert_caught(result, "W1", "factor-2")
    assert "sign" in result["W1"].cause_codes


def test_a_missing_mean_over_the_batch_is_named_factor_R(rng):
    def forgot_mean(g, p, d):
        return {**g, "b2": g["b2"] * d["X"].shape[0]}

    result = _net_result(rng, forgot_mean, batch_size=R)
    _assert_caught(result, "b2", "factor-R")
    assert f"R = {R}" in result["b2"].likely_cause


def test_a_transposed_square_gradient_is_named(rng):
    A, x, C = rng.normal(size=(3, 3)), rng.normal(size=(3, 3)), rng.normal(size=(3, 3))
    grads = matmul_grads(A, x, C)
    result = check_gradient(matmul_loss, {"A": A, "x": x, "C": C}, {**grads, "A": grads["A"].T})
    _assert_caught(result, "A", "transposed")


def test_a_transposed_rectangular_gradient_is_named_by_its_shape(rng):
    params, data = _net(rng)
    grads = two_layer_grads(**params, **data)
    result = check_gradient(two_layer_loss, {**params, **data}, {**grads, "W1": grads["W1"].T})
    _assert_caught(result, "W1", "transposed")
    assert "(5, 3)" in str(result) and "(3, 5)" in str(result)


def test_a_missing_sum_over_the_batch_is_named(rng):
    x, W, b = rng.normal(size=(R, D)), rng.normal(size=(D, K)), rng.normal(size=K)
    up = rng.normal(size=(R, K))
    grads = {**affine_backward(up, x, W), "b": up}
    result = check_vjp(affine, {"x": x, "W": W, "b": b}, up, grads, batch_size=R)
    _assert_caught(result, "b", "missing-sum")
    assert "axis 0" in result["b"].likely_cause
    assert "gives the right values" in result["b"].likely_cause


def test_a_sum_over_the_wrong_axis_is_named(rng):
    x, W, b = rng.normal(size=(R, D)), rng.normal(size=(D, K)), rng.normal(size=K)
    up = rng.normal(size=(R, K))
    grads = {**affine_backward(up, x, W), "b": up.sum(axis=1)}
    result = check_vjp(affine, {"x": x, "W": W, "b": b}, up, grads)
    _assert_caught(result, "b", "wrong-axis")
    assert "axis 1" in result["b"].likely_cause


def test_a_missing_regularisation_term_is_named(rng):
    lam = 0.3
    params, data = _net(rng)

    def regularised(W1, b1, W2, b2, X, Y):
        return two_layer_loss(W1, b1, W2, b2, X, Y) + 0.5 * lam * float(np.sum(W1**2))

    grads = two_layer_grads(**params, **data)  # without the lam * W1 term
    result = check_gradient(regularised, {**params, **data}, grads)
    _assert_caught(result, "W1", "missing-term")
    assert "0.3 x W1" in result["W1"].likely_cause


def test_a_term_missing_on_part_of_the_entries_is_named(rng):
    x = rng.normal(size=6)

    def loss(x):
        return float(np.sum(3 * x) + x[2] ** 3)

    result = check_gradient(loss, {"x": x}, {"x": np.full(6, 3.0)})
    _assert_caught(result, "x", "missing-term")
    assert "5 of 6" in result["x"].likely_cause
    assert result["x"].worst[0].index == (2,)
    assert "x[2]" in str(result)


def test_a_missing_upstream_term_in_a_backward_function_is_named(rng):
    def forward(z):
        return z + np.tanh(z)

    z, up = rng.normal(size=(2, 3)), rng.normal(size=(2, 3))
    wrong = {"z": up * (1 - np.tanh(z) ** 2)}  # forgot the identity path
    result = check_vjp(forward, {"z": z}, up, wrong)
    _assert_caught(result, "z", "missing-term")
    assert "upstream" in result["z"].likely_cause


def test_a_shape_mismatch_is_reported_in_words(rng):
    params, data = _net(rng)
    grads = two_layer_grads(**params, **data)
    result = check_gradient(two_layer_loss, {**params, **data}, {**grads, "b1": grads["b1"][None]})
    _assert_caught(result, "b1", "shape")
    assert "(1, 5)" in str(result) and "(5,)" in str(result)
    assert "keepdims" in result["b1"].likely_cause


def test_an_integer_gradient_is_named(rng):
    x = rng.normal(size=5) * 3

    def loss(x):
        return float(np.sum(x**2))

    result = check_gradient(loss, {"x": x}, {"x": (2 * x).astype(np.int64)})
    _assert_caught(result, "x", "dtype")
    assert "int64" in str(result)


def test_a_complex_gradient_fails_unless_it_is_real(rng):
    """The checkers compared the real part only: a gradient + 1j passed (issue 13)."""
    z, c = rng.normal(size=(3, 4)), rng.normal(size=(3, 4))
    grad = tanh_grad(z, c)
    _assert_caught(check_gradient(tanh_loss, {"z": z, "c": c}, {"z": grad + 1j}), "z", "dtype")
    assert check_gradient(tanh_loss, {"z": z, "c": c}, {"z": grad + 0j}).ok


def test_a_float32_gradient_is_noted_but_passes(rng):
    z, c = rng.normal(size=(3, 4)), rng.normal(size=(3, 4))
    result = check_gradient(tanh_loss, {"z": z, "c": c}, {"z": tanh_grad(z, c).astype(np.float32)})
    assert result.ok, str(result)
    assert "float32" in " ".join(result["z"].notes)


@pytest.mark.parametrize(
    ("value", "code"),
    [
        (np.zeros((D, H)), "zeros"),
        (np.full((D, H), np.nan), "nan"),
        (np.full((D, H), np.inf), "nan"),
        (None, "none"),
    ],
)
def test_zeros_nan_and_none_are_named(rng, value, code):
    result = _net_result(rng, lambda g, p, d: {**g, "W1": value})
    _assert_caught(result, "W1", code)


def test_swapped_gradients_are_named(rng):
    x = rng.normal(size=(3, 3))
    y = rng.normal(size=(3, 3))

    def loss(x, y):
        return float(np.sum(np.tanh(x)) + np.sum(y**2))

    right = {"x": 1 - np.tanh(x) ** 2, "y": 2 * y}
    result = check_gradient(loss, {"x": x, "y": y}, {"x": right["y"], "y": right["x"]})
    _assert_caught(result, "x", "swapped")


def test_a_gradient_for_an_unknown_input_is_a_problem(rng):
    z, c = rng.normal(size=3), rng.normal(size=3)
    result = check_gradient(tanh_loss, {"z": z, "c": c}, {"z": tanh_grad(z, c), "w": z})
    assert not result.ok
    assert "'w'" in str(result)


def test_check_vjp_reports_an_output_shape_that_does_not_match_upstream(rng):
    x, W, b = rng.normal(size=(R, D)), rng.normal(size=(D, K)), rng.normal(size=K)
    result = check_vjp(affine, {"x": x, "W": W, "b": b}, np.ones((K, R)), {"b": np.ones(K)})
    assert not result.ok
    assert "upstream" in str(result) and f"{(R, K)}" in str(result)


def test_small_numerical_noise_is_not_a_failure_but_a_real_bug_is(rng):
    z, c = rng.normal(size=(3, 4)), rng.normal(size=(3, 4))
    g = tanh_grad(z, c)
    assert check_gradient(tanh_loss, {"z": z, "c": c}, {"z": g * (1 + 1e-9)}).ok
    nearly = check_gradient(tanh_loss, {"z": z, "c": c}, {"z": g * (1 + 1e-3)})
    assert nearly["z"].status == "fail", str(nearly)
    assert "factor" in nearly["z"].cause_codes


def test_the_report_renders_as_html_and_text(rng):
    result = _net_result(rng, lambda g, p, d: {**g, "b1": -g["b1"]})
    page = result._repr_html_()
    assert (
        page.startswith("<")
        and "<table" in page
        and "worst entries" in page
        and "b1" in page
        and "sign" in page
    )
    text = str(result)
    assert "FAILED" in text and "worst entries" in text and "b1[" in text
    assert "relative error" in text
    assert repr(result) == text
    assert not bool(result)


def test_a_same_shape_sum_over_the_wrong_axis_is_named(rng):
    n = 3  # batch size equal to the number of outputs: the shapes cannot tell the axes apart
    x, W, b = rng.normal(size=(n, D)), rng.normal(size=(D, n)), rng.normal(size=n)
    up = rng.normal(size=(n, n))
    grads = {**affine_backward(up, x, W), "b": up.sum(axis=1)}
    result = check_vjp(affine, {"x": x, "W": W, "b": b}, up, grads)
    _assert_caught(result, "b", "wrong-axis")
    assert "axis 1" in result["b"].likely_cause and "axis 0" in result["b"].likely_cause


def test_a_missing_mask_is_located_by_the_sign_of_the_input(rng):
    def forward(z):
        return np.where(z > 0, z, 0.0)

    z, up = rng.normal(size=(3, 4)), rng.normal(size=(3, 4))
    result = check_vjp(forward, {"z": z}, up, {"z": up.copy()})
    _assert_caught(result, "z", "missing-term")
    assert "where z < 0" in result["z"].likely_cause


def test_a_float32_loss_is_noted(rng):
    x = rng.normal(size=3)
    result = check_gradient(lambda x: np.float32(np.sum(x**2)), {"x": x}, {"x": 2 * x})
    assert any("float32" in note for note in result.notes), str(result)


def test_a_residual_close_to_a_simple_term_is_said_to_resemble_it(rng):
    W = rng.normal(size=(3, 4))
    noise = rng.normal(size=(3, 4)) * 0.01

    def loss(W):
        return float(np.sum(W**2) + np.sum(noise * W))

    other = rng.normal(size=(3, 4)) * 0.01  # forgot 2W and got the small term wrong too
    result = check_gradient(loss, {"W": W}, {"W": other})
    _assert_caught(result, "W", "missing-term")
    assert "resembles 2 x W" in result["W"].likely_cause


def test_coincidental_agreement_is_not_called_a_partial_match():
    w = np.arange(4.0)  # 3w and 3w**2 agree at w = 0 and w = 1 by coincidence

    def loss(w):
        return float(np.sum(w**3))

    result = check_gradient(loss, {"w": w}, {"w": 3 * w})
    assert not result.ok
    assert result["w"].cause_codes == ["unexplained"], str(result)
    assert "worst entries" in str(result)


def test_an_empty_parameter_passes():
    result = check_gradient(
        lambda w: float(np.sum(w)), {"w": np.zeros((0, 3))}, {"w": np.zeros((0, 3))}
    )
    assert result.ok, str(result)


def test_an_inverted_mask_is_named(rng):
    def forward(z):
        return np.where(z > 0, z, 0.0)

    z, up = rng.normal(size=(3, 4)), rng.normal(size=(3, 4))
    result = check_vjp(forward, {"z": z}, up, {"z": up * (z < 0)})
    _assert_caught(result, "z", "inverted-mask")


def test_keys_that_do_not_match_the_argument_names_are_explained(rng):
    z, c = rng.normal(size=3), rng.normal(size=3)
    with pytest.raises(TypeError, match=r"names of its arguments \('z', 'c'\)"):
        check_gradient(tanh_loss, {"x": z, "c": c}, {"x": tanh_grad(z, c)})
    with pytest.raises(TypeError, match="forward function"):
        check_vjp(lambda x: np.tanh(x), {"z": z}, c, {"z": c})


def test_a_random_function_is_a_problem(rng):
    noise = np.random.default_rng(0)
    z = rng.normal(size=3)

    def noisy(z):
        return float(np.sum(z**2) + noise.normal() * 1e-3)

    result = check_gradient(noisy, {"z": z}, {"z": 2 * z})
    assert not result.ok
    assert "random" in str(result)


def test_a_mean_over_the_batch_instead_of_a_sum_is_named(rng):
    x, W, b = rng.normal(size=(R, D)), rng.normal(size=(D, K)), rng.normal(size=K)
    up = rng.normal(size=(R, K))
    grads = {**affine_backward(up, x, W), "b": up.mean(axis=0)}
    result = check_vjp(affine, {"x": x, "W": W, "b": b}, up, grads, batch_size=R)
    _assert_caught(result, "b", "factor-1/R")


def relu_net_loss(W1, W2, X, Y):
    hidden = np.where(X @ W1 > 0, X @ W1, 0.0)
    return float(0.5 * np.sum((hidden @ W2 - Y) ** 2))


def relu_net_grads(W1, W2, X, Y):
    pre = X @ W1
    hidden = np.where(pre > 0, pre, 0.0)
    dout = hidden @ W2 - Y
    dpre = (dout @ W2.T) * (pre > 0)
    return {"W1": X.T @ dpre, "W2": hidden.T @ dout}


def test_a_relu_network_passes_and_a_missing_mask_is_caught(rng):
    inputs = {
        "W1": rng.normal(size=(D, H)),
        "W2": rng.normal(size=(H, K)),
        "X": rng.normal(size=(R, D)),
        "Y": rng.normal(size=(R, K)),
    }
    grads = relu_net_grads(**inputs)
    assert check_gradient(relu_net_loss, inputs, grads).ok
    pre = inputs["X"] @ inputs["W1"]
    no_mask = inputs["X"].T @ (
        (np.where(pre > 0, pre, 0.0) @ inputs["W2"] - inputs["Y"]) @ inputs["W2"].T
    )
    result = check_gradient(relu_net_loss, inputs, {**grads, "W1": no_mask})
    assert not result.ok and result["W2"].ok
    assert "W1" in str(result) and "worst entries" in str(result)


def test_a_tiny_gradient_under_a_large_loss_is_judged_against_rounding_noise(rng):
    y = rng.normal(size=(4, 4))
    slope = 1e-8 * rng.normal(size=(4, 4))

    def loss(y):  # the 1e6 offset makes central differences noisy at the 1e-4 level
        return float(1e6 + np.sum(slope * y))

    assert check_gradient(loss, {"y": y}, {"y": slope}).ok
    assert check_gradient(loss, {"y": y}, {"y": np.zeros((4, 4))}).ok  # below the noise, too
    wrong = check_gradient(loss, {"y": y}, {"y": np.full((4, 4), 1e-2)})  # 100 x the noise
    assert not wrong.ok, str(wrong)


def test_max_entries_checks_a_random_sample_of_a_large_array(rng):
    A, x, C = rng.normal(size=(30, 40)), rng.normal(size=(40, 2)), rng.normal(size=(30, 2))
    calls = []

    def counted(A, x, C):
        calls.append(1)
        return matmul_loss(A, x, C)

    grads = matmul_grads(A, x, C)
    result = check_gradient(counted, {"A": A, "x": x, "C": C}, {"A": grads["A"]}, max_entries=50)
    assert result.ok, str(result)
    assert result["A"].n_compared == 50 and result["A"].n_skipped == 0
    assert len(calls) <= 2 * 50 + 10
    assert "random sample of 50 of its 1200 entries" in str(result)
    flipped = check_gradient(
        matmul_loss, {"A": A, "x": x, "C": C}, {"A": -grads["A"]}, max_entries=20
    )
    _assert_caught(flipped, "A", "sign")


def test_a_reshape_instead_of_a_transpose_is_named(rng):
    params, data = _net(rng)
    grads = two_layer_grads(**params, **data)
    scrambled = grads["W1"].T.reshape(grads["W1"].shape)
    result = check_gradient(two_layer_loss, {**params, **data}, {**grads, "W1": scrambled})
    _assert_caught(result, "W1", "transposed")
    assert ".reshape" in result["W1"].likely_cause


def test_a_bare_mask_without_the_upstream_values_is_named(rng):
    def forward(z):
        return np.where(z > 0, z, 0.0)

    z, up = rng.normal(size=(3, 4)), rng.normal(size=(3, 4))
    result = check_vjp(forward, {"z": z}, up, {"z": (z > 0).astype(float)})
    _assert_caught(result, "z", "indicator")
