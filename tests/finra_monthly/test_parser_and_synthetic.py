"""Parsing the monthly Query API datasets, and the synthetic source's consistency with the weekly synthetic data."""

import json
from datetime import date, timedelta
from decimal import Decimal

import numpy as np
import pytest

from dagster_project.errors import ParseError
from dagster_project.publication_calendar import is_business_day
from dagster_project.sources import finra_monthly as fm
from dagster_project.synthetic import finra_monthly as sm
from dagster_project.synthetic.finra_weekly import week_records

from conftest import CONFIG, MONTH, read_records


def _pages(records):
    return {"page-00001.json": json.dumps(records).encode()}


def test_parses_every_dataset_with_exact_types(synthetic_month):
    ats = fm.parse_api_pages(fm.ATS_BLOCKS, _pages(read_records(synthetic_month, fm.ATS_BLOCKS)), "ats")
    assert ats.num_rows == 6 * len(ats.column("MPID").unique()) == 180
    assert str(ats.schema.field("ATSBlockQuantity").type) == "decimal128(38, 6)"
    assert str(ats.schema.field("monthStartDate").type) == "date32[day]"
    otc = fm.parse_api_pages(fm.OTC_BLOCKS, _pages(read_records(synthetic_month, fm.OTC_BLOCKS)), "otc")
    assert "De Minimis Firms" in otc.column("crdFirmName").to_pylist()
    summary = fm.parse_api_pages(fm.MONTHLY_SUMMARY, _pages(read_records(synthetic_month, fm.MONTHLY_SUMMARY, tier="OTCE")), "m")
    halves = [q for q in summary.column("totalMonthlyShareQuantity").to_pylist() if q % 1]
    assert halves and all(q % 1 == Decimal("0.5") for q in halves)  # fractional shares survive exactly


def test_unknown_field_is_schema_drift(synthetic_month):
    records = read_records(synthetic_month, fm.ATS_BLOCKS)[:3]
    records[1]["ATSBlockNotional"] = 1
    with pytest.raises(ParseError, match="schema drift: unexpected field.*ATSBlockNotional"):
        fm.parse_api_pages(fm.ATS_BLOCKS, _pages(records), "blocksSummary 2026-09")


@pytest.mark.parametrize(("change", "problem"), [
    ({"summaryTypeCode": "5K"}, "unknown summaryTypeCode"),
    ({"atsOtc": "OTC"}, "atsOtc is not ATS"),
    ({"ATSBlockCount": -1}, "negative ATSBlockCount"),
    ({"ATSBlockQuantity": 1.1234567}, "ATSBlockQuantity: .* is not a valid decimal"),
    ({"totalTradeCount": 12.5}, "totalTradeCount: .* is not a valid int64"),
    ({"monthStartDate": "2026-09-02"}, "not the first day of a month"),
])
def test_bad_records_name_the_record(synthetic_month, change, problem):
    records = read_records(synthetic_month, fm.ATS_BLOCKS)[:4]
    records[2].update(change)
    with pytest.raises(ParseError, match=problem) as err:
        fm.parse_api_pages(fm.ATS_BLOCKS, _pages(records), "blocksSummary 2026-09")
    assert "blocksSummary 2026-09" in str(err.value)


def test_a_venue_twice_in_one_category_is_rejected(synthetic_month):
    records = read_records(synthetic_month, fm.ATS_BLOCKS)[:6]
    records.append(dict(records[0]))
    with pytest.raises(ParseError, match="duplicate row .* MPID=.* summaryTypeCode=10K"):
        fm.parse_api_pages(fm.ATS_BLOCKS, _pages(records), "blocksSummary 2026-09")


# -- week -> month allocation -------------------------------------------------------------------------
def test_a_straddling_week_is_split_by_trading_days_and_nothing_is_lost():
    week = date(2026, 9, 28)  # Mon-Wed in September, Thu-Fri in October
    assert sm.month_days(week) == [(date(2026, 9, 1), 3), (date(2026, 10, 1), 2)]
    values = np.array([0, 1, 2, 5, 999_999, 12_345_677], dtype=np.int64)
    parts = sm.allocate(values, week)
    assert list(parts[date(2026, 9, 1)]) == [v * 3 // 5 for v in values]
    assert list(parts[date(2026, 9, 1)] + parts[date(2026, 10, 1)]) == list(values)
    # Labor Day: the week of 2026-08-31 has Monday in August and Tue-Fri in September.
    assert sm.month_days(date(2026, 8, 31)) == [(date(2026, 8, 1), 1), (date(2026, 9, 1), 4)]
    assert sm.weeks_touching(MONTH) == [date(2026, 8, 31) + timedelta(days=7 * i) for i in range(5)]


def _expected_month_totals(kind: str, tiers) -> dict[str, Decimal]:
    """Each venue's shares in MONTH, allocated here independently from the weekly synthetic rows."""
    totals: dict[str, Decimal] = {}
    for week in sm.weeks_touching(MONTH):
        days = [week + timedelta(days=i) for i in range(5) if is_business_day(week + timedelta(days=i))]
        in_month = sum(d.month == MONTH.month for d in days)
        later = any(d > date(2026, 9, 30) for d in days)  # September is the earlier month of a straddling week
        for tier in tiers:
            rows = week_records(week, tier, CONFIG)
            rows = rows[rows["summaryTypeCode"] == f"{kind}_W_SMBL_FIRM"]
            for venue, mpid, qty in zip(rows["marketParticipantName"], rows["MPID"], rows["totalWeeklyShareQuantity"]):
                halves = int(round(qty * 2))
                mine = halves * in_month // len(days) if later else halves - halves * (len(days) - in_month) // len(days)
                key = mpid if kind == "ATS" else venue
                totals[key] = totals.get(key, Decimal(0)) + Decimal(mine) / 2
    return totals


def test_monthly_venue_totals_equal_their_allocated_weeks_exactly(synthetic_month):
    ats = {r["MPID"]: Decimal(str(r["totalShareQuantity"]))
           for r in read_records(synthetic_month, fm.ATS_BLOCKS) if r["summaryTypeCode"] == "10K"}
    assert ats == _expected_month_totals("ATS", ("T1", "T2"))
    firms = {r["marketParticipantName"]: Decimal(str(r["totalMonthlyShareQuantity"]))
             for r in read_records(synthetic_month, fm.MONTHLY_SUMMARY, tier="NMS") if r["summaryTypeCode"] == "OTC_M_FIRM"}
    assert firms == _expected_month_totals("OTC", ("T1", "T2"))
    otc_blocks = {r["crdFirmName"]: Decimal(str(r["totalShareQuantity"]))
                  for r in read_records(synthetic_month, fm.OTC_BLOCKS) if r["summaryTypeCode"] == "2K"}
    assert otc_blocks == firms  # both non-ATS NMS monthly totals, from the same weeks


@pytest.mark.parametrize("month", [date(2016, 8, 1), date(2019, 10, 1), date(2024, 2, 1), MONTH])
def test_generated_blocks_satisfy_the_invariants_by_construction(month):

    for dataset in fm.BLOCK_DATASETS:
        records = sm.block_records(month, dataset.kind, CONFIG)
        if month < dataset.first_month:
            assert records == []
            continue
        table = fm.parse_api_pages(dataset, _pages(records), dataset.api_name)
        assert fm.nesting_violations(dataset, table) == []
        assert fm.within_total_violations(dataset, table) == []
        assert fm.category_coverage_violations(dataset, table) == []
        ten_k = [r for r in records if r["summaryTypeCode"] == "10K"]
        assert all(r[dataset.quantity_field] >= 10_000 * r[dataset.count_field] for r in ten_k)
        share_total = sum(r[f"{dataset.kind}SharePercent"] for r in ten_k)
        assert abs(share_total - 100) < 0.01 * len(ten_k)  # FINRA's "percent": the 0-100 scale
