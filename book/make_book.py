"""Build the course website (`make book`): Jupyter Book 1 over the executed lectures and docs/.

Why Jupyter Book 1 (Sphinx) and not 2 (mystmd): `myst build --html` downloads its site template
from the internet at build time, which fails on an offline machine or CI; Sphinx and its
themes come from PyPI and ship every asset. Offline is a requirement of the site too: every
page loads only files of the site itself (MathJax from the npm package pinned in
book/package.json, copied into _static/mathjax), so it works from a USB stick or a laptop with
no network, and no reader's visit is reported to a CDN.

Steps (each a function below, so tests can reuse them):
1. stage  book/_config.yml, book/intro.md, notebooks/NN_*.ipynb (+ notebooks/img) and docs/
          into BUILD/src, mirroring the repository's layout so that relative links between
          docs and lectures keep working; source/ and release/ are never staged, so no master
          or student version can reach the site, and links to them render as plain text;
2. run    every lecture in a fresh kernel (nbclient), two at a time, cached by the content of
          the notebook and of nnhelpers, so a rebuild with nothing changed takes seconds;
3. freeze each slider widget into its figure (PNG) and a note to run the notebook: a static
          site has no kernel to move the sliders, and a widget view would show nothing;
4. build  with `jupyter-book build` (execution off), then refuse the result if any page or
          asset refers to another host (`check_offline`).
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote

import nbformat

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
NOTEBOOKS = ROOT / "notebooks"
DOCS = ROOT / "docs"
LECTURE_GLOB = "[0-9][0-9]_*.ipynb"
DEFAULT_BUILD = ROOT / "build" / "book"
CACHE = ROOT / "build" / "book-cache"
# Guides first in this order; any other docs/*.md follow alphabetically.
GUIDE_ORDER = ("notation.md", "students.md", "instructors.md")
CELL_TIMEOUT = 300  # seconds; a shared 2-core machine. Lectures take < 60 s in all.

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
STATIC_NOTE = (
    '<p class="static-widget-note"><em>A static picture of an interactive figure: run this '
    "notebook in JupyterLab (<code>make lab</code>) to move its sliders.</em></p>"
)
# Parts of the npm package `mathjax` the site needs: the combined TeX + CHTML component, the
# fonts and the components it loads on demand (menu, accessibility, extra TeX packages).
MATHJAX_PARTS = ("tex-chtml-full.js", "output", "input", "ui", "a11y", "sre", "adaptors")


class BookError(RuntimeError):
    """The site cannot be built; the message says why and what to do."""


@dataclass
class BuildResult:
    """What a build produced and how long each step took (seconds)."""

    html: Path
    lectures: list[str]
    guides: list[str]
    frozen_widgets: dict[str, int]
    timings: dict[str, float] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------- what is on the site
def lecture_notebooks() -> list[Path]:
    """Every lecture notebook, in course order (notebooks/NN_*.ipynb)."""
    return sorted(NOTEBOOKS.glob(LECTURE_GLOB))


def guide_pages() -> list[Path]:
    """docs/*.md: the notation card and the student and instructor guides first."""
    pages = sorted(DOCS.glob("*.md"))
    rank = {name: i for i, name in enumerate(GUIDE_ORDER)}
    return sorted(pages, key=lambda p: (rank.get(p.name, len(rank)), p.name))


def toc(lectures: list[Path], guides: list[Path]) -> dict:
    """The _toc.yml of the site (sphinx-external-toc's jb-book format)."""
    parts = [
        {"caption": "Lectures", "chapters": [{"file": f"notebooks/{p.stem}"} for p in lectures]}
    ]
    if guides:
        parts.append(
            {"caption": "Guides", "chapters": [{"file": f"docs/{p.stem}"} for p in guides]}
        )
    return {"format": "jb-book", "root": "intro", "parts": parts}


def stage(src: Path, lectures: list[Path], guides: list[Path]) -> None:
    """Lay out the book's sources in `src` (emptied first)."""
    if src.exists():
        shutil.rmtree(src)
    (src / "notebooks").mkdir(parents=True)
    for name in ("_config.yml", "intro.md"):
        shutil.copy2(BOOK / name, src / name)
    if (NOTEBOOKS / "img").is_dir():
        shutil.copytree(NOTEBOOKS / "img", src / "notebooks" / "img")
    if DOCS.is_dir():
        shutil.copytree(DOCS, src / "docs", ignore=shutil.ignore_patterns("*.ipynb", ".*"))
    # JSON is YAML: no extra dependency to write the table of contents.
    (src / "_toc.yml").write_text(json.dumps(toc(lectures, guides), indent=1), encoding="utf-8")


# --------------------------------------------------------------------------- links
_LINK = re.compile(r"(?<!!)\[(?P<text>[^\]\n]+)\]\((?P<target>[^)\s]+)\)")
_FENCE = re.compile(r"^(```|~~~).*?^\1", re.MULTILINE | re.DOTALL)


def localise_links(markdown: str, repo_file: Path, src: Path) -> str:
    """Turn links to repository files that are not on the site into plain text.

    A guide may link to `../README.md` or `../source/hw4_mlp/`; on the site such a link would
    point nowhere (and source/ must never be copied there). The link text stays, followed by
    the path in the repository, so the reader knows where to look in the kit.
    """

    def replace(match: re.Match) -> str:
        text, target = match["text"], match["target"]
        if re.match(r"[a-z][a-z0-9+.-]*:", target) or target.startswith("#"):
            return match[0]  # another site, mailto:, or an anchor on this page
        path = unquote(target.split("#")[0])
        in_repo = (repo_file.parent / path).resolve()
        try:
            relative = in_repo.relative_to(ROOT)
        except ValueError:
            return text
        if (src / relative).exists():
            return match[0]
        shown = relative.as_posix() + ("/" if in_repo.is_dir() else "")
        if text.strip("`") in {shown, shown.rstrip("/"), path}:
            return f"`{shown}`"
        return f"{text} (`{shown}` in the kit)"

    parts, last = [], 0
    for fence in _FENCE.finditer(markdown):  # code blocks are left exactly as they are
        parts += [_LINK.sub(replace, markdown[last : fence.start()]), fence[0]]
        last = fence.end()
    parts.append(_LINK.sub(replace, markdown[last:]))
    return "".join(parts)


def localise_staged_links(src: Path, lectures: list[Path]) -> None:
    """Apply `localise_links` to every staged guide and to the lectures' Markdown cells."""
    for page in (src / "docs").glob("*.md") if (src / "docs").is_dir() else []:
        repo_file = DOCS / page.name
        page.write_text(localise_links(page.read_text(encoding="utf-8"), repo_file, src))
    for lecture in lectures:
        staged = src / "notebooks" / lecture.name
        nb = nbformat.read(staged, as_version=4)
        for cell in nb.cells:
            if cell.cell_type == "markdown":
                cell.source = localise_links(cell.source, lecture, src)
        nbformat.write(nb, staged)


# --------------------------------------------------------------------------- execution
def _fingerprint(notebook: Path) -> str:
    """Hash of the notebook and of the helper package it imports (the execution cache key)."""
    digest = hashlib.sha256(notebook.read_bytes())
    for path in sorted((ROOT / "helpers" / "nnhelpers").rglob("*.py")):
        digest.update(path.relative_to(ROOT).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:20]


def execute(notebook: Path, cwd: Path, cache: Path | None) -> tuple[str, float, bool]:
    """Run `notebook` top to bottom in a fresh kernel; write it executed into `cwd`.

    Returns (name, seconds, came_from_cache). A failing cell raises BookError naming it.
    """
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    target = cwd / notebook.name
    cached = cache / f"{notebook.stem}-{_fingerprint(notebook)}.ipynb" if cache else None
    if cached and cached.is_file():
        shutil.copy2(cached, target)
        return notebook.name, 0.0, True
    nb = nbformat.read(notebook, as_version=4)
    start = time.perf_counter()
    client = NotebookClient(
        nb, timeout=CELL_TIMEOUT, kernel_name="python3", resources={"metadata": {"path": str(cwd)}}
    )
    # Figures render inline, as for a student: a non-interactive backend chosen for the calling
    # process (tests set MPLBACKEND=Agg) would leave the pages without figures.
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}
    try:
        client.execute(env=env)
    except CellExecutionError as exc:
        raise BookError(f"{notebook.name} failed while building the site:\n{exc}") from None
    seconds = time.perf_counter() - start
    nbformat.write(nb, target)
    if cached:
        cached.parent.mkdir(parents=True, exist_ok=True)
        for stale in cached.parent.glob(f"{notebook.stem}-*.ipynb"):
            stale.unlink()
        nbformat.write(nb, cached)
    return notebook.name, seconds, False


# --------------------------------------------------------------------------- static widgets
def _png_in_state(state: dict, model_id: str) -> str | None:
    """The PNG (base64) of the first Image widget inside the widget `model_id`, if any."""
    todo, seen = [model_id], set()
    while todo:
        current = todo.pop(0)
        if current in seen or current not in state:
            continue
        seen.add(current)
        model = state[current]
        if model.get("model_name") == "ImageModel":
            for buffer in model.get("buffers", []):
                if buffer.get("path") == ["value"] and buffer.get("encoding") == "base64":
                    return buffer["data"]
            value = model.get("state", {}).get("value")
            if isinstance(value, str) and value:
                return value
        for child in model.get("state", {}).get("children", []):
            if isinstance(child, str) and child.startswith("IPY_MODEL_"):
                todo.append(child.removeprefix("IPY_MODEL_"))
    return None


def freeze_widgets(nb: nbformat.NotebookNode) -> int:
    """Replace every widget view in `nb` by its figure (PNG) and a note; return how many.

    The course's SliderFigure puts the PNG beside the widget view in the same output; other
    widgets are looked up in the saved widget state. The widget state itself is dropped, so
    no page asks for a widget manager.
    """
    state = nb.metadata.get("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
    frozen = 0
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        outputs = []
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if WIDGET_VIEW not in data:
                outputs.append(output)
                continue
            output = copy.deepcopy(output)
            view = output["data"].pop(WIDGET_VIEW)
            png = output["data"].get("image/png") or _png_in_state(state, view.get("model_id"))
            if png:
                output["data"]["image/png"] = png
                output["data"].pop("text/plain", None)
                outputs.append(output)
            outputs.append(nbformat.v4.new_output("display_data", data={"text/html": STATIC_NOTE}))
            frozen += 1
        cell.outputs = outputs
    nb.metadata.pop("widgets", None)
    return frozen


# --------------------------------------------------------------------------- MathJax
def _npm_assets() -> Path:
    """book/node_modules/mathjax at the version pinned in book/package-lock.json (npm ci)."""
    lock = json.loads((BOOK / "package-lock.json").read_text())
    wanted = lock["packages"]["node_modules/mathjax"]["version"]
    package = BOOK / "node_modules" / "mathjax"
    manifest = package / "package.json"
    if manifest.is_file() and json.loads(manifest.read_text()).get("version") == wanted:
        return package
    npm = shutil.which("npm")
    if npm is None:
        raise BookError(
            "npm is not installed: the site serves MathJax from the npm package `mathjax`. "
            "Install Node.js and npm (Debian: apt-get install npm; .ci/run does it)."
        )
    run = subprocess.run(
        [npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts"],
        cwd=BOOK,
        capture_output=True,
        text=True,
    )
    if run.returncode != 0 or not manifest.is_file():
        raise BookError(f"`npm ci` in book/ failed:\n{run.stdout}{run.stderr}")
    return package


def vendor_mathjax(static: Path) -> Path:
    """Copy MathJax into `static`/mathjax (a build product, never committed)."""
    package = _npm_assets()
    target = static / "mathjax"
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    for part in MATHJAX_PARTS:
        source = package / "es5" / part
        if source.is_dir():
            shutil.copytree(source, target / part)
        else:
            shutil.copy2(source, target / part)
    shutil.copy2(package / "LICENSE", target / "LICENSE")
    return target


# --------------------------------------------------------------------------- offline check
# Attributes that make a browser fetch something as soon as the page loads, and CSS url()s.
_FETCHING = re.compile(
    r"""<(?:script|img|iframe|source|video|audio|embed)\b[^>]*?\ssrc\s*=\s*["']?((?:https?:)?//[^"'\s>]+)"""
    r"""|<link\b[^>]*?\shref\s*=\s*["']?((?:https?:)?//[^"'\s>]+)"""
    r"""|url\(\s*["']?((?:https?:)?//[^"')\s]+)""",
    re.IGNORECASE,
)


def external_fetches(html_dir: Path) -> list[str]:
    """'file: URL' for every resource a page or stylesheet would fetch from another host.

    Plain links (<a href>) to other sites are allowed: they load nothing by themselves.
    """
    found = []
    for path in sorted(html_dir.rglob("*")):
        if path.suffix not in {".html", ".css"} or "mathjax" in path.parts:
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        for match in _FETCHING.finditer(text):
            url = next(g for g in match.groups() if g)
            found.append(f"{path.relative_to(html_dir)}: {url}")
    return found


# --------------------------------------------------------------------------- the build
def build(
    build_dir: Path = DEFAULT_BUILD,
    *,
    jobs: int = 2,
    cache: Path | None = CACHE,
    executed: dict[str, nbformat.NotebookNode] | None = None,
) -> BuildResult:
    """Stage, execute, freeze widgets and build the site; return where it is and the timings.

    `executed` maps lecture file names to notebooks already run top to bottom in a fresh kernel
    (the test suite runs each lecture once and shares it); the others are executed here.
    """
    executed = executed or {}
    timings: dict[str, float] = {}
    lectures, guides = lecture_notebooks(), guide_pages()
    if not lectures:
        raise BookError(f"no lecture notebooks match {NOTEBOOKS / LECTURE_GLOB}")
    src = build_dir / "src"
    start = time.perf_counter()
    stage(src, lectures, guides)
    vendor_mathjax(src / "_vendor")
    timings["stage"] = time.perf_counter() - start

    start = time.perf_counter()
    cwd = src / "notebooks"
    for name, nb in executed.items():
        nbformat.write(nb, cwd / name)
    todo = [p for p in lectures if p.name not in executed]
    with ProcessPoolExecutor(max_workers=max(1, jobs)) as pool:
        runs = list(pool.map(execute, todo, [cwd] * len(todo), [cache] * len(todo)))
    for name, seconds, cached in runs:
        print(f"  {name}: {'cached' if cached else f'{seconds:.1f} s'}", flush=True)
    timings["execute"] = time.perf_counter() - start

    frozen = {}
    for lecture in lectures:
        path = cwd / lecture.name
        nb = nbformat.read(path, as_version=4)
        frozen[lecture.name] = freeze_widgets(nb)
        nbformat.write(nb, path)
    localise_staged_links(src, lectures)

    start = time.perf_counter()
    html = sphinx_build(src, build_dir)
    timings["sphinx"] = time.perf_counter() - start
    warnings = _warnings(build_dir / "sphinx.log")
    fetches = external_fetches(html)
    if fetches:
        raise BookError(
            "the site would fetch files from other hosts (it must work offline):\n  "
            + "\n  ".join(fetches[:20])
        )
    return BuildResult(
        html, [p.name for p in lectures], [p.name for p in guides], frozen, timings, warnings
    )


def sphinx_build(src: Path, build_dir: Path) -> Path:
    """`jupyter-book build` of the staged sources; the HTML folder it wrote."""
    jupyter_book = Path(sys.executable).with_name("jupyter-book")
    command = [str(jupyter_book) if jupyter_book.exists() else "jupyter-book"]
    out = build_dir / "site"
    if out.exists():
        shutil.rmtree(out)
    command += ["build", str(src), "--path-output", str(out), "--builder", "html"]
    env = {**os.environ, "PYDEVD_DISABLE_FILE_VALIDATION": "1"}
    run = subprocess.run(command, capture_output=True, text=True, env=env)
    (build_dir / "sphinx.log").write_text(run.stdout + run.stderr, encoding="utf-8")
    html = out / "_build" / "html"
    if run.returncode != 0 or not (html / "index.html").is_file():
        raise BookError(
            f"jupyter-book build failed (log: {build_dir / 'sphinx.log'}):\n"
            + (run.stdout + run.stderr)[-3000:]
        )
    return html


def _warnings(log: Path) -> list[str]:
    """Sphinx's WARNING lines (unresolved links in the docs, for example)."""
    text = log.read_text(encoding="utf-8") if log.is_file() else ""
    return [line for line in text.splitlines() if "WARNING" in line]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build-dir", type=Path, default=DEFAULT_BUILD)
    parser.add_argument("--jobs", type=int, default=2, help="lectures executed at once")
    parser.add_argument("--no-cache", action="store_true", help="execute every lecture again")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    try:
        result = build(args.build_dir, jobs=args.jobs, cache=None if args.no_cache else CACHE)
    except BookError as exc:
        print(f"make book: {exc}", file=sys.stderr)
        return 1
    for line in result.warnings:
        print(f"  {line}")
    steps = ", ".join(f"{k} {v:.1f} s" for k, v in result.timings.items())
    print(f"site built in {time.perf_counter() - start:.1f} s ({steps}): {result.html}/index.html")
    print(f"  view it: python3 -m http.server -d {result.html} 8000 --bind 127.0.0.1")
    return 0


if __name__ == "__main__":
    sys.exit(main())
