"""The one module that opens the DuckDB warehouse.

* One writer at a time: every read-write use holds an exclusive file lock (``.writer.lock``) for its
  whole duration, across processes, so concurrent runs queue instead of failing on DuckDB's lock.
* BI never opens the pipeline's file: after each successful build the warehouse is copied to
  ``warehouse/bi/dealerflow.duckdb`` under a temporary name and renamed into place. Readers holding
  the old snapshot keep it; new readers see the new one; a half-built mart is never visible.
* Files are written in DuckDB storage format ``v1.4.0`` so 1.x clients (BI tools embed older
  DuckDB builds) can open them.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Iterator

import duckdb
from filelock import FileLock

from dagster_project.settings import Paths, paths

STORAGE_VERSION = "v1.4.0"
LOCK_TIMEOUT_SECONDS = float(os.environ.get("DEALERFLOW_WAREHOUSE_LOCK_TIMEOUT", 6 * 3600))


def _config(writer: bool) -> dict:
    """DuckDB settings of every dealerflow connection. DuckDB's default memory limit is 80% of RAM; copying a
    multi-year warehouse to the BI snapshot with it grew the run's process to 20 GB (killed by the kernel), so the
    limit is the one dbt uses (dbt/profiles.yml), and DuckDB spills beyond it."""
    config = {"memory_limit": os.environ.get("DEALERFLOW_DUCKDB_MEMORY_LIMIT", "3GB")}
    if writer:
        config["storage_compatibility_version"] = STORAGE_VERSION
    return config


def writer_lock(p: Paths | None = None, timeout: float | None = None) -> FileLock:
    """The cross-process lock every warehouse writer (Python or dbt) holds while it writes."""
    p = p or paths()
    p.warehouse_lock.parent.mkdir(parents=True, exist_ok=True)
    return FileLock(str(p.warehouse_lock), timeout=LOCK_TIMEOUT_SECONDS if timeout is None else timeout)


@contextlib.contextmanager
def connect(read_only: bool = False, p: Paths | None = None, lock: bool = True) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open the pipeline's warehouse; writers take the writer lock first (``lock=False`` when the
    caller already holds it). Always closed, even on error."""
    p = p or paths()
    p.warehouse.parent.mkdir(parents=True, exist_ok=True)
    lock = contextlib.nullcontext() if read_only or not lock else writer_lock(p)
    with lock:
        con = duckdb.connect(str(p.warehouse), read_only=read_only, config=_config(writer=not read_only))
        try:
            yield con
        finally:
            con.close()


@contextlib.contextmanager
def connect_snapshot(p: Paths | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
    """Read-only connection to the published BI snapshot (what reports and BI tools read)."""
    p = p or paths()
    con = duckdb.connect(str(p.bi_snapshot), read_only=True, config=_config(writer=False))
    try:
        yield con
    finally:
        con.close()


def publish_snapshot(p: Paths | None = None) -> Path:
    """Copy the warehouse to the BI path atomically. Call while holding the writer lock, after a good build.

    The warehouse is written in the BI storage version (STORAGE_VERSION), so after a checkpoint its file IS a valid
    snapshot and is copied byte for byte (0.5 s for a 208-week warehouse, against 7 s for re-writing it with
    COPY FROM DATABASE, which only a warehouse in another storage version still needs)."""
    import shutil

    p = p or paths()
    target = p.bi_snapshot
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    # Only the writer-lock holder publishes, so any other temporary copy is from a run that was killed mid-publish.
    for leftover in target.parent.glob(f".{target.name}.*.tmp*"):
        leftover.unlink(missing_ok=True)
    con = duckdb.connect(str(p.warehouse), config=_config(writer=True))
    try:
        tags = con.execute("select tags from duckdb_databases() where database_name = current_database()").fetchone()[0]
        same_format = (tags or {}).get("storage_version", "").startswith(STORAGE_VERSION)
        if same_format:
            con.execute("CHECKPOINT")  # everything in the main file, nothing left in the WAL
        else:
            con.execute(f"ATTACH '{_sql_path(tmp)}' AS bi_snapshot (STORAGE_VERSION '{STORAGE_VERSION}')")
            current = con.execute("select current_database()").fetchone()[0]
            con.execute(f'COPY FROM DATABASE "{current}" TO bi_snapshot')
            con.execute("DETACH bi_snapshot")
    finally:
        con.close()
    if same_format:
        shutil.copyfile(p.warehouse, tmp)
    with open(tmp, "rb") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, target)
    return target


def _sql_path(path: Path) -> str:
    return str(path).replace("'", "''")
