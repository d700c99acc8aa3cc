"""Short-interest settlement/publication and SEC FTD half-month rules on the NYSE calendar."""

from __future__ import annotations

from datetime import date

import pytest

from dagster_project.publication_calendar import (
    add_business_days,
    ftd_expected_publication,
    ftd_half_month,
    ftd_period_bounds,
    ftd_periods,
    is_business_day,
    is_short_interest_settlement_date,
    latest_published_settlement,
    month_end_settlement,
    mid_month_settlement,
    short_interest_publication_date,
    short_interest_settlement_dates,
)


def test_business_days_follow_nyse_holidays():
    assert not is_business_day(date(2026, 1, 19))  # MLK day
    assert not is_business_day(date(2026, 4, 3))  # Good Friday: NYSE closed, not a federal holiday
    assert is_business_day(date(2026, 10, 12))  # Columbus Day: NYSE open
    assert not is_business_day(date(2026, 1, 17))  # Saturday
    assert add_business_days(date(2026, 1, 16), 1) == date(2026, 1, 20)


def test_publication_is_seventh_business_day_after_settlement():
    # 2026-01-15 (Thu): 16, (19 MLK), 20, 21, 22, 23, 26, 27 -> the 7th business day is 2026-01-27.
    assert short_interest_publication_date(date(2026, 1, 15)) == date(2026, 1, 27)
    # Month end 2026-01-30 (Fri): Feb 2..6, 9, 10 -> 2026-02-10.
    assert short_interest_publication_date(date(2026, 1, 30)) == date(2026, 2, 10)
    # Year end 2025-12-31 (Wed): (Jan 1 holiday) Jan 2, 5, 6, 7, 8, 9, 12.
    assert short_interest_publication_date(date(2025, 12, 31)) == date(2026, 1, 12)
    with pytest.raises(ValueError, match="not a short-interest settlement date"):
        short_interest_publication_date(date(2026, 1, 14))


@pytest.mark.parametrize("year, month, mid, end", [
    (2026, 1, date(2026, 1, 15), date(2026, 1, 30)),   # 31st is a Saturday
    (2026, 2, date(2026, 2, 13), date(2026, 2, 27)),   # 15th Sunday, 16th Presidents Day irrelevant
    (2026, 5, date(2026, 5, 15), date(2026, 5, 29)),   # 31st Sunday
    (2024, 8, date(2024, 8, 15), date(2024, 8, 30)),   # realdata export settles 2024-08-15
    (2020, 12, date(2020, 12, 15), date(2020, 12, 31)),  # realdata API CSV settles 2020-12-31
    (2026, 8, date(2026, 8, 14), date(2026, 8, 31)),
])
def test_settlement_dates(year, month, mid, end):
    assert mid_month_settlement(year, month) == mid
    assert month_end_settlement(year, month) == end
    assert is_short_interest_settlement_date(mid) and is_short_interest_settlement_date(end)


def test_settlement_dates_in_a_year_and_latest_published():
    dates = short_interest_settlement_dates(date(2026, 1, 1), date(2026, 12, 31))
    assert len(dates) == 24 and dates[0] == date(2026, 1, 15) and dates[-1] == date(2026, 12, 31)
    assert dates == sorted(dates) and all(is_business_day(d) for d in dates)
    assert latest_published_settlement(date(2026, 1, 26)) == date(2025, 12, 31)
    assert latest_published_settlement(date(2026, 1, 27)) == date(2026, 1, 15)


def test_ftd_half_months():
    assert ftd_half_month(date(2020, 9, 14)) == (2020, 9, "a")
    assert ftd_half_month(date(2021, 3, 15)) == (2021, 3, "b")
    assert ftd_period_bounds(2024, 2, "b") == (date(2024, 2, 15), date(2024, 2, 29))
    assert ftd_periods(date(2026, 1, 10), date(2026, 2, 3)) == [(2026, 1, "a"), (2026, 1, "b"), (2026, 2, "a")]
    # The real zips were stamped 2020-09-30 (202009a) and 2021-04-15 (202103b).
    assert ftd_expected_publication(2020, 9, "a") == date(2020, 9, 30)
    assert ftd_expected_publication(2021, 3, "b") == date(2021, 4, 15)
    assert ftd_expected_publication(2025, 12, "b") == date(2026, 1, 15)
    assert ftd_expected_publication(2026, 2, "b") == date(2026, 3, 16)  # 15th is a Sunday
    with pytest.raises(ValueError):
        ftd_period_bounds(2026, 1, "c")


def test_regsho_is_due_after_1800_eastern_on_the_trade_date():
    from datetime import datetime, timezone

    from dagster_project.publication_calendar import regsho_due, regsho_due_at, regsho_latest_due

    assert regsho_due(date(2026, 11, 20)) == date(2026, 11, 20)
    assert regsho_due_at(date(2026, 11, 20)) == datetime(2026, 11, 20, 23, 0, tzinfo=timezone.utc)  # 18:00 EST
    assert regsho_due_at(date(2026, 7, 1)) == datetime(2026, 7, 1, 22, 0, tzinfo=timezone.utc)     # 18:00 EDT
    with pytest.raises(ValueError, match="not a business day"):
        regsho_due(date(2026, 11, 26))  # Thanksgiving
    assert regsho_latest_due(datetime(2026, 11, 20, 22, 59, tzinfo=timezone.utc)) == date(2026, 11, 19)
    assert regsho_latest_due(datetime(2026, 11, 20, 23, 0, tzinfo=timezone.utc)) == date(2026, 11, 20)
    assert regsho_latest_due(datetime(2026, 11, 27, 12, 0, tzinfo=timezone.utc)) == date(2026, 11, 25)


def test_calendar_rows_and_reference_table_hold_the_short_datasets(tmp_path):
    import duckdb

    from dagster_project.publication_calendar import DATASETS, calendar_rows
    from dagster_project.reference import write_publication_calendar
    from dagster_project.settings import Paths

    assert {"regsho", "short-interest", "ftd"} <= set(DATASETS)
    assert calendar_rows("regsho", date(2026, 11, 25), date(2026, 11, 30)) == [
        {"trade_date": date(2026, 11, d), "due_date": date(2026, 11, d)} for d in (25, 27, 30)]
    assert calendar_rows("short-interest", date(2026, 1, 1), date(2026, 1, 31)) == [
        {"settlement_date": date(2026, 1, 15), "due_date": date(2026, 1, 27)},
        {"settlement_date": date(2026, 1, 30), "due_date": date(2026, 2, 10)}]
    assert calendar_rows("ftd", date(2021, 3, 20), date(2021, 3, 20)) == [
        {"period": "202103b", "period_start": date(2021, 3, 15), "period_end": date(2021, 3, 31),
         "due_date": date(2021, 4, 15)}]
    path = write_publication_calendar(Paths(tmp_path), today=date(2026, 11, 21))
    rows = duckdb.sql(f"""select dataset, partition_start, due_date from '{path}'
                          where (dataset = 'short-interest' and partition_start = date '2024-08-15')
                             or (dataset = 'ftd' and partition_start = date '2020-09-01')
                             or (dataset = 'regsho' and partition_start = date '2020-01-02') order by 1""").fetchall()
    assert rows == [("ftd", date(2020, 9, 1), date(2020, 9, 30)), ("regsho", date(2020, 1, 2), date(2020, 1, 2)),
                    ("short-interest", date(2024, 8, 15), date(2024, 8, 26))]


def test_short_data_schedules_follow_the_calendar():
    from dagster_project.schedules import ftd_requests, regsho_requests, short_interest_requests

    assert [r.partition_key for r in regsho_requests(date(2026, 11, 20))] == ["2026-11-20"]
    assert regsho_requests(date(2026, 11, 26)) == []  # Thanksgiving: no files
    assert [r.partition_key for r in short_interest_requests(date(2026, 1, 27))] == ["2026-01-15"]
    assert [r.partition_key for r in short_interest_requests(date(2026, 1, 30))] == ["2026-01-15"]  # re-poll
    assert short_interest_requests(date(2026, 2, 2)) == []
    assert [r.partition_key for r in ftd_requests(date(2026, 11, 16))] == ["202610b"]
    assert [r.partition_key for r in ftd_requests(date(2026, 11, 30))] == ["202611a"]
