"""Hidden calls run in a throw-away, confined copy of the kernel (agent ops `hidden_begin` /
`hidden_end`, `Sandbox.hidden_begin` / `hidden_end`, `sandbox/confine.py`).

What a copy does must never reach the kernel the later cells run in: globals, files (scratch
home, /tmp), shared memory made before the fork, the offset of an fd opened before, pipes,
signals, priorities and limits of the kernel. Where the copy cannot be made safe (a thread or a
process started by student code) the kernel refuses, and the grader withholds outputs instead.
"""

from __future__ import annotations

import os
import struct

import pytest
from nngrade.grading.results import Limits
from nngrade.sandbox import agent as wire
from nngrade.sandbox import confine
from nngrade.sandbox.launcher import CallTimeout, CopyDied, KernelDied, Sandbox, detect

pytestmark = pytest.mark.skipif(
    detect(False).mode != "namespaces", reason="hidden calls run in a copy only with namespaces"
)


def run(sandbox: Sandbox, code: str, timeout: float = 30) -> dict:
    reply, _ = sandbox.request({"op": "run_cell", "code": code}, timeout=timeout)
    return reply


def out(sandbox: Sandbox, code: str) -> str:
    reply = run(sandbox, code)
    assert reply["ok"], reply.get("error")
    return reply["stdout"]


def call(sandbox: Sandbox, name: str, *args, timeout: float = 30):
    blobs: list[bytes] = []
    header = {
        "op": "call",
        "target": {"global": name},
        "args": wire.encode(list(args), blobs),
        "kwargs": wire.encode({}, blobs),
    }
    reply, reply_blobs = sandbox.request(header, blobs, timeout=timeout)
    return reply, reply_blobs


@pytest.fixture
def sandbox():
    with Sandbox(Limits()) as box:
        yield box


# Run in the kernel before the copy: everything a later cell could read the copy's doings from
SETUP = r"""
import mmap, os, signal, resource, multiprocessing, numpy as np
from multiprocessing import shared_memory
LOG = []
def log(x):
    LOG.append(x)
    return 2 * x
SHARED = mmap.mmap(-1, 4096)                       # MAP_SHARED, anonymous
VALUE = multiprocessing.Value('i', 0)              # a shared-memory Value
open(os.path.expanduser('~/data.txt'), 'w').write('0123456789')
FILE = open(os.path.expanduser('~/data.txt'))      # an fd whose offset a copy could move
R, W = os.pipe()
EV = os.eventfd(0)
NICE = os.getpriority(os.PRIO_PROCESS, 0)
LIMIT = resource.getrlimit(resource.RLIMIT_NOFILE)
print('ready')
"""

# Run in the copy: every way of leaving a trace; each must fail or stay in the copy
PROBES = r"""
def attempt(what, code):
    try:
        exec(code, globals())
        RESULTS[what] = 'done'
    except BaseException as err:
        RESULTS[what] = type(err).__name__
RESULTS = {}
log(7)
SHARED[:4] = b'LEAK'
VALUE.value = 77
attempt('read fd', 'FILE.read(5)')
attempt('pipe', 'os.write(W, b"LEAK")')
attempt('eventfd', 'os.eventfd_write(EV, 5)')
attempt('tmp file', 'open("/tmp/leak.txt", "w").write("LEAK")')
attempt('home file', 'open(os.path.expanduser("~/leak.txt"), "w").write("LEAK")')
attempt('read home', 'open(os.path.expanduser("~/data.txt")).read()')
attempt('chmod', 'os.chmod(os.path.expanduser("~/data.txt"), 0o600)')
attempt('utime', 'os.utime(os.path.expanduser("~/data.txt"), (1, 1))')
attempt('mkdir', 'os.mkdir("/tmp/leakdir")')
attempt('unlink', 'os.unlink(os.path.expanduser("~/data.txt"))')
attempt('kill parent', 'os.kill(os.getppid(), signal.SIGUSR1)')
attempt('kill kernel', 'os.kill(2, signal.SIGUSR1)')
attempt('kill group', 'os.kill(0, signal.SIGUSR1)')
attempt('nice parent', 'os.setpriority(os.PRIO_PROCESS, 2, 10)')
attempt('prlimit parent', 'resource.prlimit(2, resource.RLIMIT_NOFILE, (64, 64))')
attempt('fork', 'os.fork()')
attempt('thread', 'import threading; threading.Thread(target=print).start()')
attempt('socket', 'import socket; socket.socket(socket.AF_UNIX)')
attempt('shm', 'shared_memory.SharedMemory(create=True, size=64)')
attempt('dumpable', 'import ctypes; assert ctypes.CDLL(None).prctl(4, 1, 0, 0, 0) == 0')
attempt('proc mem', 'open("/proc/2/mem", "rb")')
attempt('self', 'os.kill(os.getpid(), 0)')
attempt('numpy', 'np.linalg.svd(np.ones((30, 20)))')
print(RESULTS)
"""

MUST_FAIL = (
    "read fd", "pipe", "eventfd", "tmp file", "home file", "read home", "chmod", "utime",
    "mkdir", "unlink", "kill parent", "kill kernel", "kill group", "nice parent",
    "prlimit parent", "fork", "thread", "socket", "shm", "dumpable", "proc mem",
)  # fmt: skip


def test_nothing_a_copy_does_reaches_the_kernel(sandbox):
    assert "ready" in out(sandbox, SETUP)
    assert sandbox.hidden_begin(30) == (True, "")
    results = eval(out(sandbox, PROBES))  # noqa: S307 - our own probe's dict literal
    failed = {k: v for k, v in results.items() if k in MUST_FAIL and v == "done"}
    assert not failed, f"the copy could do: {failed}"
    assert results["self"] == "done" and results["numpy"] == "done", results
    sandbox.hidden_end(30)
    after = out(
        sandbox,
        "print(LOG, bytes(SHARED[:4]), VALUE.value, FILE.tell(), os.path.exists('/tmp/leak.txt'),"
        " os.path.exists('leak.txt'), os.getpriority(os.PRIO_PROCESS, 0) == NICE,"
        " resource.getrlimit(resource.RLIMIT_NOFILE) == LIMIT, os.path.exists('data.txt'))\n"
        "os.set_blocking(R, False)\n"
        "try:\n    print('pipe', os.read(R, 10))\nexcept BlockingIOError:\n    print('pipe empty')",
    )
    assert after.splitlines() == [
        "[] b'\\x00\\x00\\x00\\x00' 0 0 False False True True True",
        "pipe empty",
    ], after


def test_refs_of_a_copy_are_gone_with_a_clear_message(sandbox):
    out(sandbox, "class Box:\n    pass\ndef make():\n    return Box()")
    assert sandbox.hidden_begin(30)[0]
    reply, _ = call(sandbox, "make")
    ref = reply["value"]["$dict"][0][1]["$ref"]
    sandbox.hidden_end(30)
    header = {"op": "getattr", "target": {"ref": ref}, "name": "x"}
    reply, _ = sandbox.request(header, [])
    assert not reply["ok"] and "discarded" in reply["error"]["evalue"], reply


def test_interrupts_reach_the_copy_and_a_dead_copy_spares_the_kernel(sandbox):
    out(sandbox, "import os\nX = 1\ndef spin():\n    while True:\n        pass\n"
                 "def die():\n    os._exit(3)\ndef one():\n    return X")  # fmt: skip
    assert sandbox.hidden_begin(30)[0]
    with pytest.raises(CallTimeout, match="interrupted"):
        call(sandbox, "spin", timeout=1)
    assert call(sandbox, "one")[0]["ok"]  # the copy lives on after the interrupt
    with pytest.raises(CopyDied):
        call(sandbox, "die")
    with pytest.raises(CopyDied):  # the test's later calls must not run in the kernel
        call(sandbox, "one")
    sandbox.hidden_end(30)
    assert sandbox.alive and out(sandbox, "print(X)") == "1\n"
    assert sandbox.hidden_begin(30)[0]  # and the next hidden test gets a new copy
    sandbox.hidden_end(30)


@pytest.mark.parametrize(
    "background",
    [
        "import threading, time\nthreading.Thread(target=time.sleep, args=(60,), daemon=True)"
        ".start()",
        "import subprocess\nP = subprocess.Popen(['sleep', '60'])",
        "import os, time\nif os.fork() == 0:\n    if os.fork() == 0:\n        time.sleep(60)\n"
        "    os._exit(0)\nos.wait()",
    ],
    ids=["thread", "child", "orphan"],
)
def test_background_threads_and_processes_make_the_kernel_refuse(sandbox, background):
    run(sandbox, background)
    isolated, why = sandbox.hidden_begin(30)
    assert not isolated and ("thread" in why or "process" in why), why
    assert sandbox.alive and sandbox.copy == "none"


def test_a_forged_copy_gone_frame_kills_the_kernel(sandbox):
    out(sandbox, "import os, json, struct\ndef forge():\n"
                 "    head = json.dumps({'id': None, 'copy_gone': 'guess'}).encode()\n"
                 "    os.write(4, b'NNG1' + struct.pack('<II', len(head), 0) + head)\n"
                 "    return 1")  # fmt: skip
    assert sandbox.hidden_begin(30)[0]
    with pytest.raises(KernelDied):
        call(sandbox, "forge")
    assert not sandbox.alive


def test_seccomp_filter_assembles_for_both_architectures():
    for arch in ("x86_64", "aarch64"):
        for files in (False, True):
            program = confine.seccomp_filter(arch, 4, files=files)
            assert len(program) % 8 == 0 and 20 < len(program) // 8 < 300
            first = struct.unpack("<HBBI", program[8:16])
            assert first[0] == 0x15 and first[3] == confine.ARCHES[arch][0]
    with pytest.raises(confine.Unconfinable):
        confine.seccomp_filter("riscv64", 4)


def test_without_landlock_seccomp_still_refuses_file_changes(tmp_path):
    """The degraded path (a kernel without Landlock): writes refused by seccomp alone."""
    target = tmp_path / "f.txt"
    target.write_text("x")
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - child
        os.close(read)
        try:
            confine.confine({write}, use_landlock=False)
            results = []
            for action in (
                lambda: open(target, "w"),
                lambda: open(tmp_path / "new", "x"),
                lambda: os.unlink(target),
                lambda: os.rename(target, tmp_path / "g"),
                lambda: os.truncate(target, 0),
            ):
                try:
                    action()
                    results.append("done")
                except PermissionError:
                    results.append("refused")
            results.append(open(target).read())
            os.write(write, repr(results).encode())
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        text = pipe.read()
    os.waitpid(pid, 0)
    assert text == repr(["refused"] * 5 + ["x"]), text
