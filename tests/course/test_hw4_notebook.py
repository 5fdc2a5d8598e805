"""HW 4 master notebook: fixed names and signatures, points, hidden tests, accuracies, full run."""

import ast
import os
import re
from pathlib import Path

import nbformat
import numpy as np
import pytest
from nbharness import NotebookHarness, is_test_cell

ROOT = Path(__file__).resolve().parents[2]
MASTER = ROOT / "source" / "hw4_mlp" / "hw4_mlp.ipynb"
RELEASE = ROOT / "release" / "hw4_mlp" / "hw4_mlp.ipynb"

# Graders outside this repository call these: names and leading arguments must never change.
SIGNATURES = {
    "get_mini_batch": ["im_train", "label_train", "batch_size", "rng"],
    "fc": ["x", "w", "b"],
    "fc_backward": ["dl_dy", "x", "w", "b", "y"],
    "loss_euclidean": ["y_tilde", "y"],
    "loss_cross_entropy_softmax": ["x", "y"],
    "relu": ["x"],
    "relu_backward": ["dl_dy", "x", "y"],
    "train_slp_linear": ["mini_batch_x", "mini_batch_y"],
    "train_slp": ["mini_batch_x", "mini_batch_y"],
    "train_mlp": ["mini_batch_x", "mini_batch_y"],
    "answer_initial_loss": [],  # the autograded questions, as functions (the test-cell rule)
    "answer_zero_init": [],
}


@pytest.fixture(scope="module")
def notebook() -> nbformat.NotebookNode:
    return nbformat.read(MASTER, as_version=4)


@pytest.fixture(scope="module")
def harness() -> NotebookHarness:
    return NotebookHarness(MASTER, skip={"training", "stretch"})


def _solution_functions(nb) -> dict[str, ast.FunctionDef]:
    functions = {}
    for cell in nb.cells:
        if cell.cell_type == "code" and cell.metadata.get("nbgrader", {}).get("solution"):
            for node in ast.parse(cell.source).body:
                if isinstance(node, ast.FunctionDef):
                    functions[node.name] = node
    return functions


@pytest.mark.parametrize("path", [MASTER, RELEASE], ids=["source", "release"])
def test_graded_functions_keep_their_signatures(path):
    functions = _solution_functions(nbformat.read(path, as_version=4))
    assert sorted(functions) == sorted(SIGNATURES)
    for name, expected in SIGNATURES.items():
        args = [a.arg for a in functions[name].args.args]
        assert args == expected, f"{name}{tuple(args)}: expected positional arguments {expected}"
        assert ast.get_docstring(functions[name]), f"{name} has no docstring stating its shapes"


QUESTIONS = {"test_answer_initial_loss", "test_answer_zero_init"}
WRITTEN = {"why_max_shift": 3, "why_zero_init": 3}  # graded by hand in formgrader


def test_total_points_are_stated_and_each_function_is_tested(notebook):
    tests = [c for c in notebook.cells if is_test_cell(c)]
    points = {c.metadata.nbgrader["grade_id"]: c.metadata.nbgrader["points"] for c in tests}
    assert set(points) == {f"test_{name}" for name in SIGNATURES} | set(QUESTIONS)
    written = {
        c.metadata.nbgrader["grade_id"]: c.metadata.nbgrader["points"]
        for c in notebook.cells
        if c.cell_type == "markdown" and c.metadata.get("nbgrader", {}).get("grade")
    }
    assert written == WRITTEN
    stated = re.search(
        r"\*\*Total: (\d+) points\*\*: (\d+) autograded in (\d+) test cells, and "
        r"(\d+) for two",
        notebook.cells[0].source,
    )
    assert stated, "the title cell states the total, the autograded and the hand-graded points"
    total, auto, cells, manual = map(int, stated.groups())
    assert (total, auto, cells, manual) == (
        sum(points.values()) + sum(written.values()),
        sum(points.values()),
        len(tests),
        sum(written.values()),
    )
    assert total == 100
    for cell in tests:
        grade_id = cell.metadata.nbgrader["grade_id"]
        assert "### BEGIN HIDDEN TESTS" in cell.source, f"{grade_id} has no hidden tests"
        assert "raise_if_failed()" in cell.source or "assert " in cell.source, grade_id


def test_written_answers_are_manually_graded_markdown_with_a_model_answer(notebook):
    for cell in notebook.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade_id") in WRITTEN:
            assert cell.cell_type == "markdown" and meta["solution"] and meta["grade"]
            assert not meta["locked"] and meta["points"] == WRITTEN[meta["grade_id"]]
            assert cell.source.startswith("### BEGIN SOLUTION") and "Marking" in cell.source
    released = {
        c.metadata["nbgrader"]["grade_id"]: c.source
        for c in nbformat.read(RELEASE, as_version=4).cells
        if c.metadata.get("nbgrader", {}).get("grade_id") in WRITTEN
    }
    assert released == dict.fromkeys(WRITTEN, "YOUR ANSWER HERE")


def test_notation_box_is_the_second_cell(notebook):
    card = (ROOT / "docs" / "notation.md").read_text()
    box = card.split("<!-- notation-box:start -->", 1)[1].split("<!-- notation-box:end -->", 1)[0]
    assert notebook.cells[1].cell_type == "markdown"
    assert notebook.cells[1].source == box.strip("\n")


def test_algorithm_2_is_stated_with_its_departures_from_the_seed(notebook):
    text = next(c.source for c in notebook.cells if c.source.startswith("### Training: Algo"))
    for step in (
        "Shuffle once",
        "K = \\lceil N / R \\rceil",
        "t \\bmod T = 0",
        "k = t \\bmod K",
        "**summed**",
        "\\frac{\\gamma}{R}",
        "W \\sim \\mathcal N(0, \\sigma_0^2)",
    ):
        assert step in text, step
    for departure in (
        "*Sampling.*",
        "*Decay schedule.*",
        "*Initialisation.*",
        "375 iterations",
        "0.9^{49}",
    ):
        assert departure in text, departure


@pytest.mark.parametrize("name", ["train_slp_linear", "train_slp", "train_mlp"])
def test_history_records_every_iteration_and_changes_nothing(harness, name):
    ns = harness.namespace
    rng = np.random.default_rng(5)
    batches_x = [rng.random((4, 196)) for _ in range(3)]
    batches_y = [np.eye(10)[rng.integers(0, 10, 4)] for _ in range(3)]
    history: list = []
    recorded = ns[name](batches_x, batches_y, n_iterations=7, history=history)
    plain = ns[name](batches_x, batches_y, n_iterations=7)
    assert [t for t, _ in history] == list(range(7))
    assert all(np.array_equal(p, q) for p, q in zip(recorded, plain, strict=True))
    loss = ns["loss_euclidean" if name == "train_slp_linear" else "loss_cross_entropy_softmax"]
    first = ns[name](batches_x, batches_y, n_iterations=0)  # the initial parameters
    if name == "train_mlp":
        w1, b1, w2, b2 = first
        prediction = np.maximum(batches_x[0] @ w1.T + b1, 0) @ w2.T + b2
    else:
        w, b = first
        prediction = batches_x[0] @ w.T + b
    assert history[0][1] == pytest.approx(loss(prediction, batches_y[0])[0])


def test_hidden_tests_require_the_issue_accuracies(notebook):
    sources = {c.metadata.nbgrader["grade_id"]: c.source for c in notebook.cells if is_test_cell(c)}
    for grade_id, threshold in (
        ("test_train_slp_linear", "0.75"),
        ("test_train_slp", "0.85"),
        ("test_train_mlp", "0.90"),
    ):
        assert f"accuracy >= {threshold}" in sources[grade_id]


def test_stretch_is_off_by_default():
    for path in (MASTER, RELEASE):
        cells = nbformat.read(path, as_version=4).cells
        flags = [c.source for c in cells if "stretch" in c.metadata.get("tags", [])]
        assert any(re.search(r"^RUN_STRETCH = False\b", s, re.MULTILINE) for s in flags), path


@pytest.mark.slow
def test_reference_reaches_the_reference_accuracies(harness):
    """Steps 1-3 with the defaults reach 0.80 / 0.88 / 0.91 on the hw4 test set."""
    ns = harness.namespace
    batch_x, batch_y = ns["get_mini_batch"](ns["im_train"], ns["label_train"], 32, rng=0)
    x_test, y_test = ns["im_test"], ns["label_test"]
    fc, relu = ns["fc"], ns["relu"]
    w, b = ns["train_slp_linear"](batch_x, batch_y)
    step1 = np.mean(np.argmax(fc(x_test, w, b), axis=1) == y_test)
    w, b = ns["train_slp"](batch_x, batch_y)
    step2 = np.mean(np.argmax(fc(x_test, w, b), axis=1) == y_test)
    w1, b1, w2, b2 = ns["train_mlp"](batch_x, batch_y)
    step3 = np.mean(np.argmax(fc(relu(fc(x_test, w1, b1)), w2, b2), axis=1) == y_test)
    assert (step1, step2, step3) >= (0.80, 0.0, 0.0) and step2 >= 0.88 and step3 >= 0.91, (
        f"reference accuracies {step1:.4f} / {step2:.4f} / {step3:.4f}"
    )


def test_hidden_tests_are_not_visible_to_students(harness):
    visible = NotebookHarness(MASTER, skip={"training", "stretch"}, hidden=False)
    assert all("HIDDEN" not in src for src in visible.test_sources.values())
    crude = {
        "get_mini_batch": "def get_mini_batch(im_train, label_train, batch_size, rng=None):\n"
        "    n = -(-len(im_train) // batch_size)\n"
        "    return ([np.zeros((batch_size, 196))] * n, [np.zeros((batch_size, 10))] * n)\n"
    }
    assert visible.run_tests(crude, only=["test_get_mini_batch"])["test_get_mini_batch"].passed
    assert not harness.run_tests(crude, only=["test_get_mini_batch"])["test_get_mini_batch"].passed


@pytest.mark.slow
def test_master_runs_top_to_bottom_with_one_blas_thread(tmp_path):
    """The whole master, test cells included, as the autograder runs it (timed in the README)."""
    from nbclient import NotebookClient

    nb = nbformat.read(MASTER, as_version=4)
    env_before = {k: os.environ.get(k) for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS")}
    os.environ.update(OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    try:
        NotebookClient(
            nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
        ).execute()
    finally:
        for key, value in env_before.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    errors = [
        o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"
    ]
    assert not errors, f"{errors[0].ename}: {errors[0].evalue}" if errors else ""
    printed = "".join(
        o.get("text", "")
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.outputs
        if o.output_type == "stream"
    )
    assert "train_mlp: visible tests passed" in printed
