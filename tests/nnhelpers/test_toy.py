"""Toy 2-D data sets: shapes, labels, determinism, and the geometry each one promises."""

from __future__ import annotations

import numpy as np
import pytest
from nnhelpers import data, toy

MAKERS = {
    "blobs": toy.make_blobs,
    "xor": toy.make_xor,
    "moons": toy.make_moons,
    "spirals": toy.make_spirals,
}


@pytest.mark.parametrize("name", MAKERS)
@pytest.mark.parametrize("n", [7, 200])
def test_shapes_dtypes_and_balanced_labels(name, n):
    X, y = MAKERS[name](n)
    assert X.shape == (n, 2) and X.dtype == np.float64 and X.flags.c_contiguous
    assert y.shape == (n,) and y.dtype == np.int64
    counts = np.bincount(y)
    assert len(counts) == 2 and abs(counts[0] - counts[1]) <= 1
    assert np.isfinite(X).all()


@pytest.mark.parametrize("name", MAKERS)
def test_same_seed_same_data_other_seed_other_data(name):
    make = MAKERS[name]
    X1, y1 = make(50, seed=3)
    X2, y2 = make(50, seed=3)
    X3, _ = make(50, seed=4)
    assert np.array_equal(X1, X2) and np.array_equal(y1, y2)
    assert not np.array_equal(X1, X3)
    X4, y4 = make(50, seed=np.random.default_rng(3))
    assert np.array_equal(X1, X4) and np.array_equal(y1, y4)


@pytest.mark.parametrize("name", MAKERS)
def test_labels_are_shuffled_not_sorted(name):
    _, y = MAKERS[name](100)
    assert not np.all(np.diff(y) >= 0)


@pytest.mark.parametrize("noise", [0.1, 0.3, 0.333])
@pytest.mark.parametrize("seed", range(5))
def test_blobs_are_linearly_separable(noise, seed):
    X, y = toy.make_blobs(300, seed=seed, noise=noise)
    assert np.array_equal(X.sum(axis=1) > 0, y == 1)


def test_xor_labels_follow_the_signs():
    X, y = toy.make_xor(400, noise=0.1)
    assert np.array_equal((X[:, 0] > 0) != (X[:, 1] > 0), y == 1)
    linear = np.column_stack([X, np.ones(len(X))])
    w, *_ = np.linalg.lstsq(linear, 2.0 * y - 1, rcond=None)
    assert np.mean((linear @ w > 0) == y) < 0.75, "XOR must defeat a linear classifier"


def test_moons_without_noise_lie_on_two_half_circles():
    X, y = toy.make_moons(100, noise=0.0)
    upper, lower = X[y == 0], X[y == 1]
    assert np.allclose(np.hypot(*upper.T), 1.0) and (upper[:, 1] >= -1e-12).all()
    assert np.allclose(np.hypot(lower[:, 0] - 1, lower[:, 1] - 0.5), 1.0)
    assert (lower[:, 1] <= 0.5 + 1e-12).all()


def test_spirals_with_three_arms():
    X, y = toy.make_spirals(301, classes=3)
    assert sorted(np.bincount(y).tolist()) == [100, 100, 101]
    assert np.hypot(*X.T).max() <= 1.0 + 1e-12
    with pytest.raises(ValueError, match="at least 2"):
        toy.make_spirals(10, classes=1)


def test_too_few_points_is_explained():
    with pytest.raises(ValueError, match="at least one point per class"):
        toy.make_xor(3)


def test_toy_data_has_one_import_path():
    """The toy sets live in nnhelpers.toy only; nnhelpers.data is MNIST (one home per concept)."""
    assert not any(hasattr(data, name) for name in ("make_blobs", "make_moons", "make_xor"))
    assert toy.make_moons.__module__ == "nnhelpers.toy"
