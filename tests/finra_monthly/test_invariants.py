"""Each block invariant and the publication window, with a failing case: as pure checks, and through a Dagster run."""

import json
from datetime import date

import pytest

from dagster_project.landing.finra_monthly import LandedMonth
from dagster_project.sources import finra_monthly as fm

from conftest import MONTH, read_records, rewrite_records, tamper


def _table(dataset, records):
    return fm.parse_api_pages(dataset, {"page-00001.json": json.dumps(records).encode()}, dataset.api_name)


def test_nesting_violation_names_venue_month_and_categories(synthetic_month):
    records = tamper(read_records(synthetic_month, fm.ATS_BLOCKS), "UBSA", "10K-200K",
                     ATSBlockCount=lambda r: r["ATSBlockCount"] + 10**6)
    found = fm.nesting_violations(fm.ATS_BLOCKS, _table(fm.ATS_BLOCKS, records))
    assert len(found) == 1
    assert found[0].startswith("2026-09-01 ATS UBSA: 10K-200K block trades") and "exceed min(10K" in found[0]


def test_nesting_violation_in_shares_of_2k_100k(synthetic_month):
    records = tamper(read_records(synthetic_month, fm.OTC_BLOCKS), "VIRTU AMERICAS, LLC", "2K-100K",
                     OTCBlockQuantity=lambda r: r["OTCBlockQuantity"] + 10**9)
    found = fm.nesting_violations(fm.OTC_BLOCKS, _table(fm.OTC_BLOCKS, records))
    assert found == [m for m in found if m.startswith("2026-09-01 OTC VIRTU AMERICAS, LLC: 2K-100K block shares")]
    assert found


def test_block_volume_above_total_volume_fails(synthetic_month):
    records = tamper(read_records(synthetic_month, fm.ATS_BLOCKS), "INCR", "10K",
                     ATSBlockQuantity=lambda r: int(r["totalShareQuantity"]) + 1)
    found = fm.within_total_violations(fm.ATS_BLOCKS, _table(fm.ATS_BLOCKS, records))
    assert len(found) == 1 and found[0].startswith("2026-09-01 ATS INCR: 10K block volume") and "exceeds its total" in found[0]


def test_a_missing_category_fails(synthetic_month):
    records = [r for r in read_records(synthetic_month, fm.ATS_BLOCKS) if not (r["MPID"] == "SGMT" and r["summaryTypeCode"] == "2K")]
    found = fm.category_coverage_violations(fm.ATS_BLOCKS, _table(fm.ATS_BLOCKS, records))
    assert found == ["2026-09-01 ATS SGMT: has categories 100K,10K,10K-200K,200K,2K-100K, expected all of "
                     "10K, 200K, 10K-200K, 2K, 100K, 2K-100K"]


def test_published_window_names_months_landed_or_published_too_early():
    from dagster_project.assets.finra_monthly import published_window_violations

    on_time = LandedMonth("finra_ats_blocks", MONTH, None, 180, "v1", True, 180, date(2026, 10, 30))
    early_claim = LandedMonth("finra_ats_blocks", MONTH, None, 180, "v1", True, 180, date(2026, 10, 29))
    not_due = LandedMonth("finra_monthly_summary", date(2026, 10, 1), "NMS", 9, "v2", True, 9, None)
    assert published_window_violations([on_time], today=date(2026, 11, 21)) == []
    assert published_window_violations([early_claim, not_due], today=date(2026, 11, 21)) == [
        "finra_monthly_summary 2026-10 NMS: landed 2026-11-21 before due date 2026-11-30",
        "finra_ats_blocks 2026-09: initialPublishedDate 2026-10-29 precedes due date 2026-10-30"]


def test_dagster_run_blocks_the_marts_when_raw_invariants_fail(replay_copy, tmp_path, monkeypatch):
    """A deliberately inconsistent month, replayed through the real job: the blocking checks fail, naming venue and
    month, and the dbt models are not built."""
    from dagster_project.errors import DealerflowError
    from dagster_project.runner import run_finra_monthly
    from dagster_project.settings import Paths

    monkeypatch.setenv("DEALERFLOW_HOME", str(tmp_path / "home"))
    ats = tamper(read_records(replay_copy, fm.ATS_BLOCKS), "UBSA", "10K-200K", ATSBlockCount=lambda r: r["ATSBlockCount"] + 10**6)
    rewrite_records(replay_copy, fm.ATS_BLOCKS, ats)
    otc = tamper(read_records(replay_copy, fm.OTC_BLOCKS), "CITADEL SECURITIES LLC", "200K",
                 OTCBlockCount=lambda r: r["totalTradeCount"] + 1)
    rewrite_records(replay_copy, fm.OTC_BLOCKS, otc)
    p = Paths(tmp_path / "home")
    with pytest.raises(DealerflowError) as err:
        run_finra_monthly(MONTH, MONTH, "replay", str(replay_copy), p=p)
    message = str(err.value)
    assert "check block_category_nesting failed" in message and "2026-09-01 ATS UBSA: 10K-200K block trades" in message
    assert "check block_within_total failed" in message
    assert "2026-09-01 OTC CITADEL SECURITIES LLC: 200K block volume" in message
    # The raw data is kept for inspection, but no mart was built from it.
    assert (p.lake / "finra_ats_blocks" / "month=2026-09-01").is_dir()
    assert not p.bi_snapshot.exists()
