"""Notebook to HTML for pages read offline (student feedback): maths as MathML, no scripts.

Every page is cut to the render caps first (`caps.limit_for_render`: cells, characters per
cell and per page, outputs), and its body is sanitized and the page given a restrictive CSP
(`html_safety`): what a student wrote never runs as script in the reader's browser.

nbconvert's `lab` template loads MathJax and require.js from a CDN and leaves the TeX for
MathJax to typeset in the browser, so a student reading feedback offline (or behind a firewall
that blocks the CDN) sees raw `$\\frac{...}$`. Here every formula is converted to MathML when
the page is written (latex2mathml, pure Python), which every current browser renders natively,
and the template's CDN scripts are left out: the page is one self-contained file.

The formulas are found by nbconvert's own Markdown parser (the same `$...$`, `$$...$$`,
`\\begin{env}` rules as JupyterLab), so `$` inside code stays code.
"""

from __future__ import annotations

import html

import nbformat
from jinja2 import DictLoader, pass_context
from latex2mathml.converter import convert
from mistune.plugins.table import table_in_list, table_in_quote
from nbconvert import HTMLExporter
from nbconvert.filters.markdown_mistune import IPythonRenderer, MarkdownWithMath

TEMPLATE = "nngrade_offline.html.j2"
# The lab template minus every script it would fetch from another host.
_TEMPLATE_SOURCE = """{%- extends 'lab/index.html.j2' -%}
{%- block html_head_js_requirejs -%}{%- endblock html_head_js_requirejs -%}
{%- block html_head_js_mathjax -%}
<style>math[display="block"]{display:block math;margin:.6em 0}</style>
{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{%- block jupyter_widgets -%}{%- endblock jupyter_widgets -%}
"""


def tex_to_mathml(tex: str, *, display: bool = False) -> str:
    """MathML for one formula; the TeX itself, as code, if it cannot be converted."""
    try:
        return convert(tex.strip(), display="block" if display else "inline")
    except Exception:  # latex2mathml raises many types on TeX it does not know
        delimiter = "$$" if display else "$"
        return f"<code class='tex'>{html.escape(delimiter + tex + delimiter)}</code>"


class MathMLRenderer(IPythonRenderer):
    """nbconvert's Markdown renderer, writing MathML where it would leave TeX for MathJax."""

    def block_math(self, body: str) -> str:
        return tex_to_mathml(body, display=True)

    def latex_environment(self, name: str, body: str) -> str:
        return tex_to_mathml(f"\\begin{{{name}}}{body}\\end{{{name}}}", display=True)

    def inline_math(self, body: str) -> str:
        return tex_to_mathml(body)


class OfflineHTMLExporter(HTMLExporter):
    """HTMLExporter (lab template) whose pages load nothing and show maths as MathML."""

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("template_name", "lab")
        super().__init__(**kwargs)
        self.extra_loaders = [DictLoader({TEMPLATE: _TEMPLATE_SOURCE})]
        self.template_file = TEMPLATE

    @pass_context
    def markdown2html(self, context, source):
        """As nbconvert's filter, with the MathML renderer."""
        cell = context.get("cell", {})
        renderer = MathMLRenderer(
            escape=False,
            attachments=cell.get("attachments", {}),
            embed_images=self.embed_images,
            path=context.get("resources", {}).get("metadata", {}).get("path", ""),
            anchor_link_text=self.anchor_link_text,
            exclude_anchor_links=self.exclude_anchor_links,
            **self.lexer_options,
        )
        markdown = MarkdownWithMath(renderer=renderer)
        # Tables inside block quotes and lists (the notation card is one), as JupyterLab and
        # the course site show them: mistune 3 parses tables at the top level only.
        table_in_quote(markdown)
        table_in_list(markdown)
        return markdown.render(source)


def _latex_outputs_as_mathml(nb: nbformat.NotebookNode) -> None:
    """Give `text/latex` outputs (IPython.display.Math, sympy) an HTML version in MathML."""
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if "text/latex" in data and "text/html" not in data:
                tex = data["text/latex"].strip()
                display = tex.startswith("$$") or not tex.startswith("$")
                data["text/html"] = tex_to_mathml(tex.strip("$"), display=display)


PAGE_TITLE = "nngrade feedback"


def render_notebook(nb: nbformat.NotebookNode, *, limited: bool = False) -> str:
    """The full HTML page of `nb`: within the render caps (unless the caller already applied
    them: `limited`), no script (sanitized body, CSP), maths as MathML."""
    from nngrade.grading.caps import limit_for_render
    from nngrade.grading.html_safety import sanitize_page

    nb = nbformat.from_dict(nb)  # a copy: the caller's notebook is left as it was
    if not limited:
        limit_for_render(nb)
    nb.metadata["title"] = PAGE_TITLE  # the student's metadata never reaches the <head>
    nb.metadata.pop("widgets", None)
    _latex_outputs_as_mathml(nb)
    body, _ = OfflineHTMLExporter().from_notebook_node(nb)
    return sanitize_page(body)
