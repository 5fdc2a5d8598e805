"""How fast is the course's vectorised numpy MLP? Against PyTorch (CPU) and scikit-learn.

Same network (784-256-10, ReLU, soft-max cross-entropy), plain mini-batch SGD with the same
batch size, learning rate and epochs, float32, full MNIST, the same number of BLAS threads.
The frameworks run interleaved (numpy, torch, sklearn, numpy, ...) so that a noisy, shared
machine slows them alike; the script reports medians over the runs, the test accuracy, the
time ratios and the numpy MLP's GFLOP/s against a float32 matmul "roof" measured in the same
run. PyTorch is optional (`pip install torch==2.13.0`): without it, it is skipped with a note.

    python benchmarks/mlp_speed.py [--epochs 2] [--runs 3] [--batch-size 256] [--threads 1]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable

import numpy as np
from threadpoolctl import threadpool_info, threadpool_limits

HIDDEN, CLASSES = 256, 10


def _clocks() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


def _since(start: tuple[float, float]) -> tuple[float, float]:
    """Wall-clock and CPU seconds since `start` (CPU time is what contention distorts least)."""
    wall, cpu = _clocks()
    return wall - start[0], cpu - start[1]


# -- the reference numpy MLP ---------------------------------------------------------------------
class NumpyMLP:
    """Two-layer ReLU network trained with SGD; weights (out, in) as in the course's `fc`."""

    def __init__(self, n_in: int, seed: int, dtype=np.float32) -> None:
        rng = np.random.default_rng(seed)
        self.w1 = (rng.standard_normal((HIDDEN, n_in)) * np.sqrt(2 / n_in)).astype(dtype)
        self.b1 = np.zeros(HIDDEN, dtype)
        self.w2 = (rng.standard_normal((CLASSES, HIDDEN)) * np.sqrt(1 / HIDDEN)).astype(dtype)
        self.b2 = np.zeros(CLASSES, dtype)
        self.dw1 = np.empty_like(self.w1)  # gradient buffer reused by every step

    def step(self, x: np.ndarray, labels: np.ndarray, lr: float) -> None:
        """One SGD step on a batch: forward, back-propagation, update with lr / R."""
        h = x @ self.w1.T
        h += self.b1
        np.maximum(h, 0, out=h)  # ReLU in place
        z = h @ self.w2.T
        z += self.b2
        z -= z.max(axis=1, keepdims=True)  # stable soft-max, in place
        np.exp(z, out=z)
        z /= z.sum(axis=1, keepdims=True)
        z[np.arange(len(labels)), labels] -= 1  # dL/dz = softmax - one-hot
        z *= lr / len(labels)  # fold the step size into dL/dz
        dh = z @ self.w2
        self.w2 -= z.T @ h
        self.b2 -= z.sum(axis=0)
        dh *= h > 0  # back through ReLU
        np.matmul(dh.T, x, out=self.dw1)
        self.w1 -= self.dw1
        self.b1 -= dh.sum(axis=0)

    def predict(self, x: np.ndarray) -> np.ndarray:
        h = np.maximum(x @ self.w1.T + self.b1, 0)
        return np.argmax(h @ self.w2.T + self.b2, axis=1)


Result = tuple[float, float, float]  # wall s/epoch, CPU s/epoch, test accuracy


def train_numpy(data, epochs: int, batch_size: int, lr: float, seed: int) -> Result:
    x_train, y_train, x_test, y_test = data
    model = NumpyMLP(x_train.shape[1], seed)
    rng = np.random.default_rng(seed)
    start = _clocks()
    for _ in range(epochs):
        order = rng.permutation(len(x_train))
        for s in range(0, len(order), batch_size):
            batch = order[s : s + batch_size]
            model.step(x_train[batch], y_train[batch], lr)
    wall, cpu = _since(start)
    return wall / epochs, cpu / epochs, float(np.mean(model.predict(x_test) == y_test))


# -- PyTorch and scikit-learn -------------------------------------------------------------------
def train_torch(data, epochs: int, batch_size: int, lr: float, seed: int) -> Result:
    import torch

    x_train, y_train, x_test, y_test = (torch.from_numpy(a) for a in data)
    torch.manual_seed(seed)
    model = torch.nn.Sequential(
        torch.nn.Linear(x_train.shape[1], HIDDEN), torch.nn.ReLU(), torch.nn.Linear(HIDDEN, CLASSES)
    )
    optimiser = torch.optim.SGD(model.parameters(), lr=lr)
    loss_fn = torch.nn.CrossEntropyLoss()  # mean over the batch = the course's gamma / R
    generator = torch.Generator().manual_seed(seed)
    start = _clocks()
    for _ in range(epochs):
        order = torch.randperm(len(x_train), generator=generator)
        for s in range(0, len(order), batch_size):
            batch = order[s : s + batch_size]
            optimiser.zero_grad(set_to_none=True)
            loss_fn(model(x_train[batch]), y_train[batch]).backward()
            optimiser.step()
    wall, cpu = _since(start)
    with torch.no_grad():
        accuracy = (model(x_test).argmax(dim=1) == y_test).float().mean().item()
    return wall / epochs, cpu / epochs, accuracy


def train_sklearn(data, epochs: int, batch_size: int, lr: float, seed: int) -> Result:
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    x_train, y_train, x_test, y_test = data
    model = MLPClassifier(
        hidden_layer_sizes=(HIDDEN,),
        activation="relu",
        solver="sgd",
        alpha=0.0,
        batch_size=batch_size,
        learning_rate="constant",
        learning_rate_init=lr,
        momentum=0.0,
        nesterovs_momentum=False,
        max_iter=epochs,
        shuffle=True,
        tol=0.0,
        n_iter_no_change=epochs + 1,
        random_state=seed,
    )
    start = _clocks()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(x_train, y_train)
    wall, cpu = _since(start)
    return wall / epochs, cpu / epochs, float(np.mean(model.predict(x_test) == y_test))


# -- measurements -------------------------------------------------------------------------------
def flops_per_epoch(n_images: int, n_in: int) -> float:
    """Multiply-adds x 2 of the matmuls: forward both layers, dW both, dX of layer 2 only."""
    return 2.0 * n_images * (2 * n_in * HIDDEN + 3 * HIDDEN * CLASSES)


def matmul_roof(size: int = 1024, repeats: int = 5) -> float:
    """Best float32 GFLOP/s (CPU time) of a square matmul: what the BLAS does on these threads."""
    rng = np.random.default_rng(0)
    a, b = rng.random((size, size), np.float32), rng.random((size, size), np.float32)
    best = float("inf")
    for _ in range(repeats):
        start = _clocks()
        a @ b
        best = min(best, _since(start)[1])
    return 2.0 * size**3 / best / 1e9


def load_data(limit: int | None):
    from nnhelpers.data import load_mnist

    mnist = load_mnist(variant="full", dtype=np.float32)
    x_train, y_train = mnist.x_train[:limit], mnist.y_train[:limit]
    return (
        np.ascontiguousarray(x_train, np.float32),
        y_train.astype(np.int64),
        np.ascontiguousarray(mnist.x_test, np.float32),
        mnist.y_test.astype(np.int64),
    )


def torch_available(threads: int) -> bool:
    try:
        import torch
    except ImportError:
        print("PyTorch is not installed: skipping it (optional: pip install torch==2.13.0)")
        return False
    torch.set_num_threads(threads)
    print(f"PyTorch {torch.__version__}, {torch.get_num_threads()} thread(s)")
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--runs", type=int, default=3, help="interleaved repetitions")
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--lr", type=float, default=0.1)
    parser.add_argument("--threads", type=int, default=1, help="BLAS / torch threads")
    parser.add_argument("--limit", type=int, default=None, help="use only N training images")
    args = parser.parse_args(argv)

    data = load_data(args.limit)
    n_train, n_in = data[0].shape
    print(
        f"MNIST: {n_train} training, {len(data[2])} test images; 784-{HIDDEN}-{CLASSES}, "
        f"batch {args.batch_size}, lr {args.lr}, {args.epochs} epoch(s), {args.runs} runs, "
        f"{args.threads} thread(s), float32; machine: {os.cpu_count()} cores (shared, noisy)"
    )
    trainers: dict[str, Callable] = {"numpy": train_numpy}
    with threadpool_limits(args.threads):
        blas = [
            f"{i['internal_api']} {i.get('version')} ({i.get('architecture')})"
            for i in threadpool_info()
            if i["user_api"] == "blas"
        ]
        print("numpy BLAS:", ", ".join(blas))
        if torch_available(args.threads):
            trainers["torch"] = train_torch
        trainers["sklearn"] = train_sklearn
        wall: dict[str, list[float]] = {name: [] for name in trainers}
        cpu: dict[str, list[float]] = {name: [] for name in trainers}
        accuracies: dict[str, list[float]] = {name: [] for name in trainers}
        roofs: list[float] = []
        for run in range(args.runs):
            roofs.append(matmul_roof())
            for name, train in trainers.items():
                per_epoch, cpu_per_epoch, accuracy = train(
                    data, args.epochs, args.batch_size, args.lr, run
                )
                wall[name].append(per_epoch)
                cpu[name].append(cpu_per_epoch)
                accuracies[name].append(accuracy)
                print(
                    f"  run {run + 1}: {name:8s} {per_epoch:7.3f} s/epoch wall, "
                    f"{cpu_per_epoch:7.3f} s/epoch CPU, accuracy {accuracy:.4f}",
                    flush=True,
                )
        roofs.append(matmul_roof())

    median_wall = {name: statistics.median(values) for name, values in wall.items()}
    median_cpu = {name: statistics.median(values) for name, values in cpu.items()}
    roof = statistics.median(roofs)
    flops = flops_per_epoch(n_train, n_in)
    print(
        f"\n| framework | wall s/epoch | CPU s/epoch | test accuracy | GFLOP/s (CPU time) "
        f"| % of roof |  (medians of {args.runs} runs)"
    )
    print("|---|---|---|---|---|---|")
    for name in trainers:
        gflops = flops / median_cpu[name] / 1e9
        print(
            f"| {name} | {median_wall[name]:.3f} | {median_cpu[name]:.3f} | "
            f"{statistics.median(accuracies[name]):.4f} | {gflops:.1f} | "
            f"{100 * gflops / roof:.0f} % |"
        )
    print(
        f"\nfloat32 matmul roof (1024^3, best of 5 by CPU time, median of {len(roofs)}): "
        f"{roof:.1f} GFLOP/s (range {min(roofs):.1f}-{max(roofs):.1f})"
    )
    for other in ("torch", "sklearn"):
        if other in median_wall:
            print(
                f"numpy / {other} time per epoch: {median_wall['numpy'] / median_wall[other]:.2f}"
                f" wall, {median_cpu['numpy'] / median_cpu[other]:.2f} CPU (target <= 0.8)"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
