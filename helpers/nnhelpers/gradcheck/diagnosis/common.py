"""Name the likely cause when an array (a gradient or a forward value) differs from the truth.

Generic pattern recognition only: a sign, a constant factor, a transpose, a missing sum over an
axis, a missing term, zeros, NaN. No formula of the course lives here; the checker passes in
whatever arrays it has (the parameter, the upstream gradient) as candidates for a missing term.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

# A pattern "fits" when it explains the data to this relative precision.
FIT_TOLERANCE = 1e-4
# A ratio is named (2, 1/2, R, ...) when it is this close, relatively.
RATIO_TOLERANCE = 1e-3
# A residual "resembles" a term when it fits to this (a correlation above about 0.995).
RESEMBLES = 0.1
LN10 = float(np.log(10))


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


def norm(a: np.ndarray) -> float:
    return float(np.sqrt(np.sum(np.square(a)))) if a.size else 0.0


def fit_error(target: np.ndarray, model: np.ndarray) -> float:
    """Relative distance between target and model (0 = identical)."""
    scale = max(norm(target), norm(model))
    if scale == 0:
        return 0.0
    return norm(target - model) / scale


def best_factor(got: np.ndarray, ref: np.ndarray) -> tuple[float, float]:
    """Least-squares c with got ~ c*ref, and how well it fits (relative residual)."""
    denom = float(np.sum(ref * ref))
    if denom == 0:
        return float("nan"), float("inf")
    c = float(np.sum(got * ref)) / denom
    return c, fit_error(got, c * ref)


def close(value: float, target: float) -> bool:
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
    if close(magnitude, 1):
        return causes
    R = batch_size
    if R and R > 1 and close(magnitude, R):
        causes.insert(
            0,
            Cause(
                "factor-R",
                f"{got} is R = {R} times too large ({fmt(c)} x {ref}): R is the batch size, so the "
                "division by R (mean over the batch) is missing, or a sum was used where the loss "
                "averages",
            ),
        )
    elif R and R > 1 and close(magnitude, 1 / R):
        causes.insert(
            0,
            Cause(
                "factor-1/R",
                f"{got} is R = {R} times too small ({fmt(c)} x {ref}): R is the batch size, so it "
                "was divided by R once too often (a mean where the loss sums, or the 1/R applied "
                "twice)",
            ),
        )
    elif close(magnitude, 2):
        causes.insert(
            0,
            Cause(
                "factor-2",
                f"{got} is 2 times too large ({fmt(c)} x {ref}): a factor 2 too many (the 1/2 in "
                "front of a square cancels the 2 of its derivative, or a factor applied twice)",
            ),
        )
    elif close(magnitude, 0.5):
        causes.insert(
            0,
            Cause(
                "factor-1/2",
                f"{got} is half of {ref} ({fmt(c)} x): a factor 2 is missing (the derivative of "
                "a square, or a term that appears twice counted once)",
            ),
        )
    elif close(magnitude, LN10) or close(magnitude, 1 / LN10):
        causes.insert(
            0,
            Cause(
                "factor-log10",
                f"the logarithm has the wrong base: {got} is {fmt(c)} x {ref}, and ln 10 = 2.303 "
                "(np.log10 where the natural log np.log was meant, or the other way round)",
            ),
        )
    else:
        causes.insert(0, Cause("factor", _other_factor_text(c, batch_size, labels)))
    return causes


def _other_factor_text(c: float, batch_size: int | None, labels: tuple[str, str]) -> str:
    """A constant ratio with no usual suspect; a size of the problem is suggested only when the
    batch size is unknown (a known R was already ruled out, and R = 1 explains nothing)."""
    got, _ = labels
    magnitude = abs(c)
    hint = ""
    whole, inverse = round(magnitude), round(1 / magnitude)
    if whole >= 2 and close(magnitude, whole):
        near = f"about {whole}"
        size = whole
    elif inverse >= 2 and close(magnitude, 1 / inverse):
        near = f"about 1/{inverse}"
        size = inverse
    else:
        near = size = None
    if near and batch_size is None:
        hint = f" ({near}: is {size} a size in your problem, such as the batch size?)"
    elif near:
        hint = f" ({near})"
    return (
        f"every entry of {got} is off by the same factor {fmt(c)}{hint}: a constant (a scale, "
        "1/N, a step size) is missing or extra"
    )


def _describe_permutation(perm: tuple[int, ...], ndim: int) -> str:
    if ndim == 2:
        return "rows and columns swapped, .T"
    swapped = [i for i in range(ndim) if perm[i] != i]
    if len(swapped) == 2:
        return f"axes {swapped[0]} and {swapped[1]} swapped"
    return f"np.transpose(..., {perm})"


def permutation_causes(
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


def describe_indices(indices: np.ndarray, limit: int = 6) -> str:
    shown = [
        str(tuple(int(i) for i in idx)) if len(idx) != 1 else str(int(idx[0]))
        for idx in indices[:limit]
    ]
    more = f" and {len(indices) - limit} more" if len(indices) > limit else ""
    return ", ".join(shown) + more


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
        imaginary = np.abs(got.imag)
        if not (imaginary == 0).all():  # NaN counts as nonzero
            # Only the real part would be compared: a complex answer must not pass through it.
            largest = float(imaginary.max()) if not np.isnan(imaginary).any() else float("nan")
            return [
                Cause(
                    "dtype",
                    f"{g_name} is complex ({got.dtype}) with a nonzero imaginary part (up to "
                    f"{fmt(largest)}); expected real numbers (a square root or a log of a "
                    "negative number?)",
                )
            ], []
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
            where = describe_indices(np.argwhere(nan | inf))
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
