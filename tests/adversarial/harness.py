"""A course folder for the attack corpus, and the checks every attack run must pass."""

from __future__ import annotations

import hashlib
import os
import shutil
import socket
import sqlite3
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from adv_master import ASSIGNMENT, master
from nngrade.grading.results import Limits
from simulate import reference

LIMITS = Limits(cell_timeout=4, total_timeout=60, memory_mb=1024, max_processes=32, max_file_mb=64)
HONEST = {"alice": 6.0}  # other students, and the score they must keep


class Listener:
    """A TCP server on 127.0.0.1 that records every connection (none must arrive)."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.connections: list[bytes] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            with conn:
                conn.settimeout(1)
                try:
                    self.connections.append(conn.recv(1024) or b"<connected>")
                except OSError:
                    self.connections.append(b"<connected>")

    def close(self) -> None:
        self.stop.set()
        self.thread.join(timeout=2)
        self.sock.close()


@dataclass
class Course:
    """A world-readable course folder (so only the sandbox, not file modes, protects it)."""

    root: Path
    listener: Listener
    protected: dict[Path, str] = field(default_factory=dict)

    @property
    def config_dir(self) -> Path:
        return self.root / "autograder"

    @property
    def master(self) -> Path:
        return self.root / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"

    @property
    def gradebook(self) -> Path:
        return self.config_dir / "gradebook.db"

    def submission(self, student: str) -> Path:
        return self.root / "course" / "submitted" / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"

    def context(self, token: str) -> dict[str, str]:
        """Placeholder values for an attack's source."""
        return {
            "MASTER": str(self.master),
            "GRADEBOOK": str(self.gradebook),
            "CONFIG": str(self.config_dir / "nbgrader_config.py"),
            "OTHER": str(self.submission("alice")),
            "PORT": str(self.listener.port),
            "TOKEN": token,
            "CANARY": str(self.canary(token)),
        }

    def canary(self, token: str) -> Path:
        return Path(tempfile.gettempdir()) / f"nngrade-canary-{token}"

    def snapshot(self) -> dict[Path, str]:
        """Hashes of the files no submission may change."""
        return {path: _digest(path) for path in self.protected}

    def close(self) -> None:
        """Stop the listener and remove the course folder."""
        self.listener.close()
        shutil.rmtree(self.root, ignore_errors=True)

    def gradebook_rows(self) -> int:
        with sqlite3.connect(self.gradebook) as db:
            return db.execute("select count(*) from probe").fetchone()[0]


def make_course(cell_timeout: float = LIMITS.cell_timeout, gradebook: bool = True) -> Course:
    """The `adv` course: master, config, an honest student's submission and, with `gradebook`,
    a stand-in gradebook (otherwise `nngrade autograde` creates nbgrader's own there)."""
    root = Path(tempfile.mkdtemp(prefix="nngrade-adv-"))
    root.chmod(0o755)
    course = Course(root, Listener())
    course.master.parent.mkdir(parents=True)
    nbformat.write(master(), str(course.master))
    course.config_dir.mkdir()
    (course.config_dir / "nbgrader_config.py").write_text(
        "c = get_config()\n"
        f"c.CourseDirectory.root = {str(root)!r}\n"
        "c.CourseDirectory.course_id = 'adv-course'\n"
        f"c.NNGrade.cell_timeout = {cell_timeout}\n"
        f"c.NNGrade.total_timeout = {LIMITS.total_timeout}\n"
        f"c.NNGrade.memory_mb = {LIMITS.memory_mb}\n"
        "c.NNGrade.executor = 'isolated'\n"
        "c.NNGrade.run_directory = 'course'\n"
    )
    if gradebook:
        with sqlite3.connect(course.gradebook) as db:
            db.execute("create table probe (student text, score real)")
            db.execute("insert into probe values ('alice', 6.0)")
    for student in HONEST:
        path = course.submission(student)
        path.parent.mkdir(parents=True)
        nbformat.write(reference(master()), str(path))
    for base, dirs, files in os.walk(root):
        for name in dirs:
            os.chmod(os.path.join(base, name), 0o755)
        for name in files:
            os.chmod(os.path.join(base, name), 0o644)
    kept = [course.master, course.submission("alice"), course.config_dir / "nbgrader_config.py"]
    course.protected = {p: "" for p in kept + ([course.gradebook] if gradebook else [])}
    return course


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else "<missing>"


def new_token(name: str) -> str:
    return f"nngradeattack{name.replace('_', '')}{uuid.uuid4().hex[:8]}"


def _ppid(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return 0


def _orphaned(pid: int) -> bool:
    """Is this sandbox process cut off from its grader? Its nearest ancestor that is not part
    of a sandbox (bwrap or an agent) is init, or gone."""
    parent = _ppid(pid)
    while parent > 1:
        try:
            cmdline = Path(f"/proc/{parent}/cmdline").read_bytes()
        except OSError:
            return True
        if not (cmdline.startswith(b"bwrap\0") or b"/agent.py\0" in cmdline):
            return False
        parent = _ppid(parent)
    return True


def leftover_processes(token: str, grace: float = 20.0) -> list[str]:
    """Processes an attack left: ones carrying its token, and sandbox agents whose grader is
    gone.

    Processes with the token must be gone when grading returns. An orphaned agent may instead
    belong to another grader on the machine (a parallel test worker, another checkout) that is
    tearing its sandbox down right now, which takes a moment: such an agent counts only if it
    is still there after `grace` seconds.
    """
    found, orphans = _leftovers(token)
    deadline = time.monotonic() + grace
    while orphans and time.monotonic() < deadline:
        time.sleep(0.5)
        orphans = {pid: line for pid, line in _leftovers(token)[1].items() if pid in orphans}
    return found + list(orphans.values())


def _leftovers(token: str) -> tuple[list[str], dict[str, str]]:
    """(processes carrying the token, orphaned sandbox agents by pid)."""
    found, orphans = [], {}
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if token.encode() in cmdline:
            found.append(f"{pid}: {cmdline[:200]!r}")
        elif b"sandbox/agent.py" in cmdline and _orphaned(int(pid)):
            orphans[pid] = f"{pid}: orphaned sandbox agent {cmdline[:120]!r}"
    return found, orphans
