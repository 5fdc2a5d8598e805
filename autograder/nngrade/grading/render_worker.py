"""Feedback pages rendered in a child process with a deadline and a memory limit.

The caps of `caps.py` bound how much a page renders, but not every renderer is linear: 20,000
`[` in one Markdown cell take mistune about 50 s. So each page is made by a worker process
(one, reused from page to page) under `RLIMIT_AS`; a page that is not done within its deadline
gets the worker killed (a fresh one serves the next student), and a page that runs out of
memory raises `MemoryError` there. Either way only that student's page is affected: it shows
the score box and why the notebook is not shown.
"""

from __future__ import annotations

import multiprocessing
import resource
from collections.abc import Callable
from typing import Any

RENDER_SECONDS = 120.0  # wall time one page may take (generous: graders share machines)
RENDER_MEMORY_MB = 3072  # address space of the rendering process


class RenderTimeout(TimeoutError):
    """A page took longer than its deadline (its worker was killed)."""


def _limit_memory(megabytes: int) -> None:
    limit = megabytes * 2**20
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


class RenderWorker:
    """One worker process; `call` runs a function there within a deadline."""

    def __init__(self, seconds: float = RENDER_SECONDS, memory_mb: int = RENDER_MEMORY_MB) -> None:
        self.seconds, self.memory_mb = seconds, memory_mb
        # fork: the worker starts at once with nbconvert already imported by the parent
        self._context = multiprocessing.get_context("fork")
        self._pool = None

    def _start(self):
        if self._pool is None:
            self._pool = self._context.Pool(
                1, initializer=_limit_memory, initargs=(self.memory_mb,)
            )
        return self._pool

    def call(self, function: Callable[..., str], *args: Any) -> str:
        """`function(*args)` in the worker; raises its exception, or RenderTimeout."""
        pending = self._start().apply_async(function, args)
        try:
            return pending.get(timeout=self.seconds)
        except multiprocessing.TimeoutError:
            self._kill()
            raise RenderTimeout(f"it took longer than {self.seconds:.0f} s to render") from None

    def _kill(self) -> None:
        if self._pool is not None:
            self._pool.terminate()
            self._pool.join()
            self._pool = None

    def close(self) -> None:
        """Stop the worker (pending work is dropped)."""
        if self._pool is not None:
            self._pool.close()
            self._pool.join()
            self._pool = None

    def __enter__(self) -> RenderWorker:
        return self

    def __exit__(self, *exc) -> None:
        if exc[0] is None:
            self.close()
        else:
            self._kill()
