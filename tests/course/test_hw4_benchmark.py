"""The benchmark's numpy MLP computes the right SGD step, and the script runs end to end."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest
from nnhelpers.gradcheck import numerical_gradient

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "mlp_speed.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("mlp_speed", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_numpy_step_is_sgd_on_the_cross_entropy(bench):
    rng = np.random.default_rng(0)
    x, labels, lr = rng.random((3, 5)), np.array([1, 7, 7]), 0.3
    model = bench.NumpyMLP(5, seed=1, dtype=np.float64)
    model.b1 = rng.normal(size=model.b1.shape)  # some hidden units off, some on
    before = {k: getattr(model, k).copy() for k in ("w1", "b1", "w2", "b2")}

    def loss(w1, b1, w2, b2):
        z = np.maximum(x @ w1.T + b1, 0) @ w2.T + b2
        z = z - z.max(axis=1, keepdims=True)
        return -np.sum(z[np.arange(3), labels] - np.log(np.exp(z).sum(axis=1)))

    model.step(x, labels, lr)
    for name, value in before.items():
        grad = numerical_gradient(lambda v, name=name: loss(**{**before, name: v}), value)
        expected = value - lr / 3 * grad
        assert np.allclose(getattr(model, name), expected, atol=1e-6), name


@pytest.mark.slow
def test_benchmark_runs_on_a_small_subset(bench, capsys):
    assert bench.main(["--epochs", "1", "--runs", "1", "--limit", "1000"]) == 0
    out = capsys.readouterr().out
    assert "| numpy |" in out and "| sklearn |" in out and "roof" in out
