"""CPU seconds per test module, for finding where the suite's time goes (not a timing test).

A pytest plugin: `PYTHONPATH=tests/support .venv/bin/pytest -n 0 -p cpu_meter tests/...`.
The process moves into a cgroup of its own (v1 `cpuacct`, or v2), whose count includes every
process it starts, however detached (sandboxes, kernels, servers, a child pytest run as another
user); where no cgroup can be made (not root, no delegated tree) it falls back to getrusage of
this process and its reaped children, which misses the sandboxes. The summary lists CPU and
wall seconds per module, the load average at the end, and which of the two counts was used.
Run it with one process (`-n 0`): xdist workers would each count only their own share.
"""

from __future__ import annotations

import os
import resource
import time
from collections import defaultdict
from pathlib import Path

import pytest


class _Meter:
    """CPU seconds of this process and what it starts: a cgroup of its own, else getrusage."""

    def __init__(self) -> None:
        self.usage: Path | None = None
        for line in Path("/proc/self/cgroup").read_text().splitlines():
            _, controllers, path = line.split(":", 2)
            if "cpuacct" in controllers.split(","):
                base, name = Path("/sys/fs/cgroup/cpuacct" + path), "cpuacct.usage"
            elif controllers == "" and Path("/sys/fs/cgroup/cgroup.procs").exists():
                base, name = Path("/sys/fs/cgroup" + path), "cpu.stat"
            else:
                continue
            folder = base / f"cpu-meter-{os.getpid()}"
            try:
                folder.mkdir()
                (folder / "cgroup.procs").write_text(str(os.getpid()))
            except OSError:
                continue
            self.usage = folder / name
            return

    def close(self) -> None:
        """Back to the parent cgroup; remove ours once the sandboxes' sub-cgroups are gone."""
        if self.usage is None:
            return
        folder = self.usage.parent
        (folder.parent / "cgroup.procs").write_text(str(os.getpid()))
        for _ in range(50):
            try:
                for sub in sorted(folder.rglob("*"), reverse=True):
                    if sub.is_dir():
                        sub.rmdir()
                folder.rmdir()
                return
            except OSError:
                time.sleep(0.1)

    @property
    def kind(self) -> str:
        return "cgroup" if self.usage else "getrusage (sandboxes not counted)"

    def seconds(self) -> float:
        if self.usage is None:
            own = resource.getrusage(resource.RUSAGE_SELF)
            kids = resource.getrusage(resource.RUSAGE_CHILDREN)
            return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime
        text = self.usage.read_text()
        if self.usage.name == "cpuacct.usage":
            return int(text) / 1e9
        return int(dict(line.split() for line in text.splitlines())["usage_usec"]) / 1e6


_meter: _Meter | None = None
_modules: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])


def pytest_configure(config) -> None:
    global _meter
    _meter = _Meter()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    cpu, wall = _meter.seconds(), time.monotonic()
    yield
    module = _modules[item.nodeid.partition("::")[0]]
    module[0] += _meter.seconds() - cpu
    module[1] += time.monotonic() - wall


def pytest_unconfigure(config) -> None:
    if _meter is not None:
        _meter.close()


def pytest_terminal_summary(terminalreporter) -> None:
    if not _modules:
        return
    write = terminalreporter.write_line
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    write(f"\nCPU seconds per module ({_meter.kind}; load average now {load}):")
    for module, (cpu, wall) in sorted(_modules.items(), key=lambda kv: -kv[1][0]):
        write(f"  {cpu:8.1f} CPU s {wall:8.1f} wall s  {module}")
    write(f"  {sum(c for c, _ in _modules.values()):8.1f} CPU s in all")
