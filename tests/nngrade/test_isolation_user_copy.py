"""Hidden calls in a throw-away copy of the kernel, graded by the unprivileged `nngrade-ci`.

Its own module (the user and its helpers come from test_isolation_user.py), so it runs beside
the attack corpus as that user rather than after it. As root it runs, in a child pytest as
`nngrade-ci` (bubblewrap in a user namespace): the copy's probes (test_hidden_copy.py), the
HW 4 and lab references (full marks, every hidden test in a copy: no honest syscall refused)
and two leak attacks. Run as any other user, it skips (the suite itself is then that run).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # tests import with importlib: no sibling on path
from test_isolation_user import (  # noqa: E402, F401
    USER,
    _outcomes,
    run_as,
    unprivileged_user,
    user_tmp,
)

pytestmark = pytest.mark.slow
LEAKS_AS_USER = "copy or full_marks or patched or via_shared_mmap or visible_test_message"


def test_hidden_calls_run_in_a_copy_as_an_unprivileged_user(unprivileged_user, user_tmp):  # noqa: F811
    report = user_tmp / "copy.xml"
    argv = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--junitxml={report}"]
    argv += ["tests/nngrade/test_hidden_copy.py", "tests/nngrade/test_isolation_hw4.py"]
    argv += ["tests/nngrade/test_adversarial_leaks.py", "-k", LEAKS_AS_USER]
    done = run_as(unprivileged_user, argv, user_tmp)
    outcomes = _outcomes(report) if report.exists() else {}
    table = "\n".join(f"| {name} | {outcome} |" for name, outcome in sorted(outcomes.items()))
    print(f"hidden calls in a copy as {USER}:\n{table}")
    assert done.returncode == 0, done.stdout[-4000:]
    assert len(outcomes) >= 14 and set(outcomes.values()) == {"passed"}, table
