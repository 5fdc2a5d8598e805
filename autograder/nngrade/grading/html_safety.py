"""HTML that nngrade writes is safe to open in the instructor's (and the student's) browser.

Feedback pages carry what students wrote: Markdown may hold raw HTML, and outputs may be
`text/html`, `image/svg+xml`, `application/javascript` or a crafted base64 "image". Two
independent layers keep script out:

1. `sanitize_page` cleans the body of every notebook rendering with nh3 (Rust's ammonia, an
   allow-list HTML5 sanitizer): only the tags nbconvert's template, its syntax highlighting
   and MathML produce survive, with no event handler, no `style`, and URLs limited to http(s),
   mailto and in-page links; an image's `src` only a base64 `data:` image of a known type (no
   remote or relative image: a tracking pixel would tell a host the page was opened).
2. `with_csp` puts a Content-Security-Policy `<meta>` first in every page's `<head>`: no
   script at all, images only from `data:`, styles only inline (the template's own CSS and
   MathML need nothing else), no frames, forms, plugins, fonts or fetches from anywhere.

Either layer alone stops `<script>`, event handlers and `javascript:` links; both together
also stop what one of them might miss (a parser quirk, a template change).
"""

from __future__ import annotations

import re

import nh3

# What the pages really use: inline <style> blocks (nbconvert's CSS, the score box), images
# as data: URIs (plots, attachments, the report's histogram), MathML (rendered natively, no
# MathJax). Nothing else is allowed; `default-src 'none'` covers script, connect, frame, font,
# object, media, worker and manifest requests.
CSP = (
    "default-src 'none'; img-src data:; style-src 'unsafe-inline'; base-uri 'none'; "
    "form-action 'none'"
)
CSP_META = f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'

_HTML_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "caption", "cite", "code", "col", "colgroup", "dd",
    "del", "details", "dfn", "div", "dl", "dt", "em", "figcaption", "figure", "h1", "h2", "h3",
    "h4", "h5", "h6", "hr", "i", "img", "ins", "kbd", "li", "main", "mark", "ol", "p", "pre",
    "q", "s", "samp", "small", "span", "strong", "sub", "summary", "sup", "table", "tbody",
    "td", "tfoot", "th", "thead", "tr", "tt", "u", "ul", "var",
}  # fmt: skip
_MATHML_TAGS = {
    "math", "maction", "menclose", "merror", "mfenced", "mfrac", "mi", "mmultiscripts", "mn",
    "mo", "mover", "mpadded", "mphantom", "mprescripts", "mroot", "mrow", "ms", "mspace",
    "msqrt", "mstyle", "msub", "msubsup", "msup", "mtable", "mtd", "mtext", "mtr", "munder",
    "munderover", "none", "semantics",
}  # fmt: skip
TAGS = _HTML_TAGS | _MATHML_TAGS
# removed with everything inside them (not just the tag)
DROP_WITH_CONTENT = {"script", "style", "noscript", "template", "iframe", "object", "embed"}
_MATHML_ATTRIBUTES = {
    "accent", "accentunder", "close", "columnalign", "columnlines", "columnspacing", "depth",
    "display", "displaystyle", "fence", "form", "height", "largeop", "linethickness", "lspace",
    "mathvariant", "maxsize", "minsize", "movablelimits", "notation", "open", "rowalign",
    "rowlines", "rowspacing", "rspace", "scriptlevel", "separator", "separators", "stretchy",
    "symmetric", "width", "xmlns",
}  # fmt: skip
ATTRIBUTES = {
    "*": {"class", "id", "title", "lang", "dir"},
    "a": {"href", "name"},
    "img": {"src", "alt", "width", "height"},
    "td": {"colspan", "rowspan", "align"},
    "th": {"colspan", "rowspan", "align", "scope"},
    "ol": {"start", "type"},
    "details": {"open"},
    **{tag: _MATHML_ATTRIBUTES for tag in _MATHML_TAGS},
}
URL_SCHEMES = {"http", "https", "mailto", "data"}
IMAGE_DATA = re.compile(r"data:image/(?:png|jpeg|gif|webp|svg\+xml);base64,[A-Za-z0-9+/=\s]*\Z")


def _attribute_filter(tag: str, attribute: str, value: str) -> str | None:
    """An image's source only as a base64 `data:` image of a known type (a remote or relative
    one, `//host/x` included, would tell another host when and where the page is opened);
    `data:` URLs nowhere else."""
    if tag == "img" and attribute == "src":
        return value if IMAGE_DATA.match(value.strip()) else None
    if attribute in ("href", "src") and value.strip().lower().startswith("data:"):
        return None
    return value


def sanitize_html(fragment: str) -> str:
    """`fragment` with everything outside the allow-list removed (scripts with their text)."""
    return nh3.clean(
        fragment,
        tags=TAGS,
        clean_content_tags=DROP_WITH_CONTENT,
        attributes=ATTRIBUTES,
        attribute_filter=_attribute_filter,
        generic_attribute_prefixes={"data-"},
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )


BODY_OPEN = re.compile(r"<body\b[^>]*>", re.IGNORECASE)


def sanitize_page(page: str) -> str:
    """A full page (nbconvert's) whose body was sanitized, with the CSP.

    The head is the template's own, from trusted files only (nngrade sets the title). Student
    content can close tags of its own (`</body></html><script>`), so everything after the
    template's `<body>` is sanitized as one fragment, to the end of the text, and the page
    is closed by nngrade."""
    match = BODY_OPEN.search(page)
    if match is None:
        return with_csp(
            f"<!DOCTYPE html><html><head></head><body>{sanitize_html(page)}</body></html>"
        )
    clean = sanitize_html(page[match.end() :])
    return with_csp(page[: match.end()] + clean + "</body>\n</html>\n")


HEAD = re.compile(r"<head\b[^>]*>", re.IGNORECASE)


def with_csp(page: str) -> str:
    """`page` with the CSP `<meta>` as the first element of its `<head>` (one is made if the
    page has none), so it is in force before anything else is parsed."""
    if CSP_META in page[:2000]:
        return page
    match = HEAD.search(page)
    if match is None:
        start = page.find("<html")
        start = page.index(">", start) + 1 if start >= 0 else 0
        return page[:start] + f"<head>{CSP_META}</head>" + page[start:]
    return page[: match.end()] + CSP_META + page[match.end() :]
