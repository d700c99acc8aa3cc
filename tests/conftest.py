"""Suite-wide fixtures. Helpers live in ``tests/support`` (importable as ``support.*``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from support.realdata import realdata_path
from support.replay_server import ReplayServer


@pytest.fixture
def realdata_file():
    """``realdata_file(*parts)`` -> path of a real upstream file; skips with the reason when absent."""
    return realdata_path


@pytest.fixture
def replay_http():
    """Factory ``replay_http(root, source)`` -> started :class:`ReplayServer` for ``<root>/<source>``."""
    servers: list[ReplayServer] = []

    def start(root: Path, source: str) -> ReplayServer:
        server = ReplayServer.for_source(root, source)
        server.start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()
