"""A restatement built while BI reads and another writer holds the warehouse.

One scenario, run once (module fixture), checked by several cases: FINRA restates week W2 (one venue's volume in
one symbol grows, consistently at every grain); the new version lands beside the old; ``dealerflow build`` starts
while another writer holds the warehouse lock (it must queue, then succeed); all along a reader thread opens the
BI snapshot read-only in a loop. Readers must never wait a second, never hit a lock error, and always see either
the whole old build or the whole new one.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
import time
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from dagster_project.lake import Lake
from dagster_project.landing.finra_weekly import land_api_partition
from dagster_project.settings import Paths
from dagster_project.sources.finra_api import FinraReplayClient, write_replay_partition
from dagster_project.warehouse import writer_lock
from reliability_support import DEALERFLOW, W2, HomeSnapshot, assert_preserved, built_once, finra_partition

# One xdist group with the other end-to-end module (the clean reference run is then built once; `built_once` keeps
# it to once per worker if the scheduler splits the group).
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("reliability_e2e")]

DELTA = 1_000_000   # shares added by the restatement
HOLD_SECONDS = 3.0  # how long the other writer keeps the warehouse lock after the build starts


def restate(records: list[dict]) -> tuple[list[dict], str, str]:
    """Add DELTA shares to one ATS venue x symbol row, and to that symbol's and that venue's totals."""
    detail = next(r for r in records if r["summaryTypeCode"] == "ATS_W_SMBL_FIRM")
    symbol, venue = detail["issueSymbolIdentifier"], detail["MPID"]
    out = []
    for r in records:
        r = dict(r)
        grain = r["summaryTypeCode"]
        if (grain == "ATS_W_SMBL_FIRM" and r["issueSymbolIdentifier"] == symbol and r["MPID"] == venue) or \
                (grain == "ATS_W_SMBL" and r["issueSymbolIdentifier"] == symbol) or \
                (grain == "ATS_W_FIRM" and r["MPID"] == venue):
            r["totalWeeklyShareQuantity"] = r["totalWeeklyShareQuantity"] + DELTA
            r["lastUpdateDate"] = "2026-11-16"
        out.append(r)
    return out, symbol, venue


@dataclass
class Read:
    started: float
    seconds: float
    rows: int
    total_shares: Decimal
    all_tiers_total: Decimal
    unbalanced_groups: int


@dataclass
class Scenario:
    home: Path
    before: HomeSnapshot
    after: HomeSnapshot
    reads: list[Read] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    old_total: Decimal = Decimal(0)
    build_started: float = 0.0
    lock_released: float = 0.0
    build_finished: float = 0.0
    build: subprocess.CompletedProcess | None = None
    venue: str = ""


def read_snapshot(path: Path) -> Read:
    started = time.monotonic()
    with duckdb.connect(str(path), read_only=True) as con:
        rows, total = con.execute("select count(*), sum(share_quantity) from marts.venue_share_weekly").fetchone()
        all_tiers = con.execute("select sum(share_quantity) from marts.venue_share_weekly_all_tiers").fetchone()[0]
        unbalanced = con.execute("""select count(*) from (select week_start_date, tier, venue_kind, sum(venue_share) s
                                    from marts.venue_share_weekly group by all) where abs(s - 1) > 1e-9""").fetchone()[0]
    return Read(started, time.monotonic() - started, rows, total, all_tiers, unbalanced)


@pytest.fixture(scope="module")
def scenario(tmp_path_factory, clean_home, weekly_replay) -> Scenario:
    return built_once("restatement", lambda: run_scenario(tmp_path_factory, clean_home, weekly_replay))


def run_scenario(tmp_path_factory, clean_home: Path, weekly_replay: Path) -> Scenario:
    root = tmp_path_factory.mktemp("restatement")
    home = root / "home"
    shutil.copytree(clean_home, home)
    p = Paths(home)

    # FINRA restates W2 Tier 1: land the new version beside the old one
    filters = {"weekStartDate": W2.isoformat(), "tierIdentifier": "T1"}
    records = [r for page in FinraReplayClient(weekly_replay).fetch_partition("weeklySummary", filters).pages
               for r in json.loads(page)]
    restated, _, venue = restate(records)
    write_replay_partition(root / "restated", "weeklySummary", filters, records=restated, page_size=500)
    before = HomeSnapshot.of(home)
    land_api_partition(FinraReplayClient(root / "restated"), Lake(p.lake), W2, "T1", date(2026, 11, 21), "replay")

    result = Scenario(home, before, before, venue=venue)
    result.old_total = read_snapshot(p.bi_snapshot).total_shares
    stop = threading.Event()

    def reader():
        while not stop.is_set():
            try:
                result.reads.append(read_snapshot(p.bi_snapshot))
            except Exception as exc:  # noqa: BLE001 - every failure is a finding
                result.errors.append(f"{type(exc).__name__}: {exc}")
            time.sleep(0.01)

    thread = threading.Thread(target=reader, daemon=True)
    thread.start()
    try:
        with writer_lock(p, timeout=1):  # the killed/finished writers before us left the lock file: it must not block
            result.build_started = time.monotonic()
            proc = subprocess.Popen([DEALERFLOW, "build"], env={**os.environ, "DEALERFLOW_HOME": str(home)},
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            time.sleep(HOLD_SECONDS)
            assert proc.poll() is None, "the second writer did not wait for the lock"
            result.lock_released = time.monotonic()
        out, err = proc.communicate(timeout=300)
        result.build_finished = time.monotonic()
        result.build = subprocess.CompletedProcess(proc.args, proc.returncode, out, err)
        time.sleep(0.2)
    finally:
        stop.set()
        thread.join(timeout=30)
    result.after = HomeSnapshot.of(home)
    return result


def test_a_second_writer_queues_on_the_lock_then_succeeds(scenario):
    build = scenario.build
    assert build.returncode == 0, build.stderr[-3000:]
    assert "Could not set lock" not in build.stderr and "lock" not in build.stderr.lower(), build.stderr[-2000:]
    assert "built all marts; BI snapshot:" in build.stdout
    assert scenario.build_finished > scenario.lock_released


def test_readers_are_never_blocked_and_never_fail(scenario):
    assert not scenario.errors, scenario.errors[:5]
    assert len(scenario.reads) >= 20, f"only {len(scenario.reads)} reads during the build"
    slowest = max(r.seconds for r in scenario.reads)
    assert slowest < 1.0, f"a BI read took {slowest:.2f}s during the build"


def test_readers_see_the_old_or_the_new_build_never_a_mix(scenario):
    new_total = scenario.old_total + DELTA
    states = [(r.total_shares, r.all_tiers_total) for r in scenario.reads]
    assert set(states) <= {(scenario.old_total, scenario.old_total), (new_total, new_total)}, set(states)
    assert all(r.unbalanced_groups == 0 for r in scenario.reads)
    assert len({r.rows for r in scenario.reads}) == 1
    # the old build until the lock was released, the new one at the end
    assert all(r.total_shares == scenario.old_total for r in scenario.reads if r.started < scenario.lock_released)
    assert scenario.reads[-1].total_shares == new_total


def test_the_restatement_lands_beside_the_old_version(scenario):
    partition = finra_partition(W2, "T1", "ATS")
    assert_preserved(scenario.before, scenario.after, new={partition: 1}, marts_may_change=True)
    old, new = Lake(Paths(scenario.home).lake).versions("finra_weekly", {"week": W2.isoformat(), "tier": "T1", "kind": "ATS"})
    assert new.manifest["supersedes"] == old.version_id and new.rows == old.rows


def test_marts_use_the_latest_version_and_the_old_one_stays_queryable(scenario):
    with duckdb.connect(str(Paths(scenario.home).bi_snapshot), read_only=True) as con:
        versions = con.execute("""select version_id, supersedes_version_id from staging.stg_lake__finra_weekly_versions
                                  where week_start_date = ? and tier = 'T1' and venue_kind = 'ATS' order by 1""",
                               [W2]).fetchall()
        assert len(versions) == 2 and versions[1][1] == versions[0][0]
        old_id, new_id = versions[0][0], versions[1][0]
        by_version = dict(con.execute("""select version_id, sum(share_quantity) from staging.stg_finra__weekly_summary
                                         where week_start_date = ? and tier = 'T1' and summary_type_code = 'ATS_W_FIRM'
                                         group by 1""", [W2]).fetchall())
        assert by_version[new_id] - by_version[old_id] == DELTA
        mart = con.execute("""select sum(share_quantity) from marts.venue_share_weekly
                              where week_start_date = ? and tier = 'T1' and venue_kind = 'ATS'""", [W2]).fetchone()[0]
        assert mart == by_version[new_id]
        venue = con.execute("""select share_quantity from marts.venue_share_weekly where week_start_date = ?
                               and tier = 'T1' and venue_kind = 'ATS' and mpid = ?""", [W2, scenario.venue]).fetchone()[0]
        firm_row = con.execute("""select share_quantity from staging.stg_finra__weekly_summary where version_id = ?
                                  and summary_type_code = 'ATS_W_FIRM' and mpid = ?""", [new_id, scenario.venue]).fetchone()
        assert firm_row is None or venue == firm_row[0]
