"""Numerical gradient checking with readable diagnostics.

`numerical_gradient` estimates a gradient by central differences; `check_gradient` and
`check_vjp` compare an analytic gradient (or a backward function's output) with it and name the
likely cause of a mismatch; `compare` does the same for forward values. Everything is generic:
the caller passes the functions, nothing here knows a course formula.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from ._diagnosis import (
    Cause,
    diagnose_dtype,
    diagnose_nonfinite,
    diagnose_shape,
    diagnose_values,
    fit_error,
)
from ._gradcheck_report import (
    GOOD,
    WRONG,
    ArrayReport,
    ComparisonResult,
    GradCheckResult,
    GradientCheckError,
    WorstEntry,
    status_for,
)

__all__ = [
    "numerical_gradient",
    "check_gradient",
    "check_vjp",
    "compare",
    "GradCheckResult",
    "ComparisonResult",
    "ArrayReport",
    "WorstEntry",
    "GradientCheckError",
    "GOOD",
    "WRONG",
]

N_WORST = 5
MACHINE_EPS = float(np.finfo(np.float64).eps)
# An entry is a kink candidate when its one-sided slopes differ by more than this, relatively.
KINK_SUSPECT = 1e-4


def _as_loss(value: Any) -> float:
    """The scalar a loss function returned, or a TypeError saying what came back instead."""
    if isinstance(value, tuple):
        raise TypeError(
            f"the function returned a tuple of {len(value)} items; it must return only the loss "
            "(a single number). Wrap it, e.g. lambda **p: f(**p)[0]"
        )
    arr = np.asarray(value, dtype=np.float64)
    if arr.size != 1:
        raise TypeError(
            f"the function returned an array of shape {arr.shape}; it must return one number "
            "(the loss). To check a function with an array output use check_vjp"
        )
    return float(arr.reshape(()))


def numerical_gradient(f: Callable[[np.ndarray], Any], x: Any, *, eps: float = 1e-6) -> np.ndarray:
    """Central-difference gradient of a scalar f(x) with respect to the array x (float64).

    Each entry is (f(x + eps e_i) - f(x - eps e_i)) / (2 eps); x itself is never modified.
    """
    base = np.array(x, dtype=np.float64, copy=True)
    grad = np.empty_like(base)
    for i in range(base.size):
        plus, minus, step = _nudged(base, i, eps)
        grad.flat[i] = (_as_loss(f(plus)) - _as_loss(f(minus))) / step
    return grad


def _nudged(base: np.ndarray, i: int, eps: float) -> tuple[np.ndarray, np.ndarray, float]:
    """Copies of base with entry i moved by +eps and -eps, and the exact distance between them."""
    plus = base.copy()
    minus = base.copy()
    plus.flat[i] += eps
    minus.flat[i] -= eps
    return plus, minus, float(plus.flat[i] - minus.flat[i])


class _Loss:
    """Calls f(**params) on private copies, so the caller's arrays are never touched."""

    def __init__(self, f: Callable[..., Any], params: Mapping[str, Any], checked: list[str]):
        self.f = f
        self.originals = params
        self.args: dict[str, Any] = {}
        for key, value in params.items():
            if key in checked:
                self.args[key] = np.array(value, dtype=np.float64, copy=True)
            elif isinstance(value, np.ndarray):
                self.args[key] = value.copy()
            else:
                self.args[key] = value
        self.calls = 0
        self.low_precision = ""

    def __call__(self, **replaced: np.ndarray) -> float:
        self.calls += 1
        value = self.f(**{**self.args, **replaced})
        dtype = getattr(value, "dtype", None)
        if dtype is not None and dtype.kind == "f" and dtype.itemsize < 8:
            self.low_precision = str(dtype)
        return _as_loss(value)

    def mutated_inputs(self) -> list[str]:
        """Names of inputs the function changed in place (those make the check unreliable)."""
        changed = []
        for key, value in self.originals.items():
            mine = self.args[key]
            if isinstance(mine, np.ndarray):
                ref = np.asarray(value, dtype=mine.dtype)
                if mine.shape != ref.shape or not np.array_equal(mine, ref, equal_nan=True):
                    changed.append(key)
        return changed


class _Probe:
    """Central differences of one parameter, with the one-sided slopes that reveal kinks."""

    def __init__(self, loss: _Loss, key: str, eps: float, f0: float):
        self.loss, self.key, self.eps, self.f0 = loss, key, eps, f0
        self.base = loss.args[key]
        n = self.base.size
        self.central = np.empty(self.base.shape)
        self.kink = np.zeros(self.base.shape, dtype=bool)
        self.noise = 0.0
        curvature = np.empty(n)
        for i in range(n):
            fp, fm, step = self._pair(i, eps)
            self.central.flat[i] = (fp - fm) / step
            curvature[i] = abs(fp - 2 * f0 + fm) / (step / 2)
            self.noise = max(self.noise, 8 * MACHINE_EPS * max(abs(fp), abs(fm), abs(f0)) / eps)
        self._resolve_kinks(curvature)

    def _pair(self, i: int, eps: float) -> tuple[float, float, float]:
        plus, minus, step = _nudged(self.base, i, eps)
        return self.loss(**{self.key: plus}), self.loss(**{self.key: minus}), step

    def _resolve_kinks(self, curvature: np.ndarray) -> None:
        """Re-measure entries whose one-sided slopes disagree, with smaller and smaller steps.

        Smooth curvature shrinks with the step; a kink inside the stencil does not. A kink that
        leaves the stencil as the step shrinks is resolved: the smaller step's slope is used.
        """
        central = self.central.reshape(-1)
        finite = np.isfinite(central)
        scale = float(np.max(np.abs(central[finite]))) if finite.any() else 0.0
        for i in np.flatnonzero(finite):
            jump = curvature[i]
            if not jump > KINK_SUSPECT * max(abs(central[i]), 1e-2 * scale) + 2 * self.noise:
                continue
            eps, previous, verdict = self.eps, jump, "kink"
            before = central[i]
            for _ in range(3):
                eps /= 4
                fp, fm, step = self._pair(i, eps)
                now = abs(fp - 2 * self.f0 + fm) / (step / 2)
                slope = (fp - fm) / step
                if now < 0.05 * jump + 2 * self.noise * self.eps / eps:
                    central[i] = slope
                    verdict = "resolved"
                    break
                if now < 0.4 * previous and abs(slope - before) < 0.01 * previous:
                    verdict = "smooth"
                    break
                previous, before = now, slope
            if verdict == "kink":
                self.kink.flat[i] = True


def _entry_tolerance(got: np.ndarray, ref: np.ndarray, tol: float, floor: float) -> np.ndarray:
    """Per-entry allowed difference for a gradient: tol relative to the entry or the array."""
    scale = max(float(np.max(np.abs(got), initial=0.0)), float(np.max(np.abs(ref), initial=0.0)))
    return tol * np.maximum(np.maximum(np.abs(got), np.abs(ref)), 0.1 * scale) + floor


def _entries(n: int) -> str:
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


def _report(
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
) -> ArrayReport:
    """Compare one analytic (got) array with its truth and diagnose the difference."""
    report = ArrayReport(name, "error", truth.shape, None, n_entries=truth.size, labels=labels)
    report.n_skipped = int((~valid).sum())
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


def _swaps(
    reports: dict[str, ArrayReport], values: Mapping[str, Any], truths: Mapping[str, np.ndarray]
) -> None:
    """Add a 'swapped' cause when a wrong gradient matches another parameter's gradient."""
    for key, report in reports.items():
        if report.ok or key not in values:
            continue
        got = np.asarray(values[key], dtype=np.float64) if values[key] is not None else None
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


def _check(
    loss: _Loss,
    params: Mapping[str, Any],
    grads: Mapping[str, Any],
    *,
    eps: float,
    tol: float,
    batch_size: int | None,
    name: str,
    extra_candidates: Mapping[str, np.ndarray] | None = None,
    context_shapes: Mapping[str, tuple[int, ...]] | None = None,
) -> GradCheckResult:
    problems = [
        f"a gradient was given for '{k}' but the function has no input of that name "
        f"(inputs: {', '.join(params)})"
        for k in grads
        if k not in params
    ]
    checked = [k for k in params if k in grads]
    unchecked = [k for k in params if k not in grads]
    f0 = loss()
    if not np.isfinite(f0):
        problems.append(
            f"the function value itself is {f0} at the given inputs; fix the forward pass first"
        )
    reports: dict[str, ArrayReport] = {}
    truths: dict[str, np.ndarray] = {}
    shapes = {k: np.shape(v) for k, v in params.items()}
    shapes.update(context_shapes or {})
    for key in checked:
        probe = _Probe(loss, key, eps, f0)
        truths[key] = probe.central
        original = params[key]
        dtype = np.asarray(original).dtype
        expected_dtype = dtype if dtype.kind == "f" else np.dtype(np.float64)
        candidates = {key: probe.base}
        for other, value in {**loss.args, **(extra_candidates or {})}.items():
            if other != key and isinstance(value, np.ndarray) and value.dtype.kind == "f":
                candidates[other] = value
        floor = probe.noise * np.sqrt(max(probe.central.size, 1)) / max(tol, 1e-12) * 1e-2
        reports[key] = _report(
            key,
            grads[key],
            probe.central,
            valid=~probe.kink,
            labels=("analytic", "numerical"),
            expected_dtype=expected_dtype,
            bad_fn=lambda g, t, floor=probe.noise: _entry_tolerance(g, t, tol, 10 * floor),
            rel_floor=floor,
            judge=lambda r: status_for(r.rel_error, tol),
            batch_size=batch_size,
            candidates=candidates,
            context_shapes=shapes,
            reducibles=extra_candidates,
        )
        if probe.kink.any():
            reports[key].notes.append(
                f"skipped {_entries(int(probe.kink.sum()))} next to a kink (the slopes left and "
                "right differ, as for ReLU at 0); skipped entries are not errors"
            )
    _swaps(reports, grads, truths)
    notes = []
    mutated = loss.mutated_inputs()
    if mutated:
        notes.append(
            f"the function changed its input(s) {', '.join(mutated)} in place; the numerical "
            "gradient may be unreliable (functions should not modify their arguments)"
        )
    if loss.low_precision:
        notes.append(
            f"the function returns {loss.low_precision} values: with eps = {eps} the numerical "
            "gradient is dominated by rounding; compute the loss in float64 for checking"
        )
    return GradCheckResult(name, reports, tol, eps, problems, notes, unchecked)


def check_gradient(
    f: Callable[..., Any],
    params: Mapping[str, Any],
    grads: Mapping[str, Any],
    *,
    eps: float = 1e-6,
    tol: float = 1e-5,
    batch_size: int | None = None,
    name: str = "",
) -> GradCheckResult:
    """Compare grads[k] with the numerical gradient of the scalar f(**params) wrt params[k].

    Inputs without an entry in grads (labels, hyper-parameters) are passed through unchecked.
    batch_size lets the diagnosis name a factor R or 1/R.
    """
    loss = _Loss(f, params, [k for k in params if k in grads])
    return _check(loss, params, grads, eps=eps, tol=tol, batch_size=batch_size, name=name)


def _as_outputs(value: Any) -> tuple[Any, ...]:
    return tuple(value) if isinstance(value, tuple) else (value,)


def check_vjp(
    forward: Callable[..., Any],
    inputs: Mapping[str, Any],
    upstream: Any,
    grads: Mapping[str, Any],
    *,
    eps: float = 1e-6,
    tol: float = 1e-5,
    batch_size: int | None = None,
    name: str = "",
) -> GradCheckResult:
    """Check a backward function: grads[k] is the gradient of sum(upstream * forward(**inputs)).

    If forward returns a tuple, upstream is a tuple of the same length (None skips an output).
    """
    ups = tuple(None if u is None else np.array(u, dtype=np.float64) for u in _as_outputs(upstream))
    outputs = _as_outputs(
        forward(**{k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in inputs.items()})
    )
    problems = []
    if len(outputs) != len(ups):
        problems.append(
            f"forward returned {len(outputs)} output(s) but {len(ups)} upstream gradient(s) "
            "were given"
        )
    for i, (out, up) in enumerate(zip(outputs, ups, strict=False)):
        if up is not None and np.shape(out) != up.shape:
            problems.append(
                f"forward output {i} has shape {np.shape(out)} but its upstream gradient has shape "
                f"{up.shape}: they must match"
            )
    if problems:
        return GradCheckResult(name, {}, tol, eps, problems)

    def contracted(**kwargs: Any) -> float:
        outs = _as_outputs(forward(**kwargs))
        total = 0.0
        for out, up in zip(outs, ups, strict=True):
            if up is not None:
                total += float(np.sum(up * np.asarray(out, dtype=np.float64)))
        return total

    loss = _Loss(contracted, inputs, [k for k in inputs if k in grads])
    candidates = {
        f"upstream{'' if len(ups) == 1 else i}": u for i, u in enumerate(ups) if u is not None
    }
    shapes = {name_: u.shape for name_, u in candidates.items()}
    return _check(
        loss,
        inputs,
        grads,
        eps=eps,
        tol=tol,
        batch_size=batch_size,
        name=name,
        extra_candidates=candidates,
        context_shapes=shapes,
    )


def compare(
    got: Any,
    expected: Any,
    *,
    name: str,
    rtol: float = 1e-6,
    atol: float = 1e-8,
    batch_size: int | None = None,
) -> ComparisonResult:
    """Compare a computed forward value with the expected one and explain any difference.

    Entries agree when |got - expected| <= atol + rtol * |expected| (as numpy.isclose).
    """
    truth_raw = np.asarray(expected)
    truth = truth_raw.astype(np.float64) if truth_raw.dtype.kind in "iubf" else truth_raw
    if truth.dtype.kind != "f":
        raise TypeError(f"compare: expected must be numeric, got dtype {truth_raw.dtype}")
    labels = ("got", "expected")
    if isinstance(got, tuple) and not isinstance(expected, tuple) and truth.ndim > 0:
        report = ArrayReport(name, "error", truth.shape, None, n_entries=truth.size, labels=labels)
        report.causes.append(
            Cause(
                "shape",
                f"{name} is a tuple of {len(got)} items; expected one array of shape {truth.shape}",
            )
        )
        return ComparisonResult(name, report, rtol, atol)
    report = _report(
        name,
        got,
        truth,
        valid=np.ones(truth.shape, dtype=bool),
        labels=labels,
        expected_dtype=truth_raw.dtype if truth_raw.dtype.kind == "f" else np.dtype(np.float64),
        bad_fn=lambda g, t: atol + rtol * np.abs(t),
        rel_floor=atol,
        judge=lambda r: "good" if r.n_off == 0 else "wrong",
        same_nonfinite_agree=True,
        batch_size=batch_size,
        candidates={},
        context_shapes={},
    )
    return ComparisonResult(name, report, rtol, atol)
