"""Name the likely cause when an array (a gradient or a forward value) differs from the truth.

Generic pattern recognition only: a sign, a constant factor, a transpose, a missing sum over an
axis, a missing term, zeros, NaN. No formula of the course lives here; the checker passes in
whatever arrays it has (the parameter, the upstream gradient) as candidates for a missing term.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

# A pattern "fits" when it explains the data to this relative precision.
FIT_TOLERANCE = 1e-4
# A ratio is named (2, 1/2, R, ...) when it is this close, relatively.
RATIO_TOLERANCE = 1e-3
# A residual "resembles" a term when it fits to this (a correlation above about 0.995).
RESEMBLES = 0.1


@dataclass(frozen=True)
class Cause:
    """One named likely cause: a short machine-readable code and a sentence for the student."""

    code: str
    text: str


def fmt(value: float) -> str:
    """A number as a student reads it: 4 significant digits, no noise."""
    value = float(value)
    if value == 0:
        return "0"
    if np.isnan(value) or np.isinf(value):
        return str(value)
    return f"{value:.4g}"


def _norm(a: np.ndarray) -> float:
    return float(np.sqrt(np.sum(np.square(a)))) if a.size else 0.0


def fit_error(target: np.ndarray, model: np.ndarray) -> float:
    """Relative distance between target and model (0 = identical)."""
    scale = max(_norm(target), _norm(model))
    if scale == 0:
        return 0.0
    return _norm(target - model) / scale


def best_factor(got: np.ndarray, ref: np.ndarray) -> tuple[float, float]:
    """Least-squares c with got ~ c*ref, and how well it fits (relative residual)."""
    denom = float(np.sum(ref * ref))
    if denom == 0:
        return float("nan"), float("inf")
    c = float(np.sum(got * ref)) / denom
    return c, fit_error(got, c * ref)


def _close(value: float, target: float) -> bool:
    return abs(value - target) <= RATIO_TOLERANCE * abs(target)


def name_factor(c: float, batch_size: int | None, labels: tuple[str, str]) -> list[Cause]:
    """Causes for got = c * expected (c != 1), most specific first."""
    got, ref = labels
    causes = []
    magnitude = abs(c)
    if c < 0:
        causes.append(
            Cause(
                "sign",
                f"sign flipped: the {got} values have the opposite sign of the {ref} ones "
                "(a minus sign lost or added, or a difference taken the wrong way round)",
            )
        )
    if _close(magnitude, 1):
        return causes
    R = batch_size
    if R and R > 1 and _close(magnitude, R):
        causes.insert(
            0,
            Cause(
                "factor-R",
                f"{got} is R = {R} times too large ({fmt(c)} x {ref}): R is the batch size, so the "
                "division by R (mean over the batch) is missing, or a sum was used where the loss "
                "averages",
            ),
        )
    elif R and R > 1 and _close(magnitude, 1 / R):
        causes.insert(
            0,
            Cause(
                "factor-1/R",
                f"{got} is R = {R} times too small ({fmt(c)} x {ref}): R is the batch size, so it "
                "was divided by R once too often (a mean where the loss sums, or the 1/R applied "
                "twice)",
            ),
        )
    elif _close(magnitude, 2):
        causes.insert(
            0,
            Cause(
                "factor-2",
                f"{got} is 2 times too large ({fmt(c)} x {ref}): a factor 2 too many (the 1/2 in "
                "front of a square cancels the 2 of its derivative, or a factor applied twice)",
            ),
        )
    elif _close(magnitude, 0.5):
        causes.insert(
            0,
            Cause(
                "factor-1/2",
                f"{got} is half of {ref} ({fmt(c)} x): a factor 2 is missing (the derivative of "
                "a square, or a term that appears twice counted once)",
            ),
        )
    else:
        hint = ""
        whole = round(magnitude)
        inverse = round(1 / magnitude)
        if whole >= 2 and _close(magnitude, whole):
            hint = f" (about {whole}: is {whole} a size in your problem, such as the batch size?)"
        elif inverse >= 2 and _close(magnitude, 1 / inverse):
            hint = (
                f" (about 1/{inverse}: is {inverse} a size in your problem, such as the batch "
                "size?)"
            )
        causes.insert(
            0,
            Cause(
                "factor",
                f"every entry of {got} is off by the same factor {fmt(c)}{hint}: a constant (a "
                "scale, 1/N, a step size) is missing or extra",
            ),
        )
    return causes


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
    if _norm(g) == 0:
        return [
            Cause(
                "zeros",
                f"the {g_name} array is all zeros: it was never filled in, or the result was "
                "not returned / not accumulated",
            )
        ]
    if _norm(e) == 0:
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
        causes = _permutation_causes(got, expected, True, batch_size, labels)
        if causes:
            return causes
    if valid.all():
        causes = _wrong_axis_values(got, expected, reducibles or {}, labels)
        causes += _normalised_along(got, expected, labels)
        if causes:
            return causes
    causes = _inverted_mask(got, expected, valid, labels)
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


def _describe_permutation(perm: tuple[int, ...], ndim: int) -> str:
    if ndim == 2:
        return "rows and columns swapped, .T"
    swapped = [i for i in range(ndim) if perm[i] != i]
    if len(swapped) == 2:
        return f"axes {swapped[0]} and {swapped[1]} swapped"
    return f"np.transpose(..., {perm})"


def _permutation_causes(
    got: np.ndarray,
    expected: np.ndarray,
    finite: bool,
    batch_size: int | None,
    labels: tuple[str, str],
) -> list[Cause]:
    """got is expected with its axes permuted (a transpose), possibly times a constant."""
    g_name, e_name = labels
    if not 2 <= got.ndim <= 4 or got.ndim != expected.ndim or got.size < 2:
        return []
    same_shape = got.shape == expected.shape
    perms = [p for p in itertools.permutations(range(got.ndim)) if p != tuple(range(got.ndim))]
    shaped = [p for p in perms if tuple(got.shape[i] for i in p) == expected.shape]
    for perm in shaped:
        moved = np.transpose(got, perm)
        if same_shape and fit_error(np.transpose(expected, perm), expected) < FIT_TOLERANCE:
            continue  # expected is unchanged by this permutation: it cannot be told apart
        if finite:
            c, err = best_factor(moved, expected)
            if err < FIT_TOLERANCE:
                how = _describe_permutation(perm, got.ndim)
                text = f"{g_name} is {e_name} transposed ({how})"
                if not same_shape:
                    text = f"{g_name} has shape {got.shape} instead of {expected.shape}; " + text
                return [Cause("transposed", text)] + name_factor(c, batch_size, labels)
    if shaped and not same_shape:
        how = _describe_permutation(shaped[0], got.ndim)
        return [
            Cause(
                "transposed",
                f"{g_name} has shape {got.shape}, the expected {expected.shape} transposed "
                f"({how}): a transposed matrix, or the factors of a matrix product in the wrong "
                "order (values differ as well)",
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
        if term.shape != residual.shape:
            continue
        term = np.where(valid, term, 0.0)
        if _norm(term) == 0:
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
    if valid.all() and residual.size > 1:
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
                            f"the difference ({e_name} - {g_name}) is the same in every {what}: "
                            f"a term broadcast along axis {axis} is missing",
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
        if _norm(term) == 0:
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


def _describe_indices(indices: np.ndarray, limit: int = 6) -> str:
    shown = [
        str(tuple(int(i) for i in idx)) if len(idx) != 1 else str(int(idx[0]))
        for idx in indices[:limit]
    ]
    more = f" and {len(indices) - limit} more" if len(indices) > limit else ""
    return ", ".join(shown) + more


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
    if informative.sum() < max(2, 0.2 * n_valid):
        return []  # agreement on a few zeros or ones is a coincidence, not a pattern
    where = ""
    if bad.ndim == 2:
        rows = np.flatnonzero(bad.any(axis=1))
        cols = np.flatnonzero(bad.any(axis=0))
        full_rows = np.all(bad[rows] | ~valid[rows])
        full_cols = np.all(bad[:, cols] | ~valid[:, cols])
        if full_rows and len(rows) < bad.shape[0]:
            where = f" (whole rows {_describe_indices(rows[:, None])})"
        elif full_cols and len(cols) < bad.shape[1]:
            where = f" (whole columns {_describe_indices(cols[:, None])})"
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


def _reduction_fits(got: np.ndarray, expected: np.ndarray) -> list[tuple[int, str, float]]:
    """Axes k where got reduced over k (sum or mean) has expected's shape, and the fit error."""
    fits = []
    for axis in range(got.ndim):
        for how in ("sum", "mean"):
            reduced = getattr(got, how)(axis=axis)
            if reduced.shape == expected.shape:
                fits.append((axis, how, fit_error(reduced, expected)))
            elif (
                reduced.size == expected.size
                and np.squeeze(reduced).shape == np.squeeze(expected).shape
            ):
                fits.append((axis, how, fit_error(reduced.reshape(expected.shape), expected)))
    return fits


def diagnose_shape(
    got: np.ndarray,
    expected: np.ndarray,
    *,
    batch_size: int | None = None,
    context_shapes: Mapping[str, tuple[int, ...]] | None = None,
    labels: tuple[str, str] = ("analytic", "numerical"),
) -> list[Cause]:
    """Causes for a got array whose shape differs from expected's, tested on the values too."""
    g_name, e_name = labels
    gs, es = got.shape, expected.shape
    finite = np.all(np.isfinite(got)) and np.all(np.isfinite(expected))
    batch = f" (the batch size R = {batch_size})" if batch_size else ""
    if got.ndim == 0 and expected.size > 1:
        note = ""
        if finite and _close(float(got), float(expected.sum())) and expected.sum() != 0:
            note = f"; it equals the sum of all {e_name} entries"
        return [
            Cause(
                "shape",
                f"{g_name} is a single number, expected an array of shape {es}{note}: "
                "everything was summed (a sum without axis=?)",
            )
        ]
    if (
        got.ndim == 2
        and gs[0] == gs[1] == expected.size
        and expected.size > 1
        and np.squeeze(expected).ndim == 1
    ):
        diagonal = finite and fit_error(np.diag(got), expected.reshape(-1)) < FIT_TOLERANCE
        detail = "; its diagonal holds the right values" if diagonal else ""
        return [
            Cause(
                "broadcast",
                f"{g_name} has shape {gs}, expected {es}: an array of shape ({gs[0]},) was "
                f"combined with one of shape ({gs[0]}, 1) and broadcast to a square{detail}; make "
                "the shapes agree (keepdims=True, or reshape)",
            )
        ]
    permuted = _permutation_causes(got, expected, finite, batch_size, labels)
    if permuted:
        return permuted
    if got.size == expected.size:
        squeezed = np.squeeze(got).shape == np.squeeze(expected).shape
        matches = finite and fit_error(got.reshape(es), expected) < FIT_TOLERANCE
        what = "an extra or missing axis of length 1 (keepdims?)" if squeezed else "a reshape"
        detail = "the values match once reshaped" if matches else "the values differ as well"
        return [
            Cause(
                "shape",
                f"{g_name} has shape {gs} instead of {es}: same number of entries, {what}; "
                f"{detail}",
            )
        ]
    if got.ndim > expected.ndim or got.size > expected.size:
        fits = _reduction_fits(got, expected) if finite else []
        for axis, how, err in fits:
            if err < FIT_TOLERANCE:
                verb = "summing" if how == "sum" else "averaging"
                return [
                    Cause(
                        "missing-sum",
                        f"{g_name} has shape {gs} but should have {es}: it still has axis {axis} "
                        f"(length {gs[axis]}){batch if gs[axis] == batch_size else ''}; "
                        f"{verb} it over axis {axis} gives the right values. The sum over the "
                        "batch (examples) is missing",
                    )
                ]
        if fits:
            axes = sorted({a for a, _, _ in fits})
            return [
                Cause(
                    "missing-sum",
                    f"{g_name} has shape {gs} but should have {es}: a sum over axis "
                    f"{' or '.join(map(str, axes))} would give the right shape (values still "
                    "differ): is the sum over the batch missing?",
                )
            ]
    wrong_axis = _wrong_axis(gs, es, context_shapes or {})
    if wrong_axis:
        return [Cause("wrong-axis", f"{g_name} has shape {gs} instead of {es}: {wrong_axis}")]
    if expected.ndim > got.ndim:
        for axis in range(expected.ndim):
            if expected.sum(axis=axis).shape == gs:
                good = finite and fit_error(got, expected.sum(axis=axis)) < FIT_TOLERANCE
                detail = " (it equals that sum)" if good else ""
                return [
                    Cause(
                        "wrong-axis",
                        f"{g_name} has shape {gs} instead of {es}: axis {axis} was summed away"
                        f"{detail}; the result should keep it",
                    )
                ]
    return [Cause("shape", f"{g_name} has shape {gs} but {e_name} has shape {es}")]


def _wrong_axis(
    gs: tuple[int, ...], es: tuple[int, ...], context: Mapping[str, tuple[int, ...]]
) -> str:
    """A sentence if some context array reduced over one axis gives gs and over another es."""
    for name, shape in context.items():
        reduced = {}
        for axis in range(len(shape)):
            reduced.setdefault(shape[:axis] + shape[axis + 1 :], axis)
        if gs in reduced and es in reduced and reduced[gs] != reduced[es]:
            return (
                f"{name} (shape {shape}) reduced over axis {reduced[gs]} has this shape, but the "
                f"right result reduces over axis {reduced[es]}: summed over the wrong axis"
            )
    return ""


def diagnose_dtype(
    got: np.ndarray, expected_dtype: np.dtype, labels: Sequence[str]
) -> tuple[list[Cause], list[str]]:
    """(failing causes, notes) for a dtype that differs from what is expected."""
    g_name = labels[0]
    if got.dtype == object or got.dtype.kind in "USV":
        return [
            Cause(
                "dtype",
                f"{g_name} has dtype {got.dtype}, not numbers: a list of arrays of different "
                "shapes, or strings",
            )
        ], []
    if got.dtype.kind in "iub" and expected_dtype.kind == "f":
        return [], [
            f"{g_name} has integer dtype {got.dtype} where floats ({expected_dtype}) are "
            "expected: values are rounded or truncated (np.zeros_like of an integer array? "
            "integer division //?)"
        ]
    if got.dtype.kind == "c":
        return [], [f"{g_name} is complex ({got.dtype}); expected real numbers"]
    if got.dtype.kind == "f" and expected_dtype.kind == "f" and got.dtype != expected_dtype:
        return [], [
            f"{g_name} has dtype {got.dtype}, expected {expected_dtype} "
            f"(precision of {got.dtype}: about {fmt(float(np.finfo(got.dtype).eps))})"
        ]
    return [], []


def diagnose_nonfinite(
    got: np.ndarray, expected: np.ndarray, labels: tuple[str, str]
) -> list[Cause]:
    """Causes for NaN/inf in got (where expected is finite) or in expected."""
    g_name, e_name = labels
    causes = []
    for arr, name, code in ((got, g_name, "nan"), (expected, e_name, "nan-expected")):
        nan = np.isnan(arr)
        inf = np.isinf(arr)
        if nan.any() or inf.any():
            where = _describe_indices(np.argwhere(nan | inf))
            if code == "nan":
                origin = "typically log(0), 0/0, or overflow in exp"
            elif name == "numerical":
                origin = "the function itself gave NaN/inf when the input was nudged"
            else:
                origin = "the reference values are not finite"
            causes.append(
                Cause(
                    code,
                    f"{name} contains {int(nan.sum())} NaN and {int(inf.sum())} inf entries "
                    f"(at {where}): {origin}",
                )
            )
    return causes
