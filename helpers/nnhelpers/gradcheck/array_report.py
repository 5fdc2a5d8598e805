"""Build the per-array report: compare got with the truth, count, rank and diagnose.

Shared by the gradient checks (truth = numerical gradient) and compare (truth = expected).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from nnhelpers.gradcheck.diagnosis.common import (
    Cause,
    diagnose_dtype,
    diagnose_nonfinite,
    fit_error,
)
from nnhelpers.gradcheck.diagnosis.shape import diagnose_shape
from nnhelpers.gradcheck.diagnosis.values import diagnose_values
from nnhelpers.gradcheck.report import ArrayReport, WorstEntry

N_WORST = 5


def entry_tolerance(got: np.ndarray, ref: np.ndarray, tol: float, floor: float) -> np.ndarray:
    """Per-entry allowed difference for a gradient: tol relative to the entry or the array."""
    scale = max(float(np.max(np.abs(got), initial=0.0)), float(np.max(np.abs(ref), initial=0.0)))
    return tol * np.maximum(np.maximum(np.abs(got), np.abs(ref)), 0.1 * scale) + floor


def entries(n: int) -> str:
    return f"{n} entry" if n == 1 else f"{n} entries"


def _worst(got: np.ndarray, ref: np.ndarray, mask: np.ndarray) -> list[WorstEntry]:
    diff = np.where(mask, np.abs(got - ref), -1.0)
    diff = np.where(np.isnan(diff), np.inf, diff)
    order = np.argsort(-diff.reshape(-1), kind="stable")[:N_WORST]
    out = []
    for flat in order:
        if diff.flat[flat] <= 0:
            break
        idx = tuple(int(i) for i in np.unravel_index(flat, got.shape))
        out.append(WorstEntry(idx, float(got.flat[flat]), float(ref.flat[flat])))
    return out


def _to_array(value: Any, name: str) -> tuple[np.ndarray | None, Cause | None]:
    """The analytic value as an array, or the cause why it is not one."""
    if value is None:
        return None, Cause(
            "none", f"{name} is None: the function did not return it (missing return?)"
        )
    if isinstance(value, tuple) and len(value) != 0 and not np.isscalar(value[0]):
        return None, Cause(
            "shape", f"{name} is a tuple of {len(value)} items, expected one array: unpack it"
        )
    try:
        arr = np.asarray(value)
    except (ValueError, TypeError):
        return None, Cause(
            "dtype",
            f"{name} cannot be made into an array ({type(value).__name__}): rows of different "
            "lengths, or arrays of different shapes in one list?",
        )
    return arr, None


def build_report(
    name: str,
    value: Any,
    truth: np.ndarray,
    *,
    valid: np.ndarray,
    labels: tuple[str, str],
    expected_dtype: np.dtype,
    bad_fn: Callable[[np.ndarray, np.ndarray], np.ndarray],
    rel_floor: float,
    judge: Callable[[ArrayReport], str],
    batch_size: int | None,
    candidates: Mapping[str, np.ndarray],
    context_shapes: Mapping[str, tuple[int, ...]],
    reducibles: Mapping[str, np.ndarray] | None = None,
    same_nonfinite_agree: bool = False,
    n_skipped: int | None = None,
) -> ArrayReport:
    """Compare one analytic (got) array with its truth and diagnose the difference.

    Only entries marked `valid` are compared; n_skipped (default: the others) are kinks.
    """
    report = ArrayReport(name, "error", truth.shape, None, n_entries=truth.size, labels=labels)
    report.n_skipped = int((~valid).sum()) if n_skipped is None else n_skipped
    arr, problem = _to_array(value, f"{name} ({labels[0]})")
    if problem:
        report.causes.append(problem)
        return report
    report.got_shape = arr.shape
    causes, notes = diagnose_dtype(arr, expected_dtype, labels)
    report.notes += notes
    if causes:
        report.causes += causes
        return report
    got = arr.astype(np.float64) if arr.dtype.kind != "c" else arr.real.astype(np.float64)
    if got.shape != truth.shape and got.size == truth.size == 1:
        report.notes.append(f"shape {got.shape} accepted for {truth.shape} (a single number)")
        got = got.reshape(truth.shape)
    if got.shape != truth.shape:
        report.causes += diagnose_shape(
            got, truth, batch_size=batch_size, context_shapes=context_shapes, labels=labels
        )
        return report
    nonfinite = ~np.isfinite(got) | ~np.isfinite(truth)
    if same_nonfinite_agree:  # NaN where the reference has NaN (inf where inf) is right
        with np.errstate(invalid="ignore"):
            same = (np.isnan(got) & np.isnan(truth)) | (np.isinf(truth) & (got == truth))
        valid = valid & ~same
    mask = valid & ~nonfinite
    report.n_compared = int(valid.sum())
    report.n_nonfinite = int((valid & nonfinite).sum())
    diff = np.abs(got - truth)
    bad = mask & (diff > bad_fn(got, truth)) | (valid & nonfinite)
    report.n_off = int(bad.sum())
    report.worst = _worst(got, truth, bad if bad.any() else valid & ~nonfinite)
    if mask.any():
        report.max_abs_diff = float(diff[mask].max())
        denom = np.maximum(np.abs(truth[mask]), np.abs(got[mask]))
        with np.errstate(divide="ignore", invalid="ignore"):
            rel = np.where(denom > 0, diff[mask] / np.where(denom > 0, denom, 1), 0.0)
        report.max_rel_diff = float(rel.max())
        g, t = got[mask], truth[mask]
        scale = max(float(np.linalg.norm(g)), float(np.linalg.norm(t)), rel_floor)
        report.rel_error = float(np.linalg.norm(g - t)) / scale if scale > 0 else 0.0
    if (valid & nonfinite).any():
        report.rel_error = float("nan")
        report.causes += diagnose_nonfinite(
            np.where(valid, got, 0), np.where(valid, truth, 0), labels
        )
        report.status = "wrong"
        return report
    if truth.size == 0:
        report.status = "good"
        return report
    if not valid.any():
        report.status = "skipped"
        report.notes.append("every entry lies next to a kink: nothing could be compared")
        return report
    report.status = judge(report)
    if report.status in ("fail", "wrong"):
        report.causes += diagnose_values(
            got,
            truth,
            bad,
            valid,
            batch_size=batch_size,
            candidates=candidates,
            reducibles=reducibles,
            labels=labels,
        )
        if arr.dtype.kind in "iub" and report.status in ("fail", "wrong"):
            report.causes.insert(
                0,
                Cause(
                    "dtype",
                    f"{labels[0]} has integer dtype {arr.dtype}: the values were rounded or "
                    "truncated to whole numbers (create the array with dtype=float)",
                ),
            )
    return report


def mark_swaps(
    reports: dict[str, ArrayReport], values: Mapping[str, Any], truths: Mapping[str, np.ndarray]
) -> None:
    """Add a 'swapped' cause when a wrong gradient matches another parameter's gradient."""
    for key, report in reports.items():
        if report.ok or key not in values:
            continue
        got = np.asarray(values[key]) if values[key] is not None else None
        if got is not None and got.dtype.kind not in "fiub":  # complex, strings: no swap
            continue
        got = got.astype(np.float64) if got is not None else None
        for other, truth in truths.items():
            if (
                other == key
                or got is None
                or got.shape != truth.shape
                or not np.isfinite(got).all()
            ):
                continue
            if np.linalg.norm(truth) > 0 and fit_error(got, truth) < 1e-4:
                report.causes.insert(
                    0,
                    Cause(
                        "swapped",
                        f"the gradient given for {key} is the gradient of {other}: swapped or "
                        "returned in the wrong order",
                    ),
                )
                break
        else:
            if got is not None and np.isfinite(got).all():
                _mark_slice_of_other(report, key, got, truths)


def _slices(truth: np.ndarray) -> list[tuple[str, np.ndarray]]:
    """(index text, values) of every row, column (any axis) and entry of a gradient."""
    out = []
    if truth.ndim >= 2:
        for axis in range(truth.ndim):
            for j in range(truth.shape[axis]):
                index = ", ".join(str(j) if a == axis else ":" for a in range(truth.ndim))
                out.append((f"[{index}]", np.take(truth, j, axis=axis)))
    out += [(f"[{', '.join(map(str, i))}]", truth[i]) for i in np.ndindex(truth.shape)]
    return out


def _mark_slice_of_other(
    report: ArrayReport, key: str, got: np.ndarray, truths: Mapping[str, np.ndarray]
) -> None:
    """A wrong gradient equal to one row, column or entry of another parameter's gradient got
    that parameter's input factor (e.g. a bias gradient multiplied by an input: a bias's input is
    the constant 1). Named only when no other cause was found, and never for all-zero values."""
    if norm_of(got) == 0 or any(c.code != "unexplained" for c in report.causes):
        return
    for other, truth in truths.items():
        if other == key or truth.size <= got.size:
            continue
        for index, part in _slices(np.asarray(truth, dtype=np.float64)):
            part = np.atleast_1d(part)
            if part.size != got.size or norm_of(part) == 0:
                continue
            if np.squeeze(part).shape != np.squeeze(got).shape:
                continue
            if fit_error(got.ravel(), part.ravel()) < 1e-6:
                report.causes[:] = [
                    Cause(
                        "wrong-input",
                        f"the gradient given for {key} is the gradient of {other}{index}: it was "
                        f"multiplied by the wrong input, the one {other}{index} multiplies (a "
                        f"bias's input is the constant 1, so its gradient has no input factor)",
                    )
                ]
                return


def norm_of(values: np.ndarray) -> float:
    """Euclidean norm of any array (0 for an empty one)."""
    return float(np.linalg.norm(np.ravel(values))) if np.size(values) else 0.0
