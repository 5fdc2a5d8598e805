"""A local HTTP server on 127.0.0.1 for download tests: serves bytes, 404s, slow or cut answers.

Routes map a URL path to a `Route`; anything else is a 404. Every request path is recorded in
`server.requests`, so tests can tell whether a download happened.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Route:
    """What to answer: `body`, after `delay` seconds, cut after `cut_at` bytes if set."""

    body: bytes
    delay: float = 0.0
    cut_at: int | None = None  # announce len(body) in Content-Length, then close early


class LocalServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.routes: dict[str, Route] = {}
        self.requests: list[str] = []
        self.stopping = threading.Event()
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def serve(self, prefix: str, files: dict[str, bytes], **route) -> str:
        """Serve `files` under /prefix/ with the same behaviour; return the base URL."""
        for name, body in files.items():
            self.routes[f"/{prefix}/{name}"] = Route(body, **route)
        return f"{self.url}/{prefix}/"

    def record(self, path: str) -> None:
        with self._lock:
            self.requests.append(path)


class _Handler(BaseHTTPRequestHandler):
    server: LocalServer

    def do_GET(self) -> None:  # noqa: N802 (the name http.server expects)
        self.server.record(self.path)
        route = self.server.routes.get(self.path)
        if route is None:
            self.send_error(404, "Not Found")
            return
        if route.delay and self.server.stopping.wait(route.delay):
            return  # the test is over: give up quietly
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(route.body)))
        self.end_headers()
        body = route.body if route.cut_at is None else route.body[: route.cut_at]
        try:
            self.wfile.write(body)
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            return
        if route.cut_at is not None:
            self.close_connection = True

    def log_message(self, format: str, *args) -> None:  # noqa: A002 (signature of the base)
        pass  # keep the test output clean


def start_server() -> LocalServer:
    """Start a LocalServer in a daemon thread; call `stop_server` when done."""
    server = LocalServer()
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    return server


def stop_server(server: LocalServer) -> None:
    server.stopping.set()
    server.shutdown()
    server.server_close()
