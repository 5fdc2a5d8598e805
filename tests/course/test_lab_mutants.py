"""Lab 1 and lab 2: the graded test cells catch typical bugs and give alternatives full marks.

Each master notebook runs once in-process (tests/support/nbharness.py); a variant replaces some
student functions and only the test cells that can depend on them run again. Every bug carries a
cause label from a fixed set. Also checked: the test cells obey the notebook test-cell rule (they
need nothing but the graded functions), the points add up to the total stated at the top, the
written answers are nbgrader manually graded cells, every derived gradient has a gradient-check
cell after it, and (slow) each master runs top to bottom in a kernel.
"""

import ast
import inspect
import re
from pathlib import Path
from types import ModuleType

import nbformat
import pytest
from mutants.labs import lab1_variants, lab2_variants
from nbharness import NotebookHarness, is_test_cell

ROOT = Path(__file__).resolve().parents[2]
LABS: dict[str, tuple[Path, ModuleType]] = {
    "lab1": (ROOT / "source/lab1_perceptron_gd/lab1_perceptron_gd.ipynb", lab1_variants),
    "lab2": (ROOT / "source/lab2_softmax_backprop/lab2_softmax_backprop.ipynb", lab2_variants),
}
ASSIGNMENTS = {"lab1": "lab1_perceptron_gd", "lab2": "lab2_softmax_backprop"}
AUTO_POINTS = 34  # the autograded test cells of each lab
MANUAL_POINTS = 4  # two written derivations per lab, graded by hand in formgrader
TOTAL_POINTS = AUTO_POINTS + MANUAL_POINTS
_HARNESSES: dict[str, NotebookHarness] = {}


def harness(lab: str) -> NotebookHarness:
    """One executed master notebook per lab, shared by all tests of this module."""
    if lab not in _HARNESSES:
        _HARNESSES[lab] = NotebookHarness(LABS[lab][0])
    return _HARNESSES[lab]


def graded_functions(path: Path) -> list[str]:
    """Names of the functions defined in the notebook's solution (answer) code cells."""
    names = []
    for cell in nbformat.read(path, as_version=4).cells:
        if cell.cell_type == "code" and cell.metadata.get("nbgrader", {}).get("solution"):
            tree = ast.parse(cell.source)
            names += [node.name for node in tree.body if isinstance(node, ast.FunctionDef)]
    return names


BUG_CASES = [(lab, name) for lab, (_, corpus) in LABS.items() for name in sorted(corpus.BUGS)]
ALTERNATIVE_CASES = [
    (lab, name) for lab, (_, corpus) in LABS.items() for name in sorted(corpus.ALTERNATIVES)
]


@pytest.mark.parametrize("lab", sorted(LABS))
def test_corpus_is_large_enough_and_covers_every_graded_function(lab):
    path, corpus = LABS[lab]
    assert len(corpus.BUGS) >= 40 and len(corpus.ALTERNATIVES) >= 5
    graded = set(graded_functions(path))
    bugged = {name for bug in corpus.BUGS.values() for name in bug.replace}
    assert bugged == graded, f"graded functions without a buggy variant: {graded - bugged}"
    replaced = {name for variant in corpus.ALTERNATIVES.values() for name in variant}
    assert replaced <= graded, f"alternatives replace non-graded names: {replaced - graded}"


@pytest.mark.parametrize("lab", sorted(LABS))
def test_reference_earns_the_stated_total(lab):
    h = harness(lab)
    results = h.run_tests()
    failed = {g: r.message for g, r in results.items() if not r.passed}
    assert not failed, f"the reference solution of {lab} fails: {failed}"
    assert h.score(results) == h.total_points == AUTO_POINTS
    intro = h.notebook.cells[0].source
    assert f"**Total: {TOTAL_POINTS} points.**" in intro
    table = sum(
        int(p) * (1 + row.count(","))
        for row, p in re.findall(r"^\|[^|]*\|([^|]*)\| (\d+)(?: each)? \|$", intro, re.M)
    )
    assert table == TOTAL_POINTS, f"the points table at the top of {lab} adds up to {table}"


@pytest.mark.parametrize("lab", sorted(LABS))
def test_every_graded_function_has_its_own_test_cell(lab):
    h = harness(lab)
    for name in graded_functions(LABS[lab][0]):
        assert f"test_{name}" in h.test_sources, f"{lab}: no test cell test_{name}"
        assert h.cells_affected_by([name])[0] == f"test_{name}"
        doc = h.namespace[name].__doc__ or ""
        if name.startswith("answer_"):  # an inline question: the docstring says what it returns
            assert re.search(r"Returns|one of", doc), f"{lab}: {name} does not say what to return"
        else:
            assert re.search(r"\(R\b|shape", doc), f"{lab}: {name}'s docstring states no shapes"


@pytest.mark.parametrize("lab", sorted(LABS))
def test_test_cells_need_only_the_graded_functions(lab):
    """The notebook test-cell rule: a test cell sees nothing of the student's other variables."""
    h = harness(lab)
    graded = {name: h.namespace[name] for name in graded_functions(LABS[lab][0])}
    for grade_id, source in h.test_sources.items():
        scope = dict(graded)
        exec(compile(source, f"<{lab} {grade_id}>", "exec"), scope)  # noqa: S102


@pytest.mark.parametrize("lab", sorted(LABS))
def test_hidden_tests_are_marked_in_every_test_cell(lab):
    cells = [c for c in nbformat.read(LABS[lab][0], as_version=4).cells if is_test_cell(c)]
    for cell in cells:
        source = cell.source
        grade_id = cell.metadata["nbgrader"]["grade_id"]
        # several hidden regions are allowed (nbgrader's rule): a hidden check of typical wrong
        # values may sit before the visible check it explains (issue 14)
        begins = source.count("### BEGIN HIDDEN TESTS")
        assert begins >= 1 and begins == source.count("### END HIDDEN TESTS"), grade_id
        visible = source.split("### BEGIN HIDDEN TESTS")[0]
        assert "assert" in visible, f"{lab} {grade_id}: no visible check before the hidden ones"


# -- written answers, gradient-check cells, notation ----------------------------------------------
# the functions a student derives a gradient for: each is followed by a check cell that calls the
# gradient checker on it, and the named bug must make that check cell's report fail
CHECKED = {
    "lab1": {
        "squared_loss_gradient": "gradient_factor_two",
        "sigmoid_neuron_gradient": "neuron_gradient_missing_sigmoid_derivative",
        "sigmoid_derivative": "sigmoid_derivative_of_input_not_output",
        "tanh_derivative": "tanh_derivative_not_squared",
        "relu_derivative": "relu_derivative_returns_relu",
        "softplus_derivative": "softplus_derivative_sign",
    },
    "lab2": {
        "softmax_jacobian": "jacobian_diagonal_only",
        "cross_entropy_gradient": "ce_gradient_mean_over_batch",
        "two_layer_backward": "backward_missing_sigmoid_derivative",
    },
}


def check_cells(lab: str) -> dict[str, str]:
    """function name -> source of the gradient-check cell between its answer cell and its test."""
    cells = nbformat.read(LABS[lab][0], as_version=4).cells
    found = {}
    for i, cell in enumerate(cells):
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type == "code" and meta.get("solution") and meta["grade_id"] in CHECKED[lab]:
            following = cells[i + 1]
            if "gradient-check" in following.metadata.get("tags", []):
                found[meta["grade_id"]] = following.source
    return found


def run_check_cell(h: NotebookHarness, source: str, variant: dict[str, str] | None = None):
    """The value of a check cell's last expression (the checker's result) under a variant."""
    tree = ast.parse(source)
    last = ast.Expression(tree.body.pop().value)
    ns = h.namespace_for(variant)
    exec(compile(tree, "<check cell>", "exec"), ns)  # noqa: S102 - the course's own master
    return eval(compile(last, "<check cell>", "eval"), ns)  # noqa: S307


@pytest.mark.parametrize("lab", sorted(LABS))
def test_every_derived_gradient_has_a_check_cell_that_referees_it(lab):
    h = harness(lab)
    found = check_cells(lab)
    missing = set(CHECKED[lab]) - set(found)
    assert not missing, f"{lab}: no gradient-check cell after {missing}"
    for name, source in found.items():
        assert re.search(r"check_(gradient|vjp)\(", source) and name in source
        result = run_check_cell(h, source)
        assert result.ok, f"{lab}: the check cell of {name} fails on the reference:\n{result}"
        bug = LABS[lab][1].BUGS[CHECKED[lab][name]]
        assert name in bug.replace
        broken = run_check_cell(h, source, bug.replace)
        assert not broken.ok, f"{lab}: the check cell of {name} does not see the bug {bug}"


@pytest.mark.parametrize("lab", sorted(LABS))
def test_written_answers_are_manually_graded_cells(lab):
    master = nbformat.read(LABS[lab][0], as_version=4)
    release_path = ROOT / "release" / ASSIGNMENTS[lab] / f"{ASSIGNMENTS[lab]}.ipynb"
    release = {
        c.metadata.get("nbgrader", {}).get("grade_id"): c
        for c in nbformat.read(release_path, as_version=4).cells
    }
    manual = [
        c
        for c in master.cells
        if c.cell_type == "markdown" and c.metadata.get("nbgrader", {}).get("grade")
    ]
    assert len(manual) == 2
    assert sum(c.metadata["nbgrader"]["points"] for c in manual) == MANUAL_POINTS
    for cell in manual:
        meta = cell.metadata["nbgrader"]
        assert meta["solution"] and not meta["locked"] and meta["points"] > 0, meta
        assert "### BEGIN SOLUTION" in cell.source, "the model answer is marked as a solution"
        student = release[meta["grade_id"]]
        assert student.source.strip() == "YOUR ANSWER HERE", student.source
        assert student.metadata["nbgrader"]["grade"] and student.metadata["nbgrader"]["solution"]


@pytest.mark.parametrize("lab", sorted(LABS))
def test_notation_box_and_names(lab):
    """The second cell is the course's notation box; code names follow it (a, f, A, F1, ...)."""
    h = harness(lab)
    card = (ROOT / "docs" / "notation.md").read_text(encoding="utf-8")
    start, end = "<!-- notation-box:start -->", "<!-- notation-box:end -->"
    box = card.split(start, 1)[1].split(end, 1)[0].strip("\n")
    cell = h.notebook.cells[1]
    assert cell.cell_type == "markdown" and cell.source == box, (
        f"{lab}: cell 1 is not the card's box"
    )
    for name in graded_functions(LABS[lab][0]):
        params = set(inspect.signature(h.namespace[name]).parameters)
        assert not params & {"z", "Z", "H", "s", "S", "m"}, f"{lab}: {name}{sorted(params)}"


@pytest.mark.parametrize(("lab", "name"), BUG_CASES, ids=[f"{a}-{b}" for a, b in BUG_CASES])
def test_bug_loses_points(lab, name):
    h = harness(lab)
    bug = LABS[lab][1].BUGS[name]
    must_fail, variant = bug.test, bug.replace
    assert bug.cause in LABS[lab][1].CAUSES, f"bug {name!r} has an unknown cause {bug.cause!r}"
    cells = h.cells_affected_by(variant)
    assert must_fail in cells, f"{must_fail} does not use {sorted(variant)}"
    results = h.run_tests(variant, only=cells)
    outcome = results[must_fail]
    assert not outcome.passed, f"bug {name!r} passes {must_fail}"
    assert outcome.message.strip(), f"bug {name!r} fails {must_fail} without a message"
    assert "HIDDEN TESTS" not in outcome.message
    assert h.score(results) < sum(h.max_points[g] for g in cells)


@pytest.mark.parametrize(
    ("lab", "name"), ALTERNATIVE_CASES, ids=[f"{a}-{b}" for a, b in ALTERNATIVE_CASES]
)
def test_alternative_earns_full_marks(lab, name):
    h = harness(lab)
    variant = LABS[lab][1].ALTERNATIVES[name]
    results = h.run_tests(variant, only=h.cells_affected_by(variant))
    failed = {g: r.message[:500] for g, r in results.items() if not r.passed}
    assert not failed, f"correct alternative {name!r} loses points: {failed}"


@pytest.mark.slow
@pytest.mark.parametrize("lab", sorted(LABS))
def test_master_notebook_runs_top_to_bottom(lab):
    from nbclient import NotebookClient

    path = LABS[lab][0]
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    )
    client.execute()  # raises CellExecutionError, naming the cell, if any cell fails
    errors = [
        o
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.get("outputs", [])
        if o.get("output_type") == "error"
    ]
    assert not errors


# -- real submissions through `nngrade check` (the grading pipeline, sandbox when available) -----
PIPELINE_BUGS = {
    "lab1": [
        "loss_missing_one_half",
        "neuron_gradient_missing_sigmoid_derivative",
        "relu_derivative_returns_relu",
        "softplus_derivative_unstable",
    ],
    "lab2": [
        "softmax_shift_by_global_max",
        "cross_entropy_log_of_softmax_underflows",
        "backward_bias_mean_over_batch",
        "train_zero_initialisation",
    ],
}


def merged(variants: list[dict[str, str]]) -> dict[str, str]:
    """Several variants in one submission (a later one wins where two replace one function)."""
    out: dict[str, str] = {}
    for variant in variants:
        out.update(variant)
    return out


def write_submission(lab: str, variant: dict[str, str], path: Path) -> Path:
    """The student version (release/) with each replaced function's answer cell holding the
    variant's source; the other answers are the master's (a complete, correct notebook)."""
    master = nbformat.read(LABS[lab][0], as_version=4)
    answers = {
        c.metadata["nbgrader"]["grade_id"]: c.source
        for c in master.cells
        if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("solution")
    }
    nb = nbformat.read(ROOT / "release" / ASSIGNMENTS[lab] / f"{ASSIGNMENTS[lab]}.ipynb", 4)
    for cell in nb.cells:
        if cell.cell_type == "code" and cell.metadata.get("nbgrader", {}).get("solution"):
            cell.source = answers[cell.metadata["nbgrader"]["grade_id"]]
            names = [n.name for n in ast.parse(cell.source).body if isinstance(n, ast.FunctionDef)]
            if names and names[0] in variant:
                cell.source = variant[names[0]].strip() + "\n"
    nbformat.write(nb, str(path))
    return path


def nngrade_check(lab: str, submission: Path) -> dict:
    import json
    import subprocess
    import sys

    command = [
        str(Path(sys.executable).parent / "nngrade"),
        "check",
        ASSIGNMENTS[lab],
        str(submission),
        "--json",
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert done.stdout.strip(), f"nngrade check printed nothing: {done.stderr[-2000:]}"
    return json.loads(done.stdout)


@pytest.mark.slow
@pytest.mark.parametrize("lab", sorted(LABS))
def test_pipeline_grades_bugs_and_alternatives_like_the_harness(lab, tmp_path):
    corpus = LABS[lab][1]
    cases = {
        "bugs": merged([corpus.BUGS[name].replace for name in PIPELINE_BUGS[lab]]),
        "alternatives": merged(list(corpus.ALTERNATIVES.values())),
    }
    h = harness(lab)
    for kind, variant in cases.items():
        expected = h.run_tests(variant)
        report = nngrade_check(lab, write_submission(lab, variant, tmp_path / f"{kind}.ipynb"))
        assert report["status"] == "graded", report["reason"]
        got = {t["grade_id"]: t for t in report["tests"]}
        for grade_id, outcome in expected.items():
            assert got[grade_id]["score"] == outcome.points, (
                f"{lab} {kind}: {grade_id} scores {got[grade_id]['score']} in nngrade but "
                f"{outcome.points} in the harness ({got[grade_id]['message'][:300]})"
            )
            assert "HIDDEN TESTS" not in got[grade_id]["message"]
        if kind == "alternatives":
            assert report["score"] == AUTO_POINTS, report["score"]
        else:
            failed = {corpus.BUGS[name].test for name in PIPELINE_BUGS[lab]}
            assert all(got[g]["score"] == 0 for g in failed)


@pytest.mark.slow
def test_pipeline_gives_an_untouched_student_notebook_zero():
    release = ROOT / "release" / ASSIGNMENTS["lab1"] / f"{ASSIGNMENTS['lab1']}.ipynb"
    report = nngrade_check("lab1", release)
    assert report["status"] == "graded", report["reason"]
    assert report["score"] == 0
    assert all("NotImplementedError" in t["message"] for t in report["tests"])
