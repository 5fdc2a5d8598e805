"""The sandboxed side of the isolated grader: runs student cells, answers calls from the grader.

Started by `nngrade.sandbox.launcher` as `python -I agent.py CONFIG_JSON`, normally inside
bubblewrap (which built its file system and namespaces). It sets resource limits, drops to the
sandbox's dedicated uid when it was started as root, copies the student's files into its
scratch home, then serves length-prefixed frames on its original stdin/stdout.

This file must stay self-contained (stdlib, numpy, IPython): inside the sandbox the rest of
the `nngrade` package is not visible. The wire codec below is also what the grader uses to decode
replies, so decoding is strict: JSON and `np.load(allow_pickle=False)` only, never pickle.
"""

from __future__ import annotations

import io
import json
import os
import struct
import sys
import traceback

MAGIC = b"NNG1"
MAX_HEADER = 8 * 2**20  # a frame's JSON header (values other than arrays, printed text)
MAX_CONTAINERS = 200_000  # '[' and '{' in one header: json.loads builds each before decode
MAX_DEPTH = 64
TEXT_CAP = 64 * 1024
RNG_NAMES = ("PCG64", "PCG64DXSM", "MT19937", "Philox", "SFC64")
SAFE_EXCEPTIONS = (
    "ArithmeticError", "AssertionError", "AttributeError", "FloatingPointError", "IndexError",
    "KeyError", "LookupError", "MemoryError", "NameError", "NotImplementedError",
    "OverflowError", "RecursionError", "RuntimeError", "TypeError", "UnboundLocalError",
    "ValueError", "ZeroDivisionError", "LinAlgError",
)  # fmt: skip


class WireError(Exception):
    """A frame or value that does not follow the protocol (treated as a broken reply)."""


# ----------------------------------------------------------------------------- values
def encode(value, blobs: list[bytes], make_ref=None, depth: int = 0):
    """A JSON-able tree for `value`; arrays go to `blobs` as .npy bytes (no pickle)."""
    import numpy as np

    if depth > MAX_DEPTH:
        raise WireError("value nested too deeply")
    if value is None or type(value) in (bool, int, str):
        return value
    if type(value) is float:
        return value
    if type(value) is complex:
        return {"$complex": [value.real, value.imag]}
    if type(value) is list:
        return [encode(v, blobs, make_ref, depth + 1) for v in value]
    if type(value) is tuple:
        return {"$tuple": [encode(v, blobs, make_ref, depth + 1) for v in value]}
    if type(value) is dict:
        items = [
            [encode(k, blobs, make_ref, depth + 1), encode(v, blobs, make_ref, depth + 1)]
            for k, v in value.items()
        ]
        return {"$dict": items}
    if isinstance(value, np.random.Generator):
        bitgen = value.bit_generator
        state = encode(bitgen.state, blobs, make_ref, depth + 1)
        return {"$rng": [type(bitgen).__name__, state]}
    if isinstance(value, np.generic) and value.dtype != object:
        return {"$npscalar": _npy(np.asarray(value), blobs)}
    if isinstance(value, np.ndarray) and value.dtype != object:
        return {"$nd": _npy(np.asarray(value), blobs)}
    if hasattr(value, "__remote_ref__"):
        return {"$ref": value.__remote_ref__}
    if make_ref is not None:
        return make_ref(value)
    raise TypeError(
        f"cannot send a {type(value).__name__} to the student's kernel: tests may pass numpy "
        "arrays, lists, tuples, dicts, numbers, strings, None and np.random.Generator"
    )


def _npy(array, blobs: list[bytes]) -> int:
    import numpy as np

    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    blobs.append(buffer.getvalue())
    return len(blobs) - 1


class DecodeLimits:
    """What one decoded value may cost the process that decodes it (the grader, for replies).

    Checked while decoding, before anything is materialised: a reply is refused as soon as it
    would exceed one of them (`WireError`, with the reason).
    """

    def __init__(
        self,
        max_bytes: int = 128 * 2**20,
        max_items: int = 1_000_000,
        max_string: int = 1_000_000,
        max_dict: int = 10_000,
        max_array_items: int = 32 * 2**20,
    ) -> None:
        self.max_bytes = max_bytes  # array bytes plus string characters, in total
        self.max_items = max_items  # list/tuple/dict entries and scalars, in total
        self.max_string = max_string  # characters of one string
        self.max_dict = max_dict  # entries of one dict
        self.max_array_items = max_array_items  # elements of all arrays, in total
        self.bytes = self.items = self.array_items = 0
        self.used_blobs: set[int] = set()

    def spend(self, items: int = 0, nbytes: int = 0, array_items: int = 0) -> None:
        self.items += items
        self.bytes += nbytes
        self.array_items += array_items
        if self.items > self.max_items:
            raise WireError(f"value has more than {self.max_items:,} elements")
        if self.bytes > self.max_bytes:
            raise WireError(f"value larger than {self.max_bytes // 2**20} MB once decoded")
        if self.array_items > self.max_array_items:
            raise WireError(f"arrays with more than {self.max_array_items:,} elements in all")


MAX_SAME_HASH = 16  # dict keys sharing one hash: more is a collision attack (quadratic inserts)
PLAIN_KINDS = "biufcUS"  # bool, ints, floats, complex, str, bytes: the dtypes a reply may carry


def decode(tree, blobs: list[bytes], resolve_ref=None, depth: int = 0, limits=None):
    """Rebuild a value from `encode`'s tree; only plain Python and numpy types come out.

    Bounded by `limits` (a fresh `DecodeLimits` unless given): elements, bytes, string
    length, dict size, nesting depth; each blob is used once, array headers are checked
    against their data before anything is allocated, and dicts whose keys collide are
    refused, so a small reply cannot decode into a large or slow-to-build value.
    """
    limits = limits if limits is not None else DecodeLimits()
    return _decode(tree, blobs, resolve_ref, depth, limits)


def _decode(tree, blobs, resolve_ref, depth: int, limits: DecodeLimits):
    if depth > MAX_DEPTH:
        raise WireError("value nested too deeply")
    limits.spend(items=1)
    if tree is None or type(tree) in (bool, int, float):
        if type(tree) is int and tree.bit_length() > 4096:
            raise WireError("integer too large")
        return tree
    if type(tree) is str:
        if len(tree) > limits.max_string:
            raise WireError(f"string longer than {limits.max_string:,} characters")
        limits.spend(nbytes=len(tree))
        return tree
    if type(tree) is list:
        limits.spend(items=len(tree))
        return [_decode(v, blobs, resolve_ref, depth + 1, limits) for v in tree]
    if type(tree) is not dict or len(tree) != 1:
        raise WireError("malformed value")
    ((tag, body),) = tree.items()
    if tag == "$tuple" and type(body) is list:
        limits.spend(items=len(body))
        return tuple(_decode(v, blobs, resolve_ref, depth + 1, limits) for v in body)
    if tag == "$dict" and type(body) is list:
        return _decode_dict(body, blobs, resolve_ref, depth, limits)
    if tag == "$complex" and type(body) is list and len(body) == 2:
        return complex(float(body[0]), float(body[1]))
    if tag in ("$nd", "$npscalar") and type(body) is int and 0 <= body < len(blobs):
        if body in limits.used_blobs:
            raise WireError("an array blob is referenced more than once")
        limits.used_blobs.add(body)
        array = _load_array(blobs[body], limits)
        return array[()] if tag == "$npscalar" else array
    if tag == "$rng" and type(body) is list and len(body) == 2 and body[0] in RNG_NAMES:
        import numpy as np

        bitgen = getattr(np.random, body[0])()
        try:
            bitgen.state = _decode(body[1], blobs, resolve_ref, depth + 1, limits)
        except (TypeError, ValueError, KeyError, OverflowError) as err:
            raise WireError(f"malformed generator state ({type(err).__name__})") from None
        return np.random.Generator(bitgen)
    if tag == "$ref" and resolve_ref is not None:
        return resolve_ref(body)
    raise WireError(f"unknown value tag {str(tag)[:40]!r}")


def _decode_dict(body: list, blobs, resolve_ref, depth: int, limits: DecodeLimits) -> dict:
    """Keys first (checked, and their hashes counted), then the dict: building a dict whose
    keys share one hash costs time quadratic in their number, so such keys are refused."""
    if len(body) > limits.max_dict:
        raise WireError(f"dict with more than {limits.max_dict:,} entries")
    limits.spend(items=len(body))
    keys = []
    for pair in body:
        if type(pair) is not list or len(pair) != 2:
            raise WireError("malformed dict entry")
        key = _decode(pair[0], blobs, resolve_ref, depth + 1, limits)
        if not _plain_key(key):
            raise WireError("dict key of an unsupported type")
        keys.append(key)
    # Hash values are ints below 2**61, whose own hashes are themselves: counting them in a
    # dict cannot collide, so this check is linear whatever the keys are.
    same: dict[int, int] = {}
    for key in keys:
        h = hash(key)
        same[h] = same.get(h, 0) + 1
        if same[h] > MAX_SAME_HASH:
            raise WireError(f"dict keys that share one hash (more than {MAX_SAME_HASH})")
    out = {}
    for key, pair in zip(keys, body, strict=True):
        out[key] = _decode(pair[1], blobs, resolve_ref, depth + 1, limits)
    return out


def _plain_key(key) -> bool:
    if key is None or type(key) in (bool, int, float, str, complex):
        return True
    return type(key) is tuple and all(_plain_key(k) for k in key)


def _load_array(blob: bytes, limits: DecodeLimits):
    """An array from .npy bytes, its header checked before anything is allocated: a plain
    dtype, and exactly as many data bytes as its shape says (no pickle, ever)."""
    import numpy as np
    from numpy.lib import format as npy

    stream = io.BytesIO(blob)
    try:
        version = npy.read_magic(stream)
        if version == (1, 0):
            shape, fortran, dtype = npy.read_array_header_1_0(stream, max_header_size=10_000)
        elif version in ((2, 0), (3, 0)):
            shape, fortran, dtype = npy.read_array_header_2_0(stream, max_header_size=10_000)
        else:
            raise WireError("unsupported .npy version")
    except (ValueError, TypeError, SyntaxError) as err:
        raise WireError(f"malformed array header ({err})") from None
    if dtype.hasobject or dtype.fields is not None or dtype.kind not in PLAIN_KINDS:
        raise WireError(f"array of an unsupported dtype ({str(dtype)[:40]})")
    if len(shape) > 32 or any(type(n) is not int or n < 0 for n in shape):
        raise WireError("array of a malformed shape")
    count = 1
    for n in shape:
        count *= n
    limits.spend(items=1, array_items=count, nbytes=count * dtype.itemsize)
    offset = stream.tell()
    if len(blob) - offset != count * dtype.itemsize:
        raise WireError("array data does not match its shape")
    if count == 0:
        return np.empty(shape, dtype=dtype)
    array = np.frombuffer(blob, dtype=dtype, count=count, offset=offset)
    array = array.reshape(shape, order="F" if fortran else "C")
    return array if array.flags.writeable else array.copy()


# ----------------------------------------------------------------------------- frames
def pack(header: dict, blobs: list[bytes] = ()) -> bytes:
    """One frame: magic, JSON header, then the binary blobs, all length-prefixed."""
    head = json.dumps(header).encode()
    parts = [MAGIC, struct.pack("<II", len(head), len(blobs)), head]
    for blob in blobs:
        parts.append(struct.pack("<Q", len(blob)))
        parts.append(blob)
    return b"".join(parts)


def unpack(read_exact, max_bytes: int) -> tuple[dict, list[bytes]]:
    """Read one frame with `read_exact(n) -> bytes`; refuse anything over `max_bytes`."""
    prefix = read_exact(12)
    if prefix[:4] != MAGIC:
        raise WireError("bad frame magic (garbage on the channel)")
    head_len, n_blobs = struct.unpack("<II", prefix[4:])
    if head_len > min(MAX_HEADER, max_bytes) or n_blobs > 100_000:
        raise WireError(f"frame header larger than {MAX_HEADER // 2**20} MB")
    head = read_exact(head_len)
    if head.count(b"[") + head.count(b"{") > MAX_CONTAINERS:
        raise WireError(f"frame header with more than {MAX_CONTAINERS:,} lists or dicts")
    try:
        header = json.loads(head)
    except (ValueError, RecursionError) as err:
        raise WireError(f"frame header is not JSON: {err}") from None
    if type(header) is not dict:
        raise WireError("frame header is not an object")
    total, blobs = head_len, []
    for _ in range(n_blobs):
        (size,) = struct.unpack("<Q", read_exact(8))
        total += size
        if total > max_bytes:
            raise WireError(f"reply larger than the {max_bytes // 2**20} MB limit")
        blobs.append(read_exact(size))
    return header, blobs


# ----------------------------------------------------------------------------- sandbox set-up
def _libc():
    import ctypes

    return ctypes.CDLL(None, use_errno=True)


def copy_seed(seed: str, home: str) -> None:
    """Copy the student's files into the scratch home (as the sandbox's own uid)."""
    import shutil

    if seed and os.path.isdir(seed):
        for name in os.listdir(seed):
            source = os.path.join(seed, name)
            if os.path.isfile(source) and not os.path.islink(source):
                shutil.copyfile(source, os.path.join(home, name))


def apply_limits(limits: dict) -> None:
    """resource.setrlimit for CPU time, address space, processes, file size, core dumps."""
    import resource

    mb = 2**20
    cpu = int(limits["total_timeout"]) + 5
    wanted = {
        resource.RLIMIT_CPU: (cpu, cpu + 5),
        resource.RLIMIT_AS: (int(limits["memory_mb"]) * mb,) * 2,
        resource.RLIMIT_NPROC: (int(limits["max_processes"]),) * 2,
        resource.RLIMIT_FSIZE: (int(limits["max_file_mb"]) * mb,) * 2,
        resource.RLIMIT_CORE: (0, 0),
        resource.RLIMIT_NOFILE: (256, 256),
    }
    for which, value in wanted.items():
        resource.setrlimit(which, value)


def drop_privileges(uid: int) -> None:
    """Become `uid` for good (no supplementary groups, no way back via setuid binaries)."""
    os.setgroups([])
    os.setgid(uid)
    os.setuid(uid)
    _libc().prctl(38, 1, 0, 0, 0)  # PR_SET_NO_NEW_PRIVS


# ----------------------------------------------------------------------------- serving
class Agent:
    """Executes student cells in an IPython shell and answers the grader's requests."""

    def __init__(self, rfd: int, wfd: int, isolate_hidden: bool = False) -> None:
        self.rfd, self.wfd = rfd, wfd
        self.refs: dict[str, object] = {}
        self.shell = None
        # hidden calls in a throw-away copy (only where the sandbox has a PID namespace)
        self.isolate_hidden = isolate_hidden
        self.in_copy = False  # this process is such a copy
        # references are "epoch:n": each copy and the kernel after it get a new epoch, so a
        # reference made in a discarded copy never names another object later
        self.epoch = self.epochs = 0
        self.ref_count = 0

    def read_exact(self, n: int) -> bytes:
        chunks, left = [], n
        while left:
            chunk = os.read(self.rfd, min(left, 1 << 20))
            if not chunk:
                raise EOFError
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)

    def send(self, header: dict, blobs: list[bytes] = ()) -> None:
        data = memoryview(pack(header, blobs))
        while data:
            data = data[os.write(self.wfd, data) :]

    def send_checked(self, header: dict, blobs: list[bytes]) -> None:
        """Send a reply the grader will accept (its header within the limits), else raise."""
        head = json.dumps(header).encode()
        if len(head) > MAX_HEADER:
            raise WireError(f"{len(head) // 2**20} MB of JSON, over {MAX_HEADER // 2**20} MB")
        if head.count(b"[") + head.count(b"{") > MAX_CONTAINERS:
            raise WireError(f"more than {MAX_CONTAINERS:,} lists, tuples or dicts")
        self.send(header, blobs)

    def start_shell(self) -> None:
        from IPython.core.interactiveshell import InteractiveShell
        from traitlets.config import Config

        config = Config()
        config.HistoryManager.enabled = False
        config.InteractiveShell.colors = "NoColor"
        config.InteractiveShell.xmode = "Plain"

        class HeadlessShell(InteractiveShell):
            """No GUI event loops (figures render with Agg); tracebacks go to the reply."""

            def enable_gui(self, gui=None):
                return None

            def _showtraceback(self, etype, evalue, stb):
                return None

        self.shell = HeadlessShell.instance(config=config)

    def make_ref(self, value) -> dict:
        self.ref_count += 1
        key = f"{self.epoch}:{self.ref_count}"
        self.refs[key] = value
        return {"$ref": [key, type(value).__name__, callable(value)]}

    def resolve(self, body):
        key = body[0] if type(body) is list and body else None
        if type(key) is str and key in self.refs:
            return self.refs[key]
        if type(key) is str and key.split(":")[0] != str(self.epoch):
            raise WireError(
                "a value returned during another test's hidden calls is gone: hidden calls "
                "run in a copy of the kernel that is discarded afterwards (a test must not "
                "keep objects returned by student code for later tests)"
            )
        raise WireError("unknown remote reference")

    def serve(self) -> None:
        """Answer requests until the grader closes the channel.

        SIGINT is blocked except while a request runs: a frame is never cut in half (which
        would desynchronise the channel), and an interrupt that arrives while idle (a timeout
        racing a reply) is dropped before the next request starts.
        """
        import signal

        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        while True:
            try:
                header, blobs = unpack(self.read_exact, 2**31)
            except EOFError:
                return
            reply, out_blobs = self.handle(header, blobs, signal)
            if reply is None:  # hidden_begin in the kernel: the copy has answered already
                continue
            reply["id"] = header.get("id")
            try:
                self.send_checked(reply, out_blobs)
            except WireError as err:  # say so, rather than have the grader refuse the frame
                self.send({"id": header.get("id"), "ok": False, "error": _too_large(err)})

    def handle(self, header: dict, blobs: list[bytes], signal) -> tuple[dict, list[bytes]]:
        """Run one request with SIGINT deliverable; any exception becomes an error reply."""
        while signal.sigtimedwait({signal.SIGINT}, 0) is not None:
            pass  # an interrupt meant for an earlier request
        try:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
            try:
                return getattr(self, f"op_{header.get('op')}")(header, blobs)
            finally:
                signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        except BaseException:  # report, keep serving (KeyboardInterrupt included)
            return {"ok": False, "error": _error_info(*sys.exc_info())}, []

    def op_ping(self, header, blobs):
        return {"ok": True, "pid": os.getpid(), "uid": os.getuid()}, []

    def op_run_cell(self, header, blobs):
        with _Capture() as cap:
            result = self.shell.run_cell(header["code"], store_history=True)
        error = result.error_before_exec or result.error_in_exec
        info = _error_info(type(error), error, error.__traceback__) if error else None
        return {"ok": error is None, "stdout": cap.text(), "error": info}, []

    def _target(self, header):
        target = header["target"]
        if "global" in target:
            name = target["global"]
            namespace = self.shell.user_ns
            if name not in namespace:
                raise NameError(f"name {name!r} is not defined")
            return namespace[name]
        return self.resolve(target["ref"])

    def _reply_value(self, value, extra=None):
        blobs: list[bytes] = []
        tree = encode(value, blobs, self.make_ref)
        reply = {"ok": True, "value": tree}
        reply.update(extra or {})
        return reply, blobs

    def op_lookup(self, header, blobs):
        name = header["name"]
        if name not in self.shell.user_ns or name.startswith("_"):
            return {"ok": True, "found": False}, []
        value = self.shell.user_ns[name]
        if callable(value):
            return {"ok": True, "found": True, "callable": True, "type": type(value).__name__}, []
        return self._reply_value(value, {"found": True, "callable": False})

    def op_call(self, header, blobs):
        func = self._target(header)
        args = decode(header["args"], blobs, self.resolve)
        kwargs = decode(header["kwargs"], blobs, self.resolve)
        watched = _array_arguments(args, kwargs)
        before = [_digest(array) for _, array in watched]
        with _Capture() as cap:
            try:
                value = func(*args, **kwargs)
            except BaseException:
                error = _error_info(*sys.exc_info())
                return {"ok": False, "error": error, "stdout": cap.text()}, []
        import numpy as np

        rngs = [a for a in list(args) + list(kwargs.values()) if isinstance(a, np.random.Generator)]
        reply = {"value": value, "rngs": rngs}
        changed = [
            key for (key, array), d in zip(watched, before, strict=True) if _digest(array) != d
        ]
        if changed:  # the grader holds the originals: it must hear of in-place changes
            reply["mutated"] = sorted(set(changed), key=str)
        return self._reply_value(reply, {"stdout": cap.text()})

    def op_getattr(self, header, blobs):
        return self._reply_value(getattr(self._target(header), header["name"]))

    def op_getitem(self, header, blobs):
        key = decode(header["key"], blobs, self.resolve)
        return self._reply_value(self._target(header)[key])

    # -- hidden calls in a throw-away copy (docs/security.md, "After the first hidden test") --
    def op_hidden_begin(self, header, blobs):
        """Fork a confined copy of this kernel that serves the requests until `hidden_end`.

        Replies `isolated: false` (and why) when it cannot; else the copy replies
        `isolated: true`, this process waits for the copy to be gone (reaped by the PID
        namespace's init, never by us: our CPU and memory counts learn nothing of it), then
        sends a `copy_gone` frame and serves again."""
        import signal

        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        why = self.why_not_isolated()
        if why:
            return {"ok": True, "isolated": False, "why": why}, []
        confine = _load_confine()
        self.epochs += 1
        copy_epoch = self.epochs
        pipes = {"status": os.pipe(), "go": os.pipe(), "pid": os.pipe()}
        middle = os.fork()
        if middle == 0:
            copy = -1
            try:
                copy = os.fork()
            except BaseException:
                os._exit(1)
            if copy != 0:  # the middle process: say who the copy is, and go
                try:
                    os.write(pipes["pid"][1], struct.pack("<q", copy))
                finally:
                    os._exit(0)
            for fd in (pipes["status"][0], pipes["go"][1], *pipes["pid"]):
                os.close(fd)
            return self._become_copy(confine, copy_epoch, pipes["status"][1], pipes["go"][0])
        for fd in (pipes["status"][1], pipes["go"][0], pipes["pid"][1]):
            os.close(fd)
        try:
            return self._watch_copy(middle, pipes["pid"][0], pipes["go"][1], pipes["status"][0])
        finally:
            for fd in (pipes["pid"][0], pipes["go"][1], pipes["status"][0]):
                _close_quietly(fd)
            self.epochs += 1
            self.epoch = self.epochs

    def why_not_isolated(self) -> str:
        """Why hidden calls cannot run in a copy now ('' when they can)."""
        if not self.isolate_hidden:
            return "the sandbox has no PID namespace of its own"
        if self.in_copy:
            return "already in a copy"
        threads = len(os.listdir("/proc/self/task"))
        if threads != 1:
            return f"your kernel runs {threads} threads (started by your code)"
        others = []
        for name in os.listdir("/proc"):
            if name.isdigit() and int(name) not in (1, os.getpid()):
                try:
                    with open(f"/proc/{name}/stat") as stat:
                        state = stat.read().rsplit(")", 1)[1].split()[0]
                except (OSError, IndexError):
                    continue
                if state != "Z":
                    others.append(name)
        if others:
            return f"{len(others)} other process(es) started by your code were running"
        if os.getpid() == 1:
            return "the kernel is its PID namespace's init"
        return ""

    def _become_copy(self, confine, epoch: int, status_w: int, go_r: int):
        """In the copy: wait for the kernel's go, confine, report; never return unconfined."""
        self.epoch = epoch
        self.in_copy = True
        try:
            if os.read(go_r, 1) != b"g":  # the kernel gave up on this copy
                os._exit(71)
            os.close(go_r)
            notes = confine.confine({self.rfd, self.wfd, status_w})
            os.write(status_w, b"ok")
            os.close(status_w)
        except BaseException as err:
            try:
                os.write(status_w, f"{type(err).__name__}: {err}"[:500].encode())
            finally:
                os._exit(70)
        return {"ok": True, "isolated": True, "notes": notes}, []

    def _watch_copy(self, middle: int, pid_r: int, go_w: int, status_r: int):
        """In the kernel: start the copy, forward interrupts to it, wait until it is gone."""
        import signal

        os.waitpid(middle, 0)
        raw = _read_all(pid_r)
        if len(raw) != 8:
            return {"ok": True, "isolated": False, "why": "the copy did not start"}, []
        copy = struct.unpack("<q", raw)[0]
        pidfd = os.pidfd_open(copy)
        # made after the fork, so the copy never holds it: the grader accepts "copy gone" only
        # with this key (a forged frame from the copy could not end the episode early)
        key = os.urandom(16).hex()
        self.send({"id": None, "copy_key": key})
        try:
            os.write(go_w, b"g")
            status = _read_all(status_r)
            if status == b"ok":
                previous = signal.signal(
                    signal.SIGINT, lambda *_: signal.pidfd_send_signal(pidfd, signal.SIGINT)
                )
                try:
                    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
                    _wait_readable(pidfd)
                finally:
                    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
                    signal.signal(signal.SIGINT, previous)
            else:
                _wait_readable(pidfd)
        finally:
            os.close(pidfd)
        _wait_reaped(copy)
        if status != b"ok":
            why = status.decode(errors="replace") or "the copy died while being confined"
            why = f"the copy could not be confined ({why})"
            return {"ok": True, "isolated": False, "why": why}, []
        self.send({"id": None, "copy_gone": key})
        return None, []

    def op_hidden_end(self, header, blobs):
        """In the copy: reply, then exit (everything the hidden calls did is gone with it)."""
        if not self.in_copy:
            return {"ok": False, "error": _plain_error("hidden_end outside a copy")}, []
        self.send({"id": header.get("id"), "ok": True, "ended": True})
        os._exit(0)


def _load_confine():
    """nngrade.sandbox.confine, loaded by path (it is mounted beside this file), once."""
    import importlib.util

    if "nngrade_confine" in sys.modules:
        return sys.modules["nngrade_confine"]
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "confine.py")
    spec = importlib.util.spec_from_file_location("nngrade_confine", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    sys.modules["nngrade_confine"] = module
    return module


def _read_all(fd: int) -> bytes:
    chunks = []
    while True:
        chunk = os.read(fd, 4096)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


def _wait_readable(fd: int) -> None:
    import select

    poller = select.poll()
    poller.register(fd, select.POLLIN)
    while not poller.poll():
        pass


def _wait_reaped(pid: int, limit: float = 10.0) -> None:
    """Until /proc/pid is gone: the copy's exit status and CPU times are no longer readable."""
    import time

    end = time.monotonic() + limit
    while os.path.exists(f"/proc/{pid}") and time.monotonic() < end:
        time.sleep(0.0005)


def _close_quietly(fd: int) -> None:
    try:
        os.close(fd)
    except OSError:
        pass


def _plain_error(text: str) -> dict:
    return {"ename": "RuntimeError", "evalue": text, "traceback": ""}


def _array_arguments(args, kwargs) -> list:
    """(position or keyword, array) for every array argument, and every array directly in a
    list or tuple argument: what a graded function could change in place."""
    import numpy as np

    found = []
    for key, arg in [*enumerate(args), *kwargs.items()]:
        items = arg if type(arg) in (list, tuple) else [arg]
        found += [(key, item) for item in items if isinstance(item, np.ndarray)]
    return found


def _digest(array) -> bytes:
    """A fingerprint of an array's shape, dtype and bytes (no copy of a contiguous array)."""
    import hashlib

    import numpy as np

    data = np.ascontiguousarray(array)
    digest = hashlib.blake2b(f"{data.shape}{data.dtype.str}".encode(), digest_size=16)
    digest.update(memoryview(data.reshape(-1)).cast("B") if data.size else b"")
    return digest.digest()


class _Capture:
    """Collects what student code prints (capped), for the graded copy's outputs."""

    def __enter__(self):
        self.buffer = io.StringIO()
        self.saved = sys.stdout, sys.stderr
        sys.stdout = sys.stderr = self.buffer
        return self

    def __exit__(self, *exc):
        sys.stdout, sys.stderr = self.saved

    def text(self) -> str:
        text = self.buffer.getvalue()
        return text if len(text) <= TEXT_CAP else text[:TEXT_CAP] + "\n... (output truncated)\n"


def _too_large(err: WireError) -> dict:
    message = (
        f"the value is too large to send to the grader ({err}): return numpy arrays, not "
        "long or deeply nested lists"
    )
    return {"ename": "ValueError", "evalue": message, "traceback": ""}


def _error_info(etype, error, tb) -> dict:
    lines = traceback.format_exception(etype, error, tb)
    text = "".join(lines)[-TEXT_CAP:]
    name = getattr(etype, "__name__", "Exception")
    return {"ename": name, "evalue": str(error)[:TEXT_CAP], "traceback": text}


def main() -> None:
    cfg = json.loads(sys.argv[1])
    import signal

    # A grader started in the background (`cmd &`, nohup, some CI runners) hands SIGINT on as
    # ignored, and Python then keeps ignoring it: restore it, or no cell could be interrupted.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    rfd, wfd = os.dup(0), os.dup(1)
    devnull = os.open("/dev/null", os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    agent = Agent(rfd, wfd, isolate_hidden=bool(cfg.get("isolate_hidden")))
    if cfg.get("seed") is None:  # no bwrap (plain mode): at least die with the grader
        _libc().prctl(1, 9, 0, 0, 0)  # PR_SET_PDEATHSIG, SIGKILL
        if os.getppid() == 1:
            os._exit(1)
    try:
        os.chdir(cfg["home"])
        sys.path[:0] = [p for p in cfg.get("path", []) if p not in sys.path]
        import numpy  # noqa: F401  (imported before the limits: smaller start-up peak)

        agent.start_shell()
        apply_limits(cfg["limits"])
        if cfg.get("uid") is not None:
            drop_privileges(cfg["uid"])
        copy_seed(cfg.get("seed"), cfg["home"])
    except BaseException:
        agent.send({"id": 0, "ok": False, "error": _error_info(*sys.exc_info())})
        os._exit(3)
    agent.send({"id": 0, "ok": True, "pid": os.getpid(), "uid": os.getuid()})
    agent.serve()
    os._exit(0)


if __name__ == "__main__":
    main()
