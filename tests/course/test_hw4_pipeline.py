"""HW 4 variants as real submissions through `nngrade check`: the pipeline scores like the harness.

A submission is the student version (release/) with every answer cell filled in from the master
and some answers replaced by variants of tests/support/mutants/hw4_variants.py. One submission
carries several bugs (each in a different function), another several alternatives; each graded cell
must score the same in the pipeline (sandbox when available) as in the in-process harness.
"""

import ast
import json
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from mutants.hw4_variants import ALTERNATIVES, BUGS
from nbharness import NotebookHarness

ROOT = Path(__file__).resolve().parents[2]
MASTER = ROOT / "source" / "hw4_mlp" / "hw4_mlp.ipynb"
RELEASE = ROOT / "release" / "hw4_mlp" / "hw4_mlp.ipynb"
PIPELINE_BUGS = [
    "batch_labels_shuffled_apart",
    "fc_backward_dw_factor_two",
    "softmax_unstable",
    "relu_backward_ignores_upstream",
    "slp_first_batch_only",
]
# Attacks on the tests' integrity (issue 13), each in a different function: stateful losses and
# backward functions, a broadcasting 'bias', training on the notebook's own data.
PIPELINE_ATTACKS = [
    "euclidean_stateful_half_gradient",
    "fc_backward_accumulates_across_calls",
    "softmax_correct_only_at_first",
    "slp_returns_test_label_bias",
    "mlp_trains_on_notebook_images",
]
# Loop-based alternatives are left out here: they are correct but slow to train under a
# grader's per-cell time limit on a busy machine (the harness covers them).
PIPELINE_ALTERNATIVES = [
    "batch_python_loop",
    "fc_einsum_and_backward_einsum",
    "euclidean_norm_squared",
    "cross_entropy_log_of_stable_softmax",
    "relu_where_backward_ge_mask",
    "training_own_hyperparameters_epochs",
]


def _merged(variants: list[dict[str, str]]) -> dict[str, str]:
    out: dict[str, str] = {}
    for variant in variants:
        out.update(variant)
    return out


def _submission(variant: dict[str, str], path: Path) -> Path:
    master = nbformat.read(MASTER, as_version=4)
    answers = {
        c.metadata["nbgrader"]["grade_id"]: c.source
        for c in master.cells
        if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("solution")
    }
    nb = nbformat.read(RELEASE, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code" and cell.metadata.get("nbgrader", {}).get("solution"):
            cell.source = answers[cell.metadata["nbgrader"]["grade_id"]]
            tree = ast.parse(cell.source)
            defined = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
            defined |= {
                t.id
                for n in ast.walk(tree)
                if isinstance(n, ast.Assign)
                for t in n.targets
                if isinstance(t, ast.Name)
            }
            name = next((n for n in defined if n in variant), None)
            if name is not None:
                cell.source = variant[name].strip() + "\n"
    nbformat.write(nb, str(path))
    return path


def _nngrade_check(submission: Path) -> dict:
    command = [
        str(Path(sys.executable).parent / "nngrade"),
        "check",
        "hw4_mlp",
        str(submission),
        "--json",
    ]
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=900, cwd=ROOT, check=False
    )
    assert done.stdout.strip(), f"nngrade check printed nothing: {done.stderr[-2000:]}"
    return json.loads(done.stdout)


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("kind", ["bugs", "attacks", "alternatives"])
def test_pipeline_grades_variants_like_the_harness(kind, tmp_path):
    chosen = {"bugs": PIPELINE_BUGS, "attacks": PIPELINE_ATTACKS}.get(kind, [])
    if chosen:
        variant = _merged([BUGS[name][1] for name in chosen])
    else:
        variant = _merged([ALTERNATIVES[name] for name in PIPELINE_ALTERNATIVES])
    harness = NotebookHarness(MASTER, skip={"training", "stretch"})
    expected = harness.run_tests(variant)
    report = _nngrade_check(_submission(variant, tmp_path / f"{kind}.ipynb"))
    assert report["status"] == "graded", report["reason"]
    got = {t["grade_id"]: t for t in report["tests"]}
    for grade_id, outcome in expected.items():
        assert got[grade_id]["score"] == outcome.points, (
            f"{kind}: {grade_id} scores {got[grade_id]['score']} in nngrade but {outcome.points} "
            f"in the harness ({got[grade_id]['message'][:300]})"
        )
        assert "HIDDEN TESTS" not in got[grade_id]["message"]
    if kind == "alternatives":  # every autograded point (the written answers are graded by hand)
        assert sum(got[g]["score"] for g in expected) == harness.total_points == 94
    else:
        assert all(got[BUGS[name][0]]["score"] == 0 for name in chosen)
