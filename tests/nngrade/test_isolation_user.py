"""Full isolation without root: the attack corpus graded by an unprivileged user.

As root, a session fixture creates the user `nngrade-ci` (as `.ci/run` does) and runs the
attack corpus (`test_adversarial.py`) as that user in a child pytest: every attack a sandbox
stops, not the ones stopped by grader code that is the same in both runs (`GRADER_SIDE`). There
the sandbox is bubblewrap in a user namespace; every attack must be contained, none skipped.
Run as any other user, this file skips: the suite itself is then the unprivileged run.
"""

from __future__ import annotations

import os
import pwd
import shutil
import stat
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from nngrade.sandbox.launcher import detect

ROOT = Path(__file__).resolve().parents[2]
USER = "nngrade-ci"
pytestmark = pytest.mark.slow
CORPUS = "tests/nngrade/test_adversarial.py"
# Attacks stopped in the grader process, by code that does not depend on how the sandbox was
# made (verdicts decided in the grader, the wire's decoding limits, redaction, output caps):
# the run as root grades them already, and the same grader code stops them here. Every other
# attack, the ones a sandbox stops (files, /proc, signals, processes, memory, disk, network,
# a dying kernel), and every attack added later until it is listed here, is graded again as
# the unprivileged user, whose sandbox differs: a user namespace, no dedicated uid, no cgroup.
# One attack on the grader's decoding (decode_amplification) still runs here, so that each
# class of the corpus is covered as this user too.
GRADER_SIDE = {
    "allclose_patched",
    "nnhelpers_patched",
    "builtins_patched",
    "input_transformer",
    "traceback_hooks",
    "fake_output",
    "metadata_edit",
    "forged_protocol",
    "fake_values",
    "leak_hidden_inputs",
    "leak_log_printed_later",
    "leak_log_in_later_error_and_value",
    "leak_log_in_visible_test_error",
    "huge_error_texts",
    "blob_reuse",
    "nested_lists",
    "many_small_lists",
    "hash_collision",
    "hash_collision_small",
    "array_header_lie",
    "huge_string",
    "deep_nesting",
    "broadcast_inflation",
    "error_text_flood",
}


@pytest.fixture(scope="session")
def unprivileged_user() -> pwd.struct_passwd:
    """A user without privileges that can read the kit, its venv and the Python install."""
    if os.geteuid() != 0:
        pytest.skip("not root: cannot create a user (this run already is the unprivileged one)")
    if shutil.which("bwrap") is None:
        pytest.skip("bubblewrap is not installed (.ci/run installs it)")
    try:
        entry = pwd.getpwnam(USER)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", USER],
            check=True,
        )
        entry = pwd.getpwnam(USER)
    blocked = _unreadable([ROOT, Path(sys.prefix).resolve(), Path(sys.base_prefix).resolve()])
    for folder in blocked:  # e.g. /root (0700) above a pyenv Python: let others traverse it
        folder.chmod(folder.stat().st_mode | stat.S_IXOTH)
    still = _unreadable([ROOT, Path(sys.prefix).resolve(), Path(sys.base_prefix).resolve()])
    if still:
        pytest.skip(f"{USER} cannot reach {still}")
    return entry


def _unreadable(paths: list[Path]) -> list[Path]:
    """Folders on the way to `paths` that others cannot traverse."""
    found = []
    for path in paths:
        for folder in [*reversed(path.parents), path]:
            if folder.is_dir() and not folder.stat().st_mode & stat.S_IXOTH:
                found.append(folder)
    return sorted(set(found))


@pytest.fixture
def user_tmp(unprivileged_user):
    """A temp folder the user owns (pytest's own is root's, mode 0700)."""
    folder = Path(tempfile.mkdtemp(prefix="nngrade-user-"))
    os.chown(folder, unprivileged_user.pw_uid, unprivileged_user.pw_gid)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def run_as(user: pwd.struct_passwd, argv: list[str], tmp: Path) -> subprocess.CompletedProcess:
    home = tmp / "home"
    home.mkdir(exist_ok=True)
    os.chown(home, user.pw_uid, user.pw_gid)
    env = {
        "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
        "HOME": str(home),
        "TMPDIR": str(tmp),
        "PYTHONDONTWRITEBYTECODE": "1",
        "LANG": "C.UTF-8",
    }
    for var in ("NNHELPERS_MIRROR", "NNHELPERS_OFFLINE"):
        if os.environ.get(var):
            env[var] = os.environ[var]
    return subprocess.run(
        argv,
        cwd=ROOT,
        env=env,
        user=user.pw_uid,
        group=user.pw_gid,
        extra_groups=[],
        capture_output=True,
        text=True,
        timeout=3600,
    )


def test_the_unprivileged_user_gets_the_bubblewrap_sandbox(unprivileged_user, user_tmp):
    code = (
        "from nngrade.sandbox.launcher import detect, Sandbox\n"
        "from nngrade.grading.results import Limits\n"
        "iso = detect(False)\n"
        "with Sandbox(Limits()) as sb:\n"
        "    reply, _ = sb.request({'op': 'run_cell', 'code': "
        "'import os; print(os.getuid(), sorted(os.listdir(\"/etc\"))[:3])'})\n"
        "print(iso.mode, iso.user_namespace, sb.describe(), reply['stdout'])\n"
    )
    done = run_as(unprivileged_user, [sys.executable, "-c", code], user_tmp)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.startswith("namespaces True"), done.stdout + done.stderr[-2000:]
    assert str(unprivileged_user.pw_uid) in done.stdout


def test_attack_corpus_as_an_unprivileged_user(unprivileged_user, user_tmp):
    """Every attack of the corpora (notebook attacks, host attacks) is contained, with no
    skip, when a plain user grades."""
    assert detect(False).mode == "namespaces"  # root's run of the corpus is the other half
    report = user_tmp / "corpus.xml"
    argv = [sys.executable, "-m", "pytest", CORPUS, "-q"]
    argv += ["tests/nngrade/test_isolation_host.py"]  # the host corpus: where the modes differ
    root_only = "planted_look_alikes"  # plants another user's files: needs root
    argv += ["-p", "no:cacheprovider", "-k", f"not beats_grading and not {root_only}"]
    argv += [f"--junitxml={report}"]
    argv += [f"--deselect={CORPUS}::test_attack_is_contained[{name}]" for name in GRADER_SIDE]
    done = run_as(unprivileged_user, argv, user_tmp)
    outcomes = _outcomes(report) if report.exists() else {}
    table = "\n".join(f"| {name} | {outcome} |" for name, outcome in sorted(outcomes.items()))
    print(f"attack corpus as {USER} (uid {unprivileged_user.pw_uid}):\n{table}")
    assert done.returncode == 0, done.stdout[-4000:]
    assert outcomes and set(outcomes.values()) == {"passed"}, table


def test_the_grader_side_attacks_are_in_the_corpus():
    """A renamed or removed attack must not leave a stale name here (it would run twice)."""
    from attacks import ATTACKS

    assert GRADER_SIDE <= {a.name for a in ATTACKS}, sorted(GRADER_SIDE - {a.name for a in ATTACKS})
    assert {a.group for a in ATTACKS if a.name not in GRADER_SIDE} == {
        "points",
        "read",
        "harm",
        "grader",
    }, "every class of attack is graded as the unprivileged user too"


def _outcomes(report: Path) -> dict[str, str]:
    outcomes = {}
    for case in ET.parse(report).iter("testcase"):
        kinds = {child.tag for child in case}
        outcome = "failed" if kinds & {"failure", "error"} else "passed"
        if "skipped" in kinds:
            outcome = "skipped"
        outcomes[case.get("name", "?")] = outcome
    return outcomes
