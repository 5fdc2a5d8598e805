"""The host attack corpus (`tests/adversarial/host_attacks.py`): each attack in a fresh sandbox.

Run as root in the suite, and as the unprivileged user `nngrade-ci` by
`test_isolation_user.py` (bubblewrap in a user namespace, no cgroup): the two modes differ
exactly where these attacks aim (bwrap's init has the student's uid; nothing caps the tree).
"""

from __future__ import annotations

import dataclasses
import json
import os
import socket
import tempfile
import time
from pathlib import Path

import pytest
from host_attacks import HOST_ATTACKS, MARK, Host, parse
from nngrade.grading.results import Limits
from nngrade.sandbox import launcher, seccomp
from nngrade.sandbox.launcher import Sandbox, detect
from nngrade_support import sigkill_grader_after_start

FULL = detect(False).mode == "namespaces"
pytestmark = pytest.mark.skipif(not FULL, reason="needs the bubblewrap sandbox")
LIMITS = Limits(cell_timeout=20, total_timeout=120, memory_mb=512, max_processes=24)
CANARIES = {
    "PGPASSWORD": "nngrade-canary-pg",
    "DATABASE_URL": "postgresql://grader:nngrade-canary-db@127.0.0.1/grades",
    "NNGRADE_GRADEBOOK": "nngrade-canary-gradebook",
    "DASK_SCHEDULER_ADDRESS": "tcp://127.0.0.1:8786",
    "AWS_SECRET_ACCESS_KEY": "nngrade-canary-aws",
}


@pytest.fixture
def host(monkeypatch):
    """Canaries outside the sandbox: environment, a temp file, three listening sockets."""
    for key, value in CANARIES.items():
        monkeypatch.setenv(key, value)
    folder = Path(tempfile.mkdtemp(prefix="nngrade-host-canary-"))
    canary = folder / "canary.txt"
    canary.write_text("secret")
    listeners = []
    unix = socket.socket(socket.AF_UNIX)
    unix.bind(str(folder / "grader.sock"))
    abstract = socket.socket(socket.AF_UNIX)
    name = f"nngrade-canary-{os.getpid()}"
    abstract.bind("\0" + name)
    tcp = socket.socket()
    tcp.bind(("127.0.0.1", 0))
    for listener in (unix, abstract, tcp):
        listener.listen(8)
        listener.setblocking(False)
        listeners.append(listener)
    yield Host(
        env=dict(CANARIES),
        tmp_file=str(canary),
        unix_socket=str(folder / "grader.sock"),
        abstract_socket=name,
        tcp_port=tcp.getsockname()[1],
        max_processes=LIMITS.max_processes,
    )
    accepted = []
    for listener in listeners:
        try:
            accepted.append(listener.accept())
        except BlockingIOError:
            pass
        listener.close()
    canary.unlink()
    (folder / "grader.sock").unlink()
    folder.rmdir()
    assert not accepted, "a sandbox connected to a socket of the grader"


def attack(name: str, host: Host) -> tuple[dict, Sandbox]:
    """Run one attack in a fresh sandbox; its facts, and the (closed) sandbox."""
    chosen = next(a for a in HOST_ATTACKS if a.name == name)
    with Sandbox(LIMITS) as sb:
        host = dataclasses.replace(host, scratch=str(sb.workdir))
        prefix = f"HOST = {json.dumps(dataclasses.asdict(host))}\n"
        reply, _ = sb.request({"op": "run_cell", "code": prefix + chosen.code}, timeout=60)
        assert reply["ok"], reply["error"]
        facts = parse(reply["stdout"])
        workdir = sb.workdir
        marks = [p.name for p in workdir.rglob("*") if p.is_file() and MARK.encode() in
                 p.read_bytes()]  # fmt: skip
    assert not marks, f"the sandbox wrote into host files {marks}"
    assert sb.leftover == [], sb.leftover
    return chosen.check(facts, host), sb


@pytest.mark.parametrize("name", [a.name for a in HOST_ATTACKS])
def test_host_attack_is_contained(name, host):
    problems, sb = attack(name, host)
    assert problems == [], f"{name} ({sb.describe()}): {problems}"


def test_the_filter_is_what_contains_them(host, monkeypatch):
    """Control: without the system-call filter the memory and CPU-share attacks succeed (and
    the filter is in force in the runs above)."""
    assert seccomp.program() is not None, "libseccomp missing: the host corpus is not contained"
    monkeypatch.setattr(seccomp, "program", lambda: None)
    for name in ("memfd_flood", "sysv_message_queues", "setsid_autogroup_escape"):
        problems, sb = attack(name, host)
        assert problems, f"{name} was contained without the filter ({sb.describe()})"
        assert "no system-call filter" in sb.describe()
        assert any("libseccomp" in warning for warning in sb.warnings), sb.warnings


def test_the_host_corpus_is_documented():
    text = (Path(__file__).resolve().parents[2] / "docs" / "security.md").read_text()
    missing = [a.name for a in HOST_ATTACKS if f"`{a.name}`" not in text]
    assert not missing, f"docs/security.md lacks rows for {missing}"


def test_a_sandbox_cannot_use_up_the_graders_process_budget():
    """Rootless, sandbox processes have the grader's uid: RLIMIT_NPROC is counted per user
    namespace (Linux >= 5.14), so a sandbox that forks all it may leaves the grader and a
    second sandbox able to start processes."""
    flood = next(a for a in HOST_ATTACKS if a.name == "process_flood").code
    with Sandbox(LIMITS) as first:
        reply, _ = first.request({"op": "run_cell", "code": flood}, timeout=60)
        assert parse(reply["stdout"])["children"] >= LIMITS.max_processes - 3
        with Sandbox(LIMITS) as second:
            reply, _ = second.request({"op": "run_cell", "code": flood}, timeout=60)
            assert parse(reply["stdout"])["children"] >= LIMITS.max_processes - 3
        pid = os.fork()
        if pid == 0:
            os._exit(0)
        os.waitpid(pid, 0)


def test_bwrap_errors_still_explain_a_failed_start(monkeypatch):
    """stderr is a pipe now (not a host file student code could open): a start-up failure
    still quotes it."""
    monkeypatch.setattr(launcher, "AGENT", Path("/nonexistent/nngrade-agent.py"))
    with pytest.raises(launcher.SandboxStartError, match="nngrade-agent.py"):
        with Sandbox(LIMITS):
            pass


EVASIVE_GRADER = """
import json, sys, time
from nngrade.grading.results import Limits
from nngrade.sandbox.launcher import Sandbox, UID_BASE
sb = Sandbox(Limits(memory_mb=512, max_processes=16))
sb.start()
reply, _ = sb.request({"op": "run_cell", "code": '''
import ctypes, os, signal, time
libc = ctypes.CDLL(None)
def daemon(name, stop=False, block=False):
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            libc.prctl(15, name.encode(), 0, 0, 0)  # PR_SET_NAME: looks like a system process
            os.setpgid(0, 0)
            if block:
                signal.pthread_sigmask(signal.SIG_BLOCK, set(signal.Signals))
            if stop:
                os.kill(os.getpid(), signal.SIGSTOP)
            while True:
                time.sleep(1)
        os._exit(0)
daemon("kworker/0:1")
daemon("sshd", stop=True)
daemon("systemd", block=True)
time.sleep(0.5)
'''}, timeout=60)
assert reply["ok"], reply
slot = None if sb.uid is None else sb.uid - UID_BASE
print(json.dumps({"workdir": str(sb.workdir), "uid": sb.uid, "pidns": sb.pidns, "slot": slot,
                  "cgroups": [str(d) for d in sb.cgroups.dirs], "pid": sb.proc.pid}), flush=True)
time.sleep(600)
"""


def test_a_killed_grader_leaves_nothing_of_evasive_processes():
    """SIGKILL the grader while its sandbox holds double-forked daemons renamed like system
    processes, one stopped, one blocking every signal: all die with it (bwrap's init dies with
    its parent, the PID namespace with its init), and the next start-up sweep removes the
    scratch folder and cgroups; as root the uid slot is free again. Root and unprivileged."""
    facts = sigkill_grader_after_start(EVASIVE_GRADER)
    assert facts["pidns"], facts
    for _ in range(200):
        alive = launcher._pids_of(uid=facts["uid"], pidns=facts["pidns"])
        if not alive and not Path(f"/proc/{facts['pid']}").exists():
            break
        time.sleep(0.1)
    assert not alive, f"sandbox processes outlived the grader: {alive}"
    launcher.sweep_leftovers.__wrapped__()  # (a grader starting elsewhere may sweep first)
    assert not Path(facts["workdir"]).exists()
    assert not any(Path(folder).exists() for folder in facts["cgroups"]), facts["cgroups"]
    if facts["slot"] is not None:
        folder = launcher._slot_dir()
        try:
            lock = launcher._try_lock(f"{facts['slot']}.lock", folder)
            assert lock is not None, "the crashed grader's uid slot is still held"
            os.close(lock)
        finally:
            os.close(folder)


@pytest.mark.skipif(os.geteuid() != 0, reason="planting another user's files needs root")
def test_the_start_up_sweep_ignores_planted_look_alikes(tmp_path, monkeypatch):
    """A local user plants entries named like a crashed grader's scratch folder in the temp
    folder root sweeps: a symlink to a victim folder, a FIFO, a folder of their own holding a
    victim file, a hard link. The sweep (as root) removes none of them, follows no link and
    never blocks on the FIFO."""
    import pwd

    user = pwd.getpwnam("nobody")
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "precious").write_text("keep")
    dead = 999_999_999  # no such pid: a dead grader
    prefix = f"{launcher.SCRATCH_PREFIX}{dead}-"
    (tmp_path / f"{prefix}link").symlink_to(victim, target_is_directory=True)
    os.mkfifo(tmp_path / f"{prefix}fifo")
    theirs = tmp_path / f"{prefix}theirs"
    theirs.mkdir()
    (theirs / "file").write_text("theirs")
    os.chown(theirs, user.pw_uid, user.pw_gid)
    os.link(victim / "precious", tmp_path / f"{prefix}hardlink")
    removed = launcher.sweep_leftovers.__wrapped__()
    assert not any(str(tmp_path) in entry for entry in removed), removed
    assert (victim / "precious").read_text() == "keep"
    assert (theirs / "file").read_text() == "theirs"
    assert (tmp_path / f"{prefix}fifo").exists() and (tmp_path / f"{prefix}link").is_symlink()


@pytest.mark.parametrize(
    "evasion",
    [
        "signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGALRM})",
        "signal.signal(signal.SIGINT, lambda *a: None)",  # swallow every interrupt
        "signal.signal(signal.SIGINT, lambda *a: busy())\nsignal.setitimer(signal.ITIMER_REAL, "
        "0.01, 0.01)\nsignal.signal(signal.SIGALRM, lambda *a: busy())",  # busy in handlers
    ],
    ids=["sigmask", "swallow", "busy_handlers"],
)
def test_a_cell_that_evades_interrupts_is_killed_in_time(evasion):
    code = f"import signal\ndef busy():\n    while True:\n        pass\n{evasion}\nbusy()\n"
    with Sandbox(LIMITS) as sb:
        with pytest.raises(launcher.CallTimeout, match="killed"):
            sb.request({"op": "run_cell", "code": code}, timeout=1)
        with pytest.raises(launcher.KernelDied):
            sb.request({"op": "run_cell", "code": "print(1)"}, timeout=10)
    assert sb.leftover == []
