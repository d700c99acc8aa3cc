"""End to end: the finra_monthly Dagster job on synthetic data, and the dbt tests failing on deliberately bad data."""

from datetime import date

import pytest

from dagster_project.settings import Paths
from dagster_project.sources import finra_monthly as fm

from conftest import CONFIG, MONTH, read_records, rewrite_records, tamper


def test_monthly_job_builds_both_marts_on_synthetic_data(tmp_path, monkeypatch):
    from dagster_project.runner import run_finra_monthly
    from dagster_project.warehouse import connect_snapshot

    monkeypatch.setenv("DEALERFLOW_HOME", str(tmp_path))
    p = Paths(tmp_path)
    # October 2026 is due 2026-11-30: requested, but skipped as unpublished (today is before that in this project).
    out = run_finra_monthly(MONTH, date(2026, 10, 1) if date.today() < date(2026, 11, 30) else MONTH, "synthetic", p=p)
    assert "succeeded" in out
    assert not (p.lake / "finra_ats_blocks" / "month=2026-10-01").exists() or date.today() >= date(2026, 11, 30)
    with connect_snapshot(p) as con:
        kinds = con.execute("""select venue_kind, count(*), count(distinct mpid), count(distinct block_category)
                               from marts.block_activity_monthly where month_start_date = ? group by 1 order by 1""",
                            [MONTH]).fetchall()
        assert kinds == [("ATS", 180, 30, 6), ("OTC", 96, 16, 6)]
        sums = con.execute("""select min(s), max(s) from (select sum(block_market_share) as s from marts.block_activity_monthly
                              group by month_start_date, venue_kind, block_category)""").fetchone()
        assert sums == pytest.approx((1.0, 1.0), abs=1e-9)
        worst = con.execute("""select max(abs(block_market_share - finra_block_market_share)),
                                      max(abs(block_business_share - finra_block_business_share)),
                                      count(*) filter (where block_share_rank <> finra_block_share_rank),
                                      min(finra_percent_scale), max(finra_percent_scale)
                               from marts.block_activity_monthly""").fetchone()
        assert worst[0] <= 0.00005 and worst[1] <= 0.00005 and worst[2:] == (0, 100, 100)
        firms = con.execute("""select tier, count(*), sum(non_ats_share), count(*) filter (where is_de_minimis),
                                      count(*) filter (where is_de_minimis and volume_rank is null),
                                      bool_and(not is_before_de_minimis_change), min(volume_rank), max(volume_rank)
                               from marts.non_ats_firm_monthly where month_start_date = ? group by 1 order by 1""",
                            [MONTH]).fetchall()
        assert [(t, n, dm, dmr, after, lo, hi) for t, n, _s, dm, dmr, after, lo, hi in firms] == [
            ("NMS", 16, 1, 1, True, 1, 15), ("OTCE", 16, 1, 1, True, 1, 15)]
        assert all(s == pytest.approx(1.0) for _t, _n, s, *_ in firms)
        # The non-ATS NMS firm totals of monthlySummary and of otcBlocksSummary agree (same weeks, same firms).
        assert con.execute("""select count(*) from marts.non_ats_firm_monthly f join marts.block_activity_monthly b
                              on b.mpid = f.firm_name and b.month_start_date = f.month_start_date
                              where f.tier = 'NMS' and b.block_category = '10K' and b.total_share_quantity = f.share_quantity
                           """).fetchone()[0] == 16


def _land(root, p, months):
    from dagster_project.landing.finra_monthly import land_month
    from dagster_project.lake import Lake
    from dagster_project.sources.finra_api import FinraReplayClient

    client, lake = FinraReplayClient(root), Lake(p.lake)
    for month in months:
        for dataset in fm.DATASETS:
            for tier in dataset.partitions(month):
                land_month(client, lake, dataset, month, tier, origin="replay")


def _rescale_percents(root, month, factor, decimals):
    for dataset in fm.BLOCK_DATASETS:
        records = read_records(root, dataset, month)
        for r in records:
            for k in r:
                if k.endswith("Percent"):
                    r[k] = round(r[k] * factor, decimals)
        rewrite_records(root, dataset, records, month)


def test_dbt_tests_fail_on_each_invariant_and_detect_the_percent_scale(tmp_path, monkeypatch):
    """Bad data landed straight into the lake (as if the raw checks had been bypassed): each dbt test fails on it and
    its failing rows name the venue and month. August is republished on a 0-1 percent scale, which must reconcile."""
    from dagster_project import warehouse
    from dagster_project.resources import WarehouseResource, dbt_resource
    from dagster_project.synthetic.finra_monthly import write_monthly

    monkeypatch.setenv("DEALERFLOW_HOME", str(tmp_path / "home"))
    p, root = Paths(tmp_path / "home"), tmp_path / "replay"
    jul, aug = date(2026, 7, 1), date(2026, 8, 1)
    for month in (jul, aug, MONTH):
        write_monthly(root, month, CONFIG)
    _rescale_percents(root, aug, 0.01, 4)   # a 0-1 scale: detected, reconciles
    _rescale_percents(root, jul, 10, 2)     # neither 0-100 nor 0-1: undetectable, must fail
    ats = tamper(read_records(root, fm.ATS_BLOCKS), "UBSA", "10K-200K", ATSBlockCount=lambda r: r["ATSBlockCount"] + 10**6)
    ats = tamper(ats, "INCR", "2K", ATSBlockSharePercent=lambda r: r["ATSBlockSharePercent"] + 5)
    rewrite_records(root, fm.ATS_BLOCKS, ats)
    otc = tamper(read_records(root, fm.OTC_BLOCKS), "CITADEL SECURITIES LLC", "200K",
                 OTCBlockQuantity=lambda r: int(r["totalShareQuantity"]) + 1)
    rewrite_records(root, fm.OTC_BLOCKS, otc)
    nms = tamper(read_records(root, fm.MONTHLY_SUMMARY, tier="NMS"), "JANE STREET CAPITAL, LLC", "OTC_M_FIRM",
                 totalMonthlyTradeCount=lambda r: r["totalMonthlyTradeCount"] + 1)
    rewrite_records(root, fm.MONTHLY_SUMMARY, nms, tier="NMS")
    early = read_records(root, fm.MONTHLY_SUMMARY, aug, tier="OTCE")
    for r in early:
        r["initialPublishedDate"] = "2026-09-15"  # before the 2026-09-30 due date
    rewrite_records(root, fm.MONTHLY_SUMMARY, early, aug, tier="OTCE")
    _land(root, p, (jul, aug, MONTH))

    with WarehouseResource(home=str(p.home)).writing():
        dbt = dbt_resource()
        run = dbt.cli(["run", "--select", "tag:finra_monthly"], raise_on_error=False)
        run.wait()
        assert run.is_successful()
        with warehouse.connect(p=p, lock=False) as con:  # a mart corrupted after its build: shares no longer add up
            con.execute("update marts.block_activity_monthly set block_market_share = block_market_share + 0.5 "
                        "where month_start_date = '2026-09-01' and venue_kind = 'ATS' and mpid = 'LQNA' and block_category = '10K'")
        test = dbt.cli(["test", "--select", "tag:finra_monthly", "--store-failures"], raise_on_error=False)
        test.wait()
        results = test.get_artifact("run_results.json")["results"]
        failed = {r["unique_id"].split(".")[2]: r["failures"] for r in results if r["status"] == "fail"}
        with warehouse.connect(p=p, lock=False) as con:
            def audit(name, columns):
                return con.execute(f"select distinct {columns} from dbt_test__audit.{name} order by all").fetchall()

            assert audit("assert_finra_monthly_block_nesting", "month_start_date, venue_kind, mpid, combined") == [
                (MONTH, "ATS", "UBSA", "10K-200K")]
            assert audit("assert_finra_monthly_block_within_total", "month_start_date, mpid, block_category") == [
                (MONTH, "CITADEL SECURITIES LLC", "200K")]
            assert audit("assert_finra_monthly_firm_totals_match_symbols", "month_start_date, tier, key") == [
                (MONTH, "NMS", "JANE STREET CAPITAL, LLC")]
            mismatched = audit("assert_finra_monthly_shares_match_published", "month_start_date, mpid, finra_percent_scale")
            assert {(m, s) for m, _v, s in mismatched if m != jul} >= {(MONTH, 100)}
            assert ("INCR" in {v for m, v, _s in mismatched if m == MONTH})
            assert {s for m, _v, s in mismatched if m == jul} == {None}     # undetectable scale: every row fails
            assert not [v for m, v, _s in mismatched if m == aug]           # the 0-1 scale reconciles
    assert failed.get("assert_finra_monthly_block_nesting") == 1
    assert any(name.startswith("sums_to_one_block_activity_monthly") for name in failed)
    assert any(name.startswith("expression_is_true_int_finra_monthly_current_versions") for name in failed)
    assert not any("non_ats_firm_monthly" in name for name in failed)
