"""Hint coverage (issue 14): failing tests name each labelled bug's cause, and never a wrong one.

The measurement (tests/support/hint_coverage.py, printed by `make bench-hints`) runs every bug of
the mutation corpora through the graded test cells with the grader's own message wording. The
floors below only go up: raise them when a diagnosis improves, never lower them.

Each bug is measured once per session and its result shared by the workers (`hint_results`,
tests/course/conftest.py): the per-bug tests spread the measurement over the workers, and each
assignment's floor test reads their results (measuring any bug that no worker has measured yet).
"""

import importlib

import pytest
from hint_coverage import (
    ASSIGNMENTS,
    MATCHERS,
    NO_SPECIFIC_CAUSE,
    bug_names,
    bug_result,
    corpus_bugs,
    coverage,
    shared_measure,
)
from hint_coverage import names as named_causes

# Per assignment: (least number of bugs whose cause is named, most false hints allowed).
FLOORS = {"lab1": (52, 0), "lab2": (56, 0), "hw4": (48, 0)}
LABELS = set(MATCHERS) | {NO_SPECIFIC_CAUSE}


@pytest.mark.parametrize("assignment", sorted(ASSIGNMENTS))
def test_every_bug_has_a_known_cause_label(assignment):
    corpus = importlib.import_module(ASSIGNMENTS[assignment][1])
    bugs = corpus_bugs(corpus)
    unlabelled = sorted(name for name, (_, _, label) in bugs.items() if label is None)
    unknown = {name: label for name, (_, _, label) in bugs.items() if label not in LABELS}
    if assignment == "hw4" and len(unlabelled) == len(bugs):
        pytest.skip("the HW 4 corpus carries no cause labels yet (the hw4 branch adds them)")
    assert not unlabelled, f"bugs without a cause label: {unlabelled}"
    assert not unknown, f"labels outside {sorted(LABELS)}: {unknown}"


@pytest.mark.parametrize(
    ("message", "causes"),
    [
        ("got is R = 3 times too small: R is the batch size", {"factor-R"}),
        ("analytic is 2 times too large (a factor 2)", {"factor-2"}),
        ("expected sums to 1 along axis 1 (each row), but got along axis 0", {"axis"}),
        ("the sign is flipped", {"sign"}),
        ("dW has the wrong shape: a transpose or the order of a product is off", {"transpose"}),
        ("the ReLU mask is inverted", {"mask"}),
        ("no simple pattern (sign, constant factor, transpose, missing sum or term)", set()),
        ("ValueError: operands could not be broadcast together with shapes (2,) (3,)", set()),
    ],
)
def test_matchers_recognise_a_named_cause_and_nothing_else(message, causes):
    assert named_causes(message) == causes


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize(
    ("assignment", "bug"),
    [(assignment, bug) for assignment in sorted(ASSIGNMENTS) for bug in bug_names(assignment)],
    ids=lambda value: value,
)
def test_bug_gets_no_false_hint(assignment, bug, hint_results):
    """No failing message of this bug names a wrong cause (the floor test counts them all)."""
    result = bug_result(assignment, bug, hint_results)
    _, most_false = FLOORS[assignment]
    assert len(result.false_hints) <= most_false, (
        f"{assignment} {bug} ({result.label}): false hints in {result.false_hints}: "
        + "; ".join(result.messages[g][:300] for g in result.false_hints)
    )


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("assignment", sorted(ASSIGNMENTS))
def test_coverage_stays_above_its_floor(assignment, hint_results):
    results = shared_measure(assignment, hint_results)
    hit, total, false = coverage(results)
    least, most_false = FLOORS[assignment]
    missed = [r.bug for r in results if r.counted and not r.named]
    wrong = {r.bug: r.false_hints for r in results if r.false_hints}
    assert hit >= least, f"{assignment}: {hit}/{total} named, floor {least}; unnamed: {missed}"
    assert false <= most_false, f"{assignment}: {false} false hints: {wrong}"
