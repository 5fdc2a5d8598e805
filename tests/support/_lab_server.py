"""Start JupyterLab on 127.0.0.1 the way `make lab` does, in a scratch folder, for browser tests.

The lecture notebooks are copied into the scratch root so that the browser session (autosave,
checkpoints, workspace state) never touches the repository. Settings, workspaces and runtime
files live in the scratch folder too.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class LabServer:
    """A running JupyterLab: where it listens, its token, its log file and notebook folder."""

    url: str
    token: str
    root_dir: Path
    log: Path

    def notebook_url(self, relative: str) -> str:
        return f"{self.url}/lab/tree/{relative}?token={self.token}"

    def assert_no_tracebacks(self) -> None:
        """Fail when JupyterLab's log holds a traceback (a server error the page may hide),
        except one of a websocket whose page had gone (`server_errors`)."""
        errors = server_errors(self.log)
        assert not errors, f"JupyterLab logged errors {errors}; see {self.log}"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_until_up(
    url: str, token: str, process: subprocess.Popen, log: Path, timeout: float
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"JupyterLab exited with code {process.returncode} while starting; its log:\n"
                + log.read_text(errors="replace")[-3000:]
            )
        try:
            with urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2) as reply:
                if reply.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise TimeoutError(
        f"JupyterLab did not answer on {url} within {timeout:.0f} s; its log:\n"
        + log.read_text(errors="replace")[-3000:]
    )


@contextlib.contextmanager
def lab_server(
    scratch: Path, notebooks: list[Path], *, timeout: float = 120, root_dir: Path | None = None
) -> Iterator[LabServer]:
    """Run `jupyter lab` (flags as in the Makefile's `lab` target) serving copies of notebooks.

    With `root_dir`, serve that folder as it is instead (e.g. a student workspace made by
    `nngrade workspace`, as `make lab` does).
    """
    scratch.mkdir(parents=True, exist_ok=True)
    if root_dir is None:
        root_dir = scratch / "root"
        root_dir.mkdir(parents=True)
        for notebook in notebooks:
            shutil.copy(notebook, root_dir / notebook.name)
    port, token = free_port(), secrets.token_hex(16)
    jupyter = Path(sys.executable).with_name("jupyter")
    command = [
        str(jupyter),
        "lab",
        "--ip=127.0.0.1",
        "--no-browser",
        f"--ServerApp.root_dir={root_dir}",
        f"--port={port}",
        "--port-retries=0",
        f"--IdentityProvider.token={token}",
    ]
    if os.geteuid() == 0:
        command.append("--allow-root")  # as `make lab` does for root (containers, CI)
    env = dict(os.environ)
    env.pop("MPLBACKEND", None)  # the kernel should draw inline, as for a student
    env.update(
        JUPYTER_CONFIG_DIR=str(scratch / "config"),
        JUPYTER_RUNTIME_DIR=str(scratch / "runtime"),
        JUPYTER_DATA_DIR=str(scratch / "data"),  # nbgrader's default exchange cache lives here
        JUPYTERLAB_SETTINGS_DIR=str(scratch / "settings"),
        JUPYTERLAB_WORKSPACES_DIR=str(scratch / "workspaces"),
    )
    log = scratch / "jupyter-lab.log"
    with open(log, "wb") as log_file:
        process = subprocess.Popen(
            command, cwd=root_dir, env=env, stdout=log_file, stderr=subprocess.STDOUT
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(url, token, process, log, timeout)
        yield LabServer(url=url, token=token, root_dir=root_dir, log=log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


# A page that closed or navigated away while the server was still writing to its websocket:
# tornado logs the write it could not finish. That is the browser leaving, not a server error.
CLIENT_GONE = re.compile(
    r"^tornado\.(websocket\.WebSocketClosedError|iostream\.StreamClosedError)\b"
)


def server_errors(log: Path) -> list[str]:
    """The tracebacks in a JupyterLab log, each as its last line (the exception), except the
    ones of a websocket whose page had gone (CLIENT_GONE)."""
    lines = log.read_text(errors="replace").splitlines()
    errors = []
    for index, line in enumerate(lines):
        if not line.startswith("Traceback"):
            continue
        # The exception line is the first one after the traceback that is not indented.
        last = next(
            (x for x in lines[index + 1 :] if x.strip() and not x[0].isspace()), "(log ends)"
        )
        if not CLIENT_GONE.match(last):
            errors.append(last)
    return errors
