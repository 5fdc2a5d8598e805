"""Mutation testing of HW 4's graded test cells: every bug loses points, every alternative passes.

The master notebook runs once (training demos skipped); each variant then replaces functions and
only the test cells that can depend on them run again (see NotebookHarness.cells_affected_by).
"""

from pathlib import Path

import pytest
from mutants.hw4_variants import ALTERNATIVES, BUGS, CAUSE_LABELS, CAUSES, INTEGRITY_ATTACKS
from nbharness import NotebookHarness

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")  # diverging bugs overflow
MASTER = Path(__file__).resolve().parents[2] / "source" / "hw4_mlp" / "hw4_mlp.ipynb"


@pytest.fixture(scope="module")
def harness() -> NotebookHarness:
    return NotebookHarness(MASTER, skip={"training", "stretch"})


def test_corpus_is_large_enough():
    assert len(BUGS) >= 50 and len(ALTERNATIVES) >= 12
    graded = {name for _, variant in BUGS.values() for name in variant}
    graded |= {name for variant in ALTERNATIVES.values() for name in variant}
    assert graded >= {
        "get_mini_batch",
        "fc",
        "fc_backward",
        "loss_euclidean",
        "loss_cross_entropy_softmax",
        "relu",
        "relu_backward",
        "train_slp_linear",
        "train_slp",
        "train_mlp",
        "answer_initial_loss",
        "answer_zero_init",
    }


def test_every_graded_cell_has_bugs_and_every_bug_a_cause(harness):
    assert {must_fail for must_fail, _ in BUGS.values()} == set(harness.test_sources)
    assert set(CAUSES) == set(BUGS), sorted(set(CAUSES) ^ set(BUGS))
    assert set(CAUSES.values()) <= set(CAUSE_LABELS)
    # issue 14's list of realistic bugs is covered
    assert {
        "broadcast",
        "alias",
        "integer-division",
        "dot-vs-elementwise",
        "shuffling",
        "test-set",
        "learning-rate-scale",
    } <= set(CAUSES.values())
    assert set(INTEGRITY_ATTACKS) <= set(BUGS)


@pytest.mark.slow
def test_reference_earns_full_marks(harness):
    results = harness.run_tests()
    failed = {g: r.message for g, r in results.items() if not r.passed}
    assert not failed, f"the reference solution fails: {failed}"
    # 94 autograded; the other 6 of the 100 are written answers graded by hand
    assert harness.score(results) == harness.total_points == 94


@pytest.mark.parametrize("name", sorted(INTEGRITY_ATTACKS))
def test_integrity_attack_loses_points_in_any_call_order(harness, name):
    """Stateful or data-stealing variants fail whatever ran before them, and run after run."""
    must_fail, variant = BUGS[name]
    if must_fail.startswith("test_train"):  # a training run: one call, no earlier calls to exploit
        outcome = harness.run_tests(variant, only=[must_fail])[must_fail]
        assert not outcome.passed and outcome.message
        return
    cells = [g for g in harness.cells_affected_by(variant) if not g.startswith("test_train")]
    once = harness.run_tests(variant, only=cells)
    again = harness.run_tests(variant, only=cells[::-1] + cells)  # reversed, then once more
    assert not once[must_fail].passed and not again[must_fail].passed
    assert {g: r.passed for g, r in once.items()} == {g: r.passed for g, r in again.items()}


@pytest.mark.parametrize("name", sorted(BUGS))
def test_bug_loses_points(harness, name):
    must_fail, variant = BUGS[name]
    assert must_fail in harness.cells_affected_by(variant), f"{must_fail} ignores {sorted(variant)}"
    outcome = harness.run_tests(variant, only=[must_fail])[must_fail]
    assert not outcome.passed, f"bug {name!r} passes {must_fail}: it would keep all its points"
    assert outcome.message and "Traceback" not in outcome.message


@pytest.mark.slow  # alternatives that feed training retrain all three networks (loops: ~30 s)
@pytest.mark.parametrize("name", sorted(ALTERNATIVES))
def test_alternative_earns_full_marks(harness, name):
    variant = ALTERNATIVES[name]
    results = harness.run_tests(variant, only=harness.cells_affected_by(variant))
    failed = {g: r.message[:500] for g, r in results.items() if not r.passed}
    assert not failed, f"correct alternative {name!r} loses points: {failed}"
