"""Likely causes for two same-shaped arrays that disagree: factor, sign, transpose, wrong axis,
missing term, a match on only part of the entries."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from nnhelpers.gradcheck.diagnosis.common import (
    FIT_TOLERANCE,
    RESEMBLES,
    Cause,
    best_factor,
    describe_indices,
    fit_error,
    fmt,
    name_factor,
    norm,
    permutation_causes,
)


def diagnose_values(
    got: np.ndarray,
    expected: np.ndarray,
    bad: np.ndarray,
    valid: np.ndarray,
    *,
    batch_size: int | None = None,
    candidates: Mapping[str, np.ndarray] | None = None,
    reducibles: Mapping[str, np.ndarray] | None = None,
    labels: tuple[str, str] = ("analytic", "numerical"),
) -> list[Cause]:
    """Causes for two same-shaped finite arrays that disagree on the entries marked `bad`.

    `valid` marks the entries that were compared (kinks excluded); `candidates` are named
    arrays of the same shape that a missing term might be proportional to; `reducibles` are
    arrays whose sum over some axis might be the right (or the wrong) answer.
    """
    g_name, e_name = labels
    g = np.where(valid, got, 0.0)
    e = np.where(valid, expected, 0.0)
    if not np.any(bad):
        return []
    if norm(g) == 0:
        return [
            Cause(
                "zeros",
                f"the {g_name} array is all zeros: it was never filled in, or the result was "
                "not returned / not accumulated",
            )
        ]
    if norm(e) == 0:
        return [
            Cause(
                "not-zero",
                f"the {e_name} values are all zero but the {g_name} ones are not: the function "
                "does not depend on this input here (wrong input, or a mask/derivative missing)",
            )
        ]
    c, err = best_factor(g, e)
    if err < FIT_TOLERANCE:
        causes = name_factor(c, batch_size, labels)
        if int(valid.sum()) == 1:  # one entry fits any factor: name only the usual suspects
            causes = [x for x in causes if x.code != "factor"]
        if causes:
            return causes
    if valid.all():
        causes = permutation_causes(got, expected, True, batch_size, labels)
        if causes:
            return causes
    if valid.all():
        causes = _wrong_axis_values(got, expected, reducibles or {}, labels)
        causes += _normalised_along(got, expected, labels)
        if causes:
            return causes
    causes = _inverted_mask(got, expected, valid, labels)
    causes = causes or _misplaced_mask(got, expected, bad, valid, labels)
    causes = causes or _indicator_only(got, expected, valid, labels)
    causes = causes or _reshaped_transpose(got, expected, valid, labels)
    if causes:
        return causes
    causes = _missing_sigmoid_derivative(got, expected, valid, labels)
    if causes:
        return causes
    causes = _missing_term(g, e, valid, candidates or {}, labels)
    causes += _partial_match(got, expected, bad, valid, candidates or {}, labels)
    if not causes:
        causes.append(
            Cause(
                "unexplained",
                f"no simple pattern (sign, constant factor, transpose, missing sum or term) "
                f"explains the difference: re-derive the formula and compare {g_name} with "
                f"{e_name} on the worst entries below",
            )
        )
    return causes


def _missing_sigmoid_derivative(
    got: np.ndarray, expected: np.ndarray, valid: np.ndarray, labels: tuple[str, str]
) -> list[Cause]:
    """expected / got varies from entry to entry but stays in (0, 1/4]: the range of the sigmoid's
    derivative s(1 - s), so that factor is missing (every entry needs its own factor)."""
    g_name, e_name = labels
    g, e = got[valid], expected[valid]
    scale = max(float(np.max(np.abs(g), initial=0.0)), 1e-300)
    live = np.abs(g) > 1e-9 * scale
    if live.sum() < 3 or np.any(np.abs(e[~live]) > 1e-9 * scale):
        return []
    ratio = e[live] / g[live]
    low, high = float(ratio.min()), float(ratio.max())
    if low <= 0 or high > 0.25 * (1 + 1e-6) or high - low < 1e-3 * high:
        return []
    return [
        Cause(
            "missing-sigmoid-derivative",
            f"a factor is missing, like the sigmoid's derivative sigma'(a) = sigma(a)(1 - "
            f"sigma(a)), which is never above 1/4: {e_name} / {g_name} differs from entry to "
            f"entry but stays between {fmt(low)} and {fmt(high)} (at most 1/4); check that every "
            "entry is multiplied by the derivative of the activation",
        )
    ]


def _misplaced_mask(
    got: np.ndarray,
    expected: np.ndarray,
    bad: np.ndarray,
    valid: np.ndarray,
    labels: tuple[str, str],
) -> list[Cause]:
    """Every wrong entry is zero on exactly one side, both ways round, and the rest agree: the
    same values pass through a mask that selects partly the wrong entries."""
    g_name, e_name = labels
    wrong = bad & valid
    g, e = got[wrong], expected[wrong]
    dropped = int(np.sum((g == 0) & (e != 0)))
    extra = int(np.sum((e == 0) & (g != 0)))
    if dropped == 0 or extra == 0 or dropped + extra != int(wrong.sum()):
        return []
    return [
        Cause(
            "misplaced-mask",
            f"the mask selects the wrong entries: {g_name} is 0 on {dropped} entries where "
            f"{e_name} is not, non-zero on {extra} where {e_name} is 0, and right everywhere "
            "else; build the mask from the right array (the forward input, not the upstream "
            "gradient or the output) with the right condition",
        )
    ]


def _indicator_only(
    got: np.ndarray, expected: np.ndarray, valid: np.ndarray, labels: tuple[str, str]
) -> list[Cause]:
    """got is one constant where expected is non-zero and 0 elsewhere: a bare mask."""
    g_name, e_name = labels
    g, e = got[valid], expected[valid]
    nonzero = np.abs(e) > 1e-9 * max(float(np.max(np.abs(e))), 1e-300)
    if nonzero.sum() < 2 or nonzero.all() or np.ptp(e[nonzero]) == 0:
        return []
    level = float(np.mean(g[nonzero]))
    if level != 0 and fit_error(g, np.where(nonzero, level, 0.0)) < FIT_TOLERANCE:
        return [
            Cause(
                "indicator",
                f"a factor is missing: only the mask (indicator) was returned, not multiplied by "
                f"the values it should select (e.g. the upstream gradient); {g_name} is "
                f"{fmt(level)} wherever {e_name} is non-zero and 0 elsewhere",
            )
        ]
    return []


def _reshaped_transpose(
    got: np.ndarray, expected: np.ndarray, valid: np.ndarray, labels: tuple[str, str]
) -> list[Cause]:
    """got holds the entries of expected.T in row order: .reshape used where .T was meant."""
    g_name, e_name = labels
    if got.ndim != 2 or min(got.shape) < 2 or not valid.all():
        return []
    reordered = expected.T.reshape(got.shape)
    if fit_error(reordered, expected) > FIT_TOLERANCE and fit_error(got, reordered) < FIT_TOLERANCE:
        return [
            Cause(
                "transposed",
                f"{g_name} holds the entries of {e_name}.T reshaped to {got.shape}: "
                ".reshape was used where a transpose (.T) was needed",
            )
        ]
    return []


def _inverted_mask(
    got: np.ndarray, expected: np.ndarray, valid: np.ndarray, labels: tuple[str, str]
) -> list[Cause]:
    """got is zero exactly where expected is not, and the other way round."""
    g_name, e_name = labels
    g, e = got[valid], expected[valid]
    zero_g = np.abs(g) <= 1e-12 * max(float(np.max(np.abs(g))), 1e-300)
    zero_e = np.abs(e) <= 1e-9 * max(float(np.max(np.abs(e))), 1e-300)
    if zero_g.any() and zero_e.any() and np.array_equal(zero_g, ~zero_e):
        return [
            Cause(
                "inverted-mask",
                f"{g_name} is zero exactly where {e_name} is not, and non-zero where {e_name} is "
                "zero: a mask or condition is inverted (> where < was meant, or the two branches "
                "swapped)",
            )
        ]
    return []


def _wrong_axis_values(
    got: np.ndarray, expected: np.ndarray, reducibles: Mapping[str, np.ndarray], labels
) -> list[Cause]:
    """got is a context array summed over one axis, expected the same array over another."""
    g_name, e_name = labels
    for name, array in reducibles.items():
        array = np.asarray(array, dtype=np.float64)
        sums = {k: array.sum(axis=k) for k in range(array.ndim)}
        got_axes = [
            k for k, v in sums.items() if v.shape == got.shape and fit_error(got, v) < FIT_TOLERANCE
        ]
        exp_axes = [
            k
            for k, v in sums.items()
            if v.shape == expected.shape and fit_error(expected, v) < FIT_TOLERANCE
        ]
        if got_axes and exp_axes and not set(got_axes) & set(exp_axes):
            return [
                Cause(
                    "wrong-axis",
                    f"{g_name} equals {name} summed over axis {got_axes[0]}, but {e_name} is "
                    f"{name} summed over axis {exp_axes[0]}: summed over the wrong axis",
                )
            ]
    return []


def _constant(values: np.ndarray) -> bool:
    spread = float(np.max(values) - np.min(values)) if values.size > 1 else 1.0
    return spread <= FIT_TOLERANCE * max(1.0, float(np.max(np.abs(values))))


def _normalised_along(got: np.ndarray, expected: np.ndarray, labels) -> list[Cause]:
    """got's sums are constant along one axis, expected's along the other (e.g. normalising)."""
    if got.ndim != 2 or min(got.shape) < 2:
        return []
    g_name, e_name = labels
    for axis, other in ((0, 1), (1, 0)):
        if (
            _constant(got.sum(axis=axis))
            and not _constant(got.sum(axis=other))
            and _constant(expected.sum(axis=other))
            and not _constant(expected.sum(axis=axis))
        ):
            value = fmt(float(expected.sum(axis=other)[0]))
            return [
                Cause(
                    "wrong-axis",
                    f"{e_name} sums to {value} along axis {other} (each "
                    f"{'row' if other else 'column'}), but {g_name} along axis {axis}: "
                    "normalised (or reduced) over the wrong axis; check axis= and keepdims=",
                )
            ]
    return []


def _missing_term(
    g: np.ndarray,
    e: np.ndarray,
    valid: np.ndarray,
    candidates: Mapping[str, np.ndarray],
    labels: tuple[str, str],
) -> list[Cause]:
    """The residual e - g looks like a simple term: a candidate array, a constant, a broadcast."""
    g_name, e_name = labels
    residual = e - g
    for name, term in candidates.items():
        term = np.asarray(term, dtype=np.float64)
        if term.shape != residual.shape or int(valid.sum()) < 2:  # one entry fits any term
            continue
        term = np.where(valid, term, 0.0)
        if norm(term) == 0:
            continue
        k, err = best_factor(residual, term)
        if err < FIT_TOLERANCE:
            if k > 0:
                what = f"misses a term {fmt(k)} x {name}"
            else:
                what = f"has an extra term {fmt(-k)} x {name}"
            return [
                Cause("missing-term", f"{g_name} {what} ({e_name} - {g_name} = {fmt(k)} x {name})")
            ]
    if valid.all() and residual.size > 2:  # two entries always share some pattern
        if fit_error(residual, np.full_like(residual, residual.mean())) < FIT_TOLERANCE:
            return [
                Cause(
                    "missing-term",
                    f"every entry of {g_name} is off by the same amount {fmt(residual.mean())} "
                    f"({e_name} - {g_name}): a constant term is missing",
                )
            ]
        if residual.ndim == 2:
            for axis, what in ((0, "row"), (1, "column")):
                if residual.shape[axis] < 2:
                    continue
                flat = np.broadcast_to(residual.mean(axis=axis, keepdims=True), residual.shape)
                if fit_error(residual, flat) < FIT_TOLERANCE:
                    return [
                        Cause(
                            "missing-term",
                            f"a term is missing (a bias?): the difference ({e_name} - {g_name}) is "
                            f"the same in every {what}, as a term broadcast along axis {axis} "
                            "would be",
                        )
                    ]
    return _resembling_term(residual, valid, candidates, labels)


def _resembling_term(
    residual: np.ndarray,
    valid: np.ndarray,
    candidates: Mapping[str, np.ndarray],
    labels: tuple[str, str],
) -> list[Cause]:
    """A looser fit: the residual is close to (correlation above ~0.99) a candidate term."""
    g_name, e_name = labels
    if valid.sum() < 8:
        return []
    for name, term in candidates.items():
        term = np.asarray(term, dtype=np.float64)
        if term.shape != residual.shape:
            continue
        term = np.where(valid, term, 0.0)
        if norm(term) == 0:
            continue
        k, err = best_factor(residual, term)
        if err < RESEMBLES:
            return [
                Cause(
                    "missing-term",
                    f"the difference {e_name} - {g_name} closely resembles {k:.2g} x {name}: "
                    "a term like it is probably missing (or has the wrong coefficient)",
                )
            ]
    return []


def _partial_match(
    got: np.ndarray,
    expected: np.ndarray,
    bad: np.ndarray,
    valid: np.ndarray,
    candidates: Mapping[str, np.ndarray],
    labels: tuple[str, str],
) -> list[Cause]:
    """Causes when only some entries are wrong: where they are and what they look like."""
    g_name, e_name = labels
    n_valid = int(valid.sum())
    n_bad = int(bad.sum())
    if n_bad == 0 or n_bad == n_valid:
        return []
    scale = float(np.max(np.abs(expected[valid])))
    informative = valid & ~bad & (np.abs(expected) > 1e-9 * scale)
    zeroed = bool(np.all(got[bad] == 0))  # got exactly 0 wherever it is wrong
    if informative.sum() < (3 if zeroed else max(2, 0.2 * n_valid)):
        # agreement on a few zeros or ones is a coincidence, not a pattern; three exact non-zero
        # matches with exact zeros everywhere else are not (e.g. only a Jacobian's diagonal term)
        return []
    where = ""
    if bad.ndim == 2:
        rows = np.flatnonzero(bad.any(axis=1))
        cols = np.flatnonzero(bad.any(axis=0))
        full_rows = np.all(bad[rows] | ~valid[rows])
        full_cols = np.all(bad[:, cols] | ~valid[:, cols])
        if full_rows and len(rows) < bad.shape[0] and bad.shape[1] > 1:
            word = "row" if len(rows) == 1 else "rows"
            where = f" (whole {word} {describe_indices(rows[:, None])})"
        elif full_cols and len(cols) < bad.shape[1] and bad.shape[0] > 1:
            word = "column" if len(cols) == 1 else "columns"
            where = f" (whole {word} {describe_indices(cols[:, None])})"
    if not where and bad.ndim >= 2 and bad.shape[-1] == bad.shape[-2] > 1:
        diagonal = np.broadcast_to(np.eye(bad.shape[-1], dtype=bool), bad.shape)
        if np.array_equal(bad[valid], diagonal[valid]):
            where = " (exactly the diagonal entries)"
        elif np.array_equal(bad[valid], ~diagonal[valid]):
            where = " (exactly the off-diagonal entries)"
    if not where and bad.ndim == 2 and bad.shape[1] > 2 and np.all((valid & ~bad).sum(axis=1) == 1):
        where = " (right on one entry per row only)"
    text = (
        f"{g_name} matches {e_name} on {n_valid - n_bad} of {n_valid} entries but not on the "
        f"other {n_bad}{where}: a term is missing (or extra) for part of the entries"
    )
    zero_got = bad & (got == 0)
    zero_expected = bad & (np.abs(expected) <= 1e-12 * max(1.0, float(np.max(np.abs(expected)))))
    if zero_got.sum() == n_bad:
        text += (
            f"; {g_name} is exactly 0 on all of them: a contribution (a path of the chain rule, "
            "a term of a sum) is left out there, or a mask switches off too many entries"
        )
    elif zero_expected.sum() == n_bad:
        text += (
            f"; {e_name} is 0 on all of them: the function is flat there, so a mask "
            "(where the input is switched off) is probably missing"
        )
    for name, term in candidates.items():
        term = np.asarray(term)
        if term.shape != bad.shape:
            continue
        for sign, cond in (
            ("< 0", term < 0),
            ("> 0", term > 0),
            ("<= 0", term <= 0),
            (">= 0", term >= 0),
        ):
            if np.array_equal(bad[valid], cond[valid]):
                text += f"; the wrong entries are exactly those where {name} {sign}"
                break
        else:
            continue
        break
    return [Cause("missing-term", text)]
