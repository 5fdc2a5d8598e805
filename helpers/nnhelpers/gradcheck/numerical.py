"""Central differences: the gradient checker's (with the one-sided slopes that reveal kinks), and
the small elementwise / 2-D ones the plots and widgets use.

The caller's arrays are never touched: every evaluation gets float64 copies. No analytic formula
of the course lives here: the course grades students on analytic derivatives.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

MACHINE_EPS = float(np.finfo(np.float64).eps)
# An entry is a kink candidate when its one-sided slopes differ by more than this, relatively.
KINK_SUSPECT = 1e-4


def check_names(f: Callable[..., Any], names: Mapping[str, Any], what: str) -> None:
    """Raise a readable TypeError if f cannot be called with these keyword arguments."""
    try:
        signature = inspect.signature(f)
    except (TypeError, ValueError):  # builtins, remote proxies: just try the call later
        return
    try:
        signature.bind(**names)
    except TypeError as error:
        raise TypeError(
            f"the {what} is called as f({', '.join(f'{k}=...' for k in names)}), so the keys "
            f"must be the names of its arguments {tuple(signature.parameters)}: {error}. "
            "Rename the keys or pass a lambda, e.g. lambda W: loss(W, X, y)"
        ) from None


def as_loss(value: Any) -> float:
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
        plus, minus, step = nudged(base, i, eps)
        grad.flat[i] = (as_loss(f(plus)) - as_loss(f(minus))) / step
    return grad


def nudged(base: np.ndarray, i: int, eps: float) -> tuple[np.ndarray, np.ndarray, float]:
    """Copies of base with entry i moved by +eps and -eps, and the exact distance between them."""
    plus = base.copy()
    minus = base.copy()
    plus.flat[i] += eps
    minus.flat[i] -= eps
    return plus, minus, float(plus.flat[i] - minus.flat[i])


class Loss:
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
        return as_loss(value)

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


class Probe:
    """Central differences of one parameter, with the one-sided slopes that reveal kinks."""

    def __init__(
        self, loss: Loss, key: str, eps: float, f0: float, indices: np.ndarray | None = None
    ):
        self.loss, self.key, self.eps, self.f0 = loss, key, eps, f0
        self.base = loss.args[key]
        n = self.base.size
        self.sampled = np.zeros(self.base.shape, dtype=bool)
        indices = np.arange(n) if indices is None else indices
        self.sampled.flat[indices] = True
        self.central = np.full(self.base.shape, np.nan)
        self.kink = np.zeros(self.base.shape, dtype=bool)
        self.noise = 0.0
        curvature = np.full(n, np.nan)
        for i in indices:
            fp, fm, step = self._pair(i, eps)
            self.central.flat[i] = (fp - fm) / step
            curvature[i] = abs(fp - 2 * f0 + fm) / (step / 2)
            self.noise = max(self.noise, 8 * MACHINE_EPS * max(abs(fp), abs(fm), abs(f0)) / eps)
        self._resolve_kinks(curvature)

    def _pair(self, i: int, eps: float) -> tuple[float, float, float]:
        plus, minus, step = nudged(self.base, i, eps)
        return self.loss(**{self.key: plus}), self.loss(**{self.key: minus}), step

    def _resolve_kinks(self, curvature: np.ndarray) -> None:
        """Re-measure entries whose one-sided slopes disagree, with smaller and smaller steps.

        Smooth curvature shrinks with the step; a kink inside the stencil does not. A kink that
        leaves the stencil as the step shrinks is resolved: the smaller step's slope is used.
        """
        central = self.central.reshape(-1)
        finite = np.isfinite(central) & self.sampled.reshape(-1)
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


# Central differences for the plots and widgets (no analytic formula of the course lives here).
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
