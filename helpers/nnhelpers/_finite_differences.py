"""Central-difference derivatives for the plots and widgets (no analytic formulas live here).

The course grades students on analytic derivatives, so the helpers only ever estimate them
numerically from a function the caller passes in.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

ELEMENTWISE_STEP = 1e-5
KINK_TOLERANCE = 1e-3


def elementwise_derivative(
    f: Callable[[np.ndarray], np.ndarray], x: np.ndarray, *, step: float = ELEMENTWISE_STEP
) -> np.ndarray:
    """Derivative of an elementwise function at every x, by central differences.

    Where the one-sided differences disagree (a kink such as ReLU at 0, or a jump such as the
    step function) the derivative is undefined: it is returned as NaN so a plot shows a gap
    instead of a misleading spike.
    """
    x = np.asarray(x, dtype=float)
    here = np.asarray(f(x), dtype=float)
    ahead = np.asarray(f(x + step), dtype=float)
    behind = np.asarray(f(x - step), dtype=float)
    central = (ahead - behind) / (2 * step)
    forward = (ahead - here) / step
    backward = (here - behind) / step
    kink = np.abs(forward - backward) > KINK_TOLERANCE * (1 + np.abs(central))
    return np.where(kink, np.nan, central)


def gradient_2d(
    loss: Callable[[np.ndarray], float], w: np.ndarray, *, step: float = 1e-6
) -> np.ndarray:
    """Gradient of a scalar loss of a 2-vector, by central differences (one pair per axis)."""
    w = np.asarray(w, dtype=float)
    slope = np.zeros_like(w)
    for axis in range(w.size):
        shift = np.zeros_like(w)
        shift.flat[axis] = step
        slope.flat[axis] = (float(loss(w + shift)) - float(loss(w - shift))) / (2 * step)
    return slope
