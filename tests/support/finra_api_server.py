"""A fake FINRA Query API on 127.0.0.1 serving a FinraReplayClient-layout folder with real paging semantics.

POST ``/data/group/otcMarket/name/<dataset>`` with EQUAL ``compareFilters`` answers the partition's records
``offset``..``offset+limit`` (limit capped at ``max_limit``) with ``Record-Total``, ``Record-Offset``,
``Record-Limit`` and ``Total-Records-On-Page`` headers, gzip-encoded like FINRA; no records → 204.
``GET /partitions/group/otcMarket/name/<dataset>`` lists the partitions. Faults are scripted per request:
canned error replies, a Record-Total that changes after some pages, short pages, corrupt gzip, redirect loops,
replies cut off mid-body (connection reset), stalls past the client's read timeout, faults at one page offset.
"""

from __future__ import annotations

import gzip
import json
import socket
import struct
import threading
import time
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from dagster_project.sources.finra_api import REPLAY_ALIASES
from support.replay_server import Fault


class FinraApiServer:
    def __init__(self, root: Path, max_limit: int = 5000):
        self.folder = Path(root) / "finra_api"
        self.max_limit = max_limit
        self.requests: list[dict] = []
        self.faults: deque[Fault] = deque()
        self.total_changes: deque[int] = deque()   # Record-Total deltas applied to successive data replies
        self.short_page_offsets: set[int] = set()  # pages that hold one record fewer than their header says
        self.corrupt_gzip: str | None = None   # "middle" (bad deflate data) or "tail" (truncated stream)
        self.redirect_loop = False
        self.resets = 0          # the next N data replies are cut off mid-body by a TCP reset
        self.stalls = 0          # the next N data requests sleep ``stall_seconds`` before answering
        self.stall_seconds = 0.0
        self.offset_faults: dict[int, deque[Fault]] = {}  # canned replies for requests at one page offset
        self._httpd: ThreadingHTTPServer | None = None
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def records(self, dataset: str, filters: dict[str, str]) -> list[dict]:
        pdir = self.folder / REPLAY_ALIASES.get(dataset, dataset)
        for key, value in sorted(filters.items()):
            pdir = pdir / f"{key}={value}"
        out = []
        for page in sorted(pdir.glob("page-*.json")):
            out.extend(json.loads(page.read_bytes()))
        return out

    def start(self) -> "FinraApiServer":
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                server.requests.append({"path": self.path, "body": body, "headers": dict(self.headers)})
                with server._lock:
                    fault = server.faults.popleft() if server.faults else None
                if fault is not None:
                    return self._send(fault.status, fault.body, fault.headers)
                if server.redirect_loop:
                    return self._send(302, b"", {"Location": self.path})
                with server._lock:
                    at_offset = server.offset_faults.get(int(body.get("offset", 0)))
                    fault = at_offset.popleft() if at_offset else None
                    stall = server.stalls > 0
                    server.stalls -= stall
                    reset = server.resets > 0
                    server.resets -= reset
                if fault is not None:
                    return self._send(fault.status, fault.body, fault.headers)
                if stall:
                    time.sleep(server.stall_seconds)
                dataset = self.path.rstrip("/").rsplit("/", 1)[-1]
                filters = {f["fieldName"]: f["fieldValue"] for f in body.get("compareFilters", [])
                           if f.get("compareType") == "EQUAL"}
                records = server.records(dataset, filters)
                if not records:
                    return self._send(204, b"", {})
                offset, limit = int(body.get("offset", 0)), min(int(body.get("limit", 1000)), server.max_limit)
                page = records[offset:offset + limit]
                promised = len(page)
                if offset in server.short_page_offsets:
                    page = page[:-1]
                total = len(records)
                with server._lock:
                    if server.total_changes:
                        total += server.total_changes.popleft()
                payload = gzip.compress(json.dumps(page).encode())
                if server.corrupt_gzip == "middle":
                    middle = len(payload) // 2
                    payload = payload[:middle] + bytes(b ^ 0xFF for b in payload[middle:middle + 64]) + payload[middle + 64:]
                elif server.corrupt_gzip == "tail":
                    payload = payload[:-12] + b"\x00" * 12
                if reset:
                    return self._reset_mid_body(payload, total)
                return self._send(200, payload, {
                    "Content-Type": "application/json", "Content-Encoding": "gzip", "Record-Total": str(total),
                    "Record-Offset": str(offset), "Record-Limit": str(limit), "Record-Max-Limit": str(server.max_limit),
                    "Total-Records-On-Page": str(promised)})

            def do_GET(self):  # noqa: N802
                server.requests.append({"path": self.path, "headers": dict(self.headers)})
                if server.redirect_loop:
                    return self._send(302, b"", {"Location": self.path})
                dataset = self.path.rstrip("/").rsplit("/", 1)[-1]
                root = server.folder / REPLAY_ALIASES.get(dataset, dataset)
                dirs = sorted({f.parent for f in root.glob("**/response.json")}, reverse=True)
                fields = [p.split("=", 1)[0] for p in dirs[0].relative_to(root).parts] if dirs else []
                parts = [[p.split("=", 1)[1] for p in d.relative_to(root).parts] for d in dirs]
                body = json.dumps({"datasetGroup": "otcMarket", "datasetName": dataset, "partitionFields": fields,
                                   "availablePartitions": [{"partitions": p} for p in parts]}).encode()
                return self._send(200, body, {"Content-Type": "application/json"})

            def _reset_mid_body(self, payload, total):
                """Promise the whole body, send half of it, then abort the connection with a TCP RST."""
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Encoding", "gzip")
                self.send_header("Record-Total", str(total))
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload[: len(payload) // 2])
                self.wfile.flush()
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                self.close_connection = True
                self.connection.close()

            def _send(self, status, payload, headers):
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                try:
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up on purpose (timeouts, resets): nothing to report

            def log_message(self, *args):
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> "FinraApiServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
