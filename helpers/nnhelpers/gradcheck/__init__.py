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

from nnhelpers.gradcheck.array_report import build_report, entries, entry_tolerance, mark_swaps
from nnhelpers.gradcheck.diagnosis.common import Cause
from nnhelpers.gradcheck.numerical import Loss, Probe, check_names, numerical_gradient
from nnhelpers.gradcheck.report import (
    GOOD,
    WRONG,
    ArrayReport,
    ComparisonResult,
    GradCheckResult,
    GradientCheckError,
    WorstEntry,
    hidden_inputs,
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
    "hidden_inputs",
    "GOOD",
    "WRONG",
]


def _function_problems(
    loss: Loss, params: Mapping[str, Any], grads: Mapping[str, Any]
) -> tuple[float, list[str]]:
    """(f0, problems that make every per-parameter verdict meaningless)."""
    problems = [
        f"a gradient was given for '{k}' but the function has no input of that name "
        f"(inputs: {', '.join(params)})"
        for k in grads
        if k not in params
    ]
    f0 = loss()
    again = loss()
    if again != f0 and np.isfinite(f0):
        problems.append(
            f"the function gives different values for the same input ({f0!r}, then {again!r}): "
            "it is random (dropout, a random generator without a fixed seed) or keeps state "
            "between calls, so no gradient can be measured"
        )
    if not np.isfinite(f0):
        problems.append(
            f"the function value itself is {f0} at the given inputs; fix the forward pass first"
        )
    return f0, problems


def _function_notes(loss: Loss, eps: float) -> list[str]:
    """Warnings about how the function behaved while it was probed."""
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
    return notes


def _check_param(
    loss: Loss,
    key: str,
    given: Any,
    probe: Probe,
    *,
    tol: float,
    batch_size: int | None,
    extra_candidates: Mapping[str, np.ndarray],
    shapes: Mapping[str, tuple[int, ...]],
) -> ArrayReport:
    """Compare the gradient given for one parameter with its probe's numerical gradient."""
    dtype = np.asarray(loss.originals[key]).dtype
    candidates = {key: probe.base}
    for other, value in {**loss.args, **extra_candidates}.items():
        if other != key and isinstance(value, np.ndarray) and value.dtype.kind == "f":
            candidates[other] = value
    n_sampled = max(int(probe.sampled.sum()), 1)
    report = build_report(
        key,
        given,
        probe.central,
        valid=probe.sampled & ~probe.kink,
        n_skipped=int(probe.kink.sum()),
        labels=("analytic", "numerical"),
        expected_dtype=dtype if dtype.kind == "f" else np.dtype(np.float64),
        bad_fn=lambda g, t: entry_tolerance(g, t, tol, 10 * probe.noise),
        rel_floor=probe.noise * np.sqrt(n_sampled) / max(tol, 1e-12),
        judge=lambda r: status_for(r.rel_error, tol),
        batch_size=batch_size,
        candidates=candidates,
        context_shapes=shapes,
        reducibles=extra_candidates,
    )
    if not probe.sampled.all():
        report.notes.append(
            f"checked a random sample of {n_sampled} of its {probe.sampled.size} entries "
            "(max_entries)"
        )
    if probe.kink.any():
        report.notes.append(
            f"skipped {entries(int(probe.kink.sum()))} next to a kink (the slopes left and "
            "right differ, as for ReLU at 0); skipped entries are not errors"
        )
    return report


def _check(
    loss: Loss,
    params: Mapping[str, Any],
    grads: Mapping[str, Any],
    *,
    eps: float,
    tol: float,
    batch_size: int | None,
    name: str,
    extra_candidates: Mapping[str, np.ndarray] | None = None,
    context_shapes: Mapping[str, tuple[int, ...]] | None = None,
    max_entries: int | None = None,
    seed: int = 0,
) -> GradCheckResult:
    """Probe every parameter that has a gradient in grads and collect the reports."""
    f0, problems = _function_problems(loss, params, grads)
    shapes = {k: np.shape(v) for k, v in params.items()}
    shapes.update(context_shapes or {})
    rng = np.random.default_rng(seed)
    reports: dict[str, ArrayReport] = {}
    truths: dict[str, np.ndarray] = {}
    for key in (k for k in params if k in grads):
        size = loss.args[key].size
        sample = None
        if max_entries is not None and size > max_entries:
            sample = np.sort(rng.choice(size, size=max_entries, replace=False))
        probe = Probe(loss, key, eps, f0, sample)
        truths[key] = probe.central
        reports[key] = _check_param(
            loss,
            key,
            grads[key],
            probe,
            tol=tol,
            batch_size=batch_size,
            extra_candidates=extra_candidates or {},
            shapes=shapes,
        )
    mark_swaps(reports, grads, truths)
    unchecked = [k for k in params if k not in grads]
    notes = _function_notes(loss, eps)
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
    max_entries: int | None = None,
    seed: int = 0,
) -> GradCheckResult:
    """Compare grads[k] with the numerical gradient of the scalar f(**params) wrt params[k].

    Inputs without an entry in grads (labels, hyper-parameters) are passed through unchecked.
    batch_size lets the diagnosis name a factor R or 1/R; max_entries checks a random sample
    of that many entries of larger arrays (two calls of f per checked entry).
    """
    check_names(f, params, "function")
    loss = Loss(f, params, [k for k in params if k in grads])
    return _check(
        loss,
        params,
        grads,
        eps=eps,
        tol=tol,
        batch_size=batch_size,
        name=name,
        max_entries=max_entries,
        seed=seed,
    )


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
    max_entries: int | None = None,
    seed: int = 0,
) -> GradCheckResult:
    """Check a backward function: grads[k] is the gradient of sum(upstream * forward(**inputs)).

    If forward returns a tuple, upstream is a tuple of the same length (None skips an output).
    """
    check_names(forward, inputs, "forward function")
    ups = tuple(None if u is None else np.array(u, dtype=np.float64) for u in _as_outputs(upstream))
    outputs = _as_outputs(
        forward(**{k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in inputs.items()})
    )
    problems = []
    if len(outputs) != len(ups):
        problems.append(
            f"forward returned {len(outputs)} output(s) but {len(ups)} upstream gradient(s) "
            "were given: pass upstream as a tuple with one entry per output (None for outputs "
            "such as a cache)"
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

    loss = Loss(contracted, inputs, [k for k in inputs if k in grads])
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
        max_entries=max_entries,
        seed=seed,
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
    report = build_report(
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
