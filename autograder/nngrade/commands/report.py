"""`nngrade report`: the instructor's one-page class report (HTML with an embedded PNG)."""

from __future__ import annotations

import base64
import html
import io
import statistics
from collections import Counter
from pathlib import Path

from nngrade.commands.export import score_columns
from nngrade.commands.feedback import assert_no_leak, hidden_secrets
from nngrade.grading import records
from nngrade.grading.config import Settings


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


def class_summary(settings: Settings, assignment: str) -> dict:
    """Numbers behind the report (also used by `make demo`'s summary table)."""
    columns = score_columns(settings, assignment)
    all_data = records.all_records(settings.autograded, assignment)
    graded = {s: d for s, d in all_data.items() if all(r["status"] == "graded" for r in d)}
    failed = {s: d for s, d in all_data.items() if s not in graded}
    totals = {s: sum(r["score"] for r in d) for s, d in graded.items()}
    passes: dict[str, list[bool]] = {g: [] for g, _ in columns}
    messages: Counter = Counter()
    for data in graded.values():
        for record in data:
            for test in record["tests"]:
                passes.setdefault(test["grade_id"], []).append(test["status"] == "passed")
                if test["status"] != "passed":
                    first = (test["message"].splitlines() or [test["status"]])[0][:200]
                    messages[(test["grade_id"], first)] += 1
    return {
        "students": len(all_data),
        "graded": len(graded),
        "max_total": sum(p for _, p in columns),
        "totals": totals,
        "pass_rate": {g: (sum(v) / len(v) if v else None) for g, v in passes.items()},
        "messages": messages.most_common(15),
        "could_not_grade": {
            s: "; ".join(r["reason"] for r in d if r["reason"]) for s, d in failed.items()
        },
    }


def write_report(settings: Settings, assignment: str, target: Path | None = None) -> Path:
    """Write reports/<assignment>.html and return its path."""
    info = class_summary(settings, assignment)
    totals = list(info["totals"].values())
    esc = html.escape
    parts = [
        "<!DOCTYPE html><html><head><meta charset='utf-8'>",
        f"<title>{esc(assignment)} class report</title><style>body{{font-family:sans-serif;"
        "max-width:1000px;margin:auto}} td,th{border:1px solid #ccc;padding:3px 6px;"
        "text-align:left} table{border-collapse:collapse}</style></head><body>",
        f"<h1>{esc(assignment)}: class report</h1>",
        f"<p>{info['students']} students, {info['graded']} graded, "
        f"{len(info['could_not_grade'])} could not be graded. ",
    ]
    if totals:
        parts.append(
            f"Mean {statistics.mean(totals):.2f}, median {statistics.median(totals):g} of "
            f"{info['max_total']:g} points.</p>"
            f"<img alt='score histogram' src='data:image/png;base64,"
            f"{_histogram(totals, info['max_total'])}'>"
        )
    else:
        parts.append("</p>")
    parts.append("<h2>Pass rate per test</h2><table><tr><th>test</th><th>pass rate</th></tr>")
    for grade_id, rate in info["pass_rate"].items():
        shown = "n/a" if rate is None else f"{100 * rate:.0f}%"
        parts.append(f"<tr><td>{esc(grade_id)}</td><td>{shown}</td></tr>")
    parts.append(
        "</table><h2>Most common failure messages</h2><table><tr><th>count</th>"
        "<th>test</th><th>message</th></tr>"
    )
    for (grade_id, message), count in info["messages"]:
        parts.append(f"<tr><td>{count}</td><td>{esc(grade_id)}</td><td>{esc(message)}</td></tr>")
    parts.append("</table><h2>Could not grade</h2><table><tr><th>student</th><th>why</th></tr>")
    for student, reason in sorted(info["could_not_grade"].items()):
        parts.append(f"<tr><td>{esc(student)}</td><td>{esc(reason)}</td></tr>")
    parts.append("</table></body></html>")
    page = "\n".join(parts)
    assert_no_leak(
        page, hidden_secrets(settings.masters(assignment), settings.markers), "class report"
    )
    target = target or settings.reports / f"{assignment}.html"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(page, encoding="utf-8")
    return target
