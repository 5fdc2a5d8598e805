"""The sandbox's system-call filter: kernel objects no per-process limit counts, and escapes.

rlimits bound each sandboxed process, a cgroup (where one is writable) the whole tree. Red-team
probes (issue 13) found system calls that get around both kinds of bound, or that hand student
code kernel surface it has no use for:

- `memfd_create`, `shmget`, `msgget`: memory that `RLIMIT_AS` does not count. As an
  unprivileged grader (no cgroup) one process with a 512 MB limit held 600 MB in memfds and
  900 MB in detached SysV segments, without bound in more processes: enough to push the
  machine, and the honest students graded on it, into the OOM killer.
- `setsid`: every new session is a scheduler autogroup of its own, so 60 busy loops that each
  call `setsid()` take 60 shares of the CPU where an honest sandbox has one. Without a CPU
  cgroup that starved a neighbour. Here `setsid` succeeds without doing anything (returns 0):
  `subprocess.Popen(..., start_new_session=True)` still works, but stays in the sandbox's
  session (bwrap's `--new-session` has already made one, before the filter applies).
- `unshare`, `clone(CLONE_NEWUSER)`, `clone3`, `io_uring_setup`: new user namespaces (as root,
  the sandbox's uid could make one and hold every capability in it) and io_uring, the kernel
  surface most sandbox escapes of recent years went through. `clone3` gets ENOSYS, so the C
  library falls back to `clone`, whose flags the filter can read.
- `ptrace`, `process_vm_readv`/`writev`, `pidfd_getfd`: as an unprivileged grader, bwrap's
  init (pid 1 of the sandbox) has the student's uid, but neither this filter nor the agent's
  rlimits; attached with ptrace, it ran whatever student code told it to. (Its
  `/proc/1/mem` is covered by /dev/null in the launcher's layout.)

System calls of another architecture (`int 0x80` from a 64-bit process, x32) kill the thread,
libseccomp's default for a filter that lists only the native one. The filter is built with
libseccomp (Debian's `libseccomp2`, which apt itself depends on) through ctypes and handed to
bubblewrap (`--seccomp FD`); where libseccomp is missing the sandbox runs without it and its
description says so.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import functools
import logging
import os
import tempfile

log = logging.getLogger("nngrade.sandbox.seccomp")

ACT_ALLOW = 0x7FFF0000
ACT_ERRNO = 0x00050000  # | errno
CMP_MASKED_EQ = 7
CLONE_NEWUSER = 0x10000000

# name -> errno returned instead of running it (0: "succeeds" without doing anything)
REFUSED = {
    "memfd_create": errno.EPERM,
    "shmget": errno.EPERM,
    "msgget": errno.EPERM,
    "setsid": 0,
    "unshare": errno.EPERM,
    "clone3": errno.ENOSYS,
    "io_uring_setup": errno.ENOSYS,
    "ptrace": errno.EPERM,
    "process_vm_readv": errno.EPERM,
    "process_vm_writev": errno.EPERM,
    "pidfd_getfd": errno.EPERM,
}


class _ArgCmp(ctypes.Structure):
    _fields_ = [
        ("arg", ctypes.c_uint),
        ("op", ctypes.c_int),
        ("datum_a", ctypes.c_uint64),
        ("datum_b", ctypes.c_uint64),
    ]


def _library():
    name = ctypes.util.find_library("seccomp") or "libseccomp.so.2"
    lib = ctypes.CDLL(name, use_errno=True)
    lib.seccomp_init.restype = ctypes.c_void_p
    lib.seccomp_init.argtypes = [ctypes.c_uint32]
    lib.seccomp_release.argtypes = [ctypes.c_void_p]
    lib.seccomp_syscall_resolve_name.argtypes = [ctypes.c_char_p]
    lib.seccomp_rule_add.argtypes = [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_int, ctypes.c_uint]
    lib.seccomp_rule_add_array.argtypes = [
        ctypes.c_void_p, ctypes.c_uint32, ctypes.c_int, ctypes.c_uint, ctypes.POINTER(_ArgCmp)
    ]  # fmt: skip
    lib.seccomp_export_bpf.argtypes = [ctypes.c_void_p, ctypes.c_int]
    return lib


@functools.lru_cache(maxsize=1)
def program() -> bytes | None:
    """The compiled BPF filter (as bwrap's `--seccomp` reads it), or None without libseccomp."""
    try:
        lib = _library()
    except OSError as err:
        log.warning("nngrade sandbox: no system-call filter (libseccomp not found: %s)", err)
        return None
    ctx = lib.seccomp_init(ACT_ALLOW)
    if not ctx:
        return None
    try:
        for name, code in REFUSED.items():
            number = lib.seccomp_syscall_resolve_name(name.encode())
            if number < 0:  # not a system call on this architecture
                continue
            if lib.seccomp_rule_add(ctx, ACT_ERRNO | code, number, 0) != 0:
                raise OSError(f"seccomp_rule_add({name}) failed")
        clone = lib.seccomp_syscall_resolve_name(b"clone")
        newuser = (_ArgCmp * 1)(_ArgCmp(0, CMP_MASKED_EQ, CLONE_NEWUSER, CLONE_NEWUSER))
        if lib.seccomp_rule_add_array(ctx, ACT_ERRNO | errno.EPERM, clone, 1, newuser) != 0:
            raise OSError("seccomp_rule_add(clone, CLONE_NEWUSER) failed")
        with tempfile.TemporaryFile() as out:
            if lib.seccomp_export_bpf(ctx, out.fileno()) != 0:
                raise OSError("seccomp_export_bpf failed")
            out.seek(0)
            return out.read()
    except OSError as err:
        log.warning("nngrade sandbox: no system-call filter (%s)", err)
        return None
    finally:
        lib.seccomp_release(ctx)


def open_program() -> int | None:
    """A readable fd (close-on-exec) holding the filter, for `bwrap --seccomp FD`."""
    code = program()
    if code is None:
        return None
    read, write = os.pipe()
    if len(code) > 65536:  # pragma: no cover - a filter of a dozen rules is ~200 bytes
        os.close(read)
        os.close(write)
        raise OSError("seccomp filter larger than a pipe buffer")
    os.write(write, code)
    os.close(write)
    os.set_inheritable(read, False)
    return read
