"""Attacks on what hidden tests say (issue 13, "a hidden test's own message").

Each attack is the reference solution of a real assignment (lab 1, lab 2, HW 4) with one graded
function wrapped: on the inputs of the visible tests (known from the released notebook) it
answers honestly, so the hidden block runs; on any other input (the hidden tests') it returns
its input encoded in the output, or raises an exception whose class name and text carry it, or
returns an array whose shape encodes it. A failed hidden check used to quote the values it was
given and the reference outputs on the hidden inputs ("worst entries (got vs expected)").

`forbidden(case)` lists the hidden inputs and the reference outputs on them as text (4 and 5
significant digits, and the attacks' own encodings); none may appear in what the student sees.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path

import nbformat
import numpy as np
from nngrade.grading.prepare import nbgrader_meta

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT / "source"

# mode -> the body run on a hidden input `x` (the function's first argument, as floats);
# `honest` is the reference result on the same arguments
MODES = {
    "echo": "return x",
    "scaled": "return x * 1000.0",
    "packed": (
        "out = np.array(honest, dtype=float)\n"
        "out.flat[: min(out.size, x.size)] = x.flat[: min(out.size, x.size)]\n"
        "return out"
    ),
    "exception": (
        "name = 'Leak_' + '_'.join(f'{abs(v):.6f}'.replace('.', 'p') for v in x.flat[:3])\n"
        "raise type(name, (ValueError,), {})(repr(x.tolist()))"
    ),
    "shape": "return np.zeros((int(abs(x.flat[0]) * 1e4) % 9973 + 11, 2))",
}


@dataclass(frozen=True)
class Case:
    """One graded function of one assignment: its visible input shapes and hidden inputs."""

    assignment: str
    function: str
    visible_shapes: tuple[tuple[int, ...], ...]  # first-argument shapes of the visible tests
    tuple_output: int | None = None  # the function returns a tuple: the item that leaks

    @property
    def master(self) -> Path:
        return next(SOURCE.glob(f"{self.assignment}*/*.ipynb"))


CASES = {
    "lab1": Case("lab1", "relu_derivative", ((5,), (1,), (2,))),
    "lab2": Case("lab2", "softmax", ((4, 3),)),
    "lab2_tuple": Case("lab2", "two_layer_forward", ((3, 2),), tuple_output=0),
    "hw4": Case("hw4", "loss_euclidean", ((3, 3),), tuple_output=1),
}


def hidden_inputs(case: Case) -> list[np.ndarray]:
    """The first arguments the hidden tests give (read off the masters' hidden blocks)."""
    if case.function == "relu_derivative":
        return [np.random.default_rng(109).normal(size=(5, 4))]
    if case.function == "softmax":
        return [np.random.default_rng(201).normal(size=(6, 4))]
    if case.function == "two_layer_forward":
        return [np.random.default_rng(205).normal(size=(6, 3))]
    rng = np.random.default_rng(13)  # loss_euclidean: y, then y_tilde
    rng.integers(0, 10, 5)
    return [rng.normal(size=(5, 10))]


def reference_outputs(case: Case) -> list[np.ndarray]:
    """What the reference returns on the hidden inputs (the expected values of the checks)."""
    x = hidden_inputs(case)[0]
    if case.function == "relu_derivative":
        return [(x > 0).astype(float)]
    if case.function == "softmax":
        e = np.exp(x - x.max(axis=1, keepdims=True))
        return [e / e.sum(axis=1, keepdims=True)]
    if case.function == "two_layer_forward":
        rng = np.random.default_rng(205)
        rng.normal(size=(6, 3))
        w1, b1 = rng.normal(size=(5, 3)), rng.normal(size=5)
        return [1 / (1 + np.exp(-(x @ w1.T + b1)))]
    rng = np.random.default_rng(13)
    y = np.eye(10)[rng.integers(0, 10, 5)]
    return [2 * (x - y)]


def forbidden(case: Case) -> set[str]:
    """Text forms of the hidden inputs and reference outputs (4 significant digits, as reports
    print them, and the attacks' encodings); shorter forms match unrelated text too often."""
    out = set()
    for values in (*hidden_inputs(case), *reference_outputs(case)):
        for v in np.ravel(values)[:12]:
            for scaled in (v, 1000 * v):
                for text in (f"{scaled:.4g}", f"{scaled:.5g}", f"{abs(v):.6f}".replace(".", "p")):
                    if sum(ch.isdigit() for ch in text.lstrip("-0.")) >= 4:
                        out.add(text)
    first = float(np.ravel(hidden_inputs(case)[0])[0])
    out.add(str(int(abs(first) * 1e4) % 9973 + 11))  # the "shape" attack's encoding
    known = case.master.read_text(encoding="utf-8") + "".join(map(attack_code, [case] * 5, MODES))
    return {text for text in out if text not in known}  # e.g. 1000 * 1.0: in the master


def attack_code(case: Case, mode: str) -> str:
    """The cell that wraps the graded function (appended after its answer cell)."""
    body = MODES[mode].replace("\n", "\n    ")
    item = case.tuple_output
    honest = "result" if item is None else f"result[{item}]"
    leak = f"def _leak(x, honest):\n    {body}\n\n\n"
    if item is not None:
        wrap = (
            f"    parts = list(result)\n    parts[{item}] = _leak(x, {honest})\n"
            "    return tuple(parts)\n"
        )
    else:
        wrap = f"    return _leak(x, {honest})\n"
    return (
        "import numpy as np\n\n"
        f"_honest_{case.function} = {case.function}\n\n\n"
        f"{leak}"
        f"def {case.function}(*args, **kwargs):\n"
        f"    result = _honest_{case.function}(*args, **kwargs)\n"
        "    x = np.asarray(args[0], dtype=float)\n"
        f"    if x.shape in {case.visible_shapes!r}:\n"
        "        return result\n"
        f"{wrap}"
    )


def attack_notebook(case: Case, mode: str, reference: nbformat.NotebookNode):
    """The reference notebook with the attack cell right after the function's answer cell."""
    nb = copy.deepcopy(reference)
    at = next(
        i
        for i, cell in enumerate(nb.cells)
        if nbgrader_meta(cell).get("solution") and f"def {case.function}(" in cell.source
    )
    nb.cells.insert(at + 1, nbformat.v4.new_code_cell(attack_code(case, mode)))
    return nb
