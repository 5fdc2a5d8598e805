"""Small 2-D data sets for the lectures: blobs, XOR, two moons, spirals.

Each returns `(X, y)`: X float64 of shape (n, 2), y int64 labels 0..classes-1, in shuffled
order. The same `seed` always gives the same data (a `numpy.random.Generator` is accepted too).
"""

from __future__ import annotations

import numpy as np

Seed = int | np.random.Generator


def _rng(seed: Seed) -> np.random.Generator:
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


def _class_sizes(n: int, classes: int) -> list[int]:
    """n split as evenly as possible over the classes (the first ones get the remainder)."""
    if n < classes:
        raise ValueError(f"need at least one point per class: n={n} < classes={classes}")
    return [n // classes + (k < n % classes) for k in range(classes)]


def _shuffled(rng: np.random.Generator, X: np.ndarray, y: np.ndarray):
    order = rng.permutation(len(y))
    return np.ascontiguousarray(X[order], dtype=np.float64), y[order].astype(np.int64)


def make_blobs(
    n: int = 200, *, seed: Seed = 0, noise: float = 0.3
) -> tuple[np.ndarray, np.ndarray]:
    """Two Gaussian blobs around (-1, -1) and (1, 1), labels 0 and 1.

    The noise is cut at 3 standard deviations, so the classes are always linearly separable
    (by x1 + x2 = 0) whenever noise < 1/3: the right data for a perceptron.
    """
    rng = _rng(seed)
    sizes = _class_sizes(n, 2)
    centres = np.array([[-1.0, -1.0], [1.0, 1.0]])
    y = np.repeat(np.arange(2), sizes)
    offsets = np.clip(rng.standard_normal((n, 2)), -3, 3) * noise
    return _shuffled(rng, centres[y] + offsets, y)


def make_xor(n: int = 200, *, noise: float = 0.1, seed: Seed = 0) -> tuple[np.ndarray, np.ndarray]:
    """Four clusters at (+-1, +-1); label 1 where the signs of x1 and x2 differ (XOR).

    Not linearly separable: the classic case a single perceptron cannot learn.
    """
    rng = _rng(seed)
    corners = np.array([[1.0, 1.0], [-1.0, -1.0], [1.0, -1.0], [-1.0, 1.0]])
    which = np.repeat(np.arange(4), _class_sizes(n, 4))
    X = corners[which] + noise * rng.standard_normal((n, 2))
    y = (which >= 2).astype(np.int64)
    return _shuffled(rng, X, y)


def make_moons(
    n: int = 200, *, noise: float = 0.1, seed: Seed = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles (class 0 on top, class 1 below, shifted), plus noise."""
    rng = _rng(seed)
    n0, n1 = _class_sizes(n, 2)
    t0 = np.linspace(0, np.pi, n0)
    t1 = np.linspace(0, np.pi, n1)
    upper = np.column_stack([np.cos(t0), np.sin(t0)])
    lower = np.column_stack([1 - np.cos(t1), 0.5 - np.sin(t1)])
    X = np.vstack([upper, lower]) + noise * rng.standard_normal((n, 2))
    y = np.repeat(np.arange(2), [n0, n1])
    return _shuffled(rng, X, y)


def make_spirals(
    n: int = 300, *, classes: int = 2, noise: float = 0.2, seed: Seed = 0
) -> tuple[np.ndarray, np.ndarray]:
    """`classes` interleaved spiral arms from the origin to radius 1; noise jitters the angle."""
    if classes < 2:
        raise ValueError(f"classes must be at least 2, got {classes}")
    rng = _rng(seed)
    sizes = _class_sizes(n, classes)
    points = []
    for k, size in enumerate(sizes):
        radius = np.linspace(0.05, 1.0, size)
        angle = 4.0 * radius + 2 * np.pi * k / classes + noise * rng.standard_normal(size)
        points.append(np.column_stack([radius * np.sin(angle), radius * np.cos(angle)]))
    y = np.repeat(np.arange(classes), sizes)
    return _shuffled(rng, np.vstack(points), y)
