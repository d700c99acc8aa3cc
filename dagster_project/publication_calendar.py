"""The one publication calendar: when each source partition is due, and what was published as of a date.

Schedules, sensors, asset checks, the CLI and the dbt marts (through ``int_publication_calendar``)
all ask this module, so FINRA's delay rules live in exactly one place.

Rules (FINRA Rules 6110/6610; observed publication dates):

* FINRA weekly OTC transparency, partition (week, tier): due on the Monday on or after
  week start + 21 days (Tier 1) or + 35 days (Tier 2, OTC equities), moved to the next business day
  when that Monday is a US market holiday.
* FINRA monthly (block-size, non-ATS monthly): due on the first business day on or after
  month end + 1 month.

Business days are NYSE trading days (weekends and NYSE holidays excluded).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date, timedelta

import holidays
from dateutil.relativedelta import relativedelta

TIERS = ("T1", "T2", "OTCE")
TIER_DELAY_DAYS = {"T1": 21, "T2": 35, "OTCE": 35}
#: First week of ATS data (FINRA Rule 4552) and of non-ATS (OTC) data.
ATS_FIRST_WEEK = date(2014, 6, 2)
NON_ATS_FIRST_WEEK = date(2016, 4, 4)


@functools.lru_cache(maxsize=None)
def _nyse_holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.financial_holidays("NYSE", years=year).keys())


def is_business_day(day: date) -> bool:
    return day.weekday() < 5 and day not in _nyse_holidays(day.year)


def next_business_day(day: date) -> date:
    """``day`` itself when it is a business day, else the next one."""
    while not is_business_day(day):
        day += timedelta(days=1)
    return day


def add_business_days(day: date, n: int) -> date:
    """The ``n``-th business day after ``day`` (``n`` >= 0)."""
    while n > 0:
        day += timedelta(days=1)
        if is_business_day(day):
            n -= 1
    return day


def monday_on_or_after(day: date) -> date:
    return day + timedelta(days=(7 - day.weekday()) % 7)


def week_start(day: date) -> date:
    """Monday of the week that contains ``day``."""
    return day - timedelta(days=day.weekday())


def _require_monday(week: date) -> None:
    if week.weekday() != 0:
        raise ValueError(f"{week.isoformat()} is not a Monday: FINRA weeks start on Monday")


def _require_tier(tier: str) -> None:
    if tier not in TIER_DELAY_DAYS:
        raise ValueError(f"unknown tier {tier!r}; expected one of {', '.join(TIERS)}")


# -- FINRA weekly ---------------------------------------------------------------------------------
def finra_weekly_due(week: date, tier: str) -> date:
    """Publication due date of one (week, tier) partition of FINRA weekly OTC transparency data."""
    _require_monday(week)
    _require_tier(tier)
    return next_business_day(monday_on_or_after(week + timedelta(days=TIER_DELAY_DAYS[tier])))


@dataclass(frozen=True)
class WeeklyPartition:
    week_start: date
    tier: str
    due_date: date


def finra_weekly_partitions(start: date, end: date, tiers: tuple[str, ...] | list[str] = TIERS) -> list[WeeklyPartition]:
    """Every (week, tier) with week start in [start, end] (start rounded to its Monday), in week then tier order."""
    for tier in tiers:
        _require_tier(tier)
    week = max(week_start(start), ATS_FIRST_WEEK)
    out = []
    while week <= end:
        out.extend(WeeklyPartition(week, tier, finra_weekly_due(week, tier)) for tier in tiers)
        week += timedelta(days=7)
    return out


def finra_weekly_published(as_of: date, start: date = ATS_FIRST_WEEK, tiers=TIERS) -> list[WeeklyPartition]:
    """The (week, tier) partitions due on or before ``as_of``."""
    return [p for p in finra_weekly_partitions(start, as_of, tiers) if p.due_date <= as_of]


def finra_weekly_latest_due(as_of: date, tier: str) -> date | None:
    """Week start of the newest (week, tier) partition due on or before ``as_of``."""
    _require_tier(tier)
    week = week_start(as_of - timedelta(days=TIER_DELAY_DAYS[tier]))
    while week >= ATS_FIRST_WEEK:
        if finra_weekly_due(week, tier) <= as_of:
            return week
        week -= timedelta(days=7)
    return None


def kinds_reported(week: date) -> tuple[str, ...]:
    """Venue kinds FINRA publishes for a week: ATS since 2014-06-02, non-ATS (OTC) since 2016-04-04."""
    return ("ATS", "OTC") if week >= NON_ATS_FIRST_WEEK else ("ATS",)


# -- FINRA monthly --------------------------------------------------------------------------------
def month_start(day: date) -> date:
    return day.replace(day=1)


def finra_monthly_due(month: date) -> date:
    """Due date of a monthly FINRA partition: first business day on or after month end + 1 month."""
    if month.day != 1:
        raise ValueError(f"{month.isoformat()} is not the first day of a month")
    month_end = month + relativedelta(months=1) - timedelta(days=1)
    return next_business_day(month_end + relativedelta(months=1))


# -- registry used by the CLI and the calendar model ---------------------------------------------
DATASETS = ("finra-weekly", "finra-monthly")


def calendar_rows(dataset: str, start: date, end: date, tiers=TIERS) -> list[dict]:
    """One dict per partition of ``dataset`` starting within [start, end], with its due date."""
    if dataset == "finra-weekly":
        return [{"week_start": p.week_start, "tier": p.tier, "due_date": p.due_date}
                for p in finra_weekly_partitions(start, end, tiers)]
    if dataset == "finra-monthly":
        month, rows = month_start(start), []
        while month <= end:
            rows.append({"month_start": month, "due_date": finra_monthly_due(month)})
            month += relativedelta(months=1)
        return rows
    raise ValueError(f"unknown dataset {dataset!r}; known: {', '.join(DATASETS)}")
