"""Feedback and report pages show their maths with no network (issue 9, item 8).

A tiny class whose master has formulas in its Markdown is collected, autograded and given
feedback by `nngrade`; Chromium then opens the pages with every request outside 127.0.0.1 and
file: blocked, and checks that the formulas were typeset (MathML laid out with a real size, no
raw TeX left) and that the page asked for nothing from another host.
"""

from __future__ import annotations

import re

import nbformat
import pytest
from make_tiny import tiny_master
from nngrade.cli import main
from nngrade.grading.offline_html import render_notebook, tex_to_mathml
from nngrade_support import make_course, submit_class
from offline_browser import needs_chromium, offline_browser

# Display maths, inline maths and an aligned environment, as the lab notebooks write them.
MATHS = (
    "The loss of a batch of $R$ inputs is\n\n"
    "$$L = \\frac{1}{2} \\sum_{r=1}^{R} (\\tilde y_r - y_r)^2 ,$$\n\n"
    "and its gradient is $\\partial L / \\partial w_j = \\sum_r (\\tilde y_r - y_r) x_{rj}$.\n\n"
    "\\begin{align}\na &= x W^\\top + b \\\\\nf &= \\sigma(a)\n\\end{align}\n\n"
    "Code keeps its dollars: `price = '$5'`."
)
EXTERNAL = re.compile(r"""<(?:script|link|img)\b[^>]*(?:src|href)=["']?(?:https?:)?//""", re.I)


def _run(config, *args):
    return main([*args, "--course", str(config)])


@pytest.fixture(scope="module")
def pages(tmp_path_factory):
    """Feedback pages of two students and the class report, made by nngrade."""
    tmp = tmp_path_factory.mktemp("offline")
    config = make_course(tmp)
    master = tiny_master()
    master.cells.insert(1, nbformat.v4.new_markdown_cell(MATHS))
    nbformat.write(master, str(tmp / "source" / "tiny" / "tiny.ipynb"))
    inbox = submit_class(tmp, {"alice": ([], "graded", 4.0), "bob": ([], "graded", 4.0)})
    assert _run(config, "collect", str(inbox), "tiny") == 0
    assert _run(config, "autograde", "tiny", "--jobs", "1", "--no-progress") == 0
    assert _run(config, "feedback", "tiny") == 0
    assert _run(config, "report", "tiny") == 0
    course = tmp / "autograder" / "course"
    return {
        "feedback": course / "feedback" / "alice" / "tiny" / "tiny.html",
        "report": course / "reports" / "tiny.html",
    }


def test_feedback_and_report_name_no_other_host(pages):
    for name, path in pages.items():
        page = path.read_text(encoding="utf-8")
        assert not EXTERNAL.findall(page), f"the {name} page loads files from another host"
        assert "mathjax" not in page.lower(), f"the {name} page still expects MathJax"


def test_feedback_converts_every_formula_and_keeps_code(pages):
    page = pages["feedback"].read_text(encoding="utf-8")
    assert page.count("<math") >= 3  # display, inline, align
    assert "<mfrac>" in page and "<munderover>" in page and "<mtable" in page
    assert "$$" not in page and "\\frac" not in page
    assert "price = &#39;$5&#39;" in page or "price = '$5'" in page


def test_unknown_tex_is_shown_as_code_not_dropped():
    shown = tex_to_mathml("\\frac{1}{", display=True)
    assert "\\frac{1}{" in shown.replace("&#x27;", "'")


def test_text_latex_outputs_become_mathml():
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("Math(...)")
    cell.outputs = [
        nbformat.v4.new_output("display_data", data={"text/latex": "$\\displaystyle x^2$"})
    ]
    nb.cells.append(cell)
    page = render_notebook(nb)
    assert "<math" in page and "<msup>" in page
    assert "text/html" not in nb.cells[0].outputs[0].data  # the caller's notebook is untouched


RENDERED = """() => [...document.querySelectorAll('math')].map(m => {
    const box = m.getBoundingClientRect();
    // A typeset fraction has its numerator above its denominator; unrendered MathML is a run
    // of inline text on one line.
    const stacked = [...m.querySelectorAll('mfrac')].map(f => {
        const [num, den] = [...f.children].map(c => c.getBoundingClientRect());
        return num.bottom <= den.top + 1;
    });
    return {display: m.getAttribute('display'), width: box.width, height: box.height,
            fractions: stacked, text: m.textContent};
})"""


@pytest.mark.browser
@needs_chromium
def test_feedback_formulas_render_with_the_network_blocked(pages, tmp_path):
    with offline_browser() as browser:
        page = browser.new_page()
        page.goto(pages["feedback"].as_uri(), wait_until="load")
        maths = page.evaluate(RENDERED)
        body = page.inner_text("body")
        page.screenshot(path=str(tmp_path / "feedback.png"), full_page=True)
        report = browser.new_page()
        report.goto(pages["report"].as_uri(), wait_until="load")
        histogram = report.evaluate(
            "() => [...document.images].map(i => i.complete && i.naturalWidth > 0)"
        )
    assert not browser.blocked, f"the pages asked for files from other hosts: {browser.blocked}"
    assert len(maths) >= 3, maths
    assert [m["display"] for m in maths].count("block") >= 2, maths  # $$ and align
    for formula in maths:
        # MathML laid out by the browser: an unrendered <math> is an inline box of raw text
        # height; a typeset fraction or sum is taller than a line and wider than nothing.
        assert formula["width"] > 5 and formula["height"] > 5, formula
    fractions = [stacked for m in maths for stacked in m["fractions"]]
    assert fractions and all(fractions), f"fractions were not typeset: {maths}"
    assert "$$" not in body and "\\frac" not in body and "\\sum" not in body
    assert histogram == [True], "the report's histogram did not load"


def test_tables_inside_block_quotes_and_lists_render_as_tables():
    """The notation card every notebook opens with is a table inside a block quote: JupyterLab
    and the course site show it as a table, so the feedback page must too (mistune 3 parses
    tables at the top level only unless told)."""
    quote = "> **Notation**\n>\n> | symbol | meaning |\n> |---|---|\n> | $n$ | inputs |\n"
    listed = "- a list item\n\n  | a | b |\n  |---|---|\n  | 1 | 2 |\n"
    nb = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_markdown_cell(quote), nbformat.v4.new_markdown_cell(listed)]
    )
    page = render_notebook(nb)
    assert page.count("<table") == 2, page[page.find("<blockquote") :][:600]
    assert "| symbol |" not in page
    assert re.search(r"<td>\s*<math", page), "the formula in the table cell is MathML"
