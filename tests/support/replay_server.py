"""A threaded ``http.server`` on 127.0.0.1 that serves a replay folder like the upstream host.

A GET's path and query map to the replay file name with
:func:`~dagster_project.sources.transport.replay_relpath` (the same mapping the ReplayFetcher uses),
so one folder written by a synthetic source or a recording serves both. Missing files answer 404.
Faults can be queued per file (or for any request) to exercise retries: e.g. ``500`` then ``200``,
or ``429`` with ``Retry-After``.

    with ReplayServer.for_source(root, "CBOE") as server:
        server.fail("api/global/delayed_quotes/options/_SPX.json", Fault(500), Fault.too_many(retry_after=1))
        fetcher = HttpFetcher("CBOE", "ua", base_url=server.url)
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

from dagster_project.errors import SourceError
from dagster_project.sources.transport import replay_relpath

ANY = "*"


@dataclass(frozen=True)
class Fault:
    """One canned error reply, consumed by one request."""

    status: int
    headers: dict = field(default_factory=dict)
    body: bytes = b"injected fault"

    @classmethod
    def too_many(cls, retry_after: int | str = 1) -> "Fault":
        return cls(429, {"Retry-After": str(retry_after)}, b"slow down")


class ReplayServer:
    """Serves ``folder`` (one source's replay folder, e.g. ``<root>/cboe``) on an ephemeral port."""

    def __init__(self, folder: Path, content_type: str = "application/octet-stream"):
        self.folder = Path(folder)
        self.content_type = content_type
        self.requests: list[dict] = []
        self._faults: dict[str, deque[Fault]] = {}
        self._lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None

    @classmethod
    def for_source(cls, root: Path, source: str, **kwargs) -> "ReplayServer":
        return cls(Path(root) / source.lower(), **kwargs)

    # ------------------------------------------------------------------ faults
    def fail(self, relpath: str, *faults: Fault) -> None:
        """Queue ``faults`` for requests of ``relpath`` (the replay file name; ``ANY`` for every request)."""
        with self._lock:
            self._faults.setdefault(relpath, deque()).extend(faults)

    def _next_fault(self, relpath: str) -> Fault | None:
        with self._lock:
            for key in (relpath, ANY):
                queue = self._faults.get(key)
                if queue:
                    return queue.popleft()
        return None

    # ------------------------------------------------------------------ serving
    @property
    def url(self) -> str:
        if self._httpd is None:
            raise RuntimeError("server not started")
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def start(self) -> str:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server API)
                split = urlsplit(self.path)
                params = dict(parse_qsl(split.query, keep_blank_values=True))
                try:
                    rel = replay_relpath(unquote(split.path), params or None)
                except SourceError:
                    return self._reply(400, b"bad path", "text/plain", path=split.path)
                fault = server._next_fault(rel)
                if fault is not None:
                    return self._reply(fault.status, fault.body, "text/plain", fault.headers, path=rel)
                file = server.folder / rel
                if not file.is_file():
                    return self._reply(404, b"not found", "text/plain", path=rel)
                return self._reply(200, file.read_bytes(), server.content_type, path=rel)

            def _reply(self, status, body, ctype, headers=None, *, path):
                server.requests.append({"relpath": path, "status": status, "headers": dict(self.headers)})
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):  # keep test output quiet
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()
        return self.url

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> "ReplayServer":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()
