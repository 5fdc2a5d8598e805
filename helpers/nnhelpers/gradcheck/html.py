"""HTML rendering of gradient-check and comparison results for notebooks (tables, colours).

Built on the text layer (`report`): same statuses, same worst-entry rows, only coloured.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import TYPE_CHECKING

from nnhelpers.gradcheck.report import STATUS_TEXT, worst_rows

if TYPE_CHECKING:
    from nnhelpers.gradcheck.report import ArrayReport

STATUS_COLOUR = {
    "good": "#1a7f37",
    "ok": "#4d7f1a",
    "fail": "#b35900",
    "wrong": "#c62828",
    "error": "#c62828",
    "skipped": "#777777",
}
CELL = "padding:2px 8px;text-align:left"


def table(header: Sequence[str], rows: Sequence[Sequence[str]], colours: Sequence[str] = ()) -> str:
    """A plain HTML table; colours[i], if given, colours row i's fourth cell (the status)."""
    out = ["<table style='border-collapse:collapse'><thead><tr>"]
    out += [f"<th style='{CELL}'>{html.escape(h)}</th>" for h in header]
    out.append("</tr></thead><tbody>")
    for i, cells in enumerate(rows):
        out.append("<tr>")
        for j, cell in enumerate(cells):
            style = CELL
            if j == 3 and i < len(colours):
                style += f";color:{colours[i]};font-weight:bold"
            out.append(f"<td style='{style}'>{html.escape(cell)}</td>")
        out.append("</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def heading(text: str, ok: bool) -> str:
    colour = STATUS_COLOUR["good" if ok else "wrong"]
    return f"<p style='color:{colour};font-weight:bold'>{html.escape(text)}</p>"


def paragraphs(prefix: str, texts: Sequence[str]) -> str:
    return "".join(f"<p>{html.escape(prefix)}{html.escape(t)}</p>" for t in texts)


def report_detail(report: ArrayReport, tol_text: str, *, always: bool = False) -> str:
    """One parameter's summary, likely causes, notes and worst entries as HTML."""
    if report.ok and not always and not report.notes:
        return ""
    colour = STATUS_COLOUR[report.status]
    parts = [
        f"<div style='margin:6px 0'><b>{html.escape(report.name)}</b>: "
        f"<span style='color:{colour};font-weight:bold'>{html.escape(STATUS_TEXT[report.status])}"
        f"</span>, {html.escape(report.summary_line(tol_text))}<ul style='margin:2px 0'>"
    ]
    for i, cause in enumerate(report.causes):
        label = "likely cause" if i == 0 else "also"
        parts.append(f"<li><i>{label}</i>: {html.escape(cause.text)}</li>")
    parts += [f"<li><i>note</i>: {html.escape(n)}</li>" for n in report.notes]
    parts.append("</ul>")
    if report.worst and not report.ok:
        got, ref = report.labels
        rows = worst_rows(report)
        parts.append(table(["worst entries", got, ref, "difference"], rows))
    parts.append("</div>")
    return "".join(parts)
