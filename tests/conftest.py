"""Suite-wide fixtures. Helpers live in ``tests/support`` (importable as ``support.*``)."""

from __future__ import annotations

import os
from pathlib import Path

import subprocess
import sys

import pytest
from filelock import FileLock

from support.realdata import realdata_path
from support.replay_server import ReplayServer


DBT_DIR = Path(__file__).resolve().parents[1] / "dbt"

# Tests land tiny partitions, where starting landing worker processes costs more than it saves (and pytest-xdist
# already uses every core): FINRA weekly lands in process unless a test asks for workers (tests/finra_weekly/
# test_parallel_landing.py does).
os.environ.setdefault("DEALERFLOW_LANDING_WORKERS", "1")


@pytest.fixture(scope="session", autouse=True)
def dbt_manifest():
    """dagster-dbt needs dbt's manifest; `make test` parses first, a bare `pytest` parses here (once, locked)."""
    manifest = DBT_DIR / "target" / "manifest.json"
    with FileLock(str(DBT_DIR / ".parse.lock")):
        if not manifest.is_file():
            subprocess.run([str(Path(sys.executable).parent / "dbt"), "parse", "--quiet", "--profiles-dir", ".",
                            "--project-dir", "."], cwd=DBT_DIR, check=True)
    return manifest


@pytest.fixture(autouse=True)
def no_stale_dagster_state_storage():
    """A Dagster instance entered in one test can leave its defs-state storage in a ContextVar after the instance
    is gone; the next test resolving definitions would then hit a dead weakref. Each test starts without it."""
    from dagster._core.storage.defs_state.base import _current_storage

    _current_storage.set(None)
    yield


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
