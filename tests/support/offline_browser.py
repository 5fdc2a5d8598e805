"""Headless Debian Chromium with every request outside 127.0.0.1 (and file:) blocked.

A page that renders correctly here does so offline: nothing it asked for from another host was
delivered. Each blocked URL is recorded, so a test can also assert that the page asked for
none (a page that works only because a fallback hid a failed CDN load is caught too).
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest

CHROMIUM = Path("/usr/bin/chromium")
PAGE_TIMEOUT_MS = 180_000  # every wait of a page, unless the call names its own
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]  # every browser test launches Debian's Chromium with these
SECOND = 1000  # Playwright counts milliseconds
ARTEFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"  # screenshots (gitignored)
needs_chromium = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="needs Debian's chromium at /usr/bin/chromium "
    "(apt-get install chromium; .ci/run installs it)",
)
LOCAL_HOSTS = {"127.0.0.1"}
LOCAL_SCHEMES = {"file", "data", "blob", "about"}


def is_local(url: str) -> bool:
    """True for file:, data:, blob:, about: URLs and http(s) URLs on 127.0.0.1."""
    parts = urlsplit(url)
    return parts.scheme in LOCAL_SCHEMES or parts.hostname in LOCAL_HOSTS


@dataclass
class OfflineBrowser:
    """A Playwright browser context whose outside requests fail; `.blocked` lists them."""

    context: object
    blocked: list[str] = field(default_factory=list)

    def new_page(self):
        return self.context.new_page()


@contextlib.contextmanager
def offline_browser(viewport=(1280, 900)) -> Iterator[OfflineBrowser]:
    """Chromium (Playwright) with all non-local requests aborted and recorded."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]})
        # Generous (Playwright's default is 30 s): on a loaded machine, with tests in parallel,
        # a page full of maths can take longer to load and settle; nothing here is timed.
        context.set_default_timeout(PAGE_TIMEOUT_MS)
        offline = OfflineBrowser(context)

        def guard(route):
            url = route.request.url
            if is_local(url):
                route.continue_()
            else:
                offline.blocked.append(url)
                route.abort("internetdisconnected")

        context.route("**/*", guard)
        try:
            yield offline
        finally:
            context.close()
            browser.close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 (the base class's name)
        pass


@contextlib.contextmanager
def static_server(folder: Path) -> Iterator[str]:
    """Serve `folder` on 127.0.0.1 (a free port) in a thread; yields the base URL."""
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
