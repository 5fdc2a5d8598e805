"""Likely causes for an array of the wrong shape: transposed, a missing sum over the batch, a
sum over the wrong axis, broadcasting, keepdims."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from nnhelpers.gradcheck.diagnosis.common import (
    FIT_TOLERANCE,
    Cause,
    close,
    fit_error,
    permutation_causes,
)


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
        if finite and close(float(got), float(expected.sum())) and expected.sum() != 0:
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
    permuted = permutation_causes(got, expected, finite, batch_size, labels)
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
