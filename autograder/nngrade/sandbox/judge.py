"""Bounds on the grader's own work while a test cell judges student values.

A test cell runs in the grader's process (`nngrade.sandbox.isolated`) on values student code
returned. Those values are checked when decoded (`agent.DecodeLimits`), but the test's own
arithmetic can still blow up: `argmax(x @ w.T + b)` with a `b` of shape (50000, 1, 1)
broadcasts a 400 KB reply into tens of gigabytes. So while a test cell runs, the grader's
address space may grow by at most `memory_mb` (`RLIMIT_AS`, lowered for the duration of the
cell, then restored: numpy raises `MemoryError` instead of the machine swapping), and the cell
has a wall-clock deadline (`SIGALRM`), on top of the per-call deadlines of the sandbox.

Both need the main thread of a process of its own: nngrade's worker processes and
`nngrade check` grade there. Where grading runs in a thread (a Dask worker), the window is not
opened and the worker's own memory limit applies (docs/security.md).
"""

from __future__ import annotations

import contextlib
import os
import resource
import signal
import threading
import time
from collections.abc import Iterator

PAGE = os.sysconf("SC_PAGE_SIZE")


class JudgeTimeout(Exception):
    """The test cell's own work (in the grader) ran past its wall-clock deadline."""


class JudgeMemoryError(MemoryError):
    """The test cell's own work on student values needed more memory than it may use."""


def address_space() -> int:
    """The process's current virtual size in bytes (what RLIMIT_AS counts)."""
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[0]) * PAGE


def can_bound() -> bool:
    """Whether this thread may lower process-wide limits and take SIGALRM (main thread)."""
    return threading.current_thread() is threading.main_thread()


@contextlib.contextmanager
def bounded(memory_mb: float, seconds: float) -> Iterator[bool]:
    """Run the body with at most `memory_mb` more address space and `seconds` of wall time.

    Yields whether the bounds are in force. A `MemoryError` inside becomes
    `JudgeMemoryError` when the lowered limit caused it; the deadline raises `JudgeTimeout`.
    """
    if not can_bound():
        yield False
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    ceiling = address_space() + int(memory_mb * 2**20)
    lowered = soft == resource.RLIM_INFINITY or ceiling < soft
    if hard != resource.RLIM_INFINITY:
        ceiling = min(ceiling, hard)

    def expire(signum, frame):
        raise JudgeTimeout(f"the test's own work ran past {seconds:.0f} s")

    previous = signal.signal(signal.SIGALRM, expire)
    started = time.monotonic()
    pending, _ = signal.setitimer(signal.ITIMER_REAL, max(seconds, 0.05))
    if pending > 0:  # someone else's alarm (pytest-timeout, a caller's own deadline) comes first
        signal.setitimer(signal.ITIMER_REAL, max(min(seconds, pending), 0.05))
    if lowered:
        resource.setrlimit(resource.RLIMIT_AS, (ceiling, hard))
    try:
        yield True
    except MemoryError as err:
        # the grader's own allocations (Python's or numpy's), not an error student code raised
        own = type(err).__module__.split(".")[0] in ("builtins", "numpy")
        if lowered and own:
            raise JudgeMemoryError(
                f"the test's work on the returned values needed more than {memory_mb:.0f} MB"
            ) from err
        raise
    finally:
        try:
            signal.setitimer(signal.ITIMER_REAL, 0)
        finally:  # even if the alarm fires right now
            if lowered:
                resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
            signal.signal(signal.SIGALRM, previous)
            if pending > 0:  # give the earlier alarm back what is left of it
                left = pending - (time.monotonic() - started)
                signal.setitimer(signal.ITIMER_REAL, max(left, 0.01))
