"""The sandbox and the grader-side proxies, piece by piece (the attack corpus is elsewhere)."""

from __future__ import annotations

import io
import json
import logging
import os
import socket
import sys
from pathlib import Path

import nbformat
import numpy as np
import pytest
from nngrade.grading.results import Limits
from nngrade.grading.worker import ONE_THREAD
from nngrade.sandbox import agent as wire
from nngrade.sandbox import launcher as sandbox_module
from nngrade.sandbox.launcher import KernelDied, Sandbox, detect
from nngrade.sandbox.remote import (
    Channel,
    RemoteObject,
    StudentCodeError,
    TestNamespace,
    TestTimeout,
)

FULL = detect(False).mode == "namespaces"
needs_full = pytest.mark.skipif(not FULL, reason="needs root and unshare (namespace sandbox)")
LIMITS = Limits(cell_timeout=5, total_timeout=60, memory_mb=1024, max_processes=16, max_file_mb=32)


def roundtrip(value):
    blobs: list[bytes] = []
    tree = wire.encode(value, blobs)
    frame = wire.pack({"value": tree}, blobs)
    stream = io.BytesIO(frame)
    header, got = wire.unpack(lambda n: stream.read(n), 2**30)
    return wire.decode(header["value"], got)


# ----------------------------------------------------------------------------- wire format
def test_values_survive_the_wire():
    rng = np.random.default_rng(3)
    value = {
        "a": np.arange(6.0).reshape(2, 3),
        1: (None, True, 2.5, "x", [1, 2]),
        (1, 2): np.float32(1.5),
        "c": 1 + 2j,
        "rng": rng,
    }
    back = roundtrip(value)
    assert np.array_equal(back["a"], value["a"]) and back["a"].dtype == np.float64
    assert back[1] == (None, True, 2.5, "x", [1, 2])
    assert type(back[(1, 2)]) is np.float32
    assert back["c"] == 1 + 2j
    assert back["rng"].normal() == np.random.default_rng(3).normal()


def test_decoding_yields_only_plain_types():
    class Sneaky(float):
        def __eq__(self, other):
            return True

    back = roundtrip([np.zeros(2).view(np.matrix), 1.0])
    assert type(back[0]) is np.ndarray
    with pytest.raises(TypeError):
        wire.encode(Sneaky(1.0), [])  # a float subclass is not silently sent as a float
    with pytest.raises(TypeError):
        wire.encode(np.array([object()]), [])


@pytest.mark.parametrize(
    "tree",
    [
        {"$pickle": "x"},
        {"$nd": 5},
        {"$dict": [[[1], 2]]},
        {"a": 1, "b": 2},
        {"$rng": ["NotAGenerator", {}]},
    ],
)
def test_malformed_values_are_refused(tree):
    with pytest.raises((wire.WireError, TypeError, ValueError)):
        wire.decode(tree, [])


def test_pickled_arrays_are_refused():
    buffer = io.BytesIO()
    np.save(buffer, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(wire.WireError, match="dtype"):
        wire.decode({"$nd": 0}, [buffer.getvalue()])


def test_oversized_and_garbage_frames_are_refused():
    frame = wire.pack({"x": 1}, [b"0" * 1000])
    stream = io.BytesIO(frame)
    with pytest.raises(wire.WireError, match="limit"):
        wire.unpack(lambda n: stream.read(n), 500)
    stream = io.BytesIO(b"garbage" * 10)
    with pytest.raises(wire.WireError, match="magic"):
        wire.unpack(lambda n: stream.read(n), 500)


# ----------------------------------------------------------------------------- proxies
class FakeSandbox:
    """Answers like the agent would, without a process."""

    def __init__(self, replies):
        self.replies = replies
        self.requests = []

    def request(self, header, blobs=(), timeout=30):
        self.requests.append(header)
        return self.replies.pop(0)


def test_remote_handles_refuse_to_pass_as_values():
    handle = RemoteObject(Channel(FakeSandbox([])), {"ref": [1]}, "<obj returned by your code>")
    for check in (
        bool,
        len,
        lambda h: h == 1,
        lambda h: np.asarray(h, dtype=float),
        lambda h: h + 1,
        float,
    ):
        with pytest.raises(TypeError, match="not a plain value"):
            check(handle)


def test_student_exceptions_become_student_errors_of_the_same_builtin_type():
    reply = {
        "ok": False,
        "error": {
            "ename": "ValueError",
            "evalue": "bad shape",
            "traceback": 'File "<ipython-input-1>", line 2\nValueError',
        },
    }
    channel = Channel(FakeSandbox([(reply, [])]))
    proxy = RemoteObject(channel, {"global": "f"}, "your f(...)")
    with pytest.raises(ValueError, match="your f\\(...\\) raised ValueError: bad shape") as info:
        proxy(np.zeros(2))
    assert isinstance(info.value, StudentCodeError)
    reply = {"ok": False, "error": {"ename": "SystemExit", "evalue": "0", "traceback": ""}}
    channel = Channel(FakeSandbox([(reply, [])]))
    with pytest.raises(StudentCodeError) as info:  # never a real SystemExit in the grader
        RemoteObject(channel, {"global": "f"}, "your f(...)")()
    assert not isinstance(info.value, SystemExit)


def test_namespace_resolves_only_unknown_non_builtin_names():
    blobs: list[bytes] = []
    value = wire.encode(np.array([1.0, 2.0]), blobs)
    replies = [
        ({"ok": True, "found": True, "callable": True}, []),
        ({"ok": True, "found": True, "callable": False, "value": value}, blobs),
        ({"ok": True, "found": False}, []),
    ]
    fake = FakeSandbox(replies)
    namespace = TestNamespace(Channel(fake), {"np": np})
    exec("f\nw = weights\nlen([1])\ntry:\n    missing\nexcept NameError:\n    pass", namespace)
    assert isinstance(namespace["f"], RemoteObject)
    assert np.array_equal(namespace["w"], [1.0, 2.0])
    assert [r["name"] for r in fake.requests] == ["f", "weights", "missing"]
    namespace.forget_student_names()
    assert "f" not in namespace and "np" in namespace


def test_a_test_past_its_deadline_times_out():
    channel = Channel(FakeSandbox([]))
    channel.deadline = 0
    with pytest.raises(TestTimeout):
        RemoteObject(channel, {"global": "f"}, "your f(...)")()


# ----------------------------------------------------------------------------- the sandbox
def run(sb: Sandbox, code: str, timeout: float = 30) -> dict:
    reply, _ = sb.request({"op": "run_cell", "code": code}, timeout=timeout)
    return reply


PROBE = """
import json, os, resource, socket
facts = {"uid": os.getuid(), "cwd": os.getcwd(), "home": sorted(os.listdir("."))}
facts["limits"] = {name: resource.getrlimit(getattr(resource, name))[0]
                   for name in ("RLIMIT_AS", "RLIMIT_NPROC", "RLIMIT_FSIZE", "RLIMIT_CPU")}
facts["visible"] = {p: os.path.exists(p) for p in PATHS}
try:
    socket.create_connection(("127.0.0.1", PORT), timeout=1)
    facts["network"] = "connected"
except OSError as err:
    facts["network"] = type(err).__name__ + ": " + str(err)
facts["pids"] = sorted(int(p) for p in os.listdir("/proc") if p.isdigit())
print(json.dumps(facts))
"""


@needs_full
def test_namespace_sandbox_view_limits_and_identity(tmp_path):
    secret = Path(__file__).resolve().parents[2] / "source"
    paths = [str(secret), str(tmp_path), str(Path(sys.prefix) / "bin")]
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    port = listener.getsockname()[1]
    with listener, Sandbox(LIMITS, files={"mine.txt": b"hello"}) as sb:
        reply = run(sb, f"PATHS = {paths!r}\nPORT = {port}\n" + PROBE)
    facts = json.loads(reply["stdout"])
    if os.geteuid() == 0:  # a dedicated uid; otherwise the grader's own (user namespace)
        assert facts["uid"] >= sandbox_module.UID_BASE
    else:
        assert facts["uid"] == os.getuid()
    assert facts["cwd"] == sandbox_module.HOME and facts["home"] == ["mine.txt"]
    assert facts["visible"] == {paths[0]: False, paths[1]: False, paths[2]: True}
    assert facts["limits"] == {
        "RLIMIT_AS": 1024 * 2**20,
        "RLIMIT_NPROC": 16,
        "RLIMIT_FSIZE": 32 * 2**20,
        "RLIMIT_CPU": 65,
    }
    assert facts["network"] != "connected"  # not even the host's loopback
    assert facts["pids"] == [1, 2]  # own pid namespace: bwrap's init and the kernel only


@needs_full  # without namespaces, a setsid() daemon escapes the session sweep (documented)
def test_close_kills_every_process_of_the_sandbox():
    with Sandbox(LIMITS) as sb:
        run(
            sb,
            "import subprocess, os\n"
            "subprocess.Popen(['sleep', '300'], start_new_session=True)\n"
            "if os.fork() == 0:\n    os.setsid()\n    os.execvp('sleep', ['sleep', '301'])\n",
        )
        uid, pidns = sb.uid, sb.pidns
        assert pidns and len(sandbox_module._pids_of(pidns=pidns)) >= 4
    assert sb.leftover == []
    assert sandbox_module._pids_of(uid=uid, pidns=pidns) == []


def test_interrupt_then_kill_on_timeouts():
    with Sandbox(LIMITS) as sb:
        with pytest.raises(sandbox_module.CallTimeout, match="interrupted"):
            run(sb, "while True:\n    pass", timeout=1)
        assert run(sb, "print(6 * 7)")["stdout"] == "42\n"  # interrupted, still alive
        with pytest.raises(sandbox_module.CallTimeout, match="killed"):
            run(
                sb,
                "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\n"
                "while True:\n    pass",
                timeout=1,
            )
        with pytest.raises(KernelDied):
            run(sb, "print(1)")


def test_student_code_runs_with_one_thread_like_every_grading_process():
    """The sandbox's environment carries the grader's one-thread settings (worker.ONE_THREAD):
    a class graded in parallel does not oversubscribe the cores, and plots use Agg."""
    with Sandbox(LIMITS) as sb:
        env = json.loads(run(sb, "import os, json\nprint(json.dumps(dict(os.environ)))")["stdout"])
    assert {name: env.get(name) for name in ONE_THREAD} == ONE_THREAD


def test_kernel_exit_is_reported_not_hung():
    with Sandbox(LIMITS) as sb:
        with pytest.raises(KernelDied, match="died"):
            run(sb, "import os\nos._exit(3)")


def test_plain_fallback_warns_loudly_and_grades_only_when_allowed(monkeypatch, caplog):
    monkeypatch.setenv("NNGRADE_SANDBOX", "plain")
    detect.cache_clear()
    try:
        with caplog.at_level(logging.WARNING, logger="nngrade.sandbox.launcher"):
            isolation = detect(False)
        assert isolation.mode == "plain" and not isolation.network_isolated
        assert "DEGRADED SANDBOX" in caplog.text
        with pytest.raises(sandbox_module.SandboxStartError, match="--allow-degraded") as info:
            Sandbox(LIMITS).start()  # untrusted work is refused, as a fault of the grader
        assert "NNGRADE_SANDBOX=plain" in info.value.diagnosis and info.value.fix
        allowed = Limits(**{**LIMITS.__dict__, "allow_degraded": True})
        with Sandbox(allowed) as sb:
            assert sb.warnings and any("DEGRADED" in w for w in sb.warnings)
            assert run(sb, "import os\nprint(os.getpid() > 1)")["stdout"] == "True\n"
    finally:
        detect.cache_clear()
    assert os.environ.get("NNGRADE_SANDBOX") == "plain"  # monkeypatch restores it afterwards


def test_allow_degraded_is_a_flag_and_a_config_key(tmp_path):
    from nngrade.cli import parser as build_parser
    from nngrade.grading.config import load

    (tmp_path / "nbgrader_config.py").write_text(
        "c = get_config()\nc.NNGrade.allow_degraded = True\n"
    )
    assert load(tmp_path).limits.allow_degraded is True
    assert load(tmp_path.parent / "nowhere").limits.allow_degraded is False
    args = build_parser().parse_args(["check", "a", "nb.ipynb", "--allow-degraded"])
    assert args.allow_degraded is True
    assert build_parser().parse_args(["autograde", "a"]).allow_degraded is None


def test_student_cell_errors_show_only_the_students_frames():
    from nngrade.sandbox.remote import student_frames

    with Sandbox(LIMITS) as sb:
        reply = run(sb, "def f(x):\n    return 1 / x\n\nf(0)")
    text = student_frames(reply["error"]["traceback"])
    assert "ZeroDivisionError" in text and "return 1 / x" in text
    assert "sandbox/agent" not in text and "interactiveshell" not in text


def test_errors_of_called_functions_show_none_of_the_agents_lines():
    """A test calling a student function that raises: the message quotes the student's frame,
    not the agent's `value = func(*args, **kwargs)` line or its carets."""
    from nngrade.sandbox.remote import Channel, StudentCodeError

    with Sandbox(LIMITS) as sb:
        run(sb, "def g(x):\n    raise NotImplementedError()\n")
        channel = Channel(sb)
        reply, blobs = sb.request(
            {"op": "call", "target": {"global": "g"}, "args": [1], "kwargs": {"$dict": []}}
        )
        with pytest.raises(StudentCodeError) as raised:
            channel.value(reply, blobs, "your g(...)")
    message = str(raised.value)
    assert "raise NotImplementedError()" in message, message
    assert "func(*args" not in message and "^^^" not in message, message


@needs_full
def test_memory_cgroup_caps_the_whole_tree():
    with Sandbox(Limits(memory_mb=1024, max_processes=16)) as sb:
        if sb.cgroups is None or not any("memory" in str(d) for d in sb.cgroups.dirs):
            pytest.skip("memory cgroup not writable here")
        reply = run(
            sb,
            "import os, time\nimport numpy as np\nkids = []\nfor _ in range(6):\n"
            "    pid = os.fork()\n    if pid == 0:\n"
            "        hog = np.ones(400 * 2**20 // 8)\n        time.sleep(1)\n"
            "        os._exit(0)\n    kids.append(pid)\n"
            "print([os.waitpid(k, 0)[1] for k in kids])",
            timeout=60,
        )
        folders = list(sb.cgroups.dirs)
    statuses = json.loads(reply["stdout"])
    assert 9 in statuses, statuses  # 2.4 GB asked, 1.5 GB allowed: the OOM killer stepped in
    assert not any(folder.exists() for folder in folders)  # removed after the run


@needs_full
def test_sandbox_knows_what_it_exposes(tmp_path):
    sb = Sandbox(LIMITS)
    assert sb.exposes(Path(sys.prefix) / "bin" / "python")
    assert sb.exposes(Path("/usr/share"))
    assert not sb.exposes(Path(__file__).resolve().parents[2] / "source")
    assert not sb.exposes(tmp_path / "gradebook.db")


def test_a_late_interrupt_while_idle_is_harmless():
    with Sandbox(LIMITS) as sb:
        assert run(sb, "x = 1")["ok"]
        sb.interrupt()  # e.g. a timeout that raced the reply
        assert run(sb, "print(x + 1)")["stdout"] == "2\n"


@needs_full
@pytest.mark.parametrize("breakage", ["no bwrap", "venv hidden", "no numpy"])
def test_a_sandbox_that_cannot_start_is_a_grader_fault(monkeypatch, tmp_path, breakage):
    """Never a student-level error: a GraderFault with a one-line diagnosis and a fix."""
    from adv_master import ASSIGNMENT, master
    from nngrade.grading.results import GraderFault
    from nngrade.sandbox.isolated import grade_notebook
    from simulate import reference

    if breakage == "no bwrap":  # gone after detection (a missing one at detection: refusal)
        detect(False)
        monkeypatch.setattr(sandbox_module, "BWRAP", str(tmp_path / "no-such-bwrap"))
    elif breakage == "venv hidden":
        monkeypatch.setattr(sandbox_module, "_python_ro_paths", lambda: [])
    else:  # the sandbox's Python finds no numpy: its path list points nowhere useful
        monkeypatch.setattr(sandbox_module, "SYSTEM_DIRS", ["/usr", "/lib", "/lib64", "/bin"])
        monkeypatch.setattr(
            sandbox_module, "_python_ro_paths", lambda: [sys.base_prefix, sys.executable]
        )
    paths = {"master": tmp_path / "m.ipynb", "sub": tmp_path / "s.ipynb"}
    nbformat.write(master(), str(paths["master"]))
    nbformat.write(reference(master()), str(paths["sub"]))
    with pytest.raises(GraderFault) as info:
        grade_notebook(paths["sub"], paths["master"], assignment=ASSIGNMENT, limits=LIMITS)
    fault = info.value
    assert "did not start" in fault.diagnosis and "\n" not in fault.diagnosis
    assert fault.fix and "\n" not in fault.fix
