"""One sandboxed process tree per submission, and the channel the grader talks to it on.

The namespace and mount layer is bubblewrap (`bwrap`, the sandbox Flatpak uses). The agent
starts in new PID, mount, IPC, UTS, cgroup and network namespaces, in a root file system that
holds only the system folders, a few files of /etc, the Python install, venv, nnhelpers and
data cache (read-only) and size-capped scratch tmpfs (/tmp, /var/tmp, /dev/shm and the home).
- As root, bwrap runs privileged with every capability dropped but setuid/setgid, and the agent
  becomes a dedicated uid per sandbox (so a uid sweep finds everything it left).
- As any other user, bwrap runs unprivileged in a user namespace (nested ones disabled); the
  sandbox has the grader's uid outside, no capabilities, and its PID namespace is the sweep.
Both get rlimits; a cgroup (memory, pids, CPU quota) wherever one is writable (root, or a tree
delegated to the user). Only where bwrap cannot run at all does the sandbox degrade to rlimits
and a new session (DEGRADED; `nngrade` then refuses untrusted work unless `--allow-degraded`).
"""

from __future__ import annotations

import fcntl
import functools
import json
import logging
import os
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from nngrade.grading.results import GraderFault, Limits
from nngrade.grading.worker import ONE_THREAD
from nngrade.sandbox import agent as wire
from nngrade.sandbox import seccomp

log = logging.getLogger("nngrade.sandbox.launcher")

AGENT = Path(wire.__file__).resolve()
BWRAP = "bwrap"
# Dedicated uids: never in /etc/passwd, one per running sandbox. A new range whenever the lock
# folder or the sweep changes, so graders of different versions on one machine never take each
# other's sandboxes for leftovers: 2,000,000 was the unshare-based sandbox; 2,100,000 the first
# bubblewrap one, whose start-up sweep also killed live sandboxes of its range.
UID_BASE = 2_200_000
UID_SLOTS = 512
HOME = "/home/student"
SEED_MOUNT = "/run/nngrade/seed"  # the student's files, read-only; the agent copies them home
AGENT_MOUNT = "/run/nngrade/sandbox/agent.py"
CONFINE = AGENT.parent / "confine.py"  # loaded by the agent from beside itself
CONFINE_MOUNT = "/run/nngrade/sandbox/confine.py"
START_TIMEOUT = 90.0
KILL_GRACE = 3.0
MAX_REPLY_MB = 128  # the largest value a student function may send back to the grader
CPUS_PER_SANDBOX = 1.0  # cgroup CPU quota: one sandbox never takes more than one core
WALL_FACTOR = 3.0  # a timeout of t s of sandbox CPU time ends after 3 t s of wall time at most
POLL = 0.25
SYSTEM_DIRS = ["/usr", "/bin", "/sbin", "/lib", "/lib64", "/lib32", "/libx32"]
SCRATCH_DIRS = ["/tmp", "/var/tmp", "/dev/shm"]
# /etc as Python, numpy, IPython and matplotlib need it: the loader's cache, time zone, name
# service switch and the sandbox's own passwd/group/hosts (written per sandbox), not the host's.
ETC_FILES = [
    "ld.so.cache", "ld.so.conf", "ld.so.conf.d", "localtime", "timezone", "nsswitch.conf",
    "host.conf", "os-release", "alternatives", "fonts", "mime.types",
]  # fmt: skip
ETC_NETWORK = ["resolv.conf", "ssl", "ca-certificates", "gai.conf", "services", "protocols"]


class SandboxError(Exception):
    """The sandbox could not start, or the kernel died or stopped answering."""


class SandboxStartError(SandboxError, GraderFault):
    """The sandbox could not start: a fault of the grading machine, never of the student.

    A `GraderFault` (never a grade, never cached, non-zero exit): `diagnosis` is one line
    saying what failed, `fix` what the instructor should do."""

    def __init__(self, diagnosis: str, fix: str) -> None:
        GraderFault.__init__(self, diagnosis, fix)


class KernelDied(SandboxError):
    """The student's kernel process is gone (it exited, crashed or was killed)."""


class CopyDied(SandboxError):
    """The throw-away copy running a test's hidden calls died; the kernel itself lives on.

    Every later request of the same test raises it too (its calls must not run in the
    kernel), until the grader calls `Sandbox.hidden_end`."""


class CallTimeout(SandboxError):
    """A request did not finish within its time limit; the kernel was interrupted or killed."""


DEGRADED_TEXT = (
    "DEGRADED SANDBOX: student code can read every file the grader's user can read "
    "(master notebooks, gradebook, other submissions) and can reach the network; only "
    "rlimits, a new session and a scratch folder apply. Install bubblewrap (`bwrap`) and allow "
    "user namespaces (or grade as root) for full isolation."
)


@dataclass
class Isolation:
    """What this machine allows; `describe()` is what the reports and docs quote."""

    mode: str  # "namespaces" (bubblewrap) | "plain" (DEGRADED)
    drop_uid: bool  # root: a dedicated uid per sandbox
    network_isolated: bool
    warnings: list[str] = field(default_factory=list)
    user_namespace: bool = False  # bwrap runs unprivileged, in a user namespace

    @property
    def degraded(self) -> bool:
        return self.mode != "namespaces"

    def describe(self) -> str:
        if self.degraded:
            parts = ["plain (DEGRADED)"]
        else:
            layer = "user namespace" if self.user_namespace else "as root"
            parts = [f"bubblewrap namespaces ({layer})"]
        parts.append("own uid" if self.drop_uid else "same uid as the grader")
        parts.append("no network" if self.network_isolated else "NETWORK REACHABLE")
        return ", ".join(parts)


@functools.lru_cache(maxsize=4)
def detect(network: bool = False) -> Isolation:
    """Probe once which isolation this machine gives (NNGRADE_SANDBOX=plain forces the fallback)."""
    forced = os.environ.get("NNGRADE_SANDBOX", "").strip().lower()
    root = os.geteuid() == 0
    warnings: list[str] = []
    if forced == "plain":
        warnings.append("NNGRADE_SANDBOX=plain: namespaces deliberately disabled")
    elif not shutil.which(BWRAP):
        warnings.append(
            "bubblewrap is not installed (`apt-get install bubblewrap`, `dnf install bubblewrap`)"
        )
    else:
        argv = [BWRAP, *_ns_flags(network, root), "--ro-bind", "/", "/", "true"]
        probe = subprocess.run(argv, capture_output=True, text=True, timeout=30)
        if probe.returncode == 0:
            return Isolation("namespaces", root, not network, warnings, user_namespace=not root)
        hint = "" if root else " (user namespaces disabled? see `sysctl user.max_user_namespaces`)"
        warnings.append(f"bwrap could not create namespaces: {probe.stderr.strip()[:200]}{hint}")
    warnings.append(DEGRADED_TEXT)
    for warning in warnings:
        log.warning("nngrade sandbox: %s", warning)
    return Isolation("plain", False, False, warnings)


@functools.lru_cache(maxsize=1)
def _bwrap_has(option: str) -> bool:
    try:
        text = subprocess.run([BWRAP, "--help"], capture_output=True, text=True, timeout=30)
    except OSError:
        return False
    return option in text.stdout + text.stderr


def _ns_flags(network: bool, root: bool) -> list[str]:
    """bwrap's namespace options: privileged as root (uid dropped later), else a user namespace."""
    flags = ["--unshare-ipc", "--unshare-pid", "--unshare-uts", "--unshare-cgroup-try"]
    if not network:
        flags.append("--unshare-net")
    if root:  # no user namespace: the agent needs real setuid to its dedicated host uid
        flags += ["--cap-drop", "ALL", "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
    else:
        flags.append("--unshare-user")
        if _bwrap_has("--disable-userns"):  # no nested namespaces for student code
            flags.append("--disable-userns")
    return flags + ["--die-with-parent", "--new-session"]


class _Layout:
    """The bwrap options that build the sandbox's file system, in order.

    Scratch tmpfs comes before the read-only folders, so a kit, venv or cache that lives under
    /tmp stays visible; each folder is bound where it really is, with the symlinks it is known
    by recreated, and parents created world-traversable (a venv in /root must be reachable by
    the sandbox's uid)."""

    def __init__(self) -> None:
        self.args: list[str] = []
        self.trees: list[str] = []  # bound read-only: nothing can be created inside
        self.made: set[str] = {"/", "/proc", "/dev"}

    def inside(self, path: str) -> bool:
        return any(path == t or path.startswith(t.rstrip("/") + "/") for t in self.trees)

    def parents(self, path: str) -> None:
        chain, parent = [], os.path.dirname(path)
        while parent not in self.made and not self.inside(parent):
            chain.append(parent)
            parent = os.path.dirname(parent)
        for folder in reversed(chain):
            self.args += ["--perms", "0755", "--dir", folder]
            self.made.add(folder)

    def bind(self, source: str, target: str | None = None) -> None:
        target = target or source
        if self.inside(target) or target in self.made:
            return
        self.parents(target)
        self.args += ["--ro-bind", source, target]
        self.trees.append(target)

    def symlink(self, path: str) -> None:
        if self.inside(path) or path in self.made:
            return
        self.parents(path)
        self.args += ["--symlink", os.readlink(path), path]
        self.made.add(path)

    def scratch(self, path: str, size: int) -> None:
        self.parents(path)
        self.args += ["--size", str(size), "--perms", "1777", "--tmpfs", path]
        self.made.add(path)

    def host_path(self, named: str) -> None:
        """Show `named` read-only: its real folder, plus every symlink on the way to it."""
        real = os.path.realpath(named)
        if not os.path.exists(real):
            return
        self.bind(real)
        current = "/"
        for part in os.path.abspath(named).strip("/").split("/"):
            candidate = os.path.join(current, part)
            if os.path.islink(candidate):
                self.symlink(candidate)
                current = os.path.realpath(candidate)
            else:
                current = candidate


def _etc_files(folder: Path, uid: int, network: bool) -> dict[str, str]:
    """The sandbox's /etc: generated passwd, group and hosts, plus the host files Python needs."""
    folder.mkdir()
    generated = {
        "passwd": f"root:x:0:0::/:/usr/sbin/nologin\nstudent:x:{uid}:{uid}::{HOME}:/bin/sh\n",
        "group": f"root:x:0:\nstudent:x:{uid}:\n",
        "hosts": "127.0.0.1 localhost\n::1 localhost\n",
    }
    shown = {}
    for name, text in generated.items():
        (folder / name).write_text(text)
        (folder / name).chmod(0o644)
        shown[f"/etc/{name}"] = str(folder / name)
    for name in ETC_FILES + (ETC_NETWORK if network else []):
        if os.path.lexists(f"/etc/{name}"):
            shown.setdefault(f"/etc/{name}", f"/etc/{name}")
    return shown


class _Cgroups:
    """Memory, pids and CPU limits for the sandbox's whole tree (cgroup v1 or v2), best effort.

    rlimits are per process; a cgroup caps the sum, so 60 children of 1 GB each cannot take
    the machine down, and 60 busy loops share one core instead of starving other sandboxes.
    Root writes under its own cgroup; another user only where that tree is delegated to it
    (systemd's user slice with Delegate=yes). Where none is writable this is skipped and
    `describe()` says so.
    """

    def __init__(self, name: str, limits: Limits) -> None:
        self.dirs: list[Path] = []
        self.problems: list[str] = []
        memory = (int(limits.memory_mb) + 512) * 2**20
        pids = int(limits.max_processes) + 8
        period = 100_000
        quota = int(CPUS_PER_SANDBOX * period)
        own = _own_cgroups()
        if "" in own and Path("/sys/fs/cgroup/cgroup.controllers").exists():
            wanted = {"": {"memory.max": memory, "pids.max": pids, "cpu.max": f"{quota} {period}"}}
            bases = {"": Path("/sys/fs/cgroup" + own[""])}
        else:
            wanted = {
                "memory": {"memory.limit_in_bytes": memory},
                "pids": {"pids.max": pids},
                "cpu": {"cpu.cfs_period_us": period, "cpu.cfs_quota_us": quota},
                "cpuacct": {},
            }
            bases = {c: _v1_base(c, own[c]) for c in wanted if c in own}
        for controller, base in bases.items():
            if base is None:
                continue
            folder = base / name
            try:
                folder.mkdir(exist_ok=True)
                for key, value in wanted[controller].items():
                    try:
                        (folder / key).write_text(str(value))
                    except OSError as err:  # v2: a controller not enabled for this subtree
                        if controller or key == "memory.max":
                            raise
                        self.problems.append(f"{key}: {err.strerror}")
            except OSError as err:
                self.problems.append(f"{controller or 'v2'}: {err.strerror or err}")
                log.info("nngrade sandbox: no %s cgroup (%s)", controller or "v2", err)
                _rmdir(folder)
                continue
            if folder not in self.dirs:  # cpu and cpuacct may share one hierarchy
                self.dirs.append(folder)

    @property
    def has_cpu_quota(self) -> bool:
        kinds = {_kind(d) for d in self.dirs}
        v2_cpu = "v2" in kinds and not any(p.startswith("cpu.max") for p in self.problems)
        return "cpu" in kinds or v2_cpu

    def describe(self) -> str:
        if self.dirs:
            return "cgroup " + "+".join(_kind(d) for d in self.dirs)
        return (
            "no cgroup (none writable by this user: no whole-tree memory, pids or CPU cap; "
            "run the grader in a delegated one, e.g. `systemd-run --user --scope -p "
            "Delegate=yes nngrade ...`)"
        )

    def add(self, pid: int) -> None:
        """Move `pid` into every cgroup (its later children are born inside)."""
        for folder in self.dirs:
            try:
                (folder / "cgroup.procs").write_text(str(pid))
            except OSError as err:  # it may have exited already; the next add covers it
                log.debug("nngrade sandbox: cgroup add %s: %s", pid, err)

    def pids(self) -> list[int]:
        found: set[int] = set()
        for folder in self.dirs:
            try:
                found.update(int(p) for p in (folder / "cgroup.procs").read_text().split())
            except OSError:
                pass
        return sorted(found)

    def cpu_seconds(self) -> float | None:
        """CPU time used by everything that ever ran in the cgroup, if a cgroup counts it."""
        for folder in self.dirs:
            try:
                if (folder / "cpuacct.usage").exists():
                    return int((folder / "cpuacct.usage").read_text()) / 1e9
                if _kind(folder) == "v2":
                    for line in (folder / "cpu.stat").read_text().splitlines():
                        if line.startswith("usage_usec "):
                            return int(line.split()[1]) / 1e6
            except (OSError, ValueError):
                continue
        return None

    def remove(self) -> None:
        for folder in self.dirs:
            for _ in range(50):
                if _rmdir(folder):
                    break
                time.sleep(0.02)


def cpu_quota_available() -> bool:
    """Can this grader give each sandbox a CPU quota (a writable cgroup with the cpu
    controller)? Probed with a throwaway cgroup."""
    probe = _Cgroups(f"{SCRATCH_PREFIX}{os.getpid()}-probe", Limits())
    try:
        return probe.has_cpu_quota
    finally:
        probe.remove()


def _v1_base(controller: str, path: str) -> Path | None:
    """The folder of this process's cgroup in a v1 hierarchy (cpu and cpuacct may be joined)."""
    for mount in (controller, "cpu,cpuacct", "cpuacct,cpu"):
        base = Path(f"/sys/fs/cgroup/{mount}{path}")
        if base.is_dir():
            return base
    return None


def _kind(folder: Path) -> str:
    text = str(folder)
    for kind in ("memory", "pids", "cpuacct", "cpu"):
        if f"/{kind}/" in text or f"/{kind}," in text:
            return kind
    return "v2"


def _rmdir(folder: Path) -> bool:
    try:
        folder.rmdir()
    except FileNotFoundError:
        return True
    except OSError:
        return False
    return True


def _own_cgroups() -> dict[str, str]:
    """controller -> this process's cgroup path ('' is the v2 hierarchy)."""
    own: dict[str, str] = {}
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return own
    for line in lines:
        _, controllers, path = line.split(":", 2)
        for controller in controllers.split(",") if controllers else [""]:
            own[controller] = path.rstrip("/")
    return own


SLOT_DIRS = ["/run/nngrade-uid-slots", "/var/lib/nngrade/uid-slots"]


def _slot_dir() -> int:
    """An fd of the uid-slot lock folder: root's own, mode 0700, never reached via a symlink.

    A folder in a world-writable place ($TMPDIR) could be planted with symlinks that make root
    truncate a victim file; so the folder lives under /run, is checked after opening it
    (O_NOFOLLOW, owner root, mode 0700) and lock files are opened relative to it."""
    problems = []
    for path in SLOT_DIRS:
        try:
            os.makedirs(os.path.dirname(path), mode=0o755, exist_ok=True)
            try:
                os.mkdir(path, 0o700)
            except FileExistsError:
                pass
            fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
        except OSError as err:
            problems.append(f"{path}: {err.strerror or err}")
            continue
        info = os.fstat(fd)
        if info.st_uid == 0 and info.st_mode & 0o077 == 0:
            return fd
        os.close(fd)
        problems.append(f"{path}: not root's own 0700 folder (owner {info.st_uid})")
    raise SandboxStartError(
        "no safe folder for the sandbox uid locks (" + "; ".join(problems) + ")",
        f"remove {SLOT_DIRS[0]} if it is not root's own folder of mode 0700, and run again",
    )


class _UidSlot:
    """A dedicated uid for one sandbox, held by an flock so parallel graders never share one."""

    def __init__(self) -> None:
        folder = _slot_dir()
        try:
            start = os.getpid() % UID_SLOTS
            for offset in range(UID_SLOTS):
                slot = (start + offset) % UID_SLOTS
                fd = _try_lock(f"{slot}.lock", folder)
                if fd is None:
                    continue
                self.fd, self.uid = fd, UID_BASE + slot
                return
        finally:
            os.close(folder)
        raise SandboxStartError(
            f"all {UID_SLOTS} sandbox uid slots are busy",
            "wait for the other graders on this machine to finish, or run fewer jobs",
        )

    def release(self) -> None:
        os.close(self.fd)


def _try_lock(name: str, folder: int) -> int | None:
    """The fd of lock file `name`, locked exclusively; None when another process holds it
    (or the file is refused by `_open_lock`)."""
    fd = _open_lock(name, folder)
    if fd is None:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return None
    return fd


def _open_lock(name: str, folder: int) -> int | None:
    """Open (creating it exclusively if new) a regular lock file; never follow a symlink."""
    flags = os.O_RDWR | os.O_NOFOLLOW | os.O_CLOEXEC
    try:
        fd = os.open(name, flags | os.O_CREAT | os.O_EXCL, 0o600, dir_fd=folder)
    except FileExistsError:
        try:
            fd = os.open(name, flags, dir_fd=folder)
        except OSError as err:  # a symlink (ELOOP) or worse: skip this slot, loudly
            log.warning("nngrade sandbox: uid lock %s refused (%s)", name, err.strerror)
            return None
    info = os.fstat(fd)
    if not (info.st_mode & 0o170000 == 0o100000 and info.st_uid == os.geteuid()):
        os.close(fd)
        log.warning("nngrade sandbox: uid lock %s is not a regular file of ours", name)
        return None
    return fd


def _as_named_and_real(paths) -> list[str]:
    """Each existing path as named (absolute) and where it really is, without duplicates.

    A symlinked kit, venv or cache folder must be reachable in the sandbox by both names:
    Python reports the name it was started under, the kernel resolves the real one."""
    out: dict[str, None] = {}
    for value in paths:
        if not value:
            continue
        path = os.path.abspath(os.path.expanduser(value))
        if os.path.exists(path):
            out[path] = None
            out[os.path.realpath(path)] = None
    return list(out)


def _nnhelpers_dirs() -> list[str]:
    """The nnhelpers package folder(s) the grader imports (a checkout, a clone or the venv)."""
    try:
        import nnhelpers
    except ImportError:  # pragma: no cover - nnhelpers is part of the project
        return []
    return list(nnhelpers.__path__)


def _python_ro_paths() -> list[str]:
    """Folders the sandboxed Python needs: its install, the venv, and the nnhelpers package."""
    return _as_named_and_real([sys.base_prefix, sys.prefix, *_nnhelpers_dirs()])


def python_path() -> list[str]:
    """Folders the sandboxed Python puts first on sys.path: where the grader's nnhelpers is.

    The agent runs with `-I` (no PYTHONPATH), and the venv's own entries may point to another
    checkout; this makes student code import the same nnhelpers as the grader."""
    return [os.path.dirname(os.path.realpath(p)) for p in _nnhelpers_dirs()]


DATA_VARS = ("NNHELPERS_MIRROR", "NNHELPERS_FASHION_MIRROR", "NNHELPERS_CACHE")


def data_cache() -> str | None:
    """The grader's nnhelpers data cache (NNHELPERS_CACHE or the user cache), if it exists."""
    try:
        from nnhelpers.data import cache_root

        folder = cache_root()
        return str(folder) if folder.is_dir() else None
    except Exception:  # noqa: BLE001 - no cache is a normal state, whatever the reason
        return None


def _data_ro_paths() -> list[str]:
    """The course data the student may read: the dataset mirrors and the grader's data cache."""
    values = [os.environ.get(var, "").split(os.pathsep) for var in DATA_VARS]
    return _as_named_and_real([v for group in values for v in group] + [data_cache()])


class _Deadline:
    """When a wait ends: on the sandbox's fair clock (see `Sandbox.clock`), or on wall time."""

    def __init__(self, sandbox: Sandbox | None, seconds: float) -> None:
        self.sandbox = sandbox
        now = sandbox.clock() if sandbox is not None else time.monotonic()
        self.end = now + max(seconds, 0.01)

    def wait(self, what: str) -> float:
        """Seconds to wait before looking again; CallTimeout once the time is up."""
        if self.sandbox is None:
            left = self.end - time.monotonic()
        else:
            left = self.end - self.sandbox.clock()
            left = min(left, POLL) if left > 0 else left
        if left <= 0:
            raise CallTimeout(what)
        return left


class Sandbox:
    """A running sandboxed agent; use as a context manager so it is always torn down."""

    def __init__(
        self,
        limits: Limits,
        *,
        files: dict[str, bytes] | None = None,
        extra_ro_paths: list[str] | None = None,
    ) -> None:
        self.limits = limits
        self.isolation = detect(limits.network)
        self.warnings = list(self.isolation.warnings)
        self.files = files or {}
        self.extra_ro_paths = extra_ro_paths or []
        self.proc: subprocess.Popen | None = None
        self.workdir: Path | None = None
        self.slot: _UidSlot | None = None
        self.uid: int | None = None
        self.next_id = 1
        self.dead_reason = ""
        self.buffer = bytearray()
        self.max_reply = min(int(limits.memory_mb) // 4, MAX_REPLY_MB) * 2**20
        self.leftover: list[int] = []
        self.cgroups: _Cgroups | None = None
        self.agent_pid: int | None = None
        self.init_pid: int | None = None  # the PID namespace's init (bwrap's), host pid
        # the throw-away copy for hidden calls: "none", "in" (it serves requests) or "lost"
        # (it died during a test: that test's later requests are refused); `copy_key` signs
        # the kernel's "copy gone" frame (the copy never knows it)
        self.copy = "none"
        self.copy_key: str | None = None
        self.copy_pid: int | None = None
        self.pidns: str | None = None
        self.clock_start = (time.monotonic(), 0.0)
        self.cpu_cache = (float("-inf"), 0.0)  # (when read, CPU seconds)
        self.filtered = False  # bwrap applied the system-call filter (`seccomp.py`)

    # -- life cycle ------------------------------------------------------------------------
    def __enter__(self) -> Sandbox:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def start(self) -> None:
        """Lay out the scratch folder, start the agent, and wait for its hello.

        Raises SandboxStartError (a fault of the grading machine) if it cannot start, or if it
        would be DEGRADED and `limits.allow_degraded` is not set."""
        if self.isolation.degraded and not getattr(self.limits, "allow_degraded", False):
            reasons = "; ".join(w for w in self.warnings if w != DEGRADED_TEXT)
            raise SandboxStartError(
                f"refusing to grade: the sandbox cannot isolate student code here ({reasons})",
                "install bubblewrap (`apt-get install bubblewrap`) and allow user namespaces, or "
                "grade as root; to grade trusted notebooks anyway pass `--allow-degraded` (or "
                "set c.NNGrade.allow_degraded = True)",
            )
        sweep_leftovers()
        try:
            self.workdir = Path(tempfile.mkdtemp(prefix=f"{SCRATCH_PREFIX}{os.getpid()}-"))
            seed = self.workdir / "seed"
            seed.mkdir(mode=0o755)
            seed.chmod(0o755)  # whatever the grader's umask: the sandbox uid reads it
            for name, data in self.files.items():
                target = seed / Path(name).name
                target.write_bytes(data)
                target.chmod(0o644)
        except OSError as err:
            self.close()
            raise _start_fault(f"could not write the sandbox's scratch folder ({err})") from None
        env = self._env()
        cfg = {"limits": _limits_dict(self.limits), "path": python_path(), "home": HOME}
        if self.isolation.mode == "namespaces":
            if self.isolation.drop_uid:
                self.slot = _UidSlot()
                self.uid = self.slot.uid
                self._sweep()  # a crashed earlier grader may have left this uid's processes
            uid = self.uid if self.uid is not None else os.getuid()
            etc = _etc_files(self.workdir / "etc", uid, self.limits.network)
            cfg.update(seed=SEED_MOUNT, uid=self.uid, isolate_hidden=True)
            argv = [BWRAP, *_ns_flags(self.limits.network, self.isolation.drop_uid)]
            argv += self._layout(etc, str(seed))
            argv += ["--chdir", "/", "--", sys.executable, "-I", "-B", AGENT_MOUNT]
        else:
            home = self.workdir / "home"
            shutil.copytree(seed, home)
            cfg.update(home=str(home), seed=None, uid=None)
            env["HOME"] = str(home)
            argv = [sys.executable, "-I", "-B", str(AGENT)]
        argv.append(json.dumps(cfg))
        self.cgroups = _Cgroups(self.workdir.name, self.limits)
        if not self.cgroups.dirs:
            self.warnings.append(self.cgroups.describe())
        pass_fds: tuple[int, ...] = ()
        if argv[0] == BWRAP:  # options through a file: bwrap's command line (/proc/1/cmdline,
            # readable in the sandbox) then names no host path
            split = argv.index("--")
            options = argv[1:split]
            filter_fd = seccomp.open_program()
            self.filtered = filter_fd is not None
            if filter_fd is not None:
                options += ["--seccomp", str(filter_fd)]
                pass_fds = (filter_fd,)
            else:
                self.warnings.append(
                    "no system-call filter (libseccomp not found; `apt-get install "
                    "libseccomp2`): memfd and SysV memory, setsid and ptrace are not restricted"
                )
            with open(self.workdir / "bwrap.args", "w+b") as handle:
                handle.write(b"".join(os.fsencode(a) + b"\0" for a in options))
            args_fd = os.open(self.workdir / "bwrap.args", os.O_RDONLY | os.O_CLOEXEC)
            pass_fds += (args_fd,)
            argv = [BWRAP, "--args", str(args_fd), *argv[split:]]
        try:
            self.proc = subprocess.Popen(
                argv,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                # a pipe, not a file: bwrap's init keeps it open, and as an unprivileged
                # grader student code can open /proc/1/fd/2 (a host file was writable)
                stderr=subprocess.PIPE,
                env=env,
                cwd=str(self.workdir),
                start_new_session=True,
                close_fds=True,
                pass_fds=pass_fds,
            )
        except OSError as err:
            self.close()
            raise _start_fault(f"could not run {argv[0]} ({err})") from None
        finally:
            for fd in pass_fds:
                os.close(fd)
        os.set_blocking(self.proc.stdout.fileno(), False)
        os.set_blocking(self.proc.stderr.fileno(), False)
        self.cgroups.add(self.proc.pid)
        try:
            hello, _ = self._receive(_Deadline(None, START_TIMEOUT))
        except SandboxError as err:
            tail = self._stderr_tail()
            self.close()
            raise _start_fault(f"{err}; {tail}") from None
        if not hello.get("ok"):
            error = hello.get("error") or {}
            self.close()
            raise _start_fault(str(error.get("traceback", hello)))
        self.kernel_uid = hello.get("uid")
        tree = self._tree()
        for pid in tree:  # before any student code: all it starts is inside
            self.cgroups.add(pid)
        if self.isolation.mode == "namespaces" and len(tree) == 3:
            self.agent_pid, self.init_pid = tree[-1], tree[1]
            pidns = _pidns(self.agent_pid)
            if pidns is not None and pidns != _pidns(os.getpid()):  # never sweep our own
                self.pidns = pidns
        self.clock_start = (time.monotonic(), self.cpu_seconds())

    def _layout(self, etc: dict[str, str], seed: str) -> list[str]:
        """bwrap's file-system options (see `_Layout`)."""
        layout = _Layout()
        for path in SYSTEM_DIRS:
            if os.path.islink(path):
                layout.symlink(path)
            elif os.path.isdir(path):
                layout.bind(path)
        layout.args += ["--proc", "/proc", "--dev", "/dev"]
        # bwrap's init (pid 1) runs unfiltered and without the agent's rlimits; as an
        # unprivileged grader it has the student's uid, so its memory must not be writable
        for mem in ("/proc/1/mem", "/proc/1/task/1/mem"):
            layout.args += ["--ro-bind", "/dev/null", mem]
        size = int(self.limits.max_file_mb) * 2**20
        for path in (*SCRATCH_DIRS, HOME):
            layout.scratch(path, size)
        layout.args += ["--perms", "0755", "--dir", "/etc"]
        layout.made.add("/etc")
        for target, source in etc.items():
            if os.path.islink(source) and source == target:
                layout.symlink(source)
            else:
                layout.bind(source, target)
        for path in sorted(self.ro_paths(), key=os.path.realpath):
            layout.host_path(path)
        layout.bind(seed, SEED_MOUNT)
        layout.bind(str(AGENT), AGENT_MOUNT)
        layout.bind(str(CONFINE), CONFINE_MOUNT)
        return layout.args + ["--remount-ro", "/"]

    def _env(self) -> dict[str, str]:
        home = HOME if self.isolation.mode == "namespaces" else ""
        env = {
            "PATH": f"{os.path.dirname(sys.executable)}:/usr/local/bin:/usr/bin:/bin",
            "HOME": home,
            "LANG": "C.UTF-8",
            **ONE_THREAD,  # one BLAS thread, the Agg backend: as every grading process
            "MPLCONFIGDIR": "/tmp/matplotlib",
            "IPYTHONDIR": "/tmp/ipython",
            "PYDEVD_DISABLE_FILE_VALIDATION": "1",
        }
        for var in (*DATA_VARS, "NNHELPERS_OFFLINE"):
            if os.environ.get(var):
                env[var] = os.environ[var]
        cache = data_cache()
        if cache:  # the sandbox's HOME is not the grader's: name the cache it may read
            env["NNHELPERS_CACHE"] = cache
        return env

    def _stderr_tail(self) -> str:
        """What the sandbox wrote to stderr before its hello (at most a pipe buffer)."""
        try:
            text = (self.proc.stderr.read(1 << 16) or b"")[-2000:].decode(errors="replace")
            text = text.strip()
        except (OSError, ValueError, AttributeError):
            return ""
        return f"agent stderr: {text}" if text else ""

    def ro_paths(self) -> list[str]:
        """Host folders (besides the system's) the sandbox shows read-only to student code."""
        return _python_ro_paths() + _data_ro_paths() + self.extra_ro_paths

    def exposes(self, path: Path) -> bool:
        """Could student code read `path`? (Always true in the plain fallback.)"""
        if self.isolation.mode != "namespaces":
            return True
        real = os.path.realpath(path)
        shown = SYSTEM_DIRS + self.ro_paths()
        return any(
            real == os.path.realpath(ro) or real.startswith(os.path.realpath(ro) + os.sep)
            for ro in shown
        )

    def describe(self) -> str:
        """The isolation in force for this sandbox (for the instructor's notes)."""
        cgroups = self.cgroups.describe() if self.cgroups else "no cgroup"
        calls = "seccomp filter" if self.filtered else "no system-call filter"
        return f"{self.isolation.describe()}, {cgroups}, {calls}"

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None and not self.dead_reason

    # -- time ------------------------------------------------------------------------------
    def cpu_seconds(self) -> float:
        """CPU time the sandbox's processes have used (its cgroup's count, else /proc's),
        read at most once per POLL seconds (a /proc walk costs milliseconds; a proxy call
        must stay far below that)."""
        now = time.monotonic()
        if now - self.cpu_cache[0] < POLL:
            return self.cpu_cache[1]
        used = self._read_cpu_seconds()
        self.cpu_cache = (now, used)
        return used

    def _read_cpu_seconds(self) -> float:
        if self.cgroups is not None:
            used = self.cgroups.cpu_seconds()
            if used is not None:
                return used
        total = 0
        for pid in self._pids():
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            total += sum(int(x) for x in fields[11:15])  # utime stime cutime cstime
        return total / CLOCK_TICKS

    def clock(self) -> float:
        """The sandbox's fair clock: its own CPU time, but at least 1/WALL_FACTOR of wall time.

        Timeouts measured on it do not fire because other sandboxes starve this one of CPU,
        and a sleeping or blocked kernel still times out (after WALL_FACTOR times as long)."""
        wall0, cpu0 = self.clock_start
        return max(self.cpu_seconds() - cpu0, (time.monotonic() - wall0) / WALL_FACTOR)

    # -- teardown --------------------------------------------------------------------------
    def close(self) -> list[int]:
        """Kill the whole tree, verify nothing of it is left, remove the scratch folder."""
        if self.proc is not None:
            _killpg(self.proc.pid)
            _kill(self.proc.pid)  # bwrap: its PID namespace (everything inside) dies with it
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:  # pragma: no cover - SIGKILL cannot be ignored
                log.error("nngrade sandbox: pid %s survived SIGKILL", self.proc.pid)
            for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
                try:
                    stream.close()
                except OSError:
                    pass
            self.leftover = self._sweep()
            self.proc = None
        if self.cgroups is not None:
            for pid in self.cgroups.pids():  # anything that escaped the sweep
                _kill(pid)
            self.cgroups.remove()
            self.cgroups = None
        if self.slot is not None:
            self.slot.release()
            self.slot = None
        if self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)
            self.workdir = None
        return self.leftover

    def _pids(self) -> list[int]:
        """Live processes of this sandbox: its uid, its PID namespace, or its session."""
        if self.uid is not None or self.pidns is not None:
            return _pids_of(uid=self.uid, pidns=self.pidns)
        return _pids_of(sid=self.proc.pid) if self.proc is not None else []

    def _sweep(self) -> list[int]:
        """Kill anything still running as the sandbox; return the pids that would not die."""
        if self.uid is None and self.pidns is None and self.proc is None:
            return []
        for _ in range(50):  # a killed tree takes a moment to vanish: not yet a leftover
            if not self._pids():
                return []
            time.sleep(0.02)
        found: list[int] = []
        for attempt in range(50):
            pids = self._pids()
            if not pids:
                break
            found.extend(p for p in pids if p not in found)
            for pid in pids:
                _kill(pid)
            time.sleep(0.02 * (attempt + 1))
        if found:
            log.warning("nngrade sandbox: killed %d leftover process(es): %s", len(found), found)
        still = self._pids()
        if still:
            log.error("nngrade sandbox: processes left behind after grading: %s", still)
        return still

    # -- requests --------------------------------------------------------------------------
    def request(self, header: dict, blobs: list[bytes] = (), timeout: float = 30) -> tuple:
        """Send one request and wait for its reply; interrupt, then kill, on timeout.

        `timeout` is measured on the sandbox's fair clock (`clock`)."""
        if not self.alive:
            raise KernelDied(self.dead_reason or "the kernel is not running")
        if self.copy == "lost":
            raise CopyDied("the copy of your kernel running this test's hidden calls had died")
        header = dict(header, id=self.next_id)
        self.next_id += 1
        deadline = _Deadline(self, timeout)
        try:
            self._send(wire.pack(header, blobs), deadline)
            return self._reply(header["id"], deadline)
        except CallTimeout:
            return self._interrupted(header["id"], timeout)

    def _reply(self, request_id: int, deadline: _Deadline) -> tuple:
        """The reply to `request_id`; frames of other ids (stale replies) are skipped, and
        the kernel's control frames about the copy are checked (`_control`)."""
        while True:
            reply, reply_blobs = self._receive(deadline)
            if reply.get("id") is None and ("copy_key" in reply or "copy_gone" in reply):
                self._control(reply)
                continue
            if reply.get("id") == request_id:
                return reply, reply_blobs

    def _control(self, frame: dict) -> None:
        """A "copy key" or "copy gone" frame. Student code can write frames too, so one that
        comes when none is expected, with the wrong key, or while the processes of the sandbox
        say otherwise, kills the kernel (KernelDied)."""
        if "copy_key" in frame and self.copy == "starting" and self.copy_key is None:
            self.copy_key = str(frame["copy_key"])
            return
        if (
            "copy_gone" in frame
            and self.copy == "in"
            and self.copy_key is not None
            and frame["copy_gone"] == self.copy_key
            and self._processes() == ([self.agent_pid], [], 1)
        ):
            self.copy, self.copy_key, self.copy_pid = "lost", None, None
            raise CopyDied("the copy of your kernel running this test's hidden calls died")
        self.kill("it sent a forged or unexpected control frame")
        raise KernelDied(self.dead_reason)

    def _processes(self) -> tuple[list[int], list[int], int]:
        """(children of the namespace's init, children of the kernel, the kernel's threads),
        zombies left out."""

        def live(pids: list[int]) -> list[int]:
            return [p for p in pids if _state(p) not in ("Z", "")]

        try:
            threads = len(os.listdir(f"/proc/{self.agent_pid}/task"))
        except OSError:
            threads = 0
        return live(_children(self.init_pid)), live(_children(self.agent_pid)), threads

    # -- hidden calls in a throw-away copy (docs/security.md) ------------------------------
    def hidden_begin(self, timeout: float) -> tuple[bool, str]:
        """Ask the kernel to fork a confined copy that serves the requests until
        `hidden_end`; (True, '') when it did, else (False, why). Raises KernelDied or
        CallTimeout like `request`."""
        if self.isolation.mode != "namespaces" or None in (self.agent_pid, self.init_pid):
            return False, "the sandbox has no PID namespace of its own"
        self.copy, self.copy_key = "starting", None
        try:
            reply, _ = self.request({"op": "hidden_begin"}, timeout=timeout)
        finally:
            starting, self.copy = self.copy == "starting", "none"
        if not (starting and reply.get("ok") and reply.get("isolated") is True):
            self.copy_key = None
            error = reply.get("error")
            why = reply.get("why") or (error.get("evalue") if type(error) is dict else "")
            return False, str(why or "the kernel refused")[:300]
        inits, kids, threads = self._processes()
        copies = [p for p in inits if p != self.agent_pid]
        if self.copy_key is None or kids or threads != 1 or len(copies) != 1 or len(inits) != 2:
            self.kill("its claim to run hidden calls in a copy did not hold")
            raise KernelDied(self.dead_reason)
        status = _read(Path(f"/proc/{copies[0]}/status"))
        if "\nNoNewPrivs:\t1" not in status or "\nSeccomp:\t2" not in status:
            self.kill("the copy for hidden calls is not confined")
            raise KernelDied(self.dead_reason)
        self.copy, self.copy_pid = "in", copies[0]
        return True, ""

    def hidden_end(self, timeout: float) -> None:
        """End the copy (it exits; all it did is gone) and wait for the kernel's signed
        "copy gone"; everything the copy wrote before it is discarded. Raises KernelDied or
        CallTimeout like `request`."""
        if self.copy == "lost":
            self.copy = "none"
            return
        if self.copy != "in":
            return
        try:
            self.request({"op": "hidden_end"}, timeout=timeout)
        except CopyDied:
            self.copy = "none"
            return
        deadline = _Deadline(self, timeout)
        try:
            self._reply(-1, deadline)  # no reply has id -1: returns only by CopyDied
        except CopyDied:
            self.copy = "none"
        except CallTimeout:
            self.kill("the copy for hidden calls did not end")
            raise KernelDied(self.dead_reason) from None

    def _interrupted(self, request_id: int, timeout: float) -> tuple:
        """SIGINT the kernel; if it answers within the grace time it lives on, else kill it.
        (During hidden calls the kernel forwards the interrupt to its copy.)"""
        self.interrupt()
        deadline = _Deadline(None, KILL_GRACE)
        try:
            self._reply(request_id, deadline)
        except CallTimeout:
            self.kill(f"it ignored an interrupt after running for {timeout:.0f} s")
            raise CallTimeout(
                f"still running after {timeout:.0f} s; the kernel had to be killed"
            ) from None
        raise CallTimeout(f"still running after {timeout:.0f} s (interrupted)")

    def interrupt(self) -> None:
        """SIGINT to the agent (the kernel), as Jupyter's interrupt does."""
        pid = self.agent_pid if self.agent_pid is not None else (self._tree() or [None])[-1]
        if pid is not None:
            _kill(pid, signal.SIGINT)

    def _tree(self) -> list[int]:
        """The launcher's chain down to the agent: [bwrap, bwrap's init, agent] or [agent]."""
        if self.proc is None:
            return []
        chain = [self.proc.pid]
        if self.isolation.mode == "namespaces":
            for _ in range(2):
                kids = _children(chain[-1])
                if not kids:
                    return chain
                chain.append(kids[0])
        return chain

    def kill(self, reason: str) -> None:
        """Stop the kernel for good; later requests raise KernelDied(reason)."""
        self.dead_reason = f"the kernel was killed: {reason}"
        if self.proc is not None:
            _killpg(self.proc.pid)
            _kill(self.proc.pid)

    def _send(self, data: bytes, deadline: _Deadline) -> None:
        fd = self.proc.stdin.fileno()
        view = memoryview(data)
        os.set_blocking(fd, False)
        with selectors.DefaultSelector() as sel:
            sel.register(fd, selectors.EVENT_WRITE)
            while view:
                if not sel.select(deadline.wait("the kernel did not read its request")):
                    continue
                try:
                    view = view[os.write(fd, view) :]
                except BrokenPipeError:
                    raise self._died() from None
                except BlockingIOError:
                    continue

    def _receive(self, deadline: _Deadline) -> tuple[dict, list[bytes]]:
        def read_exact(n: int) -> bytearray:
            if n > len(self.buffer) + (1 << 16):  # a blob: read it into its own buffer
                return self._read_into(n, deadline)
            self._fill(n, deadline)
            data = bytearray(memoryview(self.buffer)[:n])
            del self.buffer[:n]
            return data

        try:
            return wire.unpack(read_exact, self.max_reply)
        except wire.WireError as err:
            self.kill(f"it sent a malformed reply ({err})")
            raise KernelDied(self.dead_reason) from None

    def _read_into(self, n: int, deadline: _Deadline) -> bytearray:
        """`n` bytes in one new buffer, read straight into it (a blob is copied once, not
        three times: the grader's peak memory for a reply stays near the reply's size)."""
        out = bytearray(n)
        view = memoryview(out)
        have = len(self.buffer)
        view[:have] = self.buffer
        self.buffer.clear()
        fd = self.proc.stdout.fileno()
        with selectors.DefaultSelector() as sel:
            sel.register(fd, selectors.EVENT_READ)
            while have < n:
                if not sel.select(deadline.wait("no reply in time")):
                    continue
                try:
                    got = os.readv(fd, [view[have:]])
                except BlockingIOError:
                    continue
                if not got:
                    raise self._died()
                have += got
        return out

    def _fill(self, n: int, deadline: _Deadline) -> None:
        fd = self.proc.stdout.fileno()
        with selectors.DefaultSelector() as sel:
            sel.register(fd, selectors.EVENT_READ)
            while len(self.buffer) < n:
                if not sel.select(deadline.wait("no reply in time")):
                    continue
                try:
                    chunk = os.read(fd, max(n - len(self.buffer), 1 << 16))
                except BlockingIOError:
                    continue
                if not chunk:
                    raise self._died()
                self.buffer.extend(chunk)

    def _died(self) -> KernelDied:
        code = None
        if self.proc is not None:
            try:
                code = self.proc.wait(timeout=2)
            except subprocess.TimeoutExpired:
                pass
        self.dead_reason = self.dead_reason or f"the kernel died (exit status {code})"
        return KernelDied(self.dead_reason)


def _start_fault(detail: str) -> SandboxStartError:
    """The sandbox did not start: say why in one line, and what would fix it."""
    text = " ".join(detail.split())
    if "No space left" in text or "ENOSPC" in text:
        fix = "free disk space in the temp folder ($TMPDIR) and run the same command again"
    elif "ModuleNotFoundError" in text or "ImportError" in text:
        fix = (
            "install the course's requirements into the grader's Python (`make venv`); if they "
            "are installed, the venv or kit lies in a folder the sandbox cannot read (see "
            "docs/security.md), then run the same command again"
        )
    elif "bwrap" in text or "Permission denied" in text or "Operation not permitted" in text:
        fix = (
            "check that `bwrap --unshare-all --ro-bind / / true` works for the grader's user "
            "and that the venv, kit and data cache are readable by it (docs/security.md); "
            "`--allow-degraded` grades without isolation"
        )
    else:
        fix = "run `nngrade check` on the reference notebook to see the sandbox's error"
    return SandboxStartError(f"the sandbox did not start: {text[:600]}", fix)


SCRATCH_PREFIX = "nngrade-sandbox-"  # + grader pid: the start-up sweep knows whose it is
CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


@functools.lru_cache(maxsize=1)
def sweep_leftovers() -> list[str]:
    """Once per grader process: remove what crashed graders left (scratch folders, cgroups and,
    as root, processes of free uid slots); return what was removed."""
    removed: list[str] = []
    base = Path(tempfile.gettempdir())
    for folder in base.glob(f"{SCRATCH_PREFIX}*"):
        owner = _owner_pid(folder.name)
        if owner is not None and not _alive(owner) and folder.is_dir() and not folder.is_symlink():
            if folder.stat().st_uid == os.geteuid():
                shutil.rmtree(folder, ignore_errors=True)
                removed.append(str(folder))
    for folder in _cgroup_leftovers():
        for line in _read(folder / "cgroup.procs").split():
            _kill(int(line))
        for _ in range(50):
            if _rmdir(folder):
                removed.append(str(folder))
                break
            time.sleep(0.02)
    if os.geteuid() == 0:
        removed += _sweep_free_slots()
    if removed:
        log.warning("nngrade sandbox: removed leftovers of a crashed grader: %s", removed)
    return removed


def _owner_pid(name: str) -> int | None:
    """The grader pid in a scratch folder or cgroup name (nngrade-sbx-PID-xxxx)."""
    rest = name[len(SCRATCH_PREFIX) :] if name.startswith(SCRATCH_PREFIX) else ""
    head = rest.split("-", 1)[0]
    return int(head) if head.isdigit() else None


def _alive(pid: int) -> bool:
    return pid > 0 and Path(f"/proc/{pid}").exists()


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""


def _cgroup_leftovers() -> list[Path]:
    """Sandbox cgroups (beside ours) whose grader is gone."""
    own = _own_cgroups()
    bases = set()
    if "" in own and Path("/sys/fs/cgroup/cgroup.controllers").exists():
        bases.add(Path("/sys/fs/cgroup" + own[""]))
    for controller in ("memory", "pids", "cpu", "cpuacct"):
        if controller in own:
            base = _v1_base(controller, own[controller])
            if base is not None:
                bases.add(base)
    found = []
    for base in bases:
        for folder in base.glob(f"{SCRATCH_PREFIX}*"):
            owner = _owner_pid(folder.name)
            if owner is not None and not _alive(owner):
                found.append(folder)
    return found


def _sweep_free_slots() -> list[str]:
    """Kill processes of sandbox uids whose slot no grader holds (a grader crashed)."""
    by_uid: dict[int, list[int]] = {}
    for pid in _all_pids():
        uid = _uid_of(pid)
        if uid is not None and UID_BASE <= uid < UID_BASE + UID_SLOTS:
            by_uid.setdefault(uid, []).append(pid)
    if not by_uid:
        return []
    removed = []
    folder = _slot_dir()
    try:
        for uid, pids in by_uid.items():
            fd = _try_lock(f"{uid - UID_BASE}.lock", folder)
            if fd is None:  # a live grader holds it: its sandbox, not a leftover
                continue
            try:
                for pid in pids:
                    _kill(pid)
            finally:
                os.close(fd)
            removed += [f"pid {p} (uid {uid})" for p in pids]
    finally:
        os.close(folder)
    return removed


def _children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except (OSError, ValueError):
        return []


def _state(pid: int) -> str:
    """A process's state letter ('' when it is gone)."""
    stat = _read(Path(f"/proc/{pid}/stat"))
    parts = stat.rsplit(")", 1)
    return parts[1].split()[0] if len(parts) == 2 and parts[1].split() else ""


def _pidns(pid: int) -> str | None:
    try:
        return os.readlink(f"/proc/{pid}/ns/pid")
    except OSError:
        return None


def _all_pids() -> list[int]:
    return [int(entry) for entry in os.listdir("/proc") if entry.isdigit()]


def _uid_of(pid: int) -> int | None:
    status = _read(Path(f"/proc/{pid}/status"))
    return int(status.split("\nUid:", 1)[1].split()[0]) if "\nUid:" in status else None


def _limits_dict(limits: Limits) -> dict:
    return {
        "total_timeout": limits.total_timeout,
        "memory_mb": limits.memory_mb,
        "max_processes": limits.max_processes,
        "max_file_mb": limits.max_file_mb,
    }


def _kill(pid: int, sig: int = signal.SIGKILL) -> None:
    try:
        os.kill(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _killpg(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _pids_of(
    *, uid: int | None = None, sid: int | None = None, pidns: str | None = None
) -> list[int]:
    """Live (non-zombie) processes whose real uid is `uid`, session `sid` or PID namespace
    `pidns`."""
    pids = []
    for pid in _all_pids():
        try:
            status = Path(f"/proc/{pid}/status").read_text()
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if fields[0] == "Z":
            continue
        real_uid = int(status.split("\nUid:", 1)[1].split()[0])
        if (
            (uid is not None and real_uid == uid)
            or (sid is not None and int(fields[3]) == sid)
            or (pidns is not None and _pidns(pid) == pidns)
        ):
            pids.append(pid)
    return pids
