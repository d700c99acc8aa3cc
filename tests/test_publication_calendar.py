"""The publication calendar against FINRA's rules: T1 +21 days, T2/OTCE +35 days, Monday, holiday-shifted."""

from datetime import date

import pytest

from dagster_project import publication_calendar as cal


@pytest.mark.parametrize("week, tier, due", [
    (date(2026, 9, 7), "T1", date(2026, 9, 28)),     # observed live: T1 week 2026-09-07 published 2026-09-28
    (date(2026, 8, 24), "T2", date(2026, 9, 28)),    # observed live: T2 week 2026-08-24 published 2026-09-28
    (date(2026, 8, 24), "OTCE", date(2026, 9, 28)),
    (date(2023, 1, 30), "T1", date(2023, 2, 21)),    # Monday 2023-02-20 is Presidents' Day
    (date(2023, 12, 25), "T1", date(2024, 1, 16)),   # Monday 2024-01-15 is Martin Luther King Jr. Day
    (date(2024, 8, 5), "T2", date(2024, 9, 9)),      # +35 days is already a business-day Monday
    (date(2024, 8, 12), "T1", date(2024, 9, 3)),     # Monday 2024-09-02 is Labor Day
    (date(2025, 4, 28), "T2", date(2025, 6, 2)),
])
def test_weekly_due_dates(week, tier, due):
    assert cal.finra_weekly_due(week, tier) == due


def test_due_dates_are_business_days_on_or_after_the_delay():
    for p in cal.finra_weekly_partitions(date(2019, 1, 7), date(2026, 11, 16)):
        assert cal.is_business_day(p.due_date)
        delay = cal.TIER_DELAY_DAYS[p.tier]
        assert delay <= (p.due_date - p.week_start).days <= delay + 4


def test_published_as_of():
    published = cal.finra_weekly_published(date(2026, 9, 28), start=date(2026, 8, 17))
    assert {(p.week_start, p.tier) for p in published} == {
        (date(2026, 8, 17), "T1"), (date(2026, 8, 24), "T1"), (date(2026, 8, 31), "T1"), (date(2026, 9, 7), "T1"),
        (date(2026, 8, 17), "T2"), (date(2026, 8, 17), "OTCE"), (date(2026, 8, 24), "T2"), (date(2026, 8, 24), "OTCE")}
    assert cal.finra_weekly_latest_due(date(2026, 9, 27), "T1") == date(2026, 8, 31)
    assert cal.finra_weekly_latest_due(date(2026, 9, 28), "T1") == date(2026, 9, 7)
    assert cal.finra_weekly_latest_due(date(2014, 6, 1), "T1") is None


def test_bad_inputs_are_refused():
    with pytest.raises(ValueError, match="not a Monday"):
        cal.finra_weekly_due(date(2026, 9, 8), "T1")
    with pytest.raises(ValueError, match="unknown tier"):
        cal.finra_weekly_due(date(2026, 9, 7), "T3")
    with pytest.raises(ValueError, match="first day of a month"):
        cal.finra_monthly_due(date(2026, 9, 2))


def test_non_ats_starts_april_2016():
    assert cal.kinds_reported(date(2016, 3, 28)) == ("ATS",)
    assert cal.kinds_reported(date(2016, 4, 4)) == ("ATS", "OTC")
