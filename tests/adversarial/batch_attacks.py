"""Batch attacks: submissions that target the class pipeline around the sandbox (collect,
autograde's records and pool, feedback, report, export) rather than the sandbox itself.

Each attack builds one student's submission or grading record in a course folder; the
harness (tests/nngrade/test_adversarial_batch.py) checks every batch command still finishes,
gives that student a status with a reason, and leaves everybody else's result unchanged.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import nbformat

# A secret line of the `adv` master's hidden tests, quoted inside honest prose.
HIDDEN_LINE = "follow.normal(size=3)"


@dataclass(frozen=True)
class FileAttack:
    """A per-student folder entry planted before `nngrade collect` / `autograde`."""

    name: str
    plant: Callable[[Path, Path], None]  # (the student's notebook path, the master) -> None
    why: str


def _symlink_master(path: Path, master: Path) -> None:
    path.symlink_to(master)


def _symlink_zero(path: Path, master: Path) -> None:
    path.symlink_to("/dev/zero")


def _fifo(path: Path, master: Path) -> None:
    os.mkfifo(path)


def _sparse_huge(path: Path, master: Path) -> None:
    with path.open("wb") as handle:  # 3 GB apparent size, no disk used
        handle.truncate(3 * 2**30)


def _folder_link(path: Path, master: Path) -> None:
    path.parent.rmdir()
    path.parent.symlink_to(master.parent, target_is_directory=True)


FILE_ATTACKS = [
    FileAttack("link_to_master", _symlink_master, "imports the master through a symlink"),
    FileAttack("link_to_dev_zero", _symlink_zero, "floods collect and the grader"),
    FileAttack("fifo", _fifo, "blocks collect and the grader on open()"),
    FileAttack("sparse_3gb", _sparse_huge, "read whole by plan(): OOM"),
    FileAttack("folder_link", _folder_link, "the assignment folder links to the masters"),
]


@dataclass(frozen=True)
class RecordAttack:
    """A graded copy / record whose content targets feedback, report and export."""

    name: str
    edit: Callable[[nbformat.NotebookNode], None]
    reason: str = ""
    why: str = ""


def _surrogate(nb: nbformat.NotebookNode) -> None:
    nb.cells.append(nbformat.v4.new_markdown_cell("lone surrogate: \ud800 here"))


def _missing_attachment(nb: nbformat.NotebookNode) -> None:
    nb.cells.append(nbformat.v4.new_markdown_cell("![plot](attachment:missing.png)"))


def _raw_mimetype(nb: nbformat.NotebookNode) -> None:
    cell = nbformat.v4.new_raw_cell("raw text")
    cell.metadata["raw_mimetype"] = 5
    nb.cells.append(cell)


def _raw_mimetype_list(nb: nbformat.NotebookNode) -> None:
    cell = nbformat.v4.new_raw_cell("raw text")
    cell.metadata["raw_mimetype"] = ["text/html"]
    nb.cells.append(cell)


def _honest_mention(nb: nbformat.NotebookNode) -> None:
    nb.cells.append(
        nbformat.v4.new_markdown_cell(f"Like the tests, I call `{HIDDEN_LINE}` once more.")
    )


def _nothing(nb: nbformat.NotebookNode) -> None:
    return None


RECORD_ATTACKS = [
    RecordAttack("lone_surrogate", _surrogate, why="UnicodeEncodeError when the copy is written"),
    RecordAttack("missing_attachment", _missing_attachment, why="nbconvert raises: 0 pages"),
    RecordAttack("raw_mimetype_int", _raw_mimetype, why="nbconvert raises: 0 pages"),
    RecordAttack("raw_mimetype_list", _raw_mimetype_list, why="nbconvert raises: 0 pages"),
    RecordAttack("honest_mention", _honest_mention, why="the anti-leak guard aborted"),
    RecordAttack(
        "huge_reason", _nothing, reason="x" * 5_000_000, why="5 MB copied into every output"
    ),
    RecordAttack("surrogate_reason", _nothing, reason="bad \udfff byte", why="unencodable reason"),
]


# Student ids (folder names, LMS user ids) that a spreadsheet would run as formulas.
FORMULA_IDS = [
    '=HYPERLINK("http://127.0.0.1/x","y")',
    "+cmd|' /C calc'!A0",
    "@SUM(1+1)",
    "-2+3",
    "\tx",
    # read as formulas by some importers: after spaces or quotes they trim, full-width forms
    # some locales map to ASCII, zero-width characters, a DDE command line
    "  =1+1",
    '"=HYPERLINK(""http://127.0.0.1"")',
    '\uff1dHYPERLINK("http://127.0.0.1")',
    "\uff0bcmd",
    "\u200b=1+1",
    "\u3000@SUM(1)",
    "=cmd|' /C calc'!A0",
    "\r=2+2",
]
# A name that would clear the instructor's terminal and set its title when printed.
TERMINAL_ID = "\x1b[2J\x1b]0;pwned\x07mallory"


# -- script in the instructor's browser ------------------------------------------------------
def _js(name: str) -> str:
    """JavaScript that records that it ran (no double quotes: it goes inside attributes)."""
    # `void(0)`: as a javascript: URL, a script with a value would replace the whole document
    return f"(top.__nn_ran=top.__nn_ran||[]).push('{name}');top.document.title='pwned';void(0)"


@dataclass(frozen=True)
class PageAttack:
    """Student content that tries to run script where a feedback page is read.

    `where` is "markdown" (a Markdown cell's source), "metadata" (the notebook's title) or
    a MIME type (an output of a code cell with that data). `click`: an element id the
    browser test clicks (links and buttons run only when clicked).
    """

    name: str
    where: str
    content: str
    click: str = ""


def _page_attacks() -> list[PageAttack]:
    j = _js
    svg = (
        "<svg xmlns='http://www.w3.org/2000/svg' width='10' height='10' onload=\"{0}\">"
        "<script>{1}</script><rect width='10' height='10'/></svg>"
    )
    return [
        PageAttack("md_script", "markdown", f"<script>{j('md_script')}</script>"),
        PageAttack("md_svg_onload", "markdown", f'<svg onload="{j("md_svg_onload")}"></svg>'),
        PageAttack("md_img_onerror", "markdown", f'<img src="x" onerror="{j("md_img_onerror")}">'),
        PageAttack(
            "md_javascript_link",
            "markdown",
            f'<a id="nn-jslink" href="javascript:{j("md_javascript_link")}">link</a>',
            click="nn-jslink",
        ),
        PageAttack(
            "md_markdown_js_link",
            "markdown",
            f"[a link](javascript:{j('md_markdown_js_link')}) and ![img](javascript:void(0))",
        ),
        PageAttack(
            "md_iframe_srcdoc",
            "markdown",
            f'<iframe srcdoc="<script>{j("md_iframe_srcdoc")}</script>"></iframe>',
        ),
        PageAttack(
            "md_object_data",
            "markdown",
            f'<object data="data:text/html,<script>{j("md_object_data")}</script>"></object>',
        ),
        PageAttack(
            "md_details_ontoggle",
            "markdown",
            f'<details open ontoggle="{j("md_details_ontoggle")}"><summary>s</summary></details>',
        ),
        PageAttack(
            "md_autofocus",
            "markdown",
            f'<input autofocus onfocus="{j("md_autofocus")}">',
        ),
        PageAttack(
            "md_body_onload",
            "markdown",
            f'<body onload="{j("md_body_onload")}"><p>x</p>',
        ),
        PageAttack(
            "md_noscript_mxss",
            "markdown",
            f'<noscript><p title="</noscript><img src=x onerror={j("md_noscript_mxss")}>">',
        ),
        PageAttack(
            "md_form_button",
            "markdown",
            f'<form><button id="nn-button" formaction="javascript:{j("md_form_button")}">'
            "b</button></form>",
            click="nn-button",
        ),
        PageAttack(
            "md_meta_refresh",
            "markdown",
            f'<meta http-equiv="refresh" content="0;url=javascript:{j("md_meta_refresh")}">',
        ),
        PageAttack(
            "md_closing_tags",
            "markdown",
            f"</div></main></body></html><script>{j('md_closing_tags')}</script>",
        ),
        PageAttack("html_script", "text/html", f"<script>{j('html_script')}</script>"),
        PageAttack(
            "html_img_onerror", "text/html", f'<img src="x" onerror="{j("html_img_onerror")}">'
        ),
        PageAttack(
            "html_svg_inline",
            "text/html",
            svg.format(j("html_svg_inline"), j("html_svg_inline_script")),
        ),
        PageAttack(
            "svg_output",
            "image/svg+xml",
            svg.format(j("svg_output"), j("svg_output_script")),
        ),
        PageAttack("javascript_output", "application/javascript", j("javascript_output")),
        PageAttack(
            "markdown_output", "text/markdown", f'<img src=x onerror="{j("markdown_output")}">'
        ),
        PageAttack(
            "png_attribute_injection",
            "image/png",
            f'iVBORw0KGgo=" onerror="{j("png_attribute_injection")}',
        ),
        PageAttack(
            "latex_output",
            "text/latex",
            f'$x$</math><img src=x onerror="{j("latex_output")}">',
        ),
        PageAttack("title", "metadata", f"</title><script>{j('title')}</script>"),
        # last: in an unprotected page its <style> swallows everything after it
        PageAttack(
            "md_mxss_math",
            "markdown",
            f'<math><mtext><table><mglyph><style><img src=x onerror="{j("md_mxss_math")}">',
        ),
    ]


PAGE_ATTACKS = _page_attacks()
