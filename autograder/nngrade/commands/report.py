"""`nngrade report`: the instructor's one-page class report (HTML with an embedded PNG)."""

from __future__ import annotations

import base64
import html
import io
import re
import statistics
from collections import Counter
from pathlib import Path

from nngrade.commands.feedback import assert_no_leak, hidden_secrets, redact_records
from nngrade.grading import records
from nngrade.grading.config import Settings
from nngrade.grading.final import (
    AWAITING,
    AWAITING_TEXT,
    COULD_NOT_GRADE,
    GRADED,
    GRADER_FAULT,
    class_grades,
    columns,
)
from nngrade.grading.html_safety import CSP_META


def _histogram(totals: list[float], max_total: float) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3), dpi=100)
    bins = min(20, max(5, int(max_total) or 5))
    ax.hist(totals, bins=bins, range=(0, max_total or 1), color="#4c72b0", edgecolor="white")
    ax.set_xlabel("score")
    ax.set_ylabel("students")
    ax.set_title("score distribution (graded students)")
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    return base64.b64encode(buffer.getvalue()).decode()


NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")
RUN_OF_NUMBERS = re.compile(r"#(?:[\s,;]+#)+")


def message_pattern(message: str) -> str:
    """A failure message with its numbers blanked: messages that differ only in the values
    a student's code produced ("got 6" vs "got -9", arrays) fall into one group."""
    first = " ".join((message.splitlines() or [""])[0].split())
    return RUN_OF_NUMBERS.sub("#…", NUMBER.sub("#", first))[:200]


def _groups(graded: dict[str, list[dict]]) -> list[dict]:
    """Failure messages grouped by test and pattern: count, students, one example."""
    groups: dict[tuple[str, str], dict] = {}
    for student, data in sorted(graded.items()):
        for rec in data:
            for test in rec["tests"]:
                if test["status"] == "passed":
                    continue
                message = test["message"] or test["status"]
                key = (test["grade_id"], message_pattern(message))
                group = groups.setdefault(
                    key,
                    {"grade_id": key[0], "pattern": key[1], "example": message, "students": []},
                )
                if student not in group["students"]:
                    group["students"].append(student)
    return sorted(groups.values(), key=lambda g: (-len(g["students"]), g["grade_id"]))


def class_summary(settings: Settings, assignment: str) -> dict:
    """Numbers behind the report (also used by `make demo`'s summary table).

    Scores come from `final.class_grades` (the gradebook synced with the master and the
    records), so the report gives the grades the exports and the feedback give.
    """
    grades = class_grades(settings, assignment)
    cols = columns(settings, assignment)
    secrets = hidden_secrets(settings.masters(assignment), settings.markers)
    all_data = {
        s: redact_records(d, secrets)
        for s, d in records.all_records(settings.autograded, assignment).items()
    }
    autograded = {
        s: all_data.get(s, []) for s, g in grades.items() if g.status in (GRADED, AWAITING)
    }
    passes: dict[str, list[bool]] = {c.grade_id: [] for c in cols if not c.manual}
    for data in autograded.values():
        for rec in data:
            for test in rec["tests"]:
                passes.setdefault(test["grade_id"], []).append(test["status"] == "passed")
    log: Counter = Counter()
    for data in all_data.values():
        for rec in data:
            log.update(set(rec.get("log", [])))
    by_status = lambda status: {  # noqa: E731
        s: g.reason for s, g in grades.items() if g.status == status
    }
    return {
        "students": len(grades),
        "graded": sum(g.status == GRADED for g in grades.values()),
        "awaiting": sorted(s for s, g in grades.items() if g.status == AWAITING),
        "max_total": sum(c.points for c in cols),
        "totals": {s: g.total for s, g in grades.items() if g.total is not None},
        "grades": grades,
        "pass_rate": {g: (sum(v) / len(v) if v else None) for g, v in passes.items()},
        "message_groups": _groups(autograded),
        "could_not_grade": by_status(COULD_NOT_GRADE),
        "grader_faults": by_status(GRADER_FAULT),
        "log": log.most_common(),
    }


def _students_table(info: dict) -> list[str]:
    esc = html.escape
    rows = ["<h2>Students</h2><table><tr><th>student</th><th>status</th><th>score</th></tr>"]
    for student, grade in sorted(info["grades"].items()):
        rows.append(
            f"<tr data-student='{esc(student)}'><td>{esc(student)}</td>"
            f"<td>{esc(grade.status)}</td><td class='score'>{esc(grade.describe())}</td></tr>"
        )
    rows.append("</table>")
    return rows


def _groups_table(info: dict) -> list[str]:
    esc = html.escape
    rows = [
        "<h2>Most common failures</h2><p>Messages that differ only in numbers are grouped.</p>"
        "<table><tr><th>students</th><th>test</th><th>message (one example)</th>"
        "<th>who</th></tr>"
    ]
    for group in info["message_groups"][:25]:
        who = group["students"]
        shown = ", ".join(who[:8]) + (f" and {len(who) - 8} more" if len(who) > 8 else "")
        rows.append(
            f"<tr><td>{len(who)}</td><td>{esc(group['grade_id'])}</td>"
            f"<td><pre style='white-space:pre-wrap;margin:0'>{esc(group['example'])}</pre></td>"
            f"<td>{esc(shown)}</td></tr>"
        )
    rows.append("</table>")
    return rows


# A plain string, not part of an f-string: doubled braces here once ended the first rule
# early and the browser dropped the table rules after it (cells ran together).
REPORT_CSS = (
    "body{font-family:sans-serif;max-width:1000px;margin:auto} "
    "td,th{border:1px solid #ccc;padding:3px 6px;text-align:left;vertical-align:top} "
    "table{border-collapse:collapse}"
)


def write_report(settings: Settings, assignment: str, target: Path | None = None) -> Path:
    """Write reports/<assignment>.html and return its path."""
    info = class_summary(settings, assignment)
    totals = list(info["totals"].values())
    esc = html.escape
    parts = [
        f"<!DOCTYPE html><html><head>{CSP_META}<meta charset='utf-8'>",
        f"<title>{esc(assignment)} class report</title><style>{REPORT_CSS}</style></head><body>",
        f"<h1>{esc(assignment)}: class report</h1>",
        f"<p>{info['students']} students, {info['graded']} graded, "
        f"{len(info['awaiting'])} {AWAITING_TEXT}, "
        f"{len(info['could_not_grade'])} could not be graded, "
        f"{len(info['grader_faults'])} grader faults. ",
    ]
    if totals:
        parts.append(
            f"Mean {statistics.mean(totals):.2f}, median {statistics.median(totals):g} of "
            f"{info['max_total']:g} points (final grades only).</p>"
            f"<img alt='score histogram' src='data:image/png;base64,"
            f"{_histogram(totals, info['max_total'])}'>"
        )
    else:
        parts.append("</p>")
    if info["grader_faults"]:
        parts.append(
            "<h2>Grader faults (not grades: fix the grader, then run autograde again)</h2>"
            "<table><tr><th>student</th><th>diagnosis and fix</th></tr>"
        )
        for student, reason in sorted(info["grader_faults"].items()):
            parts.append(f"<tr><td>{esc(student)}</td><td>{esc(reason)}</td></tr>")
        parts.append("</table>")
    parts += _students_table(info)
    parts.append("<h2>Pass rate per test</h2><table><tr><th>test</th><th>pass rate</th></tr>")
    for grade_id, rate in info["pass_rate"].items():
        shown = "n/a" if rate is None else f"{100 * rate:.0f}%"
        parts.append(f"<tr><td>{esc(grade_id)}</td><td>{shown}</td></tr>")
    parts.append("</table>")
    parts += _groups_table(info)
    parts.append("<h2>Could not grade</h2><table><tr><th>student</th><th>why</th></tr>")
    for student, reason in sorted(info["could_not_grade"].items()):
        parts.append(f"<tr><td>{esc(student)}</td><td>{esc(reason)}</td></tr>")
    parts.append("</table>")
    if info["log"]:
        parts.append(
            "<h2>Grader log (instructor only: never shown to students)</h2>"
            "<table><tr><th>submissions</th><th>entry</th></tr>"
        )
        for line, count in info["log"]:
            parts.append(f"<tr><td>{count}</td><td>{esc(line)}</td></tr>")
        parts.append("</table>")
    parts.append("</body></html>")
    page = "\n".join(parts)
    assert_no_leak(
        page, hidden_secrets(settings.masters(assignment), settings.markers), "class report"
    )
    target = target or settings.reports / f"{assignment}.html"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(page, encoding="utf-8", errors="replace")
    return target
