"""One sandboxed process tree per submission, and the channel the grader talks to it on.

On Linux as root (the normal case for graders, containers and CI) the agent starts in new
network, PID, mount, IPC and UTS namespaces (`unshare`), in a chroot made of read-only system
and Python folders plus size-capped tmpfs scratch space, with rlimits, as a dedicated
unprivileged uid per sandbox. Without root or namespaces it degrades to rlimits and a new
session in a scratch folder, and says so loudly (logged warning and `Sandbox.warnings`).
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

from nngrade.grading.results import Limits
from nngrade.sandbox import agent as wire

log = logging.getLogger("nngrade.sandbox.launcher")

AGENT = Path(wire.__file__).resolve()
UID_BASE = 2_000_000  # dedicated uids: never in /etc/passwd, one per running sandbox
UID_SLOTS = 512
HOME = "/home/student"
START_TIMEOUT = 90.0
KILL_GRACE = 3.0
MAX_REPLY_MB = 256  # the largest value a student function may send back to the grader
SYSTEM_RO = ["/usr", "/bin", "/lib", "/lib64", "/lib32", "/sbin", "/etc"]


class SandboxError(Exception):
    """The sandbox could not start, or the kernel died or stopped answering."""


class KernelDied(SandboxError):
    """The student's kernel process is gone (it exited, crashed or was killed)."""


class CallTimeout(SandboxError):
    """A request did not finish within its time limit; the kernel was interrupted or killed."""


@dataclass
class Isolation:
    """What this machine allows; `describe()` is what the reports and README quote."""

    mode: str  # "namespaces" | "plain"
    drop_uid: bool
    network_isolated: bool
    warnings: list[str] = field(default_factory=list)

    def describe(self) -> str:
        parts = [self.mode]
        parts.append("own uid" if self.drop_uid else "same uid as the grader")
        parts.append("no network" if self.network_isolated else "NETWORK REACHABLE")
        return ", ".join(parts)


@functools.lru_cache(maxsize=4)
def detect(network: bool = False) -> Isolation:
    """Probe once which isolation this machine gives (NNGRADE_SANDBOX=plain forces the fallback)."""
    forced = os.environ.get("NNGRADE_SANDBOX", "").strip().lower()
    root = os.geteuid() == 0
    warnings: list[str] = []
    if forced != "plain" and root and shutil.which("unshare"):
        probe = subprocess.run(
            ["unshare", *_ns_flags(network), "true"], capture_output=True, text=True, timeout=30
        )
        if probe.returncode == 0:
            return Isolation("namespaces", True, not network, warnings)
        warnings.append(f"unshare failed ({probe.stderr.strip()[:200]}): namespaces unavailable")
    elif forced == "plain":
        warnings.append("NNGRADE_SANDBOX=plain: namespaces deliberately disabled")
    elif not root:
        warnings.append("not running as root: no namespaces, chroot or dedicated uid")
    else:
        warnings.append("the `unshare` command (util-linux) is missing")
    warnings.append(
        "DEGRADED SANDBOX: student code can read every file the grader's user can read "
        "(master notebooks, gradebook, other submissions) and can reach the network; only "
        "rlimits, a new session and a scratch folder apply. Grade as root (or in a container) "
        "for full isolation."
    )
    for warning in warnings:
        log.warning("nngrade sandbox: %s", warning)
    return Isolation("plain", False, False, warnings)


def _ns_flags(network: bool) -> list[str]:
    flags = ["--pid", "--mount", "--ipc", "--uts", "--fork", "--kill-child"]
    return flags if network else ["--net", *flags]


class _Cgroups:
    """Memory and pids limits for the sandbox's whole tree (cgroup v1 or v2), best effort.

    rlimits are per process; a cgroup caps the sum, so 60 children of 1 GB each cannot take
    the machine down. Where cgroups are not writable this is skipped with a logged notice.
    """

    def __init__(self, name: str, limits: Limits) -> None:
        self.dirs: list[Path] = []
        memory = (int(limits.memory_mb) + 512) * 2**20
        pids = int(limits.max_processes) + 8
        own = _own_cgroups()
        if "" in own and Path("/sys/fs/cgroup/cgroup.controllers").exists():
            wanted = {"": {"memory.max": memory, "pids.max": pids}}
            bases = {"": Path("/sys/fs/cgroup" + own[""])}
        else:
            wanted = {
                "memory": {"memory.limit_in_bytes": memory},
                "pids": {"pids.max": pids},
            }
            bases = {c: Path(f"/sys/fs/cgroup/{c}{own[c]}") for c in wanted if c in own}
        for controller, base in bases.items():
            folder = base / name
            try:
                folder.mkdir(exist_ok=True)
                for key, value in wanted[controller].items():
                    (folder / key).write_text(str(value))
            except OSError as err:
                log.info("nngrade sandbox: no %s cgroup (%s)", controller or "v2", err)
                _rmdir(folder)
                continue
            self.dirs.append(folder)

    def describe(self) -> str:
        return "cgroup " + "+".join(_kind(d) for d in self.dirs) if self.dirs else "no cgroup"

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

    def remove(self) -> None:
        for folder in self.dirs:
            for _ in range(50):
                if _rmdir(folder):
                    break
                time.sleep(0.02)


def _kind(folder: Path) -> str:
    text = str(folder)
    return "memory" if "/memory/" in text else "pids" if "/pids/" in text else "v2"


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


class _UidSlot:
    """A dedicated uid for one sandbox, held by an flock so parallel graders never share one."""

    def __init__(self) -> None:
        folder = Path(tempfile.gettempdir()) / "nngrade-uid-slots"
        folder.mkdir(mode=0o700, exist_ok=True)
        start = os.getpid() % UID_SLOTS
        for offset in range(UID_SLOTS):
            slot = (start + offset) % UID_SLOTS
            handle = open(folder / f"{slot}.lock", "w")
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                handle.close()
                continue
            self.handle, self.uid = handle, UID_BASE + slot
            return
        raise SandboxError("all sandbox uid slots are busy")

    def release(self) -> None:
        self.handle.close()


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
    except Exception:  # noqa: BLE001 - no cache is a normal state, whatever the reason
        return None
    return str(folder) if folder.is_dir() else None


def _data_ro_paths() -> list[str]:
    """The course data the student may read: the dataset mirrors and the grader's data cache."""
    values = [os.environ.get(var, "").split(os.pathsep) for var in DATA_VARS]
    return _as_named_and_real([v for group in values for v in group] + [data_cache()])


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

    # -- life cycle ------------------------------------------------------------------------
    def __enter__(self) -> Sandbox:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def start(self) -> None:
        """Lay out the scratch folder, start the agent, and wait for its hello."""
        self.workdir = Path(tempfile.mkdtemp(prefix="nngrade-sbx-"))
        seed = self.workdir / "seed"
        seed.mkdir()
        for name, data in self.files.items():
            target = seed / Path(name).name
            target.write_bytes(data)
        env = self._env()
        cfg = {"limits": _limits_dict(self.limits), "seed": str(seed), "path": python_path()}
        if self.isolation.mode == "namespaces":
            self.slot = _UidSlot()
            self.uid = self.slot.uid
            self._sweep()  # a crashed earlier grader may have left this uid's processes
            root = self.workdir / "root"
            root.mkdir()
            ro = self.ro_paths()
            cfg.update(build_root=True, root=str(root), home=HOME, ro_paths=ro, uid=self.uid)
            argv = ["unshare", *_ns_flags(self.limits.network)]
        else:
            home = self.workdir / "home"
            shutil.copytree(seed, home)
            cfg.update(build_root=False, home=str(home), uid=None)
            env["HOME"] = str(home)
            argv = []
        argv += [sys.executable, "-I", "-B", str(AGENT), json.dumps(cfg)]
        self.stderr_file = open(self.workdir / "stderr.log", "w+b")
        name = f"nngrade-{self.uid if self.uid is not None else os.getpid()}-{self.workdir.name}"
        self.cgroups = _Cgroups(name, self.limits) if os.geteuid() == 0 else None
        self.proc = subprocess.Popen(
            argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.stderr_file,
            env=env,
            cwd=str(self.workdir),
            start_new_session=True,
            close_fds=True,
        )
        os.set_blocking(self.proc.stdout.fileno(), False)
        if self.cgroups is not None:
            self.cgroups.add(self.proc.pid)
        try:
            hello, _ = self._receive(time.monotonic() + START_TIMEOUT)
        except SandboxError as err:
            self.close()
            raise SandboxError(f"the sandbox did not start: {err}; {self._stderr_tail()}") from None
        if not hello.get("ok"):
            error = hello.get("error") or {}
            self.close()
            raise SandboxError(f"the sandbox did not start: {error.get('traceback', hello)}")
        self.kernel_uid = hello.get("uid")
        if self.cgroups is not None:  # before any student code: all it starts is inside
            for pid in self._agent_pids():
                self.cgroups.add(pid)

    def _env(self) -> dict[str, str]:
        home = HOME if self.isolation.mode == "namespaces" else ""
        env = {
            "PATH": f"{os.path.dirname(sys.executable)}:/usr/local/bin:/usr/bin:/bin",
            "HOME": home,
            "LANG": "C.UTF-8",
            "MPLBACKEND": "Agg",
            "MPLCONFIGDIR": "/tmp/matplotlib",
            "IPYTHONDIR": "/tmp/ipython",
            "OPENBLAS_NUM_THREADS": "1",
            "OMP_NUM_THREADS": "1",
            "MKL_NUM_THREADS": "1",
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
        try:
            self.stderr_file.seek(0)
            return "agent stderr: " + self.stderr_file.read()[-2000:].decode(errors="replace")
        except (OSError, ValueError):
            return ""

    def ro_paths(self) -> list[str]:
        """Host folders the namespace sandbox shows (read-only) to student code."""
        return SYSTEM_RO + _python_ro_paths() + _data_ro_paths() + self.extra_ro_paths

    def exposes(self, path: Path) -> bool:
        """Could student code read `path`? (Always true in the plain fallback.)"""
        if self.isolation.mode != "namespaces":
            return True
        real = os.path.realpath(path)
        return any(
            real == os.path.realpath(ro) or real.startswith(os.path.realpath(ro) + os.sep)
            for ro in self.ro_paths()
        )

    def describe(self) -> str:
        """The isolation in force for this sandbox (for report notes)."""
        cgroups = self.cgroups.describe() if self.cgroups else "no cgroup"
        return f"{self.isolation.describe()}, {cgroups}"

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None and not self.dead_reason

    def close(self) -> list[int]:
        """Kill the whole tree, verify nothing of it is left, remove the scratch folder."""
        if self.proc is not None:
            _killpg(self.proc.pid)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:  # pragma: no cover - SIGKILL cannot be ignored
                log.error("nngrade sandbox: pid %s survived SIGKILL", self.proc.pid)
            for stream in (self.proc.stdin, self.proc.stdout):
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
            self.stderr_file.close()
            shutil.rmtree(self.workdir, ignore_errors=True)
            self.workdir = None
        return self.leftover

    def _sweep(self) -> list[int]:
        """Kill anything still running as the sandbox (its uid, or its session); return pids."""
        uid = self.uid
        sid = None if uid is not None else (self.proc.pid if self.proc else None)
        if uid is None and sid is None:
            return []
        for _ in range(50):  # a killed tree takes a moment to vanish: not yet a leftover
            if not _pids_of(uid=uid, sid=sid):
                return []
            time.sleep(0.02)
        found: list[int] = []
        for attempt in range(50):
            pids = _pids_of(uid=uid, sid=sid)
            if not pids:
                break
            found.extend(p for p in pids if p not in found)
            for pid in pids:
                _kill(pid)
            time.sleep(0.02 * (attempt + 1))
        if found:
            log.warning("nngrade sandbox: killed %d leftover process(es): %s", len(found), found)
        still = _pids_of(uid=uid, sid=sid)
        if still:
            log.error("nngrade sandbox: processes left behind after grading: %s", still)
        return still

    # -- requests --------------------------------------------------------------------------
    def request(self, header: dict, blobs: list[bytes] = (), timeout: float = 30) -> tuple:
        """Send one request and wait for its reply; interrupt, then kill, on timeout."""
        if not self.alive:
            raise KernelDied(self.dead_reason or "the kernel is not running")
        header = dict(header, id=self.next_id)
        self.next_id += 1
        deadline = time.monotonic() + max(timeout, 0.01)
        try:
            self._send(wire.pack(header, blobs), deadline)
            while True:
                reply, reply_blobs = self._receive(deadline)
                if reply.get("id") == header["id"]:
                    return reply, reply_blobs
        except CallTimeout:
            return self._interrupted(header["id"], timeout)

    def _interrupted(self, request_id: int, timeout: float) -> tuple:
        """SIGINT the kernel; if it answers within the grace time it lives on, else kill it."""
        self.interrupt()
        deadline = time.monotonic() + KILL_GRACE
        try:
            while True:
                reply, _ = self._receive(deadline)
                if reply.get("id") == request_id:
                    break
        except CallTimeout:
            self.kill(f"it ignored an interrupt after running for {timeout:.0f} s")
            raise CallTimeout(
                f"still running after {timeout:.0f} s; the kernel had to be killed"
            ) from None
        raise CallTimeout(f"still running after {timeout:.0f} s (interrupted)")

    def interrupt(self) -> None:
        """SIGINT to the agent (the namespace's init), as Jupyter's interrupt does."""
        for pid in self._agent_pids():
            _kill(pid, signal.SIGINT)

    def _agent_pids(self) -> list[int]:
        if self.proc is None:
            return []
        if self.isolation.mode != "namespaces":
            return [self.proc.pid]
        try:
            path = f"/proc/{self.proc.pid}/task/{self.proc.pid}/children"
            return [int(p) for p in Path(path).read_text().split()]
        except OSError:
            return []

    def kill(self, reason: str) -> None:
        """Stop the kernel for good; later requests raise KernelDied(reason)."""
        self.dead_reason = f"the kernel was killed: {reason}"
        if self.proc is not None:
            _killpg(self.proc.pid)

    def _send(self, data: bytes, deadline: float) -> None:
        fd = self.proc.stdin.fileno()
        view = memoryview(data)
        os.set_blocking(fd, False)
        with selectors.DefaultSelector() as sel:
            sel.register(fd, selectors.EVENT_WRITE)
            while view:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise CallTimeout("the kernel did not read its request")
                if not sel.select(left):
                    continue
                try:
                    view = view[os.write(fd, view) :]
                except BrokenPipeError:
                    raise self._died() from None
                except BlockingIOError:
                    continue

    def _receive(self, deadline: float) -> tuple[dict, list[bytes]]:
        def read_exact(n: int) -> bytes:
            self._fill(n, deadline)
            data = bytes(self.buffer[:n])
            del self.buffer[:n]
            return data

        try:
            return wire.unpack(read_exact, self.max_reply)
        except wire.WireError as err:
            self.kill(f"it sent a malformed reply ({err})")
            raise KernelDied(self.dead_reason) from None

    def _fill(self, n: int, deadline: float) -> None:
        fd = self.proc.stdout.fileno()
        with selectors.DefaultSelector() as sel:
            sel.register(fd, selectors.EVENT_READ)
            while len(self.buffer) < n:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise CallTimeout("no reply in time")
                if not sel.select(left):
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


def _pids_of(*, uid: int | None, sid: int | None) -> list[int]:
    """Live (non-zombie) processes whose real uid is `uid`, or whose session is `sid`."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            status = Path(f"/proc/{entry}/status").read_text()
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if fields[0] == "Z":
            continue
        real_uid = int(status.split("\nUid:", 1)[1].split()[0])
        session = int(fields[3])
        if (uid is not None and real_uid == uid) or (sid is not None and session == sid):
            pids.append(int(entry))
    return pids
