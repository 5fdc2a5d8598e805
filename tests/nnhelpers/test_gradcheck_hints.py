"""Diagnoses added for hint coverage (issue 14): each names its cause, and none fires on a
correct value or where a better explanation exists."""

import numpy as np
import pytest
from nnhelpers.gradcheck import check_gradient, compare


def _sigmoid(a):
    return 1 / (1 + np.exp(-a))


@pytest.fixture
def pre_activation():
    return np.random.default_rng(3).normal(size=(3, 4))


def test_missing_sigmoid_derivative_is_named_with_its_maximum_of_one_quarter(pre_activation):
    s = _sigmoid(pre_activation)
    upstream = np.random.default_rng(4).normal(size=s.shape)
    result = compare(upstream, upstream * s * (1 - s), name="dl_da")
    assert result.cause_codes[0] == "missing-sigmoid-derivative", str(result)
    assert result.likely_cause.startswith("a factor is missing")
    assert "1/4" in result.likely_cause


def test_a_factor_above_one_quarter_is_not_called_a_missing_sigmoid_derivative(pre_activation):
    t = np.tanh(pre_activation)
    upstream = np.random.default_rng(4).normal(size=t.shape)
    # tanh' = 1 - tanh^2 reaches 1: the ratio leaves (0, 1/4], so sigma' is not the explanation
    result = compare(upstream, upstream * (1 - t**2), name="dl_da")
    assert not result.ok
    assert "missing-sigmoid-derivative" not in result.cause_codes, str(result)


def test_a_constant_quarter_is_a_factor_not_a_sigmoid_derivative(pre_activation):
    result = compare(pre_activation, pre_activation / 4, name="x")
    assert result.cause_codes[0] == "factor", str(result)


@pytest.mark.parametrize("ratio", [np.log(10), 1 / np.log(10)])
def test_a_scalar_off_by_ln_10_names_the_base_of_the_logarithm(ratio):
    result = compare(4.60517 * ratio, 4.60517, name="loss")
    assert result.cause_codes[0] == "factor-log10", str(result)
    assert "np.log10" in result.likely_cause


def test_batch_size_is_suggested_only_when_it_is_unknown():
    values = np.array([1.0, -2.0, 3.0])
    unknown = compare(5 * values, values, name="g")
    assert "batch size" in unknown.likely_cause
    for batch_size in (1, 3):  # R = 1 explains nothing; a known R = 3 was already ruled out
        known = compare(5 * values, values, name="g", batch_size=batch_size)
        assert known.cause_codes[0] == "factor"
        assert "batch size" not in known.likely_cause, known.likely_cause
        assert "about 5" in known.likely_cause


def test_a_single_entry_is_not_explained_as_a_term_proportional_to_itself():
    # one number is proportional to any other: "an extra term 0.19 x b" would be a false hint
    x = np.array([0.5, -1.0, 2.0])
    result = check_gradient(
        lambda b: np.sum(_sigmoid(x + b[0])),
        {"b": np.array([0.3])},
        {"b": np.array([np.sum(_sigmoid(x + 0.3)) * 0.7])},
    )
    assert not result.ok
    assert "missing-term" not in result["b"].cause_codes, str(result)


def test_a_missing_bias_names_the_missing_term_first():
    x = np.array([[1.0, 2.0], [3.0, -1.0], [0.0, 1.0]])
    bias = np.array([0.5, -1.5])
    result = compare(x, x + bias, name="fc(x, w, b)")
    assert result.cause_codes[0] == "missing-term"
    assert result.likely_cause.startswith("a term is missing"), result.likely_cause


def test_a_bare_mask_names_the_missing_factor_first():
    upstream = np.array([[5.0, 6.0, -7.0, 2.0]])
    mask = np.array([[0.0, 1.0, 1.0, 1.0]])
    result = compare(mask, upstream * mask, name="dl_dx")
    assert result.cause_codes[0] == "indicator"
    assert result.likely_cause.startswith("a factor is missing"), result.likely_cause


def test_a_mask_taken_from_the_wrong_array_is_named():
    a = np.array([[-1.0, 2.0, 3.0], [0.5, -2.0, 1.0], [-3.0, 4.0, -0.5]])
    upstream = np.array([[5.0, 6.0, -7.0], [-1.0, 2.0, 3.0], [4.0, -2.0, 1.0]])
    result = compare(upstream * (upstream > 0), upstream * (a > 0), name="relu_backward")
    assert result.cause_codes[0] == "misplaced-mask", str(result)
    assert result.likely_cause.startswith("the mask selects the wrong entries")


def test_a_missing_contribution_is_not_a_misplaced_mask():
    expected = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    got = expected.copy()
    got[0, :] = 0.0  # zero on one side only: a missing path, not a mask choosing other entries
    assert "misplaced-mask" not in compare(got, expected, name="g").cause_codes
