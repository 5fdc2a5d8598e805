"""Sandboxes and their neighbours: CPU fairness, grader crashes, uid locks, what /etc shows.

Issue 13: 60 busy loops that each call setsid() starved a concurrently graded honest student;
a sandbox outlived a grader killed with SIGKILL; uid-slot lock files were opened as root
through planted symlinks; the sandbox showed all of the host's /etc.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
from adv_master import ASSIGNMENT, MAX_SCORE, master
from harness import make_course
from nngrade.grading.results import Limits
from nngrade.sandbox import launcher
from nngrade.sandbox.launcher import Sandbox, detect
from nngrade_support import sigkill_grader_after_start
from simulate import reference

FULL = detect(False).mode == "namespaces"
needs_full = pytest.mark.skipif(not FULL, reason="needs the bubblewrap sandbox")
needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="uid slots exist only as root")
LIMITS = Limits(cell_timeout=20, total_timeout=120, memory_mb=1024, max_processes=64)

MARK = "nngrade-busy-loop-marker"
BUSY_LOOPS = f"""import os, sys
started = 0
for _ in range(60):
    try:
        pid = os.fork()
    except OSError:
        break
    if pid == 0:
        os.setsid()
        os.execv(sys.executable, [sys.executable, "-c", "while True: pass", "{MARK}"])
    started += 1
print(started, "busy loops")
"""
SLEEPER = "import time\nwhile True:\n    time.sleep(1)\n"  # keeps the loops alive a while
# Honest but slow: about 2-3 s of CPU before `double` is defined. Starved to a sixtieth of
# the machine, this cell times out and the tests of `double` fail.
SLOW_WORK = "total = 0\nfor i in range(30_000_000):\n    total += i % 7\n\n"


def _notebook(first_answer_prefix: str = "", extra_cells: tuple[str, ...] = ()):
    nb = reference(master())
    for cell in nb.cells:
        if cell.cell_type == "code" and "def double" in cell.source:
            cell.source = first_answer_prefix + cell.source
            break
    for position, source in enumerate(extra_cells, start=1):
        nb.cells.insert(position, nbformat.v4.new_code_cell(source))
    return nb


def _check(course, path: Path) -> subprocess.Popen:
    argv = [sys.executable, "-m", "nngrade.cli", "check", ASSIGNMENT, str(path), "--json"]
    argv += ["--course", str(course.config_dir), "--executor", "isolated"]
    argv += ["--cell-timeout", str(LIMITS.cell_timeout), "--total-timeout", "300"]
    return subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _score(proc: subprocess.Popen) -> tuple[float, list]:
    out, err = proc.communicate(timeout=900)
    assert proc.returncode == 0, err[-3000:]
    report = json.loads(out)
    assert report["status"] == "graded", report["reason"]
    return report["score"], [
        (t["grade_id"], t["status"], t["message"][:150]) for t in report["tests"]
    ]


def _count(mark: str) -> int:
    count = 0
    for pid in os.listdir("/proc"):
        try:
            count += pid.isdigit() and mark.encode() in Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            pass
    return count


@pytest.mark.slow
@needs_full
def test_busy_loops_with_setsid_do_not_cost_an_honest_student_a_point(tmp_path):
    if not launcher.cpu_quota_available():
        pytest.skip("no writable cgroup here: no CPU quota (documented in docs/security.md)")
    course = make_course(cell_timeout=LIMITS.cell_timeout)
    try:
        honest = tmp_path / "honest" / f"{ASSIGNMENT}.ipynb"
        attacker = tmp_path / "attacker" / f"{ASSIGNMENT}.ipynb"
        for path, nb in (
            (honest, _notebook(SLOW_WORK)),
            (attacker, _notebook("", (BUSY_LOOPS,) + (SLEEPER,) * 3)),
        ):
            path.parent.mkdir()
            nbformat.write(nb, str(path))
        solo, solo_tests = _score(_check(course, honest))
        assert solo == MAX_SCORE, solo_tests
        attack = _check(course, attacker)
        for _ in range(600):  # the loops spin before the honest grading starts
            if _count(MARK) >= 50 or attack.poll() is not None:
                break
            time.sleep(0.2)
        assert _count(MARK) >= 50, "the attack did not start its busy loops"
        together, tests = _score(_check(course, honest))
        _score(attack)
        assert together == solo, tests
    finally:
        course.close()


GRADER = """
import json, sys, time
from nngrade.grading.results import Limits
from nngrade.sandbox.launcher import Sandbox
sb = Sandbox(Limits(memory_mb=1024, max_processes=16))
sb.start()
sb.request({"op": "run_cell", "code": '''
import os, subprocess
subprocess.Popen(["sleep", "300"], start_new_session=True)
if os.fork() == 0:
    os.setsid()
    os.execvp("sleep", ["sleep", "301"])
'''}, timeout=30)
print(json.dumps({"workdir": str(sb.workdir), "uid": sb.uid, "pidns": sb.pidns,
                  "cgroups": [str(d) for d in sb.cgroups.dirs], "pid": sb.proc.pid}), flush=True)
time.sleep(600)
"""


@pytest.mark.slow
@needs_full
def test_a_grader_killed_with_sigkill_leaves_nothing_behind(tmp_path):
    facts = sigkill_grader_after_start(GRADER)
    gone = False
    for _ in range(100):  # bwrap dies with its parent, its PID namespace with it
        alive = launcher._pids_of(uid=facts["uid"], pidns=facts["pidns"])
        if not alive and not Path(f"/proc/{facts['pid']}").exists():
            gone = True
            break
        time.sleep(0.1)
    assert gone, f"sandbox processes outlived the grader: {alive}"
    # left behind by the crash until the next grader starts (on a shared machine another
    # grader may start, and sweep it, before this one)
    launcher.sweep_leftovers.__wrapped__()
    assert not Path(facts["workdir"]).exists()
    assert not any(Path(folder).exists() for folder in facts["cgroups"]), facts["cgroups"]


@needs_root
def test_uid_locks_never_follow_planted_symlinks(tmp_path, monkeypatch):
    victim = tmp_path / "victim"
    victim.write_text("precious")
    slots = tmp_path / "slots"
    slots.mkdir(mode=0o700)
    first = os.getpid() % launcher.UID_SLOTS
    for slot in range(first, first + 3):  # the slots this process tries first
        (slots / f"{slot % launcher.UID_SLOTS}.lock").symlink_to(victim)
    monkeypatch.setattr(launcher, "SLOT_DIRS", [str(slots)])
    slot = launcher._UidSlot()
    try:
        assert slot.uid - launcher.UID_BASE not in {
            s % launcher.UID_SLOTS for s in range(first, first + 3)
        }
    finally:
        slot.release()
    assert victim.read_text() == "precious"


@needs_root
def test_uid_lock_folder_must_be_roots_own(tmp_path, monkeypatch):
    real = tmp_path / "real"
    real.mkdir(mode=0o700)
    (tmp_path / "link").symlink_to(real)
    open_to_all = tmp_path / "open"
    open_to_all.mkdir()
    open_to_all.chmod(0o777)
    for folder in (tmp_path / "link", open_to_all):
        monkeypatch.setattr(launcher, "SLOT_DIRS", [str(folder)])
        with pytest.raises(launcher.SandboxStartError, match="uid locks"):
            launcher._UidSlot()
    assert list(real.iterdir()) == []


@needs_full
def test_the_sandbox_shows_only_what_python_needs_of_etc():
    code = (
        "import os, json, pwd\n"
        "print(json.dumps({'etc': sorted(os.listdir('/etc')), "
        "'users': [p.pw_name for p in pwd.getpwall()], 'me': pwd.getpwuid(os.getuid()).pw_name}))"
    )
    with Sandbox(LIMITS) as sb:
        reply, _ = sb.request({"op": "run_cell", "code": code}, timeout=30)
    facts = json.loads(reply["stdout"])
    allowed = set(launcher.ETC_FILES) | {"passwd", "group", "hosts"}
    assert set(facts["etc"]) <= allowed, set(facts["etc"]) - allowed
    assert len(os.listdir("/etc")) > len(facts["etc"])  # the host has more (shadow, ssh, ...)
    assert facts["users"] == ["root", "student"] and facts["me"] == "student"


@needs_full
def test_the_start_up_sweep_spares_running_sandboxes():
    """Only leftovers of dead graders are swept: a live sandbox (its uid slot held, its grader
    alive) survives another grader starting."""
    with Sandbox(LIMITS) as sb:
        reply, _ = sb.request({"op": "run_cell", "code": "x = 41"}, timeout=30)
        removed = launcher.sweep_leftovers.__wrapped__()  # what a second grader does first
        assert not any(str(sb.workdir) in r for r in removed), removed
        reply, _ = sb.request({"op": "run_cell", "code": "print(x + 1)"}, timeout=30)
        assert reply["stdout"] == "42\n", reply
        assert sb.alive
