"""A throwaway PostgreSQL server for tests: initdb + pg_ctl in a temp folder, stopped after.

Debian's `postgresql` package (its binaries in /usr/lib/postgresql/<v>/bin) is installed by
.ci/run. The server listens on 127.0.0.1 at a free port and on a unix socket in its own folder,
with `trust` authentication for local connections only. PostgreSQL refuses to run as root:
then initdb and the server run as the unprivileged `postgres` user (created by the package).
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def pg_bin() -> Path | None:
    """The newest installed PostgreSQL's bin folder, or None."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_server_user(command: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return command
    return ["runuser", "-u", "postgres", "--", *command]


@contextmanager
def postgres_server() -> Iterator[str]:
    """Start a server, yield a SQLAlchemy URL of an empty database `gradebook`, stop it."""
    bindir = pg_bin()
    if bindir is None:
        raise RuntimeError("PostgreSQL is not installed (Debian: apt-get install postgresql)")
    folder = Path(tempfile.mkdtemp(prefix="nngrade-pg-"))
    data = folder / "data"
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
    port = _free_port()
    user = "postgres" if os.geteuid() == 0 else os.environ.get("USER", "postgres")
    run = lambda *cmd: subprocess.run(  # noqa: E731
        _as_server_user([str(c) for c in cmd]),
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    )
    try:
        run(bindir / "initdb", "-D", data, "-U", user, "--auth=trust", "--no-sync", "-E", "UTF8")
        options = f"-k {folder} -p {port} -h 127.0.0.1 -c fsync=off"
        run(bindir / "pg_ctl", "-D", data, "-o", options, "-l", folder / "log", "-w", "start")
        try:
            run(bindir / "createdb", "-h", "127.0.0.1", "-p", port, "-U", user, "gradebook")
            yield f"postgresql://{user}@127.0.0.1:{port}/gradebook"
        finally:
            run(bindir / "pg_ctl", "-D", data, "-m", "immediate", "-w", "stop")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
