"""The course website (`make book`): every lecture executed, maths and figures offline, no leaks.

The site is built once per session from the lecture runs the lecture tests share
(_lecture_runs), so the notebooks execute once for both. Chromium then opens every page with
every request outside 127.0.0.1 blocked: a page that shows its figures and typeset maths here
works offline. Internal links are crawled from the home page; none may be broken.
"""

from __future__ import annotations

import html
import re
import shutil
import time
from pathlib import Path
from urllib.parse import unquote, urldefrag, urljoin, urlsplit

import make_book
import nbformat
import pytest
from _lecture_runs import LECTURES, ROOT
from bs4 import BeautifulSoup
from offline_browser import CHROMIUM, offline_browser, static_server

ARTEFACTS = ROOT / "test-artifacts"
SECOND = 1000  # Playwright counts milliseconds
# Markers that only the masters in source/ carry (release/ strips their content).
MARKERS = ("BEGIN HIDDEN TESTS", "END HIDDEN TESTS", "BEGIN SOLUTION", "END SOLUTION")
MIN_LINE = 25  # shorter code lines ("return out") are too generic to identify a notebook

pytestmark = [pytest.mark.slow]
needs_chromium = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="needs Debian's chromium at /usr/bin/chromium (apt-get install chromium; .ci/run)",
)


@pytest.fixture(scope="session")
def site(tmp_path_factory, lecture_runs) -> make_book.BuildResult:
    """The site, built once from the shared lecture runs."""
    if shutil.which("npm") is None and not (make_book.BOOK / "node_modules").is_dir():
        pytest.skip("needs npm to install MathJax (apt-get install npm; .ci/run does it)")
    executed = {}
    for name in LECTURES:
        run = lecture_runs(name)
        assert run.lecture_ok, f"{name} fails, so the site cannot show it:\n{run.error}"
        nb = nbformat.from_dict(run.notebook)
        nb.cells = nb.cells[: run.lecture_cells]  # without the widget probe cell
        executed[name] = nb
    start = time.perf_counter()
    result = make_book.build(tmp_path_factory.mktemp("book"), cache=None, executed=executed)
    print(f"site built in {time.perf_counter() - start:.1f} s: {result.timings}")
    return result


def _page(result: make_book.BuildResult, source: str) -> Path:
    return result.html / Path(source).with_suffix(".html")


def _site_files(result: make_book.BuildResult) -> list[Path]:
    """Every text file of the site except the vendored MathJax."""
    return [
        p
        for p in result.html.rglob("*")
        if p.is_file()
        and "mathjax" not in p.parts
        and p.suffix in {".html", ".js", ".txt", ".ipynb", ".md", ".json", ".css", ".inv"}
    ]


# --------------------------------------------------------------------------- contents
def test_every_lecture_and_guide_has_a_page_in_the_navigation(site):
    lectures = sorted(p.name for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    assert site.lectures == lectures
    guides = sorted(p.name for p in (ROOT / "docs").glob("*.md"))
    assert sorted(site.guides) == guides
    home = BeautifulSoup((site.html / "intro.html").read_text(), "html.parser")
    nav = {a["href"].split("#")[0] for a in home.select("nav a[href]")}
    for name in lectures:
        assert _page(site, f"notebooks/{name}").is_file(), f"no page for {name}"
        assert f"notebooks/{Path(name).stem}.html" in nav, f"{name} is not in the navigation"
    for name in guides:
        assert _page(site, f"docs/{name}").is_file(), f"no page for docs/{name}"
        assert f"docs/{Path(name).stem}.html" in nav, f"docs/{name} is not in the navigation"


def test_lecture_pages_carry_their_outputs(site):
    for name in site.lectures:
        page = _page(site, f"notebooks/{name}").read_text()
        assert 'class="cell_output' in page, f"{name}: the page shows no cell output"
        assert "Loading widget" not in page and "widget-view+json" not in page, name


def test_sliders_are_frozen_into_figures_with_a_note(site):
    assert sum(site.frozen_widgets.values()) >= 1, "no lecture has a slider any more?"
    for name, count in site.frozen_widgets.items():
        soup = BeautifulSoup(_page(site, f"notebooks/{name}").read_text(), "html.parser")
        notes = soup.select(".static-widget-note")
        assert len(notes) == count, f"{name}: {count} widgets frozen, {len(notes)} notes shown"
        for note in notes:
            cell = note.find_parent(class_="cell_output")
            assert cell is not None and cell.find("img"), f"{name}: a slider note has no figure"


def _assignment_lines() -> set[str]:
    """Distinctive code lines of every master and student version (source/, release/)."""
    public: set[str] = set()
    for path in [*(ROOT / "notebooks").glob("*.ipynb"), *(ROOT / "docs").glob("*.md")]:
        text = path.read_text(encoding="utf-8")
        if path.suffix == ".ipynb":
            text = "\n".join(c.source for c in nbformat.reads(text, as_version=4).cells)
        public.update(line.strip() for line in text.splitlines())
    lines: set[str] = set()
    for folder in ("source", "release"):
        for path in (ROOT / folder).rglob("*.ipynb"):
            for cell in nbformat.read(path, as_version=4).cells:
                if cell.cell_type == "code":
                    lines.update(line.strip() for line in cell.source.splitlines())
    return {line for line in lines - public if len(line) >= MIN_LINE}


def _lines_of(path: Path) -> tuple[str, set[str]]:
    """The text of a site file as a reader or a search engine sees it, and its stripped lines."""
    text = path.read_text(encoding="utf-8", errors="replace")
    if path.suffix == ".html":
        text = BeautifulSoup(text, "html.parser").get_text()
    elif path.suffix == ".ipynb":
        text = "\n".join(c.source for c in nbformat.reads(text, as_version=4).cells)
    text = html.unescape(text)
    return text, {line.strip() for line in text.splitlines()}


def test_no_assignment_or_hidden_test_reaches_the_site(site):
    lines = _assignment_lines()
    assert len(lines) > 100, "found too few assignment lines to look for"
    names = {p.stem for folder in ("source", "release") for p in (ROOT / folder).iterdir()}
    for path in _site_files(site):
        relative = path.relative_to(site.html).as_posix()
        assert not any(name in relative for name in names), relative
        text, file_lines = _lines_of(path)
        leaked = sorted(lines & file_lines)
        assert not leaked, f"{relative} shows assignment code: {leaked[:3]}"
        if not relative.startswith(("docs/", "_sources/docs/", "searchindex")):
            # Guides may name the markers when they explain them; nothing else may.
            assert not [m for m in MARKERS if m in text], f"{relative} has nbgrader markers"


def test_nothing_is_fetched_from_another_host(site):
    assert make_book.external_fetches(site.html) == []


def test_offline_check_finds_a_cdn_script(tmp_path):
    (tmp_path / "page.html").write_text(
        '<script defer src="https://cdn.example.org/x.js"></script><a href="https://ok.org">'
    )
    (tmp_path / "style.css").write_text("@font-face{src:url(//fonts.example.org/f.woff2)}")
    assert make_book.external_fetches(tmp_path) == [
        "page.html: https://cdn.example.org/x.js",
        "style.css: //fonts.example.org/f.woff2",
    ]


# --------------------------------------------------------------------------- links
def _targets(soup: BeautifulSoup) -> list[str]:
    refs = [a.get("href") for a in soup.find_all(["a", "link"])]
    refs += [tag.get("src") for tag in soup.find_all(["img", "script", "source", "iframe"])]
    return [r for r in refs if r]


def test_no_internal_link_is_broken(site):
    root = site.html.resolve()
    redirect = re.search(r'url=([^"]+)"', (root / "index.html").read_text())
    assert redirect, "index.html does not lead to the home page"
    todo, seen, broken = [root / redirect.group(1)], set(), []
    ids: dict[Path, set[str]] = {}

    def anchors(page: Path) -> set[str]:
        if page not in ids:
            soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
            ids[page] = {tag["id"] for tag in soup.find_all(id=True)}
        return ids[page]

    while todo:
        page = todo.pop()
        if page in seen:
            continue
        seen.add(page)
        soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
        for ref in _targets(soup):
            parts = urlsplit(ref)
            if parts.scheme or parts.netloc or ref.startswith("javascript:"):
                continue  # another site (offline fetches are checked separately) or mailto:
            url, fragment = urldefrag(urljoin(page.as_uri(), ref))
            target = Path(unquote(urlsplit(url).path))
            if target.is_dir():
                target = target / "index.html"
            where = f"{page.relative_to(root)} -> {ref}"
            if not target.is_file() or root not in target.resolve().parents:
                broken.append(where)
            elif target.suffix == ".html":
                if fragment and fragment not in anchors(target):
                    broken.append(f"{where} (no #{fragment})")
                todo.append(target.resolve())
    assert len(seen) >= len(site.lectures) + len(site.guides) + 1
    assert not broken, "broken links:\n" + "\n".join(broken[:30])


def test_every_link_written_in_the_sources_resolved(site):
    """A link Sphinx cannot resolve is shown as plain text: no broken <a>, but a lost link."""
    lost = [w for w in site.warnings if "xref_missing" in w or "target not found" in w]
    assert not lost, "links that point nowhere on the site:\n" + "\n".join(lost)


# --------------------------------------------------------------------------- in a browser
MATHS_DONE = "() => window.MathJax && MathJax.startup && MathJax.startup.promise"
PAGE_STATE = """() => {
    const article = document.querySelector('article') || document.body;
    const copy = article.cloneNode(true);
    copy.querySelectorAll('pre, code, .highlight').forEach(e => e.remove());
    const maths = [...article.querySelectorAll('.math')];
    return {
        maths: maths.length,
        typeset: maths.filter(m => m.querySelector('mjx-container')).length,
        errors: article.querySelectorAll('mjx-merror, [data-mjx-error]').length,
        images: [...article.querySelectorAll('.cell_output img')].map(
            i => ({src: i.getAttribute('src'), ok: i.complete && i.naturalWidth > 0})),
        text: copy.innerText,
    };
}"""


def _open(page, url: str, failures: list[str]) -> dict:
    page.goto(url, wait_until="load")
    if page.evaluate("() => document.querySelector('.math') !== null"):
        page.wait_for_function(MATHS_DONE, timeout=180 * SECOND)  # generous: a loaded machine
        page.evaluate("() => MathJax.startup.promise")
    page.wait_for_load_state("networkidle")
    return page.evaluate(PAGE_STATE)


@pytest.mark.browser
@needs_chromium
def test_pages_show_figures_and_typeset_maths_offline(site):
    ARTEFACTS.mkdir(exist_ok=True)
    failures: list[str] = []
    with static_server(site.html) as base, offline_browser((1280, 1000)) as browser:
        page = browser.new_page()
        page.on(
            "response",
            lambda r: failures.append(f"{r.status} {r.url}") if r.status >= 400 else None,
        )
        states = {}
        for name in site.lectures:
            states[name] = _open(page, f"{base}/notebooks/{Path(name).stem}.html", failures)
            if name == site.lectures[0]:
                page.screenshot(path=str(ARTEFACTS / "book-lecture.png"))
        for name in site.guides:
            states[name] = _open(page, f"{base}/docs/{Path(name).stem}.html", failures)
            if name == "notation.md":
                page.screenshot(path=str(ARTEFACTS / "book-notation.png"), full_page=True)
    assert not browser.blocked, f"pages asked for files from other hosts: {browser.blocked}"
    assert not failures, f"files missing from the site: {failures}"
    for name, state in states.items():
        assert state["typeset"] == state["maths"], f"{name}: maths left untypeset"
        assert state["errors"] == 0, f"{name}: MathJax reported a TeX error"
        assert "$$" not in state["text"] and not re.search(
            r"\\(frac|sum|mathbf)\b", state["text"]
        ), f"{name}: raw TeX shown"
        bad = [i["src"] for i in state["images"] if not i["ok"]]
        assert not bad, f"{name}: figures that did not load: {bad}"
    for name in site.lectures:
        assert states[name]["maths"] > 0, f"{name}: no maths on the page"
        assert states[name]["images"], f"{name}: no figure on the page"
