"""Property-based tests of nnhelpers.gradcheck: for any shape and values, correct gradients pass
and a scaled, negated or transposed gradient is caught and named. Kept small and fast."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from nnhelpers.gradcheck import check_gradient, compare, numerical_gradient

FAST = settings(max_examples=20, deadline=None, derandomize=True)

shapes = st.one_of(
    st.tuples(st.integers(1, 6)),
    st.tuples(st.integers(1, 4), st.integers(1, 4)),
)
seeds = st.integers(0, 2**32 - 1)


def _problem(shape, seed):
    """A smooth scalar function of x with its gradient: sum(C * tanh(x) + B * x**2)."""
    rng = np.random.default_rng(seed)
    x, B, C = (rng.uniform(-2, 2, size=shape) for _ in range(3))

    def loss(x):
        return float(np.sum(C * np.tanh(x) + B * x**2))

    grad = C * (1 - np.tanh(x) ** 2) + 2 * B * x
    return loss, x, grad


@FAST
@given(shapes, seeds)
def test_numerical_gradient_is_accurate_and_leaves_x_alone(shape, seed):
    loss, x, grad = _problem(shape, seed)
    before = x.copy()
    np.testing.assert_allclose(numerical_gradient(loss, x), grad, rtol=1e-6, atol=1e-8)
    np.testing.assert_array_equal(x, before)


@FAST
@given(shapes, seeds)
def test_correct_gradients_pass(shape, seed):
    loss, x, grad = _problem(shape, seed)
    result = check_gradient(loss, {"x": x}, {"x": grad})
    assert result.ok, str(result)
    assert result["x"].n_skipped == 0


@FAST
@given(
    shapes,
    seeds,
    st.integers(3, 9),
    st.sampled_from([(-1.0, "sign"), (2.0, "factor-2"), (0.5, "factor-1/2"), ("R", "factor-R")]),
)
def test_scaled_gradients_are_named(shape, seed, batch, factor_code):
    factor, code = factor_code
    factor = batch if factor == "R" else factor
    loss, x, grad = _problem(shape, seed)
    result = check_gradient(loss, {"x": x}, {"x": grad * factor}, batch_size=batch)
    assert not result.ok
    assert code in result["x"].cause_codes, str(result)


@FAST
@given(st.integers(2, 4), seeds)
def test_transposed_square_gradients_are_named(n, seed):
    loss, x, grad = _problem((n, n), seed)
    result = check_gradient(loss, {"x": x}, {"x": grad.T})
    assert not result.ok
    assert "transposed" in result["x"].cause_codes, str(result)


@FAST
@given(shapes, seeds, st.data())
def test_compare_finds_the_one_wrong_entry(shape, seed, data):
    expected = np.random.default_rng(seed).normal(size=shape)
    flat = data.draw(st.integers(0, expected.size - 1))
    got = expected.copy()
    got.flat[flat] += 0.5
    result = compare(got, expected, name="y")
    assert not result.ok
    assert result.n_off == 1
    assert result.worst[0].index == np.unravel_index(flat, shape)
    assert compare(expected.copy(), expected, name="y").ok


@FAST
@given(shapes, seeds, st.floats(0.0, 0.6))
def test_relu_like_kinks_never_fail_a_correct_gradient(shape, seed, share_at_zero):
    rng = np.random.default_rng(seed)
    z = rng.normal(size=shape)
    z[rng.random(shape) < share_at_zero] = 0.0
    weights = rng.normal(size=shape)

    def loss(z):
        return float(np.sum(weights * np.where(z > 0, z, 0.0)))

    result = check_gradient(loss, {"z": z}, {"z": weights * (z > 0)})
    assert result.ok, str(result)
    assert result["z"].n_skipped == int((z == 0).sum())
