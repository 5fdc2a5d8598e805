"""Integrity attacks on lab 1, lab 2 and HW 4 (tests/adversarial/integrity_attacks.py).

Each assignment's attacks are graded by the isolated executor, grouped in a few submissions
(`bundles`: attacks on different functions share one), and every attacked test may earn at most
its bound. Fast unit tests cover the in-place check behind the argument-mutation attacks: the
kernel works on copies of the test's arrays, so without it a function that overwrites its input
keeps the points the master's tests (run in the student's kernel, as nbgrader does) take away.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import numpy as np
import pytest
from integrity_attacks import ASSIGNMENTS, INTEGRITY_ATTACKS, ROOT, _test_cells, bundles, submission
from nngrade.grading.results import Limits
from nngrade.sandbox import remote
from nngrade.sandbox.agent import _array_arguments, _digest
from nngrade.sandbox.isolated import grade_notebook

LIMITS = Limits(cell_timeout=120, total_timeout=900)


def _master(assignment: str) -> Path:
    return ROOT / "source" / assignment / f"{assignment}.ipynb"


def test_corpus_covers_every_assignment_and_class():
    assert len(INTEGRITY_ATTACKS) >= 20
    assert len({a.name for a in INTEGRITY_ATTACKS}) == len(INTEGRITY_ATTACKS)
    assert {a.assignment for a in INTEGRITY_ATTACKS} == set(ASSIGNMENTS)
    for attack in INTEGRITY_ATTACKS:
        nb = nbformat.read(str(_master(attack.assignment)), as_version=4)
        tests = {c.metadata["nbgrader"]["grade_id"] for c in _test_cells(nb)}
        assert attack.what and attack.stopped_by and attack.bound, attack.name
        assert set(attack.bound) <= tests, f"{attack.name} targets tests the master lacks"
        assert attack.replace or attack.mutate, attack.name
    assert sum(a.alone for a in INTEGRITY_ATTACKS) >= 4  # notebook tampering


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_bundles_keep_attacks_apart(assignment):
    """No attack in a submission changes what another one's target tests see."""
    groups = bundles(assignment)
    assert sum(len(g) for g in groups) == sum(a.assignment == assignment for a in INTEGRITY_ATTACKS)
    for group in groups:
        targets = [t for attack in group for t in attack.bound]
        assert len(targets) == len(set(targets))
        nb = submission(group)  # builds: every replaced function has an answer cell
        assert nb.cells


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_integrity_attacks_earn_no_unearned_points(assignment, tmp_path):
    unearned = []
    for k, group in enumerate(bundles(assignment)):
        path = tmp_path / str(k) / f"{assignment}.ipynb"
        path.parent.mkdir()
        nbformat.write(submission(group), str(path))
        report = grade_notebook(
            path, _master(assignment), assignment=assignment, limits=LIMITS, student=f"s{k}"
        )
        assert report.status == "graded", report.reason
        got = {t.grade_id: t for t in report.tests}
        for attack in group:
            for grade_id, bound in attack.bound.items():
                test = got[grade_id]
                if test.score > bound:
                    unearned.append((attack.name, grade_id, test.score, bound))
                elif test.score < test.max_score:
                    assert test.message.strip(), f"{attack.name}: {grade_id} fails silently"
    assert unearned == []


# ------------------------------------------------------------------ arguments changed in place
class _Channel:
    """A stand-in channel whose kernel answers every call with `result`."""

    def __init__(self, result: dict) -> None:
        self.result = result

    def request(self, header, blobs):
        return {"ok": True}, []

    def value(self, reply, blobs, what):
        return self.result


def _call(result: dict, *args, **kwargs):
    proxy = remote.RemoteObject(_Channel(result), {"global": "f"}, "your f(...)")
    return proxy(*args, **kwargs)


def test_a_reported_in_place_change_fails_the_call_naming_the_argument():
    w0 = np.zeros(2)
    with pytest.raises(
        remote.ArgumentChanged, match=r"its argument 3 \(an array of shape \(2,\)\)"
    ):
        _call({"value": 1.0, "rngs": [], "mutated": [2]}, None, None, w0, 0.1)
    with pytest.raises(remote.ArgumentChanged, match="an array in its keyword argument batches"):
        _call({"value": 1.0, "rngs": [], "mutated": ["batches"]}, batches=[np.ones(3)])
    assert np.array_equal(w0, np.zeros(2))  # the grader's own array is never touched


def test_calls_without_changes_and_bogus_reports_pass():
    assert _call({"value": 2.0, "rngs": []}, np.ones(2)) == 2.0
    # keys naming no array argument (a forged reply) change nothing
    assert _call({"value": 2.0, "rngs": [], "mutated": [7, "x", None]}, np.ones(2)) == 2.0
    with pytest.raises(remote.StudentCodeError, match="malformed"):
        _call({"value": 2.0, "rngs": [], "other": 1})


def test_the_agent_sees_changes_to_array_arguments_and_arrays_in_lists():
    x, batch = np.arange(6.0).reshape(2, 3), np.ones(4)
    watched = _array_arguments((x, [batch, "text"], 3), {"w": np.zeros(2), "rng": None})
    assert [key for key, _ in watched] == [0, 1, "w"]
    before = [_digest(a) for _, a in watched]
    x[0, 0] = -1.0
    batch.shape = (2, 2)  # a reshape in place is a change too
    after = [_digest(a) for _, a in watched]
    assert [b != a for b, a in zip(before, after, strict=True)] == [True, True, False]
