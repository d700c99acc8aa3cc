"""The Dagster instance under the dealerflow home: telemetry off, one warehouse writer at a time."""

from __future__ import annotations

import os
import socket

from dagster_project.settings import Paths

#: Tag of every run dealerflow executes in process: the ``host:pid`` executing it, so a crashed run is recognisable.
RUNNER_TAG = "dealerflow/runner"

DAGSTER_YAML = """\
# Written by dealerflow (dagster_project/instance.py). Edits are overwritten.
telemetry:
  enabled: false
concurrency:
  runs:
    max_concurrent_runs: 4
    # DuckDB has a single writer: runs that write the warehouse queue behind each other.
    tag_concurrency_limits:
      - key: dealerflow/warehouse
        value: duckdb
        limit: 1
  pools:
    default_limit: 1
# Asset freshness policies (dagster_project/freshness.py) are evaluated and shown in the UI.
freshness:
  enabled: true
"""


def prepare_dagster_home(p: Paths) -> str:
    """Create ``DAGSTER_HOME`` with dealerflow's dagster.yaml and point the environment at it."""
    p.dagster_home.mkdir(parents=True, exist_ok=True)
    config = p.dagster_home / "dagster.yaml"
    if not config.is_file() or config.read_text() != DAGSTER_YAML:
        config.write_text(DAGSTER_YAML)
    os.environ["DAGSTER_HOME"] = str(p.dagster_home)
    os.environ.setdefault("DAGSTER_DISABLE_TELEMETRY", "1")
    _create_storages_once(p)
    return str(p.dagster_home)


def _create_storages_once(p: Paths) -> None:
    """Create the instance's SQLite storages in one process: two dealerflow commands started together on a new home
    both creating them fail one of them ("table alembic_version already exists")."""
    import dagster as dg
    from filelock import FileLock

    created = p.dagster_home / ".storages-created"
    if created.is_file():
        return
    with FileLock(str(p.dagster_home / ".storages.lock")):
        if not created.is_file():
            with dg.DagsterInstance.get():  # opening the instance creates and stamps its storages
                pass
            created.touch()


def sqlite_commits_without_fsync() -> None:
    """Let Dagster's SQLite run and event storage commit without an fsync per event (``synchronous=NORMAL``).

    Dagster writes every event (each dbt model and test is several) in its own transaction; with SQLite's default
    ``synchronous=FULL`` each one waits for the disk, 30-60 ms here, which made Dagster's bookkeeping the largest
    cost of a one-partition run. In WAL mode (Dagster's storages use it) NORMAL cannot corrupt the database; a power
    loss may only drop the newest events of a run log. The lake and the warehouse keep their own fsyncs. Applies to
    SQLite connections opened by SQLAlchemy in this process; other databases are untouched."""
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    if event.contains(Engine, "connect", _sqlite_synchronous_normal):
        return
    event.listen(Engine, "connect", _sqlite_synchronous_normal)


def _sqlite_synchronous_normal(dbapi_connection, _record) -> None:
    import sqlite3

    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        try:
            if cursor.execute("PRAGMA journal_mode").fetchone()[0].lower() == "wal":
                cursor.execute("PRAGMA synchronous=NORMAL")
        finally:
            cursor.close()


def runner_tags() -> dict[str, str]:
    """Tags for a run this process executes in process (see :func:`reclaim_crashed_runs`)."""
    return {RUNNER_TAG: f"{socket.gethostname()}:{os.getpid()}"}


def reclaim_crashed_runs(instance) -> list[str]:
    """Fail the in-process runs whose process is gone (SIGKILL, OOM, power loss) and free their pool slots.

    Without this a killed run keeps its ``warehouse`` concurrency-pool slot forever and every later run waits
    for it silently. Only runs tagged by a dead process on this host are touched (the daemon handles its own).
    """
    import dagster as dg
    from dagster._core.storage.dagster_run import IN_PROGRESS_RUN_STATUSES

    host = socket.gethostname()
    reclaimed = []
    for run in instance.get_runs(filters=dg.RunsFilter(statuses=list(IN_PROGRESS_RUN_STATUSES))):
        owner_host, _, pid = run.tags.get(RUNNER_TAG, "").rpartition(":")
        if owner_host != host or not pid.isdigit() or _alive(int(pid)):
            continue
        instance.report_run_failed(run, f"the process that executed this run ({owner_host}:{pid}) is gone; "
                                        "marked failed and its concurrency slots freed by the next dealerflow run")
        reclaimed.append(run.run_id)
    storage = instance.event_log_storage
    for run_id in storage.get_concurrency_run_ids():
        run = instance.get_run_by_id(run_id)
        if run is None or run.is_finished:
            storage.free_concurrency_slots_for_run(run_id)
    return reclaimed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
