"""Diagnoses added for the HW 4 hint coverage (issue 14): each names its cause, and none fires
where the evidence is too thin to tell a pattern from a coincidence."""

import numpy as np
from nnhelpers.gradcheck import compare


def _softmax_rows(a):
    e = np.exp(a - a.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def test_only_the_diagonal_term_kept_is_a_missing_term():
    # soft-max cross-entropy: dL/da = p - y; keeping only the Jacobian's diagonal term gives
    # (p - 1) * y, right on the one label entry of each row and exactly 0 on the other 45
    rng = np.random.default_rng(15)
    a, y = 3 * rng.normal(size=(5, 10)), np.eye(10)[rng.integers(0, 10, 5)]
    p = _softmax_rows(a)
    result = compare((p - 1) * y, p - y, name="dl_da", batch_size=5)
    assert result.cause_codes[0] == "missing-term", str(result)
    assert "a term is missing" in result.likely_cause
    assert "one entry per row" in result.likely_cause


def test_two_matching_entries_among_zeros_are_a_coincidence_not_a_pattern():
    expected = np.random.default_rng(1).normal(size=(4, 5)) + 3.0  # no zeros
    got = np.zeros_like(expected)
    got[0, 0], got[2, 3] = expected[0, 0], expected[2, 3]
    result = compare(got, expected, name="g")
    assert "missing-term" not in result.cause_codes, str(result)


def test_few_matches_with_non_zero_errors_elsewhere_are_not_a_missing_term():
    rng = np.random.default_rng(2)
    expected = rng.normal(size=(5, 10)) + 3.0
    got = expected + rng.normal(size=expected.shape)  # wrong everywhere, by random amounts
    got[np.arange(5), [1, 3, 5, 7, 9]] = expected[np.arange(5), [1, 3, 5, 7, 9]]
    result = compare(got, expected, name="g")
    assert "missing-term" not in result.cause_codes, str(result)
