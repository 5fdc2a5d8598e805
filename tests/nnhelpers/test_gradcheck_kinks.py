"""Kinks (ReLU at 0) are skipped and counted, never reported as errors; near-kink entries are
resolved with a smaller step instead of being skipped."""

import numpy as np
from nnhelpers.gradcheck import check_gradient, check_vjp

WEIGHTS = np.arange(1.0, 8.0)


def rectified_loss(z):
    return float(np.sum(np.where(z > 0, z, 0.0) * WEIGHTS))


def rectified_grad(z, *, at_zero=0.0):
    return np.where(z > 0, 1.0, np.where(z == 0, at_zero, 0.0)) * WEIGHTS


Z = np.array([-1.0, 0.0, 3e-7, -2e-7, 2.0, 0.0, 1e-9])


def test_entries_exactly_at_the_kink_are_skipped_and_counted():
    result = check_gradient(rectified_loss, {"z": Z}, {"z": rectified_grad(Z)})
    assert result.ok, str(result)
    # 0.0 twice and 1e-9 (inside even the smallest step) are kinks
    assert result["z"].n_skipped == 3, str(result)
    assert "kink" in str(result)


def test_either_one_sided_derivative_at_the_kink_is_accepted():
    for at_zero in (0.0, 0.5, 1.0):
        result = check_gradient(rectified_loss, {"z": Z}, {"z": rectified_grad(Z, at_zero=at_zero)})
        assert result.ok, str(result)


def test_entries_near_the_kink_are_still_compared():
    result = check_gradient(rectified_loss, {"z": Z}, {"z": rectified_grad(Z)})
    assert result["z"].n_compared == 4
    # 3e-7 and -2e-7 are within the default step 1e-6 of the kink, yet still checked:
    wrong = rectified_grad(Z)
    wrong[3] = WEIGHTS[3]  # claims slope 1 at -2e-7, where it is 0
    bad = check_gradient(rectified_loss, {"z": Z}, {"z": wrong})
    assert not bad.ok
    assert bad["z"].worst[0].index == (3,), str(bad)


def test_a_bug_away_from_the_kink_is_still_caught():
    wrong = rectified_grad(Z)
    wrong[4] *= -1
    result = check_gradient(rectified_loss, {"z": Z}, {"z": wrong})
    assert not result.ok
    assert result["z"].worst[0].index == (4,)


def test_a_relu_layer_with_many_inputs_at_zero_passes_check_vjp():
    rng = np.random.default_rng(3)
    z = rng.normal(size=(4, 5))
    z[rng.random(z.shape) < 0.4] = 0.0
    up = rng.normal(size=z.shape)

    def forward(z):
        return np.where(z > 0, z, 0.0)

    result = check_vjp(forward, {"z": z}, up, {"z": up * (z > 0)})
    assert result.ok, str(result)
    assert result["z"].n_skipped == int((z == 0).sum())


def test_strong_smooth_curvature_is_not_mistaken_for_a_kink():
    x = np.array([-3.0, 0.0, 2.0, 4.0])

    def loss(x):
        return float(np.sum(np.exp(3 * x)))

    result = check_gradient(loss, {"x": x}, {"x": 3 * np.exp(3 * x)})
    assert result.ok, str(result)
    assert result["x"].n_skipped == 0
