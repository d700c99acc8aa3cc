"""FINRA weekly end to end: Dagster run → lake → dbt marts → checks → BI snapshot, on replayed upstream pages."""

import json
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest

from dagster_project.errors import DealerflowError
from dagster_project.lake import Lake
from dagster_project.publication_calendar import finra_weekly_due, finra_weekly_latest_due
from dagster_project.runner import run_finra_weekly, run_ids_of
from dagster_project.settings import Paths
from dagster_project.synthetic.finra_weekly import WeeklyConfig, write_weekly

pytestmark = pytest.mark.xdist_group("finra_weekly_e2e")

W1, W2 = date(2026, 9, 7), date(2026, 9, 14)      # every tier published by 2026-10-26
#: The newest week whose Tier 1 is published: its Tier 2 and OTC are due two weeks later, so not yet.
LATEST = finra_weekly_latest_due(date.today(), "T1")
MARTS = ("venue_share_weekly", "venue_share_weekly_all_tiers", "symbol_offexchange_weekly")


def export(p: Paths) -> dict[str, list[tuple]]:
    with duckdb.connect(str(p.bi_snapshot), read_only=True) as con:
        return {m: con.execute(f"select * from marts.{m} order by all").fetchall() for m in MARTS}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("finra_e2e")
    replay = root / "replay"
    write_weekly(replay, W1, W2, config=WeeklyConfig(scale=0.02))
    write_weekly(replay, LATEST, LATEST, config=WeeklyConfig(scale=0.02))
    p = Paths(root / "home")
    run_finra_weekly(W1, W2, ["T1", "T2", "OTCE"], "replay", str(replay), p=p)
    return p, replay


def test_marts_are_built_and_consistent(built):
    p, _ = built
    with duckdb.connect(str(p.bi_snapshot), read_only=True) as con:
        weeks = con.execute("select distinct week_start_date from marts.venue_share_weekly order by 1").fetchall()
        assert [w[0] for w in weeks] == [W1, W2]
        sums = con.execute("""select week_start_date, tier, venue_kind, sum(venue_share) from marts.venue_share_weekly
                              group by all""").fetchall()
        assert len(sums) == 2 * 3 * 2 and all(abs(s[3] - 1) < 1e-9 for s in sums)
        assert con.execute("select bool_and(is_complete), min(tiers_published) from marts.venue_share_weekly_all_tiers").fetchone() == (True, 3)
        # shares are exact decimals that add up to FINRA's per-symbol rows
        total = con.execute("select sum(share_quantity) from marts.venue_share_weekly").fetchone()[0]
        smbl = con.execute("""select sum(share_quantity) from intermediate.int_finra_weekly_current
                              where summary_type_code in ('ATS_W_SMBL', 'OTC_W_SMBL')""").fetchone()[0]
        assert total == smbl and str(con.execute("select typeof(share_quantity) from marts.venue_share_weekly limit 1").fetchone()[0]).startswith("DECIMAL")
        de_minimis = con.execute("""select count(*) from marts.venue_share_weekly where is_de_minimis and firm_crd = 0
                                    and venue_kind = 'OTC'""").fetchone()[0]
        assert de_minimis == 2 * 3
        spy = con.execute("""select ats_fraction, venue_count, top_venue, venue_hhi from marts.symbol_offexchange_weekly
                             where symbol = 'SPY' and week_start_date = ?""", [W2]).fetchone()
        assert 0 < spy[0] < 1 and spy[1] > 10 and spy[2] and 0 < spy[3] < 1


def test_snapshot_opens_in_a_1x_storage_format(built):
    p, _ = built
    with duckdb.connect(str(p.bi_snapshot), read_only=True) as con:
        tags = con.execute("select tags from duckdb_databases() where database_name = current_database()").fetchone()[0]
    assert tags.get("storage_version", "").startswith("v1.4"), tags


def test_rerunning_a_partition_is_idempotent(built):
    p, replay = built
    before = export(p)
    run_finra_weekly(W1, W1, ["T1"], "replay", str(replay), p=p)
    assert export(p) == before
    assert len(Lake(p.lake).versions("finra_weekly", {"week": W1.isoformat(), "tier": "T1", "kind": "ATS"})) == 1


def test_a_partition_run_reaches_dbt_with_its_window_and_keeps_the_parse(built):
    """A one-partition run (W2 x T2 again: idempotent) builds only its window, passed in the environment (not
    --vars), and re-uses the home's saved dbt parse instead of re-parsing the project."""
    p, replay = built
    [run_id] = run_ids_of(run_finra_weekly(W2, W2, ["T2"], "replay", str(replay), p=p))
    target = p.home / "dbt" / "target" / f"{run_id[:8]}-finra_weekly_dbt"
    results = json.loads((target / "run_results.json").read_text())
    code = next(r["compiled_code"] for r in results["results"] if r["unique_id"].endswith(".venue_share_weekly"))
    assert f"week_start_date >= date '{W2}'" in code and f"week_start_date < date '{W2 + timedelta(days=7)}'" in code
    assert "tier in ('T2')" in code
    log = (target / "dbt.log").read_text()
    assert "Unable to do partial parsing" not in log and "Partial parsing enabled" in log
    assert (p.home / "dbt" / "partial_parse.msgpack").is_file()


def test_staging_weeks_validate_the_same_in_worker_processes(built):
    from dagster_project.checks import validate_staging_weeks

    p, _ = built
    serial = validate_staging_weeks(str(p.home), [W1, W2], ["T1", "T2", "OTCE"], workers=1)
    parallel = validate_staging_weeks(str(p.home), [W1, W2], ["T1", "T2", "OTCE"], workers=2, min_weeks=1)
    assert parallel == serial and all(n > 0 and result.success for n, result in serial)


def test_unpublished_tiers_are_skipped_and_the_week_is_provisional(built):
    p, replay = built
    assert finra_weekly_due(LATEST, "T2") > date.today()
    run_finra_weekly(LATEST, LATEST, ["T1", "T2", "OTCE"], "replay", str(replay), p=p)
    with duckdb.connect(str(p.bi_snapshot), read_only=True) as con:
        rows = con.execute("""select distinct tiers_published, tiers_published_list, is_complete
                              from marts.venue_share_weekly_all_tiers where week_start_date = ?""", [LATEST]).fetchall()
    assert rows == [(1, "T1", False)]
    assert Lake(p.lake).versions("finra_weekly", {"week": LATEST.isoformat(), "tier": "T2", "kind": "ATS"}) == []


def test_restated_week_lands_a_new_version_and_marts_use_it(built):
    p, replay = built
    page = replay / "finra_api/weeklySummary/tierIdentifier=T1/weekStartDate=2026-09-14/page-00001.json"
    records = json.loads(page.read_bytes())
    detail = next(r for r in records if r["summaryTypeCode"] == "ATS_W_SMBL_FIRM")
    # a consistent restatement: one more trade in the detail row, its symbol total and its venue total
    restated = [detail,
                next(r for r in records if r["summaryTypeCode"] == "ATS_W_SMBL"
                     and r["issueSymbolIdentifier"] == detail["issueSymbolIdentifier"]),
                next(r for r in records if r["summaryTypeCode"] == "ATS_W_FIRM" and r["MPID"] == detail["MPID"])]
    original = page.read_bytes()
    try:
        for record in restated:
            record["totalWeeklyTradeCount"] += 1
        page.write_text(json.dumps(records))
        run_finra_weekly(W2, W2, ["T1"], "replay", str(replay), p=p)
    finally:
        page.write_bytes(original)
    versions = Lake(p.lake).versions("finra_weekly", {"week": W2.isoformat(), "tier": "T1", "kind": "ATS"})
    assert len(versions) == 2 and versions[1].manifest["supersedes"] == versions[0].version_id
    with duckdb.connect(str(p.bi_snapshot), read_only=True) as con:
        in_use = con.execute("""select version_id from intermediate.int_finra_weekly_current_versions
                                where week_start_date = ? and tier = 'T1' and venue_kind = 'ATS'""", [W2]).fetchone()[0]
        old_rows = con.execute("select count(*) from staging.stg_finra__weekly_summary where version_id = ?",
                               [versions[0].version_id]).fetchone()[0]
    assert in_use == versions[1].version_id and old_rows == versions[0].rows  # the old version stays queryable


def test_a_bad_partition_fails_with_its_name_and_the_others_still_build(built, tmp_path):
    p, replay = built
    broken = tmp_path / "replay"
    write_weekly(broken, date(2026, 9, 21), date(2026, 9, 21), config=WeeklyConfig(scale=0.02))
    bad_page = broken / "finra_api/weeklySummary/tierIdentifier=OTCE/weekStartDate=2026-09-21/page-00001.json"
    bad_page.write_bytes(bad_page.read_bytes().replace(b'"totalWeeklyTradeCount":', b'"totalWeeklyTradeCount":-', 1))
    with pytest.raises(DealerflowError, match=r"weeklySummary tierIdentifier=OTCE weekStartDate=2026-09-21.*negative totalWeeklyTradeCount"):
        run_finra_weekly(date(2026, 9, 21), date(2026, 9, 21), ["T1", "T2", "OTCE"], "replay", str(broken), p=p)
    with duckdb.connect(str(p.bi_snapshot), read_only=True) as con:
        tiers = con.execute("select distinct tier from marts.venue_share_weekly where week_start_date = '2026-09-21' order by 1").fetchall()
    assert [t[0] for t in tiers] == ["T1", "T2"]
    assert Lake(p.lake).versions("finra_weekly", {"week": "2026-09-21", "tier": "OTCE", "kind": "ATS"}) == []
