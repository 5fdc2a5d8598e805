"""Grader-side proxies for the student's functions living in the sandboxed kernel.

A test cell runs in the grader's process in a `TestNamespace`: names it does not define
itself resolve, on first use, to the student's globals: callables become `RemoteObject`s
(calling one ships the arguments to the kernel and decodes the result), plain values are
copied. Results are rebuilt from JSON and .npy bytes only, so a student can influence the
values their functions return, never the code that judges them.
"""

from __future__ import annotations

import builtins
import time

import numpy as np

from nngrade.sandbox import agent as wire
from nngrade.sandbox.launcher import CallTimeout, Sandbox

_BUILTIN_EXCEPTIONS = {
    name: getattr(builtins, name) for name in wire.SAFE_EXCEPTIONS if hasattr(builtins, name)
}
_BUILTIN_EXCEPTIONS["LinAlgError"] = np.linalg.LinAlgError


class StudentCodeError(Exception):
    """The student's function raised; the message is theirs (their code, their traceback)."""


class ReplyRefused(Exception):
    """A value sent back by student code exceeds the decode limits (size, elements, depth,
    dict size, colliding keys): refused before it is built, and the test fails saying why."""


class ArgumentChanged(ReplyRefused):
    """The student's function changed an array it was given in place (the API forbids it,
    and the kernel's copy is not the test's, so the test could not see it otherwise)."""


class TestTimeout(Exception):
    """The test cell used up its time (student functions too slow or looping)."""

    __test__ = False


_error_classes: dict[str, type] = {}
PRINTED_CAP = 20_000
TRACEBACK_CAP, LINE_CAP = 20_000, 500  # a student traceback's characters, and one line's


def student_error(ename: str, message: str) -> StudentCodeError:
    """An exception that is a StudentCodeError and, for builtin types, also that type."""
    base = _BUILTIN_EXCEPTIONS.get(ename)
    if base is None:
        return StudentCodeError(message)
    if ename not in _error_classes:
        _error_classes[ename] = type(ename, (StudentCodeError, base), {})
    return _error_classes[ename](message)


class Channel:
    """The sandbox plus the deadline of the test cell being evaluated (on `now()`'s clock)."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self.deadline = float("inf")
        self.printed: list[str] = []
        self.busy = False  # a request is on the wire (its reply not read yet)

    def now(self) -> float:
        """The clock test deadlines are measured on: the sandbox's fair clock (its own CPU
        time, at least a third of wall time), so a starved kernel is not timed out."""
        clock = getattr(self.sandbox, "clock", None)
        return clock() if clock is not None else time.monotonic()

    def request(self, header: dict, blobs: list[bytes]) -> tuple[dict, list[bytes]]:
        left = self.deadline - self.now()
        if left <= 0:
            raise TestTimeout("the test ran out of time")
        self.busy = True  # stays set if anything else (the judge's deadline) cuts the call
        try:
            reply = self.sandbox.request(header, blobs, timeout=left)
        except CallTimeout as err:
            self.busy = False
            raise TestTimeout(str(err)) from None
        self.busy = False
        return reply

    def value(self, reply: dict, blobs: list[bytes], what: str):
        """Decode a reply's value (or raise the student's error) with fresh remote refs."""
        if reply.get("stdout") and sum(map(len, self.printed)) < PRINTED_CAP:
            self.printed.append(str(reply["stdout"])[:PRINTED_CAP])
        if not reply.get("ok"):
            error = reply.get("error")
            error = error if type(error) is dict else {}
            ename = str(error.get("ename", "Exception"))[:100]
            evalue = str(error.get("evalue", ""))[:4000]
            tail = _student_traceback(str(error.get("traceback", ""))[-TRACEBACK_CAP:])
            raise student_error(ename, f"{what} raised {ename}: {evalue}{tail}")
        limits = wire.DecodeLimits(max_bytes=getattr(self.sandbox, "max_reply", 128 * 2**20))
        try:
            return wire.decode(reply.get("value"), blobs, self.make_ref, limits=limits)
        except wire.WireError as err:
            raise ReplyRefused(f"{what} returned a value the grader refuses: {err}") from None

    def make_ref(self, body) -> RemoteObject:
        if type(body) is not list or not body:
            raise wire.WireError("malformed remote reference")
        kind = str(body[1]) if len(body) > 1 else "object"
        return RemoteObject(self, {"ref": [body[0]]}, f"<{kind} returned by your code>")


def student_frames(text: str) -> str:
    """A traceback without the agent's and IPython's own frames (each with its code and caret
    lines: `value = func(*args, **kwargs)` is the grader's, not the student's)."""
    kept, skipping = [], False
    for line in text.splitlines():
        if line.startswith('  File "'):
            skipping = "sandbox/agent.py" in line or "/IPython/core/" in line
        elif not line.startswith(" "):
            skipping = False
        if not skipping:
            kept.append(line)
    return "\n".join(kept)


def _student_traceback(text: str, keep: int = 8) -> str:
    """The last frames of the student's traceback (their own code; the agent's frames dropped)."""
    lines = [
        line
        for line in student_frames(text).splitlines()
        if line.strip() and not line.startswith("Traceback")
    ]
    if len(lines) <= 1:
        return ""
    return "\n" + "\n".join(line[:LINE_CAP] for line in lines[-keep:-1])


class RemoteObject:
    """A handle on a student object in the kernel: call it, read attributes, index it.

    It never pretends to be a plain value: truth, comparison, len and iteration raise, so
    `assert student_fn(x)` cannot pass on a handle.
    """

    __slots__ = ("_channel", "_target", "_label")

    def __init__(self, channel: Channel, target: dict, label: str) -> None:
        object.__setattr__(self, "_channel", channel)
        object.__setattr__(self, "_target", target)
        object.__setattr__(self, "_label", label)

    @property
    def __remote_ref__(self):
        return self._target.get("ref")

    def __call__(self, *args, **kwargs):
        blobs: list[bytes] = []
        header = {
            "op": "call",
            "target": self._target,
            "args": wire.encode(list(args), blobs),
            "kwargs": wire.encode(dict(kwargs), blobs),
        }
        reply, reply_blobs = self._channel.request(header, blobs)
        result = self._channel.value(reply, reply_blobs, self._label)
        if type(result) is not dict or set(result) - {"mutated"} != {"value", "rngs"}:
            raise StudentCodeError(f"{self._label}: the kernel sent a malformed reply")
        _advance_generators(args, kwargs, result["rngs"])
        _refuse_changed_arguments(self._label, args, kwargs, result.get("mutated"))
        return result["value"]

    def __getattr__(self, name: str):
        if name.startswith("__"):
            raise AttributeError(name)
        header = {"op": "getattr", "target": self._target, "name": name}
        reply, blobs = self._channel.request(header, [])
        return self._channel.value(reply, blobs, f"{self._label}.{name}")

    def __getitem__(self, key):
        blobs: list[bytes] = []
        header = {"op": "getitem", "target": self._target, "key": wire.encode(key, blobs)}
        reply, reply_blobs = self._channel.request(header, blobs)
        return self._channel.value(reply, reply_blobs, f"{self._label}[...]")

    def _refuse(self, *args, **kwargs):
        raise TypeError(
            f"{self._label} is not a plain value (array, number, list, tuple, dict): return "
            "numpy arrays or Python numbers from graded functions"
        )

    __bool__ = __eq__ = __ne__ = __lt__ = __le__ = __gt__ = __ge__ = _refuse
    __len__ = __iter__ = __contains__ = __array__ = __float__ = __int__ = __index__ = _refuse
    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = __truediv__ = _refuse
    __hash__ = None

    def __repr__(self) -> str:
        return self._label


def _refuse_changed_arguments(label: str, args, kwargs, changed) -> None:
    """Fail the call if the student's function changed an array argument in place.

    The kernel works on copies of the test's arrays, so a change never reaches the test, and a
    test that checks for one (`w0` left unchanged, as the API asks) would pass a function that
    overwrites its input. Copying the change back would let the student rewrite the test's own
    inputs and so its expected values; the call fails instead, naming the argument by the
    test's side only (its position and shape), never by the student's parameter names.
    """
    if not changed:
        return
    names = []
    for key in changed if type(changed) is list else []:
        if type(key) is int and 0 <= key < len(args):
            arg, name = args[key], f"argument {key + 1}"
        elif type(key) is str and key in kwargs:
            arg, name = kwargs[key], f"keyword argument {key}"
        else:
            continue
        shape = f" of shape {np.shape(arg)}" if isinstance(arg, np.ndarray) else ""
        names.append(f"its {name} (an array{shape})" if shape else f"an array in its {name}")
    if names:
        raise ArgumentChanged(
            f"{label} changed {' and '.join(names[:4])} in place: a graded function must leave "
            "the arrays it is given unchanged (the caller still needs them). Work on a copy, "
            "e.g. x = np.array(x, dtype=float), or build new arrays (x = x - c, not x -= c)"
        )


def _advance_generators(args, kwargs, states) -> None:
    """Give the grader's Generators the state the student's code left them in."""
    generators = [a for a in (*args, *kwargs.values()) if isinstance(a, np.random.Generator)]
    if type(states) is not list or len(states) != len(generators):
        return
    for mine, theirs in zip(generators, states, strict=True):
        if isinstance(theirs, np.random.Generator) and type(theirs.bit_generator) is type(
            mine.bit_generator
        ):
            mine.bit_generator.state = theirs.bit_generator.state


class TestNamespace(dict):
    """Globals of test cells: trusted imports plus lazily resolved student names."""

    __test__ = False

    def __init__(self, channel: Channel, base: dict) -> None:
        super().__init__(base)
        self.channel = channel
        self.resolved: set[str] = set()
        self.values_read: set[str] = set()  # non-callables copied from the kernel

    def forget_student_names(self) -> None:
        """Drop resolved student names (a later student cell may have redefined them)."""
        for name in self.resolved:
            self.pop(name, None)
        self.resolved.clear()
        self.values_read.clear()

    def __missing__(self, name: str):
        if name in builtins.__dict__ or name.startswith("__"):
            raise KeyError(name)
        reply, blobs = self.channel.request({"op": "lookup", "name": name}, [])
        if not reply.get("ok") or not reply.get("found"):
            raise KeyError(name)
        if reply.get("callable"):
            value = RemoteObject(self.channel, {"global": name}, f"your {name}(...)")
        else:
            value = self.channel.value(reply, blobs, name)
            self.values_read.add(name)
        self[name] = value
        self.resolved.add(name)
        return value
