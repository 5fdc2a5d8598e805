"""Declassify what a hidden test says: the one rule for every message out of a hidden block.

A hidden test runs on inputs the student must not learn, and on student functions that can
return (an encoding of) whatever they are given. So what a hidden block says (its assertion
text, an error, a gradcheck report, its prints) may name *what kind* of mistake was made, never
values computed on the hidden inputs. Two layers (docs/security.md, "What a hidden test says"):

- **Marking** (`mark_hidden`, `HiddenBlocks`): the grader wraps each hidden block's statements,
  and the bodies of functions defined there, in `with __nngrade_hidden__():`. Inside, nnhelpers'
  reports render their hidden form (`nnhelpers.gradcheck.hidden_inputs`: causes and coarse
  statistics, no entries), and an exception leaving a block marks the test's failure as hidden.
- **Filtering** (`declassify`): every message of a failed hidden check, and everything the test
  printed, is cut to what instructor code chose: numbers not written in the master are rounded
  to 2 significant digits (at most `MAX_NUMBERS` of them), words that are neither Python
  builtins nor in the master or the grader's own message texts become "…", quoted strings not
  quoted in the master are dropped, worst-entry tables are removed, and the text is capped.

What is left is a few bits per hidden check (which check failed, which cause, coarse numbers).
"""

from __future__ import annotations

import ast
import builtins
import contextlib
import keyword
import math
import re
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path

from nngrade.grading.caps import cut_text

HIDDEN_NAME = "__nngrade_hidden__"  # the marker's name in a test cell's globals
MAX_NUMBERS = 20  # numbers not written in the master that one message may carry (coarsened)
# nnhelpers' default tolerances and thresholds as its reports print them (not hidden values)
GRADER_NUMBERS = {"1e-05", "1e-06", "1e-07", "1e-08", "0.01"}
MAX_CHARS = 1_500  # characters of one declassified message
GONE = "…"
HIDDEN_ENTRIES = "(entries not shown: this check ran on inputs of the hidden tests)"

_WORD = r"[A-Za-z_][A-Za-z0-9_]*"
_NUMBER = r"[-+]?(?:\d{1,3}(?:,\d{3})+(?![\d])|\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?"
_QUOTED = r"(?<![\w'\"])(?:'[^'\n]{0,300}'|\"[^\"\n]{0,300}\")(?![\w'\"])"
_TOKEN = re.compile(rf"(?P<quoted>{_QUOTED})|(?P<word>{_WORD})|(?<![\w.])(?P<number>{_NUMBER})")
# words of Python's and numpy's own error messages that a hidden check may pass on
_ERROR_WORDS = """operands could not be broadcast together with shapes remapped index is out of
bounds for axis size dimension dimensions mismatch unsupported operand type types object not
subscriptable callable iterable convert string float int division zero by invalid value
encountered cannot reshape array into shape input output must have same number of elements
got expected argument arguments positional keyword missing required unexpected too many
values to unpack setting an sequence inhomogeneous after detected the a an of in on at and or
for from has have was were be been being it its this that which only dim gufunc aligned matmul
core signature enough different requires""".split()


@lru_cache(maxsize=1)
def _grader_words() -> frozenset[str]:
    """Words the grader itself may write: builtins, keywords, and every word of nnhelpers'
    gradcheck and nngrade's own sources (the texts of their messages)."""
    import nnhelpers.gradcheck

    words = {w.lower() for w in dir(builtins)} | set(keyword.kwlist) | set(_ERROR_WORDS)
    roots = [Path(nnhelpers.gradcheck.__file__).parent, Path(__file__).resolve().parents[1]]
    for root in roots:
        for path in sorted(root.rglob("*.py")):
            words |= {w.lower() for w in re.findall(_WORD, path.read_text(encoding="utf-8"))}
    return frozenset(words)


class Allowed:
    """What a hidden test's message may quote verbatim: the master's words, number literals
    and quoted strings (instructor text), plus the grader's own words."""

    def __init__(self, master_text: str) -> None:
        self.words = _grader_words() | {w.lower() for w in re.findall(_WORD, master_text)}
        self.numbers = set(re.findall(rf"(?<![\w.]){_NUMBER}", master_text)) | GRADER_NUMBERS
        self.quoted = {q[1:-1] for q in re.findall(r"'[^'\n]*'|\"[^\"\n]*\"", master_text)}


@lru_cache(maxsize=8)
def allowed_for(master_text: str) -> Allowed:
    """The (cached) `Allowed` of one master's text."""
    return Allowed(master_text)


def declassify(text: str, master_text: str) -> str:
    """The text with nothing computed on hidden inputs beyond a few bits (see the module doc)."""
    allowed = allowed_for(master_text)
    numbers = 0

    def keep(match: re.Match) -> str:
        nonlocal numbers
        token = match.group(0)
        if match.group("quoted"):
            if token[1:-1] in allowed.quoted:  # quoted in the master, with either quote
                return token
            return f"'{GONE}'"
        if match.group("word"):
            return token if token.lower() in allowed.words else GONE
        if token in allowed.numbers or token.lstrip("+-") in allowed.numbers:
            return token
        numbers += 1
        return coarse(token) if numbers <= MAX_NUMBERS else GONE

    text = _TOKEN.sub(keep, without_entry_tables(text))
    return cut_text(text, MAX_CHARS).rstrip("\n")


def coarse(literal: str) -> str:
    """A number rounded to 2 significant digits (integers stay integers: 1234 -> 1200)."""
    try:
        value = float(literal.replace(",", ""))
    except ValueError:
        return GONE
    if not math.isfinite(value):
        return literal
    rounded = float(f"{value:.2g}")
    if rounded == int(rounded) and abs(rounded) < 1e6 and re.fullmatch(r"[-+]?[\d,]+", literal):
        return str(int(rounded))
    return f"{rounded:.2g}"


def without_entry_tables(text: str) -> str:
    """The text without nnhelpers' "worst entries (got vs expected):" tables (their rows are
    the lines indented deeper than the heading)."""
    out: list[str] = []
    table_indent: int | None = None
    for line in text.splitlines():
        indent = len(line) - len(line.lstrip())
        if table_indent is not None and line.strip() and indent > table_indent:
            continue
        table_indent = None
        if line.strip().startswith("worst entries"):
            table_indent = indent
            out.append(" " * indent + HIDDEN_ENTRIES)
            continue
        out.append(line)
    return "\n".join(out)


class HiddenBlocks:
    """The `__nngrade_hidden__` of a test cell's globals: `with __nngrade_hidden__():` around a
    hidden block turns on nnhelpers' hidden reports and records that an exception left it."""

    def __init__(self, master_text: str) -> None:
        self.master_text = master_text
        self.raised = False

    def reset(self) -> None:
        """Before each test cell."""
        self.raised = False

    @contextlib.contextmanager
    def __call__(self) -> Iterator[None]:
        from nnhelpers.gradcheck import hidden_inputs

        with hidden_inputs():
            try:
                yield
            except BaseException:
                self.raised = True
                raise

    def message(self, text: str) -> str:
        """A failed test's message: declassified when it came out of a hidden block."""
        return declassify(text, self.master_text) if self.raised else text

    def printed(self, text: str) -> str:
        """What a test with a hidden part printed: always declassified."""
        return declassify(text, self.master_text) if text else text


def mark_hidden(tree: ast.Module, lines: set[int]) -> ast.Module:
    """Wrap every run of statements that lies within the hidden lines (1-based) in
    `with __nngrade_hidden__():`, and the bodies of functions defined there too (they may be
    called from visible lines). Line numbers are kept, so tracebacks point where they did."""
    tree.body = _mark_body(tree.body, lines)
    return ast.fix_missing_locations(tree)


def _within(node: ast.AST, lines: set[int]) -> bool:
    end = getattr(node, "end_lineno", None) or node.lineno
    return all(n in lines for n in range(node.lineno, end + 1))


def _with(body: list[ast.stmt]) -> ast.With:
    call = ast.Call(func=ast.Name(HIDDEN_NAME, ast.Load()), args=[], keywords=[])
    node = ast.With(items=[ast.withitem(context_expr=call)], body=body)
    return ast.copy_location(node, body[0])


def _mark_body(body: list[ast.stmt], lines: set[int]) -> list[ast.stmt]:
    out: list[ast.stmt] = []
    run: list[ast.stmt] = []
    for stmt in body:
        if _within(stmt, lines):
            for node in ast.walk(stmt):
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                    node.body = [_with(node.body)]
            run.append(stmt)
            continue
        if run:
            out.append(_with(run))
            run = []
        for name in ("body", "orelse", "finalbody"):
            inner = getattr(stmt, name, None)
            if isinstance(inner, list) and inner and isinstance(inner[0], ast.stmt):
                setattr(stmt, name, _mark_body(inner, lines))
        for part in (*getattr(stmt, "handlers", ()), *getattr(stmt, "cases", ())):
            part.body = _mark_body(part.body, lines)
        out.append(stmt)
    if run:
        out.append(_with(run))
    return out


def unmarked_reads(source: str, lines: set[int]) -> list[tuple[int, list[str]]]:
    """(line, names) of visible statements that read a value a hidden block computed.

    Such a line is not marked, so a check there would show values computed on hidden inputs in
    full: instructors keep those checks inside the hidden block (tests/course checks the
    masters). Straight-line analysis: a name stays tainted from a hidden assignment until a
    visible one; functions defined in hidden blocks are marked themselves, so calling them is
    fine."""
    found: list[tuple[int, list[str]]] = []
    _scan(ast.parse(source).body, lines, set(), found)
    return found


def _names(node: ast.AST, ctx: type) -> set[str]:
    """Names the node reads (ctx ast.Load) or binds (ast.Store), not inside defs or lambdas."""
    scopes = ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Lambda
    out: set[str] = set()
    todo = [node]
    while todo:
        current = todo.pop()
        if isinstance(current, scopes):
            continue
        if isinstance(current, ast.Name) and isinstance(current.ctx, ctx):
            out.add(current.id)
        todo.extend(ast.iter_child_nodes(current))
    return out


def _scan(body: list[ast.stmt], lines: set[int], tainted: set[str], found: list) -> None:
    for stmt in body:
        if _within(stmt, lines):
            tainted |= _names(stmt, ast.Store)
            continue
        parts = [getattr(stmt, f, None) for f in ("body", "orelse", "finalbody")]
        parts = [p for p in parts if isinstance(p, list)]
        parts += [h.body for h in getattr(stmt, "handlers", ())]
        end = getattr(stmt, "end_lineno", None) or stmt.lineno
        compound = parts and not isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef)
        if compound and any(n in lines for n in range(stmt.lineno, end + 1)):
            heads = [getattr(stmt, f, None) for f in ("test", "iter", "subject")]
            heads += [item.context_expr for item in getattr(stmt, "items", ())]
            read = set().union(*(_names(h, ast.Load) for h in heads if h is not None))
            if read & tainted:
                found.append((stmt.lineno, sorted(read & tainted)))
            for part in parts:
                _scan(part, lines, tainted, found)
            continue
        read = _names(stmt, ast.Load) & tainted
        if read:
            found.append((stmt.lineno, sorted(read)))
        tainted -= _names(stmt, ast.Store)
