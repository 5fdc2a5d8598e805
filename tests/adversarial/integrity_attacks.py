"""Integrity attacks on the course's own assignments (lab 1, lab 2, HW 4): unearned points.

Each attack is a submission built from the released notebook with every answer filled in from
the master (the reference solution), then changed: some answers replaced by hostile variants
(`replace`: function name -> source) and/or the notebook tampered with (`mutate`). The graded
tests an attack aims at may give it at most `bound` points each (what the same submission earns
honestly, usually 0: a wrong value, or a value of a kind the API does not promise); the other
tests keep the reference's points. Attacks on different functions of one assignment are graded
together in one submission (`bundles`), so the suite grades each assignment once or twice.

Classes (issue 13, "Integrity"): values of the wrong kind that arithmetic or a comparison
accepts (broadcasting shapes, complex, strings, lists, NaN), stateful functions (call counters,
caches, answers that change once the visible test has passed), parameters that leak the labels
they are given, kernel-side monkeypatching, and notebook tampering (metadata, cell types,
duplicated or deleted cells, definitions after the tests).
"""

from __future__ import annotations

import ast
import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[2]
ASSIGNMENTS = ("lab1_perceptron_gd", "lab2_softmax_backprop", "hw4_mlp")


@dataclass
class IntegrityAttack:
    """One hostile submission variant and the most its target tests may earn."""

    assignment: str
    name: str
    what: str
    stopped_by: str
    bound: dict[str, float]  # grade_id -> the most that test may give
    replace: dict[str, str] = field(default_factory=dict)  # function name -> its new source
    mutate: Callable[[nbformat.NotebookNode], None] | None = None
    alone: bool = False  # tampers with the notebook: graded in a submission of its own


def master_answers(assignment: str) -> dict[str, str]:
    """grade_id -> source of every answer cell of the master (the reference solution)."""
    nb = nbformat.read(ROOT / "source" / assignment / f"{assignment}.ipynb", as_version=4)
    return {
        c.metadata["nbgrader"]["grade_id"]: c.source
        for c in nb.cells
        if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("solution")
    }


def _defined(source: str) -> set[str]:
    return {n.name for n in ast.parse(source).body if isinstance(n, ast.FunctionDef)}


def submission(attacks: list[IntegrityAttack]) -> nbformat.NotebookNode:
    """The released notebook, answers from the master, then every attack's changes."""
    assignment = attacks[0].assignment
    answers = master_answers(assignment)
    nb = nbformat.read(ROOT / "release" / assignment / f"{assignment}.ipynb", as_version=4)
    replace = {k: v for attack in attacks for k, v in attack.replace.items()}
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type == "code" and meta.get("solution"):
            source = answers[meta["grade_id"]]
            for name in _defined(source) & set(replace):
                source = replace[name].strip() + "\n"
            cell.source = source
    for attack in attacks:
        if attack.mutate is not None:
            attack.mutate(nb)
    return nb


def _names_used(source: str) -> set[str]:
    return {n.id for n in ast.walk(ast.parse(source)) if isinstance(n, ast.Name)}


def _reads(attack: IntegrityAttack) -> set[str]:
    """Names whose values decide the attack's target tests: the names its target test cells
    and its replacement functions use (a test of `gradient_descent` also runs the student's
    `squared_loss_gradient`)."""
    nb = nbformat.read(ROOT / "source" / attack.assignment / f"{attack.assignment}.ipynb", 4)
    names = set().union(*(_names_used(source) for source in attack.replace.values()))
    for cell in _test_cells(nb):
        if cell.metadata["nbgrader"]["grade_id"] in attack.bound:
            names |= _names_used(cell.source)
    return names


def bundles(assignment: str) -> list[list[IntegrityAttack]]:
    """The attacks of one assignment, grouped so that no attack in a group replaces a function
    another one's target tests or replacements use, and no two target the same test;
    tampering attacks alone."""
    groups: list[list[IntegrityAttack]] = []
    for attack in (a for a in INTEGRITY_ATTACKS if a.assignment == assignment):
        if attack.alone:
            groups.append([attack])
            continue
        for group in groups:
            if group[0].alone:
                continue
            clash = any(
                set(attack.replace) & _reads(other)
                or set(other.replace) & _reads(attack)
                or set(attack.bound) & set(other.bound)
                for other in group
            )
            if not clash:
                group.append(attack)
                break
        else:
            groups.append([attack])
    return groups


# ------------------------------------------------------------------ notebook tampering
def _test_cells(nb):
    return [
        c
        for c in nb.cells
        if c.cell_type == "code"
        and c.metadata.get("nbgrader", {}).get("grade")
        and not c.metadata.get("nbgrader", {}).get("solution")
    ]


def _blank_answers(nb) -> None:
    for cell in nb.cells:
        if cell.cell_type == "code" and cell.metadata.get("nbgrader", {}).get("solution"):
            cell.source = ""


def _tamper_metadata(nb) -> None:
    """No answers; every test worth 100 points and emptied, one turned into markdown, one
    deleted, one duplicated, one answer cell claiming a test's grade_id, checksums dropped."""
    _blank_answers(nb)
    tests = _test_cells(nb)
    for cell in tests:
        meta = cell.metadata["nbgrader"]
        meta.update(points=100, locked=False)
        meta.pop("checksum", None)
        cell.source = "pass"
    tests[0].cell_type = "markdown"
    tests[0].pop("outputs", None)
    tests[0].pop("execution_count", None)
    nb.cells.remove(tests[1])
    nb.cells.append(copy.deepcopy(tests[2]))
    answer = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution"))
    answer.metadata["nbgrader"].update(
        grade=True, grade_id=tests[3].metadata["nbgrader"]["grade_id"]
    )
    answer.metadata["nbgrader"]["solution"] = False
    answer.source = "print('tests passed')"


def _define_after_tests(nb) -> None:
    """No answers before the tests; the master's answers are defined in a cell after the last
    test (a later cell redefining functions once the tests have run)."""
    answers = "\n\n".join(
        c.source for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution")
    )
    _blank_answers(nb)
    nb.cells.append(nbformat.v4.new_code_cell(answers))


def _duplicate_grade_id_cells(nb) -> None:
    """No answers; before each test, a copy of that test cell whose source is `pass` (same
    grade_id, same metadata), and a raw cell carrying the test's metadata."""
    _blank_answers(nb)
    for cell in _test_cells(nb):
        fake = copy.deepcopy(cell)
        fake.source = "pass"
        fake.pop("id", None)
        raw = nbformat.v4.new_raw_cell("pass")
        raw.metadata = copy.deepcopy(cell.metadata)
        at = nb.cells.index(cell)
        nb.cells[at:at] = [fake, raw]


def _kernel_patches(nb) -> None:
    """No answers; a first cell patches the kernel's numpy, nnhelpers checks and data loader,
    and builtins the tests use (tests judge in the grader, with the grader's own modules)."""
    _blank_answers(nb)
    nb.cells.insert(
        1,
        nbformat.v4.new_code_cell(
            "import builtins, numpy as np, nnhelpers.gradcheck as gc, nnhelpers.data as data\n"
            "np.allclose = np.isclose = np.array_equal = lambda *a, **k: True\n"
            "class _Ok:\n    passed = True\n    def raise_if_failed(self):\n        return self\n"
            "gc.compare = gc.check_vjp = gc.check_gradient = lambda *a, **k: _Ok()\n"
            "data.load_mnist = lambda *a, **k: (np.zeros((10, 196)), np.zeros(10, int),"
            " np.zeros((10, 196)), np.zeros(10, int))\n"
            "builtins.isinstance = lambda *a: True\nbuiltins.AssertionError = Warning\n"
        ),
    )


def _tamper(assignment: str, name: str, mutate, what: str, stopped_by: str) -> IntegrityAttack:
    answers = master_answers(assignment)
    nb = nbformat.read(ROOT / "source" / assignment / f"{assignment}.ipynb", as_version=4)
    bound = {c.metadata["nbgrader"]["grade_id"]: 0.0 for c in _test_cells(nb)}
    assert answers  # the master has answers to blank
    return IntegrityAttack(assignment, name, what, stopped_by, bound, mutate=mutate, alone=True)


# ------------------------------------------------------------------ lab 1
LAB1 = "lab1_perceptron_gd"
LAB1_ATTACKS = [
    IntegrityAttack(
        LAB1,
        "l1_predict_row_vector",
        "perceptron_predict returns its right values as a (1, R) row, which broadcasts "
        "against (R,) targets",
        "the test asserts the promised shape (R,) before comparing",
        {"test_perceptron_predict": 0},
        {"perceptron_predict": "def perceptron_predict(X, w):\n    return (X @ w)[None, :]\n"},
    ),
    IntegrityAttack(
        LAB1,
        "l1_loss_as_string",
        "squared_loss returns a hard-coded string '12.125' (the visible value), float() of it "
        "passes the visible check",
        "float() of the string is right only on the visible input; the hidden inputs differ",
        {"test_squared_loss": 0},
        {"squared_loss": "def squared_loss(y_tilde, y):\n    return '12.125'\n"},
    ),
    IntegrityAttack(
        LAB1,
        "l1_gradient_nan",
        "squared_loss_gradient returns NaN of the right shape (NaN fails every == test, so "
        "'not equal to a known wrong value' checks pass)",
        "the gradient checker reports NaN as wrong",
        {"test_squared_loss_gradient": 0},
        {
            "squared_loss_gradient": "def squared_loss_gradient(X, w, y):\n"
            "    return np.full(np.shape(w), np.nan)\n"
        },
    ),
    IntegrityAttack(
        LAB1,
        "l1_divergence_one_element_array",
        "answer_divergence_learning_rate returns a (1, 1) array holding 2 / sum(x**2)",
        "the test asserts one number (ndim 0)",
        {"test_answer_divergence_learning_rate": 0},
        {
            "answer_divergence_learning_rate": "def answer_divergence_learning_rate(x):\n"
            "    return np.array([[2.0 / np.sum(np.asarray(x) ** 2)]])\n"
        },
    ),
    IntegrityAttack(
        LAB1,
        "l1_saturated_str_subclass",
        "answer_saturated_neuron returns 'a' as a str subclass whose strip() and lower() say 'b'",
        "values are rebuilt as plain types; a str subclass becomes a handle that is no str",
        {"test_answer_saturated_neuron": 0},
        {
            "answer_saturated_neuron": "class _Answer(str):\n"
            "    def strip(self, *args):\n        return _Answer('b')\n"
            "    def lower(self):\n        return 'b'\n"
            "    def __eq__(self, other):\n        return True\n"
            "    __hash__ = str.__hash__\n\n"
            "def answer_saturated_neuron():\n    return _Answer('a')\n"
        },
    ),
    IntegrityAttack(
        LAB1,
        "l1_sigmoid_derivative_complex",
        "sigmoid_derivative returns its values plus 1j: a complex array the checkers read "
        "through its real part",
        "compare and the gradient checkers refuse complex values with an imaginary part",
        {"test_sigmoid_derivative": 0},
        {
            "sigmoid_derivative": "def sigmoid_derivative(a):\n    f = sigmoid(a)\n"
            "    return f * (1 - f) + 1j\n"
        },
    ),
    IntegrityAttack(
        LAB1,
        "l1_tanh_derivative_counts_calls",
        "tanh_derivative is right for its first two calls (the visible test) and returns "
        "ones afterwards",
        "the hidden checks compare with the grader's own values on every call",
        {"test_tanh_derivative": 0},
        {
            "tanh_derivative": "_calls = []\n\ndef tanh_derivative(a):\n    _calls.append(1)\n"
            "    if len(_calls) <= 1:\n        return 1 - np.tanh(a) ** 2\n"
            "    return np.ones_like(np.asarray(a, dtype=float))\n"
        },
    ),
    IntegrityAttack(
        LAB1,
        "l1_relu_derivative_bool_mask_nan_kink",
        "relu_derivative returns NaN at the kink and -0.0 where a < 0",
        "the kink must be 0 or 1 (NaN is neither)",
        {"test_relu_derivative": 0},
        {
            "relu_derivative": "def relu_derivative(a):\n    a = np.asarray(a, dtype=float)\n"
            "    return np.where(a > 0, 1.0, np.where(a < 0, -0.0, np.nan))\n"
        },
    ),
    IntegrityAttack(
        LAB1,
        "l1_sigmoid_gradient_db_array",
        "sigmoid_neuron_gradient returns dL_db as a (1,) array and dL_dw as a column",
        "the test asserts dL_dw (n,) and one number for dL_db",
        {"test_sigmoid_neuron_gradient": 0},
        {
            "sigmoid_neuron_gradient": "def sigmoid_neuron_gradient(X, w, b, y):\n"
            "    f = sigmoid(X @ w + b)\n    delta = (f - y) * f * (1 - f)\n"
            "    return (X.T @ delta)[:, None], np.array([np.sum(delta)])\n"
        },
    ),
    IntegrityAttack(
        LAB1,
        "l1_gradient_descent_updates_w0_in_place",
        "gradient_descent updates the caller's w0 in place (w = w0; w -= ...), against the API "
        "('leave the array unchanged'), and returns the right w and losses",
        "the test checks w0 after the call; the kernel's copy of w0 must count, not the grader's",
        {"test_gradient_descent": 0},
        {
            "gradient_descent": "def gradient_descent(X, y, w0, lr, iterations):\n"
            "    w = w0\n    losses = [squared_loss(perceptron_predict(X, w), y)]\n"
            "    for _ in range(iterations):\n"
            "        w -= lr * squared_loss_gradient(X, w, y)\n"
            "        losses.append(squared_loss(perceptron_predict(X, w), y))\n"
            "    return w, np.array(losses)\n"
        },
    ),
    _tamper(
        LAB1,
        "l1_tamper_metadata",
        _tamper_metadata,
        "no answers; tests emptied and worth 100, one turned to markdown, one deleted, one "
        "duplicated, an answer cell claiming a test's grade_id, checksums dropped",
        "prepare() rebuilds every test cell from the master (points, source, type, place)",
    ),
    _tamper(
        LAB1,
        "l1_define_after_tests",
        _define_after_tests,
        "no answers before the tests; the correct functions defined in a cell after the last one",
        "each test runs at its place in the notebook: the names are not defined yet",
    ),
]

# ------------------------------------------------------------------ lab 2
LAB2 = "lab2_softmax_backprop"
LAB2_ATTACKS = [
    IntegrityAttack(
        LAB2,
        "l2_train_leaks_labels_after_first_call",
        "train_two_layer returns untrained parameters of the promised shapes on its first call "
        "(the visible shape test), then b2 of shape (R, K) = 1000 * one_hot(y): the logits "
        "broadcast to the labels it was given",
        "the test checks every parameter's shape, dtype and finiteness on every call, before "
        "any arithmetic",
        {"test_train_two_layer": 0},
        {
            "train_two_layer": "_calls = []\n\n"
            "def train_two_layer(X, y, n_hidden=8, lr=2.0, epochs=2000, seed=0):\n"
            "    _calls.append(1)\n    y = np.asarray(y)\n    K = int(y.max()) + 1\n"
            "    W1, b1, W2 = np.zeros((8, X.shape[1])), np.zeros(8), np.zeros((K, 8))\n"
            "    if len(_calls) == 1:\n        return W1, b1, W2, np.zeros(K)\n"
            "    return W1, b1, W2, 1000.0 * np.eye(K)[y]\n"
        },
    ),
    IntegrityAttack(
        LAB2,
        "l2_softmax_row_of_uniform",
        "softmax returns a (1, K) row of 1/K: it broadcasts against every (R, K) comparison",
        "shape asserted before the values are compared",
        {"test_softmax": 0},
        {
            "softmax": "def softmax(A):\n    K = np.shape(A)[1]\n"
            "    return np.full((1, K), 1.0 / K)\n"
        },
    ),
    IntegrityAttack(
        LAB2,
        "l2_cross_entropy_list",
        "cross_entropy returns [L], a list of one number",
        "the test asserts one number (ndim 0)",
        {"test_cross_entropy": 0},
        {
            "cross_entropy": "def cross_entropy(A, Y):\n    c = np.max(A, axis=1, keepdims=True)\n"
            "    lse = c + np.log(np.sum(np.exp(A - c), axis=1, keepdims=True))\n"
            "    return [float(-np.sum(Y * (A - lse)))]\n"
        },
    ),
    IntegrityAttack(
        LAB2,
        "l2_gradient_half_then_consistent",
        "cross_entropy_gradient gives half the gradient, and cross_entropy gives half the loss "
        "on every call after the first, so the student's forward agrees with its gradient",
        "gradients are checked against the grader's own loss, never the student's",
        {"test_cross_entropy_gradient": 0},
        {
            "cross_entropy_gradient": "def cross_entropy_gradient(A, Y):\n"
            "    return 0.5 * (softmax(A) - Y)\n",
            "cross_entropy": "_calls = []\n\ndef cross_entropy(A, Y):\n    _calls.append(1)\n"
            "    c = np.max(A, axis=1, keepdims=True)\n"
            "    lse = c + np.log(np.sum(np.exp(A - c), axis=1, keepdims=True))\n"
            "    return float(-np.sum(Y * (A - lse))) * (1.0 if len(_calls) == 1 else 0.5)\n",
        },
    ),
    IntegrityAttack(
        LAB2,
        "l2_backward_transposed_square",
        "two_layer_backward returns dL_dW2 transposed (its shape would be right if K = m) and "
        "the other gradients right",
        "shapes asserted against the parameters; the values checked numerically",
        {"test_two_layer_backward": 0},
        {
            "two_layer_backward": "def two_layer_backward(dL_dA2, X, F1, W2):\n"
            "    dL_dW2 = (dL_dA2.T @ F1).T\n    dL_db2 = dL_dA2.sum(axis=0)\n"
            "    dL_dA1 = (dL_dA2 @ W2) * F1 * (1 - F1)\n"
            "    return dL_dA1.T @ X, dL_dA1.sum(axis=0), dL_dW2, dL_db2\n"
        },
    ),
    IntegrityAttack(
        LAB2,
        "l2_forward_caches_first_answer",
        "two_layer_forward computes its first call honestly and returns that first answer "
        "for every later call",
        "the hidden test calls it on other inputs and compares with the grader's values",
        {"test_two_layer_forward": 0},
        {
            "two_layer_forward": "_cache = []\n\ndef two_layer_forward(X, W1, b1, W2, b2):\n"
            "    if not _cache:\n        F1 = sigmoid(X @ W1.T + b1)\n"
            "        _cache.append((F1, F1 @ W2.T + b2))\n    return _cache[0]\n"
        },
    ),
    IntegrityAttack(
        LAB2,
        "l2_softmax_in_place",
        "softmax overwrites the caller's logits A with the probabilities and returns A",
        "the test checks A after the call; the kernel's copy of A must count, not the grader's",
        {"test_softmax": 0},
        {
            "softmax": "def softmax(A):\n    A -= np.max(A, axis=1, keepdims=True)\n"
            "    np.exp(A, out=A)\n    A /= np.sum(A, axis=1, keepdims=True)\n    return A\n"
        },
    ),
    _tamper(
        LAB2,
        "l2_duplicate_grade_ids",
        _duplicate_grade_id_cells,
        "no answers; before each test a copy of it with source `pass` (same grade_id and "
        "metadata) and a raw cell carrying its metadata",
        "prepare() keeps one test cell per grade_id, the master's, at the master's place",
    ),
    _tamper(
        LAB2,
        "l2_kernel_patches",
        _kernel_patches,
        "no answers; the kernel's np.allclose, nnhelpers checks, data loader, isinstance and "
        "AssertionError patched",
        "test cells are judged in the grader with its own numpy, nnhelpers and builtins",
    ),
]

# ------------------------------------------------------------------ HW 4
HW4 = "hw4_mlp"
HW4_ATTACKS = [
    IntegrityAttack(
        HW4,
        "hw4_mlp_shapes_first_then_label_bias",
        "train_mlp returns untrained parameters of the promised shapes on the tiny set, then on "
        "MNIST b2 of shape (N_test, 10) built from the test labels it loads in the sandbox",
        "every parameter is shape-checked on every call before the accuracy is computed",
        {"test_train_mlp": 0},
        {
            "train_mlp": "def train_mlp(mini_batch_x, mini_batch_y, **kwargs):\n"
            "    n = np.shape(mini_batch_x[0])[1]\n"
            "    w1, b1 = np.zeros((30, n)), np.zeros(30)\n    w2 = np.zeros((10, 30))\n"
            "    if len(mini_batch_x) < 10:\n        return w1, b1, w2, np.zeros(10)\n"
            "    from nnhelpers.data import load_mnist\n"
            "    *_, label_test = load_mnist(variant='hw4')\n"
            "    return w1, b1, w2, 1000.0 * np.eye(10)[label_test]\n"
        },
    ),
    IntegrityAttack(
        HW4,
        "hw4_slp_linear_complex_and_object",
        "train_slp_linear returns w as a complex array and b as a list of strings",
        "parameters must be real numbers of the promised shapes (dtype checked)",
        {"test_train_slp_linear": 0},
        {
            "train_slp_linear": "def train_slp_linear(mini_batch_x, mini_batch_y, **kwargs):\n"
            "    n = np.shape(mini_batch_x[0])[1]\n"
            "    return np.zeros((10, n)) + 1j, [str(v) for v in range(10)]\n"
        },
    ),
    IntegrityAttack(
        HW4,
        "hw4_euclidean_consistent_half_gradient_after_visible",
        "loss_euclidean is right on its first call (the visible test), then returns half the "
        "gradient together with a loss halved to match",
        "hidden checks compare value and gradient with the grader's own, on repeated calls",
        {"test_loss_euclidean": 0},
        {
            "loss_euclidean": "_calls = []\n\ndef loss_euclidean(y_tilde, y):\n"
            "    _calls.append(1)\n    d = y_tilde - y\n    k = 1.0 if len(_calls) == 1 else 0.5\n"
            "    return k * float(np.sum(d ** 2)), k * 2 * d\n"
        },
    ),
    IntegrityAttack(
        HW4,
        "hw4_fc_column_bias_broadcast",
        "fc returns x @ w.T with the bias added as a (1, m) row of a shape (1, 1, m): an "
        "(1, R, m) result that broadcasts against (R, m)",
        "compare refuses a result of another shape",
        {"test_fc": 0},
        {"fc": "def fc(x, w, b):\n    return (x @ w.T + b)[None]\n"},
    ),
    IntegrityAttack(
        HW4,
        "hw4_relu_backward_complex",
        "relu_backward returns its right values plus 1j",
        "compare and the gradient checker refuse complex values; the hidden test checks dtypes",
        {"test_relu_backward": 0},
        {"relu_backward": "def relu_backward(dl_dy, x, y):\n    return dl_dy * (x > 0) + 1j\n"},
    ),
    IntegrityAttack(
        HW4,
        "hw4_answer_zero_init_bytes",
        "answer_zero_init returns b'C' (bytes, not a string)",
        "the test asserts a str",
        {"test_answer_zero_init": 0},
        {"answer_zero_init": "def answer_zero_init():\n    return b'C'\n"},
    ),
    IntegrityAttack(
        HW4,
        "hw4_ce_softmax_nan_gradient",
        "loss_cross_entropy_softmax returns the right loss and a NaN gradient",
        "the gradient is checked for finiteness and against the grader's own values",
        {"test_loss_cross_entropy_softmax": 0},
        {
            "loss_cross_entropy_softmax": "def loss_cross_entropy_softmax(a, y):\n"
            "    s = a - a.max(axis=1, keepdims=True)\n"
            "    log_p = s - np.log(np.exp(s).sum(axis=1, keepdims=True))\n"
            "    return float(-np.sum(y * log_p)), np.full(np.shape(a), np.nan)\n"
        },
    ),
]


def _from_mutation_corpus() -> list[IntegrityAttack]:
    """The labs' in-place bugs (tests/support/mutants/labs): the tests fail them in the
    student's kernel, so the sandbox must too (it works on copies of the test's arrays)."""
    from mutants.labs import lab1_variants, lab2_variants

    chosen = [
        (LAB1, lab1_variants, "descent_asarray_aliases_w0"),
        (LAB2, lab2_variants, "train_centres_the_callers_data_in_place"),
    ]
    return [
        IntegrityAttack(
            assignment,
            f"corpus_{name}",
            f"the mutation corpus's bug {name}: it changes the caller's array in place",
            "the agent reports the change; the call fails naming the argument",
            {corpus.BUGS[name].test: 0},
            dict(corpus.BUGS[name].replace),
        )
        for assignment, corpus, name in chosen
    ]


INTEGRITY_ATTACKS: list[IntegrityAttack] = (
    LAB1_ATTACKS + LAB2_ATTACKS + HW4_ATTACKS + _from_mutation_corpus()
)
BY_NAME = {attack.name: attack for attack in INTEGRITY_ATTACKS}
