"""Script a student puts in a notebook never runs where its feedback page is read (issue 13).

`batch_attacks.PAGE_ATTACKS`: Markdown with `<script>`, event handlers, `javascript:` links,
`<iframe srcdoc>`, mXSS shapes; `text/html`, `image/svg+xml`, `application/javascript`,
`text/markdown`, `text/latex` outputs and a crafted PNG; a notebook title closing `<title>`.
Each payload records its name in `top.__nn_ran` and sets the page title when it runs.

Chromium (headless, network blocked) opens the same notebook four ways: as nbconvert renders
it unprotected (the control: the payloads must really run there, or this test proves
nothing), sanitized only, with the CSP only, and as `nngrade feedback` writes it (both). No
payload may run in the last three, and the honest content of the real page must still show:
typeset maths and the PNG/SVG images.
"""

from __future__ import annotations

import base64
import io
import re

import nbformat
import numpy as np
import pytest
from adv_master import ASSIGNMENT, master
from batch_attacks import EXFIL_HOST, PAGE_ATTACKS
from harness import make_course
from nngrade.commands.feedback import write_feedback
from nngrade.grading import config, records
from nngrade.grading.html_safety import CSP_META, sanitize_page, with_csp
from nngrade.grading.offline_html import OfflineHTMLExporter
from nngrade.grading.results import GradeReport, TestOutcome
from offline_browser import CHROMIUM, offline_browser
from simulate import reference

MATHS = "The loss is $$L = \\frac{1}{2} \\sum_{r=1}^{R} (y_r - t_r)^2$$ and $\\frac{a}{b}$."
HONEST_SVG = (
    "<svg xmlns='http://www.w3.org/2000/svg' width='41' height='17'>"
    "<rect width='41' height='17' fill='teal'/></svg>"
)
# payloads that run in an unprotected page (Chromium): the control must see each of them
LIVE = {
    "md_script",
    "md_img_onerror",
    "md_svg_onload",
    "html_script",
    "javascript_output",
    "md_entity_javascript",
    "md_svg_animate",
}
# exfiltration payloads whose request the unprotected page makes (the control)
LIVE_EXFIL = {"md_img_remote", "md_style_attribute", "md_img_srcset", "html_img_remote_output"}


def _png(width: int = 37, height: int = 23) -> str:
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    plt.imsave(buffer, np.linspace(0, 1, width * height).reshape(height, width), format="png")
    return base64.b64encode(buffer.getvalue()).decode()


def hostile_notebook() -> nbformat.NotebookNode:
    """The reference answers plus every page attack, plus honest maths and images."""
    nb = reference(master())
    png = _png()
    honest = nbformat.v4.new_markdown_cell(MATHS + "\n\n![honest plot](attachment:plot.png)")
    honest.attachments = {"plot.png": {"image/png": png}}
    plot = nbformat.v4.new_code_cell("plt.plot(x)")
    plot.outputs = [
        nbformat.v4.new_output("display_data", data={"image/png": png, "text/plain": "<Fig>"}),
        nbformat.v4.new_output("display_data", data={"image/svg+xml": HONEST_SVG}),
    ]
    cells = [honest, plot]
    for attack in PAGE_ATTACKS:
        if attack.where == "markdown":
            cells.append(nbformat.v4.new_markdown_cell(attack.content))
        elif attack.where == "metadata":
            nb.metadata["title"] = attack.content
        else:
            cell = nbformat.v4.new_code_cell(f"show_{attack.name}()")
            data = {attack.where: attack.content, "text/plain": "x"}
            cell.outputs = [nbformat.v4.new_output("display_data", data=data)]
            cells.append(cell)
    nb.cells[1:1] = cells  # before the first hidden test: outputs after it are withheld anyway
    return nb


@pytest.fixture(scope="module")
def pages(tmp_path_factory):
    """The four renderings of the hostile notebook, as files."""
    tmp = tmp_path_factory.mktemp("script")
    course = make_course(gradebook=False)
    try:
        settings = config.load(course.config_dir)
        nb = hostile_notebook()
        tests = [TestOutcome("test_double", 2.0, 2.0, "passed", "", True)]
        report = GradeReport(ASSIGNMENT, "mallory", "graded", "", tests, nb)
        records.save(
            settings.autograded, "mallory", ASSIGNMENT, ASSIGNMENT, "k", report, "x",
            master=course.master,
        )  # fmt: skip
        (page,) = write_feedback(settings, ASSIGNMENT)
        unprotected, _ = OfflineHTMLExporter().from_notebook_node(hostile_notebook())
        variants = {
            "unprotected": unprotected,
            "sanitized only": sanitize_page(unprotected).replace(CSP_META, ""),
            "CSP only": with_csp(unprotected),
            "nngrade feedback": page.read_text(encoding="utf-8"),
        }
    finally:
        course.close()
    files = {}
    for name, html in variants.items():
        files[name] = tmp / (name.replace(" ", "_") + ".html")
        files[name].write_text(html, encoding="utf-8")
    return files


def test_the_written_page_has_csp_first_and_no_script(pages):
    page = pages["nngrade feedback"].read_text(encoding="utf-8")
    head = page[page.index("<head") : page.index("</head>")]
    assert head.index(CSP_META) < head.index("<title"), "the CSP must come before anything else"
    assert "script-src" not in CSP_META and "default-src 'none'" in CSP_META
    body = page[page.index("<body") :]
    assert not re.search(r"<(script|iframe|object|embed|svg|form|input|meta)\b", body, re.I)
    assert not re.search(r"\son[a-z]+\s*=", body, re.I), "an event handler attribute survived"
    assert not re.search(r"(href|src|action|data)\s*=\s*[\"']?\s*javascript:", body, re.I)
    assert "pwned" not in page.split("</title>")[0]


RAN = "() => ({ran: window.__nn_ran || [], title: document.title})"
# SVG and MathML elements have no click(): a click event is dispatched to them instead
CLICK = """id => { const e = document.getElementById(id); if (!e) return;
    if (e.click) e.click(); else e.dispatchEvent(new MouseEvent('click', {bubbles: true})); }"""


@pytest.mark.browser
@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium")
def test_no_payload_runs_in_chromium_and_honest_content_renders(pages):
    clicks = [a.click for a in PAGE_ATTACKS if a.click]
    seen = {}
    with offline_browser() as browser:
        for name, path in pages.items():
            before = len(browser.blocked)
            page = browser.new_page()
            dialogs = []
            page.on("dialog", lambda d, dialogs=dialogs: (dialogs.append(d.message), d.dismiss()))
            page.goto(path.as_uri(), wait_until="load")
            page.wait_for_timeout(300)
            for element in clicks:
                page.evaluate(CLICK, element)
            page.wait_for_timeout(300)
            seen[name] = page.evaluate(RAN)
            seen[name]["url"] = page.url
            seen[name]["exfil"] = sorted(
                {u.rsplit("/", 1)[-1] for u in browser.blocked[before:] if EXFIL_HOST in u}
            )
            if name == "nngrade feedback":
                honest = page.evaluate(
                    """() => ({
                    images: [...document.images].filter(i => i.complete)
                        .map(i => [i.naturalWidth, i.naturalHeight]),
                    maths: [...document.querySelectorAll('math')]
                        .map(m => m.getBoundingClientRect().height),
                    score: !!document.querySelector('.nngrade-score')})"""
                )
            page.close()
    control = set(seen["unprotected"]["ran"])
    assert LIVE <= control, f"the control page did not run the payloads: {seen['unprotected']}"
    assert LIVE_EXFIL <= set(seen["unprotected"]["exfil"]), seen["unprotected"]
    for name in ("sanitized only", "CSP only", "nngrade feedback"):
        assert seen[name]["ran"] == [], f"script ran in the {name} page: {seen[name]}"
        assert seen[name]["exfil"] == [], f"the {name} page asked another host: {seen[name]}"
        assert seen[name]["title"] != "pwned" and seen[name]["url"] == pages[name].as_uri()
    assert honest["score"], "the score box is missing"
    assert [37, 23] in honest["images"], f"the PNG (attachment, output) is missing: {honest}"
    assert honest["images"].count([37, 23]) >= 2, honest
    assert [41, 17] in honest["images"], f"the SVG output is missing: {honest}"
    assert len(honest["maths"]) >= 2 and all(h > 5 for h in honest["maths"]), honest
