"""Crash safety: SIGKILL a run while it lands, while dbt writes and while the BI snapshot is published; rerun;
the mart exports are byte-identical to an undisturbed run's, and the lake holds exactly one version per partition.

The kill points are found by watching the home folder (no test hook in the pipeline): the first lake version
appearing, DuckDB's write-ahead log of the pipeline's warehouse appearing (dbt is writing), and the publish's
temporary snapshot copy appearing. The whole process group is killed, as a container or machine crash would.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from dagster_project.lake import Lake
from dagster_project.settings import Paths
from reliability_support import DEALERFLOW, W1, HomeSnapshot, backfill_args, export_marts, finra_partition

# One xdist group with the other end-to-end module (the clean reference run is then built once; `built_once` keeps
# it to once per worker if the scheduler splits the group).
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("reliability_e2e")]


def kill_when(args: list[str], home: Path, reached, what: str, timeout: float = 240, attempts: int = 1) -> None:
    """Start ``dealerflow <args>`` and SIGKILL its whole process group as soon as ``reached()`` is true.

    A stage lasting only milliseconds (publishing a small snapshot is a file copy) can end between two looks: a run
    that succeeded without the stage being seen is started again, up to ``attempts`` runs."""
    env = {**os.environ, "DEALERFLOW_HOME": str(home), "DEALERFLOW_LOG_LEVEL": "WARNING"}
    log = home.parent / f"killed-{time.monotonic_ns()}.log"  # a file, not a pipe: a full pipe would stall the run
    with open(log, "wb") as out:
        proc = subprocess.Popen([DEALERFLOW, *args], env=env, stdout=out, stderr=out, start_new_session=True)
    deadline = time.monotonic() + timeout
    try:
        while not reached():
            if proc.poll() is not None:
                if proc.returncode == 0 and attempts > 1:
                    return kill_when(args, home, reached, what, timeout, attempts - 1)
                pytest.fail(f"the run ended (exit {proc.returncode}) before it was {what}: {log.read_text()[-2000:]}")
            if time.monotonic() > deadline:
                pytest.fail(f"the run was never {what}")
            time.sleep(0.002)
        os.killpg(proc.pid, signal.SIGKILL)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL, f"expected a SIGKILL while {what}, got exit {proc.returncode}"


def test_sigkill_at_any_stage_then_rerun_gives_the_clean_marts(tmp_path, weekly_replay, clean_home):
    home = tmp_path / "home"
    p = Paths(home)
    args = backfill_args(weekly_replay)

    # 1. killed while landing: at most part of the partitions have versions, maybe a .tmp-* folder
    kill_when(args, home, lambda: any(p.lake.glob("finra_weekly/*/*/*/v=*")), "landing into the lake")
    # 2. killed while dbt writes the pipeline's warehouse
    kill_when(args, home, lambda: p.warehouse.with_name(p.warehouse.name + ".wal").exists(), "building with dbt")
    # 3. killed while the BI snapshot is being copied
    kill_when(args, home, lambda: any(p.bi_snapshot.parent.glob(f".{p.bi_snapshot.name}.*.tmp")),
              "publishing the BI snapshot", attempts=5)

    # what the crashes left behind must not matter: the writer lock file, a half-written version folder
    assert p.warehouse_lock.exists(), "expected the killed writer's lock file to be left behind"
    w1 = Lake(p.lake).partition_dir("finra_weekly", {"week": W1.isoformat(), "tier": "T1", "kind": "ATS"})
    half_written = w1 / ".tmp-20991231T000000000000Z-999999"
    (half_written / "payload").mkdir(parents=True)
    (half_written / "data.parquet").write_bytes(b"PAR1 half written")

    started = time.monotonic()
    result = subprocess.run([DEALERFLOW, *args], env={**os.environ, "DEALERFLOW_HOME": str(home)},
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "lock" not in result.stderr.lower(), result.stderr[-2000:]
    print(f"rerun after three crashes took {time.monotonic() - started:.1f}s")

    # byte-identical mart exports, and the same landed content (one version per partition, same rows and hashes)
    clean, crashed = export_marts(Paths(clean_home).bi_snapshot), export_marts(p.bi_snapshot)
    assert clean and set(crashed) == set(clean)
    for table in clean:
        assert crashed[table] == clean[table], f"marts.{table} differs from the clean run"
    by_partition = lambda snap: {k.rsplit("/v=", 1)[0]: (v.rows, v.content_hash) for k, v in snap.versions.items()}  # noqa: E731
    clean_lake, crashed_lake = HomeSnapshot.of(clean_home), HomeSnapshot.of(home)
    assert by_partition(crashed_lake) == by_partition(clean_lake)
    assert len(crashed_lake.versions) == len(clean_lake.versions) == 4
    assert finra_partition(W1, "T1", "ATS") in by_partition(crashed_lake)
    assert half_written.exists() and len(Lake(p.lake).versions("finra_weekly", {"week": W1.isoformat(), "tier": "T1",
                                                                                  "kind": "ATS"})) == 1
    assert not list(p.bi_snapshot.parent.glob(".*.tmp*")), "a killed publish left its temporary copy behind"
