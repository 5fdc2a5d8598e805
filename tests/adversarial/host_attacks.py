"""Host attacks: student code that goes after the grading machine rather than the grade.

Each attack is one cell run in a fresh sandbox (`tests/nngrade/test_isolation_host.py`, as root
and, through `test_isolation_user.py`, as the unprivileged user `nngrade-ci`). The cell prints
one JSON line of what it managed; `check` turns that into the problems found (none: contained).
`Host` is what the harness planted outside the sandbox before it started: canary environment
variables in the grader, a file in the grader's temp folder, sockets the grader listens on.
The harness runs `HOST = {...}` (the Host as a dict) before the attack's code.

Classes (issue 13): memory no rlimit counts, CPU shares, kernel surface and privilege, what the
sandbox can see of the host, leftovers. Attacks that need the grader killed, or a neighbour
graded at the same time, live in `test_isolation_neighbours.py`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field

MARK = "nngrade-host-attack-marker"


@dataclass
class Host:
    """Canaries outside the sandbox (filled in by the harness)."""

    env: dict[str, str] = field(default_factory=dict)  # grader environment variables
    tmp_file: str = ""  # a file in the grader's temp folder
    unix_socket: str = ""  # a unix socket the grader listens on (in its temp folder)
    abstract_socket: str = ""  # an abstract unix socket name (no leading NUL)
    tcp_port: int = 0  # the grader listens on 127.0.0.1:tcp_port
    scratch: str = ""  # the sandbox's own scratch folder on the host
    max_processes: int = 0


@dataclass(frozen=True)
class HostAttack:
    name: str
    why: str  # what it tries, for the docs table
    code: str  # a cell; its last line prints one JSON object
    check: Callable[[dict, Host], list[str]]


def _refused(*keys: str) -> Callable[[dict, Host], list[str]]:
    def check(facts: dict, host: Host) -> list[str]:
        return [f"{key}: {facts.get(key)!r}" for key in keys if facts.get(key) != "refused"]

    return check


TRY = """import os, json, ctypes, errno
libc = ctypes.CDLL(None, use_errno=True)
facts = {}
def outcome(result):
    return "refused" if result < 0 else "done"
"""

MEMFD = (
    TRY
    + """held = 0
fds = []
try:
    for _ in range(40):
        fd = os.memfd_create("x")
        os.write(fd, b"\\0" * (15 * 2**20))
        fds.append(fd)
        held += 15
    facts["memfd"] = "done"
except OSError:
    facts["memfd"] = "refused" if not fds else f"held {held} MB"
print(json.dumps(facts))
"""
)

SYSV_SHM = (
    TRY
    + """libc.shmat.restype = ctypes.c_void_p
sid = libc.shmget(0, 64 * 2**20, 0o1600)
facts["shmget"] = outcome(sid)
if sid >= 0:  # attach, touch, detach: the segment stays, counted by no rlimit
    addr = libc.shmat(sid, None, 0)
    ctypes.memset(addr, 1, 64 * 2**20)
    libc.shmdt(ctypes.c_void_p(addr))
print(json.dumps(facts))
"""
)

SYSV_MSG = (
    TRY
    + """facts["msgget"] = outcome(libc.msgget(0, 0o1600))
print(json.dumps(facts))
"""
)

SETSID_AUTOGROUP = (
    TRY
    + """def group():
    return open("/proc/self/autogroup").read().split()[0]
mine = (group(), os.getsid(0))
seen = []
for _ in range(4):
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.setsid()
        os.write(w, json.dumps([group(), os.getsid(0)]).encode())
        os._exit(0)
    os.waitpid(pid, 0)
    seen.append(tuple(json.loads(os.read(r, 200))))
facts["escaped"] = [s for s in seen if s != mine]
print(json.dumps(facts))
"""
)

NEW_SESSION_HONEST = """import json, subprocess
out = subprocess.run(["sh", "-c", "echo fine"], start_new_session=True, capture_output=True,
                     text=True).stdout.strip()
print(json.dumps({"output": out}))
"""

USER_NAMESPACE = (
    TRY
    + """CLONE_NEWUSER, CLONE_NEWNS, CLONE_NEWNET = 0x10000000, 0x00020000, 0x40000000
facts["unshare_user"] = outcome(libc.unshare(CLONE_NEWUSER))
facts["unshare_mount"] = outcome(libc.unshare(CLONE_NEWNS))
facts["unshare_net"] = outcome(libc.unshare(CLONE_NEWNET))
import subprocess
try:
    done = subprocess.run(["unshare", "-Ur", "id", "-u"], capture_output=True, text=True)
    facts["unshare_tool"] = "refused" if done.returncode else "done"
except OSError:
    facts["unshare_tool"] = "refused"
print(json.dumps(facts))
"""
)

PTRACE_INIT = (
    TRY
    + """libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]
attached = libc.ptrace(16, 1, None, None)  # PTRACE_ATTACH to bwrap's init: no filter, no rlimits
facts["ptrace_init"] = outcome(attached)
if attached == 0:
    os.waitpid(1, 0x40000000)
    libc.ptrace(17, 1, None, None)
for path in ("/proc/1/mem", "/proc/1/task/1/mem"):
    try:
        os.close(os.open(path, os.O_RDWR))
        facts[path] = "done"
    except OSError:
        facts[path] = "refused"
print(json.dumps(facts))
"""
)

SCHEDULING = (
    TRY
    + """try:
    os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(1))
    facts["fifo"] = "done"
except OSError:
    facts["fifo"] = "refused"
try:
    os.nice(-5)
    facts["nice"] = "done"
except OSError:
    facts["nice"] = "refused"
try:
    with open("/proc/self/autogroup", "w") as handle:
        handle.write("-10")
    facts["autogroup"] = "done"
except OSError:
    facts["autogroup"] = "refused"
print(json.dumps(facts))
"""
)

RAISE_RLIMITS = (
    TRY
    + """import resource
for name in ("RLIMIT_AS", "RLIMIT_NPROC", "RLIMIT_CPU", "RLIMIT_FSIZE", "RLIMIT_NOFILE"):
    which = getattr(resource, name)
    soft, hard = resource.getrlimit(which)
    try:
        resource.setrlimit(which, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
        facts[name] = "done"
    except (ValueError, OSError):
        facts[name] = "refused"
print(json.dumps(facts))
"""
)

PROC_VIEW = """import os, json
mine = {os.getpid(), os.getppid()}
others = {}
for entry in os.listdir("/proc"):
    if entry.isdigit() and int(entry) not in mine:
        try:
            others[entry] = open(f"/proc/{entry}/cmdline", "rb").read().decode(errors="replace")
        except OSError as err:
            others[entry] = str(err)
print(json.dumps({"pids": sorted(int(p) for p in os.listdir("/proc") if p.isdigit()),
                  "others": others}))
"""

ENVIRONMENT = """import os, json
seen = dict(os.environ)
for entry in os.listdir("/proc"):
    if entry.isdigit():
        try:
            raw = open(f"/proc/{entry}/environ", "rb").read().decode(errors="replace")
        except OSError:
            continue
        for item in raw.split("\\0"):
            if "=" in item:
                key, value = item.split("=", 1)
                seen[f"{entry}:{key}"] = value
print(json.dumps(seen))
"""

FDS = """import os, json
targets = {}
for pid in [p for p in os.listdir("/proc") if p.isdigit()]:
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        continue
    for fd in fds:
        try:
            targets[f"{pid}:{fd}"] = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            pass
print(json.dumps(targets))
"""

INIT_STDERR = f"""import os, json
facts = {{}}
for fd in (2,):  # 0 and 1 are the grader's channel, which the agent holds anyway
    try:
        handle = os.open(f"/proc/1/fd/{{fd}}", os.O_WRONLY | os.O_NONBLOCK)
        os.write(handle, b"{MARK}\\n")
        facts[fd] = os.readlink(f"/proc/1/fd/{{fd}}")
    except OSError as err:
        facts[fd] = f"refused ({{err.strerror}})"
print(json.dumps(facts))
"""

HOST_FILES = """import os, json
wanted = [HOST["tmp_file"], HOST["scratch"], HOST["unix_socket"], "/var/run/postgresql",
          "/run/postgresql", "/tmp/.X11-unix", "/run/user", "/sys", "/var/lib", "/etc/shadow",
          "/etc/ssh", "/root/.ssh"]
found = [path for path in wanted if path and os.path.exists(path)]
try:
    with open("/proc/sys/kernel/core_pattern", "w") as handle:
        handle.write("|/bin/sh")
    found.append("core_pattern writable")
except OSError:
    pass
listing = {}
for folder in ("/tmp", "/var/tmp", "/dev/shm", "/run", "/home"):
    listing[folder] = sorted(os.listdir(folder))
print(json.dumps({"found": found, "listing": listing, "dev": sorted(os.listdir("/dev"))}))
"""

SOCKETS = """import json, socket
facts = {}
def attempt(family, address):
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.settimeout(2)
        try:
            s.connect(address)
            return "done"
        except OSError:
            return "refused"
facts["tcp"] = attempt(socket.AF_INET, ("127.0.0.1", HOST["tcp_port"]))
facts["unix"] = attempt(socket.AF_UNIX, HOST["unix_socket"])
facts["abstract"] = attempt(socket.AF_UNIX, "\\0" + HOST["abstract_socket"])
facts["postgres"] = attempt(socket.AF_UNIX, "/var/run/postgresql/.s.PGSQL.5432")
print(json.dumps(facts))
"""

THREAD_BOMB = """import json, threading
stop = threading.Event()
def spin():
    while not stop.is_set():
        pass
started = 0
try:
    for _ in range(1000):
        threading.Thread(target=spin, daemon=True).start()
        started += 1
except RuntimeError:
    pass
stop.set()
print(json.dumps({"threads": started}))
"""

PROCESS_FLOOD = """import json, os, time
kids = 0
while kids < 500:
    try:
        pid = os.fork()
    except OSError:
        break
    if pid == 0:
        time.sleep(30)
        os._exit(0)
    kids += 1
print(json.dumps({"children": kids}))
"""

DISK_AND_INODES = (
    TRY
    + """big = 0
try:
    with open("/tmp/sparse", "wb") as handle:
        handle.truncate(100 * 2**30)
    facts["sparse_100gb"] = "done"
except OSError:
    facts["sparse_100gb"] = "refused"
try:
    with open("/home/student/fill", "wb") as handle:
        while True:
            handle.write(b"x" * 2**20)
            big += 1
except OSError:
    pass
facts["filled_mb"] = big
print(json.dumps(facts))
"""
)


def _proc_view(facts: dict, host: Host) -> list[str]:
    problems = [f"pid {pid}: {cmd[:80]}" for pid, cmd in facts["others"].items() if pid != "1"]
    cmdline = facts["others"].get("1", "")
    if any(word in cmdline for word in ("pytest", "nngrade", host.scratch or "\0")):
        problems.append(f"pid 1 shows the grader: {cmdline[:120]}")
    return problems


def _environment(facts: dict, host: Host) -> list[str]:
    return [
        f"{key} reached the sandbox"
        for key, value in host.env.items()
        if any(v == value or key == k.split(":")[-1] for k, v in facts.items())
    ]


def _fds(facts: dict, host: Host) -> list[str]:
    allowed = ("pipe:", "/dev/null", "anon_inode:", "socket:")
    return [
        f"fd {where} -> {target}"
        for where, target in facts.items()
        if not target.startswith(allowed) and not target.startswith("/proc/")
    ]


def _init_stderr(facts: dict, host: Host) -> list[str]:
    return [f"fd {fd} of pid 1 is a file: {target}" for fd, target in facts.items()
            if target.startswith("/")]  # fmt: skip


def _host_files(facts: dict, host: Host) -> list[str]:
    problems = [f"sees {path}" for path in facts["found"]]
    canary = host.tmp_file.rsplit("/", 1)[-1]
    for folder, names in facts["listing"].items():
        if canary in names:
            problems.append(f"the grader's temp file is in {folder}")
    extra = set(facts["dev"]) - {
        "console", "core", "fd", "full", "null", "ptmx", "pts", "random", "shm", "stderr",
        "stdin", "stdout", "tty", "urandom", "zero", "mqueue",
    }  # fmt: skip
    problems += [f"/dev/{name}" for name in sorted(extra)]
    return problems


def _sockets(facts: dict, host: Host) -> list[str]:
    return [f"connected to the host's {kind}" for kind, what in facts.items() if what != "refused"]


def _at_most(key: str, bound: Callable[[Host], int]) -> Callable[[dict, Host], list[str]]:
    def check(facts: dict, host: Host) -> list[str]:
        return [] if facts[key] <= bound(host) else [f"{key}: {facts[key]} > {bound(host)}"]

    return check


def _disk(facts: dict, host: Host) -> list[str]:
    problems = [] if facts["sparse_100gb"] == "refused" else ["a 100 GB sparse file was made"]
    if facts["filled_mb"] > 250:
        problems.append(f"wrote {facts['filled_mb']} MB in one scratch folder")
    return problems


HOST_ATTACKS = [
    HostAttack(
        "memfd_flood",
        "40 memfds of 15 MB: memory RLIMIT_AS does not count (600 MB "
        "held under a 512 MB limit, unprivileged)",
        MEMFD,
        _refused("memfd"),
    ),
    HostAttack(
        "sysv_shm_detached",
        "SysV segments attached, filled and detached: memory no rlimit counts (900 MB held)",
        SYSV_SHM,
        _refused("shmget"),
    ),
    HostAttack(
        "sysv_message_queues",
        "SysV message queues (32,000 x 16 KB per IPC namespace)",
        SYSV_MSG,
        _refused("msgget"),
    ),
    HostAttack(
        "setsid_autogroup_escape",
        "children calling setsid(): each session is a CPU "
        "autogroup of its own (60 of them starved a neighbour without a CPU cgroup)",
        SETSID_AUTOGROUP,
        lambda f, h: [f"escaped to {s}" for s in f["escaped"]],
    ),
    HostAttack(
        "new_session_still_works",
        "(honest control) subprocess with start_new_session=True",
        NEW_SESSION_HONEST,
        lambda f, h: [] if f["output"] == "fine" else [f"output {f['output']!r}"],
    ),
    HostAttack(
        "user_namespace",
        "unshare(CLONE_NEWUSER) and `unshare -Ur`: every capability "
        "in a namespace of its own (kernel attack surface)",
        USER_NAMESPACE,
        _refused("unshare_user", "unshare_mount", "unshare_net", "unshare_tool"),
    ),
    HostAttack(
        "ptrace_init",
        "ptrace or /proc/1/mem on bwrap's init, which has neither the "
        "filter nor the rlimits (unprivileged: same uid)",
        PTRACE_INIT,
        _refused("ptrace_init", "/proc/1/mem", "/proc/1/task/1/mem"),
    ),
    HostAttack(
        "realtime_and_nice",
        "SCHED_FIFO, nice -5, autogroup nice -10",
        SCHEDULING,
        _refused("fifo", "nice", "autogroup"),
    ),
    HostAttack(
        "raise_rlimits",
        "raise every hard limit to unlimited",
        RAISE_RLIMITS,
        _refused("RLIMIT_AS", "RLIMIT_NPROC", "RLIMIT_CPU", "RLIMIT_FSIZE", "RLIMIT_NOFILE"),
    ),
    HostAttack(
        "proc_host_processes",
        "list /proc for the grader's and other processes and their command lines",
        PROC_VIEW,
        _proc_view,
    ),
    HostAttack(
        "grader_environment",
        "look for PGPASSWORD, DATABASE_URL, NNGRADE_*, DASK_* in "
        "its own and every readable /proc/*/environ",
        ENVIRONMENT,
        _environment,
    ),
    HostAttack(
        "inherited_fds",
        "every fd of every visible process: a host file or folder left open",
        FDS,
        _fds,
    ),
    HostAttack(
        "init_stderr_host_file",
        "write through /proc/1/fd/2 (bwrap's stderr: was a "
        "file in the host's temp folder, unprivileged)",
        INIT_STDERR,
        _init_stderr,
    ),
    HostAttack(
        "host_files",
        "the grader's temp file, its sockets, PostgreSQL's socket folder, "
        "/sys, /etc/shadow, devices, core_pattern",
        HOST_FILES,
        _host_files,
    ),
    HostAttack(
        "host_sockets",
        "connect to the grader's TCP port on 127.0.0.1, its unix socket, "
        "an abstract socket, PostgreSQL's socket",
        SOCKETS,
        _sockets,
    ),
    HostAttack(
        "thread_bomb",
        "1,000 spinning threads",
        THREAD_BOMB,
        _at_most("threads", lambda h: h.max_processes),
    ),
    HostAttack(
        "process_flood",
        "500 sleeping children",
        PROCESS_FLOOD,
        _at_most("children", lambda h: h.max_processes),
    ),
    HostAttack(
        "disk_and_sparse",
        "a 100 GB sparse file in /tmp, then fill the home",
        DISK_AND_INODES,
        _disk,
    ),
]


def parse(stdout: str) -> dict:
    """The JSON object an attack printed last."""
    return json.loads(stdout.strip().splitlines()[-1])
