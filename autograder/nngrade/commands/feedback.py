"""`nngrade feedback`: one HTML page per student from the redacted graded copies.

nbgrader's own feedback shows hidden test code and tracebacks; this renders only what the grader
stored after redaction (hidden cells: visible part plus one status line), and a score table
whose messages were sanitised. A final check refuses to write a page quoting any hidden line.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import nbformat

from nngrade.grading import records
from nngrade.grading.caps import MAX_RENDER_CELLS, limit_for_render
from nngrade.grading.config import PACKAGE_COURSE, Settings
from nngrade.grading.final import AWAITING_TEXT, StudentGrade, class_grades
from nngrade.grading.html_safety import with_csp
from nngrade.grading.markers import (
    DEFAULT,
    HIDDEN,
    Markers,
    flat,
    notebook_sources,
    redact_lines,
    secret_lines,
    whole_line_secrets,
)
from nngrade.grading.redact import renumber, withhold_after_hidden
from nngrade.grading.render_worker import RenderTimeout, RenderWorker

TAG = re.compile(r"<[^>]*>")


class LeakError(RuntimeError):
    """A page would have contained a line of a hidden test (a grader bug: nothing is written)."""


def hidden_secrets(masters: list[Path], markers: Markers = DEFAULT) -> list[str]:
    """The secret lines of the masters' hidden tests (the one definition in markers.py)."""
    return sorted(secret_lines(notebook_sources(masters), (HIDDEN,), markers).values())


def page_text(page: str) -> str:
    """What a reader of an HTML page sees: tags removed (code is highlighted token by token,
    so a line of code is never one string in the HTML), entities decoded."""
    return html.unescape(TAG.sub("", page))


def assert_no_leak(text: str, secrets: list[str], where: str) -> None:
    """Raise LeakError if a line of `text` (HTML or JSON, or what a reader of it sees) is a
    hidden test line as a whole, whitespace aside (see markers.whole_line_secrets)."""
    by_key = {flat(line): line for line in secrets}
    for plain in (text, page_text(text)):
        quoted = whole_line_secrets(plain, by_key)
        if quoted:
            raise LeakError(f"{where} would show hidden test code: {quoted[0][:40]}...")


def redact_records(data: list[dict], secrets: list[str]) -> list[dict]:
    """Records whose reasons, notes and test messages have hidden lines replaced."""
    by_key = {flat(line): line for line in secrets}
    for record in data:
        record["reason"] = redact_lines(record.get("reason") or "", by_key)
        record["notes"] = [redact_lines(n, by_key) for n in record.get("notes", [])]
        for test in record.get("tests", []):
            test["message"] = redact_lines(test.get("message") or "", by_key)
    return data


def redact_notebook(nb: nbformat.NotebookNode, secrets: list[str]) -> nbformat.NotebookNode:
    """The notebook with every hidden line (as a whole line) replaced in sources and outputs."""
    by_key = {flat(line): line for line in secrets}
    for cell in nb.cells:
        cell.source = redact_lines(cell.get("source", ""), by_key)
        for output in cell.get("outputs", []):
            if "text" in output:
                output["text"] = redact_lines(output["text"], by_key)
            if "traceback" in output and isinstance(output["traceback"], list):
                output["traceback"] = [redact_lines(t, by_key) for t in output["traceback"]]
            if "evalue" in output:
                output["evalue"] = redact_lines(output["evalue"], by_key)
            for mime, value in dict(output.get("data", {})).items():
                if isinstance(value, str) and mime.startswith("text/"):
                    output["data"][mime] = redact_lines(value, by_key)
    return nb


def _row(badge: str, name: str, points: str, status: str, message: str) -> str:
    return (
        f"<tr class='{badge}'><td>{html.escape(name)}</td><td>{html.escape(points)}</td>"
        f"<td>{html.escape(status)}</td><td><pre>{html.escape(message)}</pre></td></tr>"
    )


def _score_table(data: list[dict], grade: StudentGrade | None) -> str:
    rows = []
    for record in data:
        for test in record["tests"]:
            rows.append(
                _row(
                    {"passed": "ok"}.get(test["status"], "bad"),
                    test["grade_id"] + (" (hidden)" if test.get("hidden") else ""),
                    f"{test['score']:g} / {test['max_score']:g}",
                    test["status"],
                    student_safe(test["message"]),
                )
            )
    for column in grade.columns if grade else []:
        if not column.manual:
            continue
        given = grade.scores.get(column.grade_id)
        rows.append(
            _row(
                "wait" if given is None else "ok",
                f"{column.grade_id} (graded by hand)",
                f"{'?' if given is None else f'{given:g}'} / {column.points:g}",
                AWAITING_TEXT if given is None else "graded by hand",
                "",
            )
        )
    return (
        "<table class='nngrade'><tr><th>test</th><th>points</th><th>status</th>"
        "<th>message</th></tr>" + "".join(rows) + "</table>"
    )


STYLE = """<style>
.nngrade-summary{font-family:sans-serif;margin:1em auto;max-width:1000px;padding:1em;
 border:2px solid #444;border-radius:6px}
table.nngrade{border-collapse:collapse;width:100%} table.nngrade td,table.nngrade th{
 border:1px solid #ccc;padding:4px;text-align:left;vertical-align:top}
table.nngrade pre{white-space:pre-wrap;margin:0}
tr.ok{background:#e8f7e8} tr.bad{background:#fbeaea} tr.wait{background:#fff6dd}
</style>"""

GRADER_FAULT_TEXT = (
    "Your notebook has not been graded yet because of a problem on the grader's side, not in "
    "your work. It will be graded again; you have nothing to do."
)
INTERNAL = re.compile(r"sandbox|DEGRADED|cgroup|namespace|bubblewrap|\bbwrap\b", re.IGNORECASE)


def host_paths() -> list[str]:
    """Folders of the grading machine that a student has no business seeing."""
    import sys
    import tempfile

    found = {sys.prefix, sys.base_prefix, str(Path.home()), tempfile.gettempdir()}
    found |= {str(Path(p).resolve()) for p in list(found)}
    found.add(str(PACKAGE_COURSE.parent))
    return sorted((p for p in found if len(p) > 4), key=len, reverse=True)


def student_safe(text: str, extra_paths: list[str] | None = None) -> str:
    """Text with the grading machine's folders replaced by "…" (messages, notes, pages)."""
    for path in [*(extra_paths or []), *host_paths()]:
        text = text.replace(path, "…")
    return text


def student_notes(data: list[dict]) -> list[str]:
    """Notes a student may read: never the sandbox's mode, warnings or host paths (those are
    in the record's instructor log; this also screens records written before that split)."""
    notes = [n for r in data for n in r.get("notes", [])]
    return [student_safe(n) for n in notes if not INTERNAL.search(n)]


def summary_html(
    student: str, assignment: str, data: list[dict], grade: StudentGrade | None = None
) -> str:
    """The score box shown above the notebook (the score is `grade`'s, as in every output)."""
    parts = [
        STYLE,
        "<div class='nngrade-summary'>",
        f"<h1>{html.escape(assignment)}: feedback for {html.escape(student)}</h1>",
    ]
    faults = [r for r in data if r["status"] == "grader-fault"]
    problems = [r for r in data if r["status"] == "could-not-grade"]
    if faults:
        parts.append(f"<p><b>Not graded yet.</b> {GRADER_FAULT_TEXT}</p>")
    if problems:
        parts.append(
            "<p><b>Could not be graded automatically</b> (your instructor will look at it):</p><ul>"
        )
        parts += [
            f"<li>{html.escape(r['notebook'])}: {html.escape(student_safe(r['reason']))}</li>"
            for r in problems
        ]
        parts.append("</ul>")
    if faults:
        shown = "not graded yet"
    elif grade is not None:
        shown = grade.describe()
    else:
        shown = f"{sum(r['score'] for r in data):g} / {sum(r['max_score'] for r in data):g}"
    parts.append(f"<p><b class='nngrade-score'>Score: {html.escape(shown)}</b>.")
    if any(r["tests"] for r in data) and not faults:
        parts.append("Hidden tests show only their message.</p>")
        parts.append(_score_table(data, grade))
    else:
        parts.append("</p>")
    notes = student_notes(data)
    if notes:
        parts.append("<p>Notes from the grader:</p><ul>")
        parts += [f"<li>{html.escape(n)}</li>" for n in notes]
        parts.append("</ul>")
    parts.append("</div>")
    return "\n".join(parts)


MAX_GRADED_MB = 64  # a graded copy larger than this is not read (autograde writes far less)


class PageTooLarge(ValueError):
    """A graded copy too large to read for a page (made by an old version, or edited)."""


def _render(notebook: Path, secrets: list[str], record: dict) -> str:
    """The graded notebook as a page that works offline (maths as MathML, no CDN script):
    cut to the render caps, outputs after the first hidden test withheld, hidden lines
    redacted, student HTML sanitized."""
    from nngrade.grading.offline_html import render_notebook

    size = notebook.stat().st_size
    if size > MAX_GRADED_MB * 2**20:
        raise PageTooLarge(f"the graded copy is {size} bytes, over {MAX_GRADED_MB} MB")
    raw = json.loads(notebook.read_text(encoding="utf-8"))
    if (
        not isinstance(raw, dict)
        or raw.get("nbformat") != 4
        or not isinstance(raw.get("cells"), list)
    ):
        nb = nbformat.read(str(notebook), as_version=4)  # another version: nbformat converts
        limit_for_render(nb)
    else:  # cut first: validating 100,000 cells alone takes minutes
        dropped = max(len(raw["cells"]) - MAX_RENDER_CELLS, 0)
        del raw["cells"][MAX_RENDER_CELLS:]
        nb = nbformat.from_dict(raw)
        limit_for_render(nb, dropped=dropped)
    tests = record.get("tests", [])
    withhold_after_hidden(
        nb,
        {t.get("grade_id") for t in tests},
        {t.get("grade_id") for t in tests if t.get("hidden") and t.get("isolated") is not True},
    )
    return render_notebook(renumber(redact_notebook(nb, secrets)), limited=True)


def _fallback_page(header: str, why: str) -> str:
    return with_csp(
        f"<!DOCTYPE html><html><head><meta charset='utf-8'></head><body>{header}"
        f"<p>(The graded notebook is not shown on this page: {html.escape(why)}.)</p>"
        "</body></html>"
    )


def _page(
    settings: Settings,
    assignment: str,
    student: str,
    data: list[dict],
    header: str,
    secrets: list[str],
    paths: list[str],
    worker: RenderWorker,
) -> str:
    bodies = []
    for record in data:
        graded = records.paths(settings.autograded, student, assignment, record["notebook"])[0]
        if graded.is_file() and record["status"] != "grader-fault":
            bodies.append(student_safe(worker.call(_render, graded, secrets, record), paths))
    if not bodies:
        return with_csp(
            f"<!DOCTYPE html><html><head><meta charset='utf-8'></head><body>{header}</body></html>"
        )
    page = bodies[0].replace("<body", "<body data-nngrade='1'", 1)
    insert_at = page.index(">", page.index("<body")) + 1
    extra = "".join(b[b.index("<body") :] for b in bodies[1:])
    return page[:insert_at] + header + page[insert_at:] + extra


def write_feedback(settings: Settings, assignment: str) -> list[Path]:
    """Write feedback/<student>/<assignment>/<assignment>.html for every graded student.

    Scores are `final.class_grades`' (as in the report and the exports); pages never show
    the grader's internals (sandbox mode, host paths): those stay in the instructor's report.
    """
    secrets = hidden_secrets(settings.masters(assignment), settings.markers)
    grades = class_grades(settings, assignment)
    paths = [str(settings.root), str(settings.config_dir)]
    pages = []
    with RenderWorker() as worker:
        for student, data in sorted(records.all_records(settings.autograded, assignment).items()):
            page = _student_page(
                settings, assignment, student, data, grades, secrets, paths, worker
            )
            target = settings.feedback / student / assignment / f"{assignment}.html"
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(with_csp(page), encoding="utf-8", errors="replace")
            pages.append(target)
    return pages


def _student_page(
    settings: Settings,
    assignment: str,
    student: str,
    data: list[dict],
    grades: dict,
    secrets: list[str],
    paths: list[str],
    worker: RenderWorker,
) -> str:
    """One student's page; never raises (a page that cannot be made says why)."""
    data = redact_records(data, secrets)
    header = summary_html(student, assignment, data, grades.get(student))
    try:
        page = _page(settings, assignment, student, data, header, secrets, paths, worker)
        assert_no_leak(page, secrets, f"feedback for {student}")
    except LeakError:  # e.g. the student's own code coincides with a hidden line
        page = _fallback_page(header, "it would have shown a line of a hidden test")
    except RenderTimeout as err:  # e.g. Markdown a renderer takes quadratic time on
        page = _fallback_page(header, str(err))
    except Exception as err:  # one notebook nbconvert cannot render: this student only
        reason = records.short(f"{type(err).__name__}: {err}", 300)
        page = student_safe(_fallback_page(header, f"it could not be rendered ({reason})"), paths)
    return page
