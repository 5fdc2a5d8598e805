"""Size caps on what one student's notebook can make the grader store and render.

A submission may hold a 1 MB code cell, 100,000 Markdown cells, or cells that each raise
`ValueError('x' * 65536)`. Unbounded, that made a 1.17 GB graded copy and took feedback 49 s
and 1.18 GB (one cell) or 85 s (100k cells) for one student. Two caps, each with a visible
note of what was cut:

- `cap_outputs`: what the graded copy keeps of every output (text, error value, traceback,
  images) and of all outputs together; applied by the worker before a report leaves it and
  again when the graded copy is saved.
- `limit_for_render`: what a feedback page shows: number of cells, characters per cell
  source, and characters of the whole notebook; applied to a copy before nbconvert sees it.
"""

from __future__ import annotations

import nbformat

MAX_TEXT = 20_000  # characters of one text output (stream, text/* data, traceback)
MAX_EVALUE = 2_000  # characters of an exception's value
MAX_BINARY = 2_000_000  # characters (base64) of one image or other non-text output
MAX_OUTPUTS_TOTAL = 5_000_000  # characters of all outputs of one notebook
OUTPUT_OVERHEAD = 100  # what an output counts at least (a million empty outputs add up)

MAX_RENDER_CELLS = 1_000  # cells shown on a feedback page
MAX_RENDER_SOURCE = 20_000  # characters shown of one cell's source (code, raw)
MAX_RENDER_MARKDOWN = 10_000  # of a Markdown cell (mistune is superlinear on some input)
MAX_RENDER_TOTAL = 400_000  # characters of sources shown on one page
MAX_RENDER_OUTPUTS = 1_000_000  # characters of outputs shown on one page


def cut_text(text: str, limit: int, keep_end: bool = False) -> str:
    """`text` cut to `limit` characters with a visible "[truncated: N characters omitted]" note
    (the same note wherever a student's text is cut)."""
    if len(text) <= limit:
        return text
    note = f"[truncated: {len(text) - limit} characters omitted]"
    return f"{note}\n{text[-limit:]}" if keep_end else f"{text[:limit]}\n{note}\n"


def _note_output(text: str) -> nbformat.NotebookNode:
    return nbformat.v4.new_output("stream", name="stdout", text=text + "\n")


MAX_JSON_DEPTH = 100  # nesting of a JSON output (application/json, widget state) kept


def _size(value) -> int:
    """Characters `value` stands for (strings counted, containers walked without recursion:
    an output may be nested 100,000 deep)."""
    total, stack = 0, [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            total += len(item)
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, dict):
            stack.extend(item.values())
        else:
            total += 8
    return total


def _too_deep(value, limit: int = MAX_JSON_DEPTH) -> bool:
    """Is `value` nested deeper than `limit`? (walked without recursion)"""
    stack = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (list, dict)):
            if depth >= limit:
                return True
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
    return False


def _cap_one(output: dict) -> dict:
    """One output with every text and image within its cap (in place)."""
    if isinstance(output.get("text"), str):
        output["text"] = cut_text(output["text"], MAX_TEXT)
    elif isinstance(output.get("text"), list):
        output["text"] = cut_text("".join(map(str, output["text"])), MAX_TEXT)
    if "evalue" in output:
        output["evalue"] = cut_text(str(output["evalue"]), MAX_EVALUE)
    if "ename" in output:
        output["ename"] = cut_text(str(output["ename"]), 200)
    if isinstance(output.get("traceback"), list):
        joined = "\n".join(str(line) for line in output["traceback"])
        if len(joined) > MAX_TEXT:
            output["traceback"] = cut_text(joined, MAX_TEXT, keep_end=True).split("\n")
    data = output.get("data")
    if isinstance(data, dict):
        for mime, value in list(data.items()):
            if (
                isinstance(value, (dict, bool, int, float))
                or value is None
                or (isinstance(value, list) and not all(isinstance(v, str) for v in value))
            ):  # a JSON output: kept as it is when small and shallow enough
                if _too_deep(value) or _size(value) > MAX_TEXT:
                    del data[mime]
                    data["text/plain"] = (
                        f"[truncated: {mime} output omitted (nested deeper than "
                        f"{MAX_JSON_DEPTH} or over {MAX_TEXT} characters)]"
                    )
                continue
            if isinstance(value, list):
                value = "".join(value)
            if not isinstance(value, str):
                value = str(value)
            if mime.startswith("text/") and mime != "text/html":
                data[mime] = cut_text(value, MAX_TEXT)
            elif len(value) > (MAX_TEXT if mime == "text/html" else MAX_BINARY):
                del data[mime]
                data["text/plain"] = (
                    f"[truncated: {mime} output of {len(value)} characters omitted]"
                )
            else:
                data[mime] = value
    return output


# a 1x1 transparent PNG: stands in for an attachment that was cut (a Markdown image of an
# attachment that is missing altogether made nbconvert fail)
PLACEHOLDER_PNG = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII="
)


def _cap_attachments(cell: dict, budget: int) -> int:
    """A Markdown cell's attachments (pasted images) within MAX_BINARY each and the notebook's
    budget (in place): a cut one becomes a blank image and the cell says so. Returns what is
    left of the budget."""
    attachments = cell.get("attachments")
    if not isinstance(attachments, dict):
        return budget
    for name, bundle in list(attachments.items()):
        size = _size(bundle)
        if isinstance(bundle, dict) and size <= min(MAX_BINARY, budget):
            budget -= size
            continue
        attachments[name] = {"image/png": PLACEHOLDER_PNG}
        source = cell.get("source", "")
        if not isinstance(source, str):
            source = "".join(map(str, source))
        cell["source"] = (
            f"{source}\n\n[truncated: attachment {str(name)[:100]} of {size} characters omitted]"
        )
    return budget


def cap_outputs(
    nb: nbformat.NotebookNode | None, total: int = MAX_OUTPUTS_TOTAL
) -> nbformat.NotebookNode | None:
    """`nb` (in place) with every output and attachment capped and all of them within `total`
    characters: past the budget, a cell's outputs become one note saying how much was omitted."""
    if nb is None:
        return nb
    budget = total
    for cell in nb.get("cells", []):
        budget = _cap_attachments(cell, budget)
        outputs = cell.get("outputs")
        if not outputs:
            continue
        kept = []
        omitted = 0
        for output in outputs:
            if budget <= 0:
                omitted += _size(output)
                continue
            output = _cap_one(output)
            budget -= max(_size(output), OUTPUT_OVERHEAD)
            kept.append(output)
        if omitted:
            kept.append(
                _note_output(
                    f"[truncated: {omitted} characters of output omitted (the notebook's "
                    f"outputs are capped at {total} characters)]"
                )
            )
        cell["outputs"] = kept
    return nb


def limit_for_render(nb: nbformat.NotebookNode, dropped: int = 0) -> list[str]:
    """Cut `nb` (in place) to what one feedback page shows; returns the notes of what was cut
    (also shown in the page, where the cut happened). `dropped`: cells the caller already cut
    off the end."""
    notes = []
    cells = nb.cells
    dropped += max(len(cells) - MAX_RENDER_CELLS, 0)
    del cells[MAX_RENDER_CELLS:]
    if dropped:
        notes.append(f"truncated: {dropped} cells omitted (a page shows {MAX_RENDER_CELLS})")
    budget = MAX_RENDER_TOTAL
    for index, cell in enumerate(cells):
        source = cell.get("source", "")
        if not isinstance(source, str):
            source = "".join(map(str, source))
        most = MAX_RENDER_MARKDOWN if cell.get("cell_type") == "markdown" else MAX_RENDER_SOURCE
        if len(source) > min(most, max(budget, 0)):
            limit = max(min(most, budget), 0)
            cut = len(source) - limit
            notes.append(f"truncated: {cut} characters of cell {index + 1} omitted")
            note = f"[truncated: {cut} characters omitted]"
            source = source[:limit] + ("\n# " if cell.cell_type == "code" else "\n\n") + note
        cell.source = source
        budget -= len(source)
    cap_outputs(nb, MAX_RENDER_OUTPUTS)
    if notes:
        summary = "; ".join(notes[:5]) + (f"; and {len(notes) - 5} more" if len(notes) > 5 else "")
        cells.insert(0, nbformat.v4.new_markdown_cell(f"**This page is shortened:** {summary}."))
    return notes
