"""The judge's bounds (nngrade/sandbox/judge.py): memory and a deadline while a test cell runs,
both restored afterwards (including an alarm someone else had set)."""

from __future__ import annotations

import resource
import signal

import numpy as np
import pytest
from nngrade.sandbox import judge


def test_a_broadcast_past_the_budget_is_a_judge_memory_error_and_the_limit_comes_back():
    before = resource.getrlimit(resource.RLIMIT_AS)
    b = np.ones((30_000_000, 1, 1), dtype=np.int8)  # 30 MB, as a student function returns it
    with pytest.raises(judge.JudgeMemoryError, match="needed more than 256 MB"):
        with judge.bounded(256, 60):
            np.allclose(b, np.ones((2, 2)))  # float64 temporaries of 960 MB
    assert resource.getrlimit(resource.RLIMIT_AS) == before
    with judge.bounded(256, 60):
        assert np.allclose(np.ones((1000, 1, 1)), np.ones((2, 2)))  # small work is unaffected


def test_the_deadline_stops_the_judges_own_work():
    # pytest-timeout (signal method) may have an alarm of its own pending: it must be given back.
    before = signal.getitimer(signal.ITIMER_REAL)[0]
    with pytest.raises(judge.JudgeTimeout):
        with judge.bounded(256, 0.2):
            while True:
                pass
    after = signal.getitimer(signal.ITIMER_REAL)[0]
    if before == 0:
        assert after == 0
    else:
        assert 0 < after <= before


def test_an_earlier_alarm_is_given_back():
    fired = []
    previous = signal.signal(signal.SIGALRM, lambda *a: fired.append(1))
    try:
        signal.setitimer(signal.ITIMER_REAL, 100)
        with judge.bounded(256, 5):
            pass
        left, _ = signal.getitimer(signal.ITIMER_REAL)
        assert 0 < left <= 100  # still pending, for its owner
        assert signal.getsignal(signal.SIGALRM) is not None and not fired
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def test_student_memory_errors_are_not_the_judges():
    from nngrade.sandbox.remote import student_error

    with pytest.raises(MemoryError) as info:
        with judge.bounded(256, 60):
            raise student_error("MemoryError", "your f raised MemoryError")
    assert not isinstance(info.value, judge.JudgeMemoryError)
