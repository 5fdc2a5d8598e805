"""Follow gradient descent on a loss of two weights for the learning-rate explorer.

A demonstration of a generic loss given by the caller, not a course exercise: it stops a
run that blows up (so figures stay readable) and names what happened.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

BLOW_UP_FACTOR = 1e6  # loss this many times the start (or view) loss: stop, diverged
FAR_AWAY = 1e3  # this many view widths away from the start: stop, diverged
CONVERGED_GRADIENT = 0.02  # gradient norm shrunk below this fraction of the first one


@dataclass
class DescentRun:
    """What one run did: points visited, their losses, and a verdict."""

    trajectory: np.ndarray
    losses: np.ndarray
    rates: np.ndarray
    status: str
    summary: str

    @property
    def diverged(self) -> bool:
        return self.status == "diverged"


def _verdict(
    losses: np.ndarray,
    trajectory: np.ndarray,
    gradients: list[np.ndarray],
    stopped: bool,
    steps: int,
) -> tuple[str, str]:
    taken = len(trajectory) - 1
    if stopped or not np.isfinite(losses[-1]) or losses[-1] > losses[0]:
        how = f"stopped after {taken} of {steps} steps" if stopped else f"after {taken} steps"
        return "diverged", f"diverged: loss went from {losses[0]:.3g}\nto {losses[-1]:.3g} ({how})"
    moves = np.diff(trajectory, axis=0)
    turns = np.sum(moves[1:] * moves[:-1], axis=1) < 0
    oscillating = turns.size > 0 and turns.mean() > 0.5
    first = float(np.linalg.norm(gradients[0]))
    last = float(np.linalg.norm(gradients[-1]))
    converged = first == 0 or last <= CONVERGED_GRADIENT * first
    where = f"loss {losses[-1]:.3g} after {taken} steps"
    if oscillating:
        return "oscillating", f"oscillating{' but converged' if converged else ''}: {where}"
    if converged:
        return "converged", f"converged: {where}"
    return "not converged yet", f"still descending: {where}"


def descend(
    loss: Callable[[np.ndarray], float],
    grad: Callable[[np.ndarray], np.ndarray],
    start: np.ndarray,
    *,
    rate: float,
    steps: int,
    decay: float = 1.0,
    view: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
) -> DescentRun:
    """Take up to ``steps`` steps of size ``rate * decay**k`` against the gradient."""
    point = np.asarray(start, dtype=float).copy()
    visited, values, rates, gradients = [point.copy()], [float(loss(point))], [], []
    width = 1.0
    scale = abs(values[0])
    if view is not None:
        W1, W2, L = view
        width = max(float(np.ptp(W1)), float(np.ptp(W2)), 1e-12)
        finite = L[np.isfinite(L)]
        scale = max(scale, float(np.max(np.abs(finite))) if finite.size else 0.0)
    ceiling = BLOW_UP_FACTOR * max(scale, 1e-12)
    stopped = False
    with np.errstate(over="ignore", invalid="ignore"):
        for k in range(steps):
            slope = np.asarray(grad(point), dtype=float).reshape(point.shape)
            gradients.append(slope)
            step_size = rate * decay**k
            point = point - step_size * slope
            rates.append(step_size)
            value = float(loss(point))
            visited.append(point.copy())
            values.append(value)
            far = np.linalg.norm(point - visited[0]) > FAR_AWAY * width
            if not np.isfinite(value) or abs(value) > ceiling or far:
                stopped = k < steps - 1
                break
        else:
            gradients.append(np.asarray(grad(point), dtype=float).reshape(point.shape))
    trajectory = np.array(visited)
    losses = np.array(values)
    status, summary = _verdict(losses, trajectory, gradients, stopped, steps)
    return DescentRun(trajectory, losses, np.array(rates), status, summary)
