"""Confinement of the throw-away kernel copy that runs a test cell's hidden calls.

`nngrade.sandbox.agent` forks a copy of the student's kernel for each test cell with hidden
tests (docs/security.md, "After the first hidden test"). Before the copy reads a request it
calls `confine`, so nothing the hidden calls do can reach a later cell: a later cell runs in
the original kernel, which the copy cannot write to, signal, share memory with or leave files
for. What `confine` does, in order:

1. closes every file descriptor but the request channel (an fd opened before the fork shares
   its offset and flags with the original kernel);
2. turns every shared memory mapping (`MAP_SHARED` memory, a `multiprocessing` value, a SysV
   segment) into a private copy of itself;
3. `prctl(PR_SET_DUMPABLE, 0)` and `PR_SET_NO_NEW_PRIVS`;
4. Landlock (when the kernel has it): no file may be written, made, removed, renamed, linked
   or truncated anywhere; files may be read only beneath read-only mounts (not the scratch
   home, /tmp or /dev/shm, whose access times would carry bits); no TCP; no signal or abstract
   socket outside the copy (ABI 6);
5. a seccomp filter returning EPERM for what Landlock does not cover: new processes and
   threads, signals to others, ptrace and process_vm_*, sockets, SysV/POSIX IPC, keyrings,
   io_uring, scheduling of others, prlimit with a new limit, chmod/chown/utime/xattr writes,
   inotify/fanotify, mounts and namespaces, bpf/perf/userfaultfd, file locks and the fcntl/
   ioctl commands that change what the channel's shared file descriptions or pipes look like.

Stdlib and ctypes only: this file is mounted into the sandbox beside agent.py (which loads it
by path), and is also imported by the grader's unit tests. x86_64 and aarch64 only; on other
machines `confine` raises `Unconfinable` and the grader falls back to withholding outputs.
"""

from __future__ import annotations

import ctypes
import errno
import os
import platform
import re
import struct


class Unconfinable(Exception):
    """The copy cannot be confined here (architecture, kernel): do not run hidden calls in it."""


# ------------------------------------------------------------------------------ syscalls
_COMMON = {  # numbers shared by x86_64 and aarch64 (the unified table, 424 and up)
    "pidfd_send_signal": 424, "io_uring_setup": 425, "io_uring_enter": 426,
    "io_uring_register": 427, "open_tree": 428, "move_mount": 429, "fsopen": 430,
    "fsconfig": 431, "fsmount": 432, "fspick": 433, "pidfd_open": 434, "clone3": 435,
    "pidfd_getfd": 438, "process_madvise": 440, "mount_setattr": 442,
    "process_mrelease": 448, "fchmodat2": 452, "lsm_set_self_attr": 460, "setxattrat": 463,
    "removexattrat": 466, "open_tree_attr": 467, "file_setattr": 469,
}  # fmt: skip
X86_64 = {
    **_COMMON,
    "clone": 56, "fork": 57, "vfork": 58, "kill": 62, "tkill": 200, "tgkill": 234,
    "rt_sigqueueinfo": 129, "rt_tgsigqueueinfo": 297, "ptrace": 101, "process_vm_readv": 310,
    "process_vm_writev": 311, "socket": 41, "socketpair": 53, "connect": 42, "shmget": 29,
    "shmat": 30, "shmctl": 31, "shmdt": 67, "msgget": 68, "msgsnd": 69, "msgrcv": 70,
    "msgctl": 71, "semget": 64, "semop": 65, "semctl": 66, "semtimedop": 220, "mq_open": 240,
    "mq_unlink": 241, "mq_timedsend": 242, "mq_timedreceive": 243, "mq_notify": 244,
    "mq_getsetattr": 245, "keyctl": 250, "add_key": 248, "request_key": 249,
    "setpriority": 141, "sched_setparam": 142, "sched_setscheduler": 144,
    "sched_setaffinity": 203, "sched_setattr": 314, "ioprio_set": 251, "prlimit64": 302,
    "chmod": 90, "fchmod": 91, "fchmodat": 268, "chown": 92, "fchown": 93, "lchown": 94,
    "fchownat": 260, "utime": 132, "utimes": 235, "utimensat": 280, "futimesat": 261,
    "setxattr": 188, "lsetxattr": 189, "fsetxattr": 190, "removexattr": 197,
    "lremovexattr": 198, "fremovexattr": 199, "inotify_init": 253, "inotify_add_watch": 254,
    "inotify_init1": 294, "fanotify_init": 300, "fanotify_mark": 301, "prctl": 157, "bpf": 321,
    "perf_event_open": 298, "userfaultfd": 323, "unshare": 272, "setns": 308, "mount": 165,
    "umount2": 166, "pivot_root": 155, "kcmp": 312, "flock": 73, "fcntl": 72, "ioctl": 16,
    "sethostname": 170, "setdomainname": 171, "open": 2, "openat": 257, "creat": 85,
    "openat2": 437, "truncate": 76, "ftruncate": 77, "rename": 82, "mkdir": 83, "rmdir": 84,
    "link": 86, "unlink": 87, "symlink": 88, "mknod": 133, "mkdirat": 258, "mknodat": 259,
    "unlinkat": 263, "renameat": 264, "linkat": 265, "symlinkat": 266, "renameat2": 316,
}  # fmt: skip
AARCH64 = {
    **_COMMON,
    "clone": 220, "kill": 129, "tkill": 130, "tgkill": 131, "rt_sigqueueinfo": 138,
    "rt_tgsigqueueinfo": 240, "ptrace": 117, "process_vm_readv": 270,
    "process_vm_writev": 271, "socket": 198, "socketpair": 199, "connect": 203, "shmget": 194,
    "shmat": 196, "shmctl": 195, "shmdt": 197, "msgget": 186, "msgsnd": 189, "msgrcv": 188,
    "msgctl": 187, "semget": 190, "semop": 193, "semctl": 191, "semtimedop": 192,
    "mq_open": 180, "mq_unlink": 181, "mq_timedsend": 182, "mq_timedreceive": 183,
    "mq_notify": 184, "mq_getsetattr": 185, "keyctl": 219, "add_key": 217, "request_key": 218,
    "setpriority": 140, "sched_setparam": 118, "sched_setscheduler": 119,
    "sched_setaffinity": 122, "sched_setattr": 274, "ioprio_set": 30, "prlimit64": 261,
    "fchmod": 52, "fchmodat": 53, "fchown": 55, "fchownat": 54, "utimensat": 88,
    "setxattr": 5, "lsetxattr": 6, "fsetxattr": 7, "removexattr": 14, "lremovexattr": 15,
    "fremovexattr": 16, "inotify_add_watch": 27, "inotify_init1": 26, "fanotify_init": 262,
    "fanotify_mark": 263, "prctl": 167, "bpf": 280, "perf_event_open": 241, "userfaultfd": 282,
    "unshare": 97, "setns": 268, "mount": 40, "umount2": 39, "pivot_root": 41, "kcmp": 272,
    "flock": 32, "fcntl": 25, "ioctl": 29, "sethostname": 161, "setdomainname": 162,
    "openat": 56, "openat2": 437, "truncate": 45, "ftruncate": 46, "mknodat": 33,
    "mkdirat": 34, "unlinkat": 35, "symlinkat": 36, "linkat": 37, "renameat": 38,
    "renameat2": 276,
}  # fmt: skip
ARCHES = {"x86_64": (0xC000003E, X86_64), "aarch64": (0xC00000B7, AARCH64)}
ARCHES["arm64"] = ARCHES["aarch64"]

# Refused outright (EPERM). Checked by argument below: kill, tkill, tgkill (self only),
# prlimit64 (own limits, read only), prctl (not PR_SET_DUMPABLE), fcntl and ioctl (commands).
DENIED = (
    "clone", "clone3", "fork", "vfork", "rt_sigqueueinfo", "rt_tgsigqueueinfo",
    "pidfd_send_signal", "pidfd_open", "pidfd_getfd", "ptrace", "process_vm_readv",
    "process_vm_writev", "kcmp", "process_madvise", "process_mrelease", "socket",
    "socketpair", "connect", "shmget", "shmat", "shmctl", "shmdt", "msgget", "msgsnd",
    "msgrcv", "msgctl", "semget", "semop", "semctl", "semtimedop", "mq_open", "mq_unlink",
    "mq_timedsend", "mq_timedreceive", "mq_notify", "mq_getsetattr", "keyctl", "add_key",
    "request_key", "io_uring_setup", "io_uring_enter", "io_uring_register", "setpriority",
    "sched_setparam", "sched_setscheduler", "sched_setaffinity", "sched_setattr",
    "ioprio_set", "chmod", "fchmod", "fchmodat", "fchmodat2", "chown", "fchown", "lchown",
    "fchownat", "utime", "utimes", "utimensat", "futimesat", "setxattr", "lsetxattr",
    "fsetxattr", "removexattr", "lremovexattr", "fremovexattr", "setxattrat", "removexattrat",
    "file_setattr", "inotify_init", "inotify_add_watch", "inotify_init1", "fanotify_init",
    "fanotify_mark", "bpf", "perf_event_open", "userfaultfd", "unshare", "setns", "mount",
    "umount2", "pivot_root", "open_tree", "open_tree_attr", "move_mount", "fsopen",
    "fsconfig", "fsmount", "fspick", "mount_setattr", "flock", "sethostname",
    "setdomainname", "lsm_set_self_attr",
)  # fmt: skip
# Without Landlock (an old kernel, or disabled at boot) these refuse every change to files, and
# open/openat refuse write, create, truncate and append flags (reads stay possible).
FILE_CHANGES = (
    "creat", "openat2", "truncate", "ftruncate", "rename", "renameat", "renameat2", "mkdir",
    "mkdirat", "rmdir", "link", "linkat", "symlink", "symlinkat", "unlink", "unlinkat",
    "mknod", "mknodat",
)  # fmt: skip
OPEN_WRITE_FLAGS = 0o1 | 0o2 | 0o100 | 0o1000 | 0o2000  # O_WRONLY O_RDWR O_CREAT O_TRUNC O_APPEND
FUTURE_SYSCALLS = 470  # numbers from here on are newer than this list: refused
PR_SET_DUMPABLE = 4
# fcntl commands that change state shared with the original kernel (the open file description
# or the pipe of the request channel): flags, owner and signal, leases, notifications, pipe
# size, write hints, OFD locks
FCNTL_DENIED = (4, 8, 10, 15, 1024, 1026, 1031, 1036, 1038, 37, 38)
# FIONBIO FIOASYNC FIOSETOWN SIOCSPGRP TIOCSTI
IOCTL_DENIED = (0x5421, 0x5452, 0x8901, 0x8902, 0x5412)

# ------------------------------------------------------------------------------ BPF
_LD_ABS, _JEQ, _JGE, _JSET, _RET = 0x20, 0x15, 0x35, 0x45, 0x06
RET_ALLOW, RET_KILL = 0x7FFF0000, 0x80000000
RET_EPERM = 0x00050000 | errno.EPERM
_NR, _ARCH = 0, 4


def _arg(i: int, high: bool = False) -> int:
    return 16 + 8 * i + (4 if high else 0)


class _Program:
    """A tiny BPF assembler: jumps name labels, resolved (forward only) by `assemble`."""

    def __init__(self) -> None:
        self.code: list[tuple] = []
        self.labels: dict[str, int] = {}
        self.fresh = 0

    def label(self, name: str) -> None:
        self.labels[name] = len(self.code)

    def new_label(self) -> str:
        self.fresh += 1
        return f"L{self.fresh}"

    def load(self, offset: int) -> None:
        self.code.append((_LD_ABS, None, None, offset))

    def jump(self, op: int, k: int, yes: str | None, no: str | None) -> None:
        self.code.append((op, yes, no, k))

    def ret(self, value: int) -> None:
        self.code.append((_RET, None, None, value))

    def assemble(self) -> bytes:
        out = []
        for index, (op, yes, no, k) in enumerate(self.code):
            offsets = []
            for target in (yes, no):
                jump = 0 if target is None else self.labels[target] - index - 1
                if not 0 <= jump <= 255:
                    raise Unconfinable("seccomp filter too long for its jumps")
                offsets.append(jump)
            out.append(struct.pack("<HBBI", op, offsets[0], offsets[1], k & 0xFFFFFFFF))
        return b"".join(out)


def seccomp_filter(arch: str, self_pid: int, files: bool = False) -> bytes:
    """The BPF program (struct sock_filter array) for this architecture and process;
    `files` adds the file rules Landlock would otherwise enforce (writes only)."""
    if arch not in ARCHES:
        raise Unconfinable(f"no seccomp syscall table for {arch} (only x86_64 and aarch64)")
    audit_arch, table = ARCHES[arch]
    p = _Program()
    p.load(_ARCH)
    p.jump(_JEQ, audit_arch, None, "kill")  # another ABI (i386, x32 on x86_64): killed
    p.load(_NR)
    p.jump(_JGE, 0x40000000, "eperm", None)  # the x32 ABI's numbers
    p.jump(_JGE, FUTURE_SYSCALLS, "eperm", None)
    for name in DENIED + (FILE_CHANGES if files else ()):
        if name in table:
            p.jump(_JEQ, table[name], "eperm", None)
    if files:  # open(path, flags) and openat(dirfd, path, flags): read-only opens only
        for name, index in (("open", 1), ("openat", 2)):
            if name in table:
                skip = p.new_label()
                p.jump(_JEQ, table[name], None, skip)
                p.load(_arg(index))
                p.jump(_JSET, OPEN_WRITE_FLAGS, "eperm", "allow")
                p.label(skip)
    # kill(pid, sig) and tkill(tid, sig): self only; tgkill(tgid, tid, sig): own thread group
    for name in ("kill", "tkill", "tgkill"):
        skip = p.new_label()
        p.jump(_JEQ, table[name], None, skip)
        p.load(_arg(0))
        p.jump(_JEQ, self_pid, "allow", "eperm")
        p.label(skip)
    # prlimit64(pid, resource, new, old): own limits (pid 0 or self), read only (new NULL)
    skip = p.new_label()
    p.jump(_JEQ, table["prlimit64"], None, skip)
    p.load(_arg(0))
    ours = p.new_label()
    p.jump(_JEQ, 0, ours, None)
    p.jump(_JEQ, self_pid, ours, "eperm")
    p.label(ours)
    p.load(_arg(2))
    p.jump(_JEQ, 0, None, "eperm")
    p.load(_arg(2, high=True))
    p.jump(_JEQ, 0, "allow", "eperm")
    p.label(skip)
    # prctl(PR_SET_DUMPABLE, ...) refused; fcntl and ioctl: the commands listed above
    for name, denied in (("prctl", (PR_SET_DUMPABLE,)), ("fcntl", FCNTL_DENIED),
                         ("ioctl", IOCTL_DENIED)):  # fmt: skip
        skip = p.new_label()
        p.jump(_JEQ, table[name], None, skip)
        p.load(_arg(0 if name == "prctl" else 1))
        for value in denied:
            p.jump(_JEQ, value, "eperm", None)
        p.ret(RET_ALLOW)
        p.label(skip)
    p.label("allow")
    p.ret(RET_ALLOW)
    p.label("eperm")
    p.ret(RET_EPERM)
    p.label("kill")
    p.ret(RET_KILL)
    return p.assemble()


# ------------------------------------------------------------------------------ libc
def _libc():
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    libc.mmap.restype = ctypes.c_void_p
    libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int,
                          ctypes.c_int, ctypes.c_long]  # fmt: skip
    libc.mprotect.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong,
                           ctypes.c_ulong]  # fmt: skip
    return libc


def _check(result: int, what: str) -> int:
    if result < 0:
        err = ctypes.get_errno()
        raise Unconfinable(f"{what} failed: {os.strerror(err)}")
    return result


# ------------------------------------------------------------------------------ steps
def close_fds(keep: set[int]) -> None:
    """Close every open fd not in `keep` (fds 0-2 should already be /dev/null)."""
    for name in os.listdir("/proc/self/fd"):
        fd = int(name)
        if fd not in keep:
            try:
                os.close(fd)
            except OSError:
                pass


PRIVATE_COPY_CAP = 256 * 2**20  # a shared mapping larger than this is dropped, not copied


def shared_mappings() -> list[tuple[int, int, str]]:
    """(start, end, perms) of every shared mapping of this process (`s` in /proc/self/maps)."""
    found = []
    with open("/proc/self/maps") as maps:
        for line in maps:
            fields = line.split()
            span, perms = fields[0], fields[1]
            if perms[3] == "s":
                start, end = (int(x, 16) for x in span.split("-"))
                found.append((start, end, perms))
    return found


def privatize_shared_memory(libc) -> int:
    """Replace each shared mapping by a private anonymous one holding a copy of its bytes.

    Written memory then stays in this process: a `MAP_SHARED` region, a multiprocessing value
    or a SysV segment made before the fork no longer reaches the original kernel. Unreadable
    or very large regions are replaced without their content. Returns how many were replaced."""
    count = 0
    for start, end, perms in shared_mappings():
        size = end - start
        prot = (1 if "r" in perms else 0) | (2 if "w" in perms else 0) | (4 if "x" in perms else 0)
        data = ctypes.string_at(start, size) if "r" in perms and size <= PRIVATE_COPY_CAP else b""
        got = libc.mmap(start, size, 3, 0x02 | 0x20 | 0x10, -1, 0)  # RW, PRIVATE|ANON|FIXED
        if got is None or got != start:
            raise Unconfinable("could not replace a shared memory mapping")
        if data:
            ctypes.memmove(start, data, size)
        _check(libc.mprotect(start, size, prot), "mprotect")
        count += 1
    return count


# Landlock (include/uapi/linux/landlock.h)
LL_CREATE, LL_ADD_RULE, LL_RESTRICT = 444, 445, 446
LL_VERSION = 1  # LANDLOCK_CREATE_RULESET_VERSION
EXECUTE, WRITE_FILE, READ_FILE, READ_DIR = 1 << 0, 1 << 1, 1 << 2, 1 << 3
FS_RIGHTS_BY_ABI = {1: (1 << 13) - 1, 2: (1 << 14) - 1, 3: (1 << 15) - 1, 5: (1 << 16) - 1}
TRUNCATE, IOCTL_DEV = 1 << 14, 1 << 15
NET_BIND_TCP, NET_CONNECT_TCP = 1, 2
SCOPE_ABSTRACT_UNIX, SCOPE_SIGNAL = 1, 2
DEVICES = ("/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom")
# Its own /proc entry only: /proc/<kernel>/mem would show the kernel's memory (and the key it
# signs its "copy gone" frame with)
ALWAYS_READABLE = ("/proc/self",)


def landlock_abi(libc) -> int:
    """The kernel's Landlock ABI version (0: none, or disabled at boot)."""
    version = libc.syscall(LL_CREATE, None, 0, LL_VERSION)
    return max(int(version), 0)


def mounts() -> list[tuple[str, bool]]:
    """(mount point, read-only?) of every mount this process sees, in /proc/self/mountinfo."""
    found = []
    with open("/proc/self/mountinfo") as info:
        for line in info:
            fields = line.split()
            point, options = _unescape(fields[4]), fields[5].split(",")
            found.append((point, "ro" in options))
    return found


def _unescape(field: str) -> str:
    """A mountinfo path: space, tab, newline and backslash are written as octal escapes."""
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), field)


def writable_mounts() -> list[str]:
    """Mount points mounted read-write (the scratch tmpfs: home, /tmp, /dev/shm, /dev...)."""
    return [point for point, read_only in mounts() if not read_only]


def nested_read_only_mounts(excluded: list[str]) -> list[str]:
    """Read-only mounts inside an excluded tree (the kit and its venv bound read-only under a
    writable /tmp when the kit lives in /tmp): readable like every other read-only tree.
    Never below /proc (other processes' entries)."""
    inside = []
    for point, read_only in mounts():
        if not read_only or point == "/proc" or point.startswith("/proc/"):
            continue
        if any(point != e and point.startswith(e.rstrip("/") + "/") for e in excluded):
            inside.append(point)
    return inside


def read_roots(excluded: list[str], start: str = "/") -> list[str]:
    """The folders beneath `start` where reading is allowed: all of it except `excluded` trees."""
    roots: list[str] = []
    excluded = [e.rstrip("/") or "/" for e in excluded]

    def visit(path: str) -> None:
        if path in excluded:
            return
        prefix = path.rstrip("/") + "/"
        if any(e.startswith(prefix) for e in excluded):
            try:
                names = sorted(os.listdir(path))
            except OSError:
                return
            for name in names:
                child = prefix + name
                if os.path.isdir(child) and not os.path.islink(child):
                    visit(child)
                elif not any(e == child for e in excluded) and os.path.isfile(child):
                    roots.append(child)
        else:
            roots.append(path)

    if start.rstrip("/") or "/" not in excluded:
        visit(start)
    return roots


def readable_trees(excluded: list[str]) -> list[str]:
    """Every read-only tree: beneath / outside `excluded`, and read-only mounts nested in an
    excluded tree (minus anything excluded below them)."""
    roots = read_roots(excluded)
    for point in nested_read_only_mounts(excluded):
        if os.path.isdir(point) and not os.path.islink(point):
            roots += read_roots([e for e in excluded if e != point], point)
    return list(dict.fromkeys(roots))


def landlock(libc, abi: int) -> str:
    """Restrict the file system (and, by ABI, TCP, signals and abstract sockets); returns
    what was applied, for the grader's log."""
    fs = FS_RIGHTS_BY_ABI[max(k for k in FS_RIGHTS_BY_ABI if k <= abi)]
    net = NET_BIND_TCP | NET_CONNECT_TCP if abi >= 4 else 0
    scoped = SCOPE_ABSTRACT_UNIX | SCOPE_SIGNAL if abi >= 6 else 0
    if abi >= 6:
        attr = struct.pack("<QQQ", fs, net, scoped)
    elif abi >= 4:
        attr = struct.pack("<QQ", fs, net)
    else:
        attr = struct.pack("<Q", fs)
    buffer = ctypes.create_string_buffer(attr, len(attr))
    ruleset = _check(libc.syscall(LL_CREATE, buffer, len(attr), 0), "landlock_create_ruleset")
    excluded = writable_mounts() + ["/proc"]
    readable = readable_trees(excluded) + [p for p in ALWAYS_READABLE if os.path.isdir(p)]
    try:
        for path in readable:
            is_dir = os.path.isdir(path)
            rights = EXECUTE | READ_FILE | (READ_DIR if is_dir else 0)
            _add_rule(libc, ruleset, path, rights)
        file_rights = READ_FILE | WRITE_FILE | (IOCTL_DEV if abi >= 5 else 0)
        for device in DEVICES:
            if os.path.exists(device):
                _add_rule(libc, ruleset, device, file_rights)
        _check(libc.syscall(LL_RESTRICT, ruleset, 0), "landlock_restrict_self")
    finally:
        os.close(ruleset)
    return f"Landlock ABI {abi} ({len(readable)} read-only trees)"


def _add_rule(libc, ruleset: int, path: str, rights: int) -> None:
    fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
    try:
        attr = ctypes.create_string_buffer(struct.pack("<Qi", rights, fd), 12)  # packed
        _check(libc.syscall(LL_ADD_RULE, ruleset, 1, attr, 0), f"landlock rule for {path}")
    finally:
        os.close(fd)


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def install_seccomp(libc, program: bytes) -> None:
    """Load `program` as this process's seccomp filter (no_new_privs must be set)."""
    buffer = ctypes.create_string_buffer(program, len(program))
    prog = _SockFprog(len(program) // 8, ctypes.cast(buffer, ctypes.c_void_p))
    # prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog)
    _check(libc.prctl(22, 2, ctypes.addressof(prog), 0, 0), "seccomp")


def confine(keep_fds: set[int], use_landlock: bool = True) -> list[str]:
    """Confine this process (the kernel copy) for good; returns what was applied.

    Raises `Unconfinable` when a required step is impossible here (then the copy must exit
    without running anything). Landlock is best effort: on a kernel without it the other
    steps still apply, and the returned notes say so."""
    arch = platform.machine()
    if arch not in ARCHES:
        raise Unconfinable(f"no seccomp syscall table for {arch} (only x86_64 and aarch64)")
    libc = _libc()
    notes = []
    close_fds(keep_fds | {0, 1, 2})
    notes.append(f"{privatize_shared_memory(libc)} shared mapping(s) made private")
    _check(libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0), "prctl(PR_SET_DUMPABLE)")
    _check(libc.prctl(38, 1, 0, 0, 0), "prctl(PR_SET_NO_NEW_PRIVS)")
    abi = landlock_abi(libc) if use_landlock else 0
    if abi >= 1:
        notes.append(landlock(libc, abi))
    else:
        notes.append(
            "no Landlock: seccomp refuses every file change (reads of scratch files, and so "
            "their access times, are not guarded)"
        )
    install_seccomp(libc, seccomp_filter(arch, os.getpid(), files=abi < 1))
    notes.append("seccomp filter")
    return notes
