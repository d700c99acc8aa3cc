"""The one publication calendar: when each source partition is due, and what was published as of a date.

Schedules, sensors, asset checks, the CLI and the dbt marts (through ``int_publication_calendar``)
all ask this module, so FINRA's delay rules live in exactly one place.

Rules (FINRA Rules 6110/6610; observed publication dates):

* FINRA weekly OTC transparency, partition (week, tier): due on the Monday on or after
  week start + 21 days (Tier 1) or + 35 days (Tier 2, OTC equities), moved to the next business day
  when that Monday is a US market holiday.
* FINRA monthly (block-size, non-ATS monthly): due on the first business day on or after
  month end + 1 month.
* FINRA Reg SHO daily short-sale volume, partition trade date: every business day's files are
  posted on the trade date itself, after 18:00 ET (``regsho_due_at``).
* FINRA equity short interest, partition settlement date (the 15th, or the business day before,
  and the last business day of each month): due on the 7th business day after settlement
  (2026-01-15 -> 2026-01-27). FINRA's settlement calendar follows bank days, which differ from NYSE
  days on Columbus and Veterans Day; treat the rule as the default expectation a scheduler polls
  from, not as truth (a 403 from the CDN still means "not yet").
* SEC fails-to-deliver, partition half-month (``cnsfails{YYYYMM}a`` = settlement on the 1st-14th,
  ``b`` = 15th to month end): the ``a`` file is expected by the last calendar day of the month, the
  ``b`` file by the 15th of the next month, both rolled forward to a business day (an assumption
  matched by the real zips: 202009a stamped 2020-09-30, 202103b stamped 2021-04-15).

* Options (issue 4), partition (trade date, underlying), business days only: the Cboe delayed-quotes
  chain reflects a trade date's close from 16:15 ET (index options trade until 16:15;
  ``options_chain_due_at``); OCC volume-query and the series-search open-interest snapshot are
  polled from 20:00 ET on the trade date (``occ_due_at``). A quote belongs to the trade date
  whose session it reflects (``options_trade_date_of_quote``): its own New York date when that is
  a business day and the quote is at or after the 09:30 open, else the business day before (so a
  Saturday 2022-02-05 20:09 EST quote is the 2022-02-04 close).

Business days are NYSE trading days (weekends and NYSE holidays excluded).
"""

from __future__ import annotations

import calendar
import functools
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

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


def previous_business_day(day: date) -> date:
    """``day`` itself when it is a business day, else the one before."""
    while not is_business_day(day):
        day -= timedelta(days=1)
    return day


def business_days(start: date, end: date) -> list[date]:
    """Business days in ``[start, end]``."""
    out, day = [], start
    while day <= end:
        if is_business_day(day):
            out.append(day)
        day += timedelta(days=1)
    return out


def add_business_days(day: date, n: int) -> date:
    """The ``n``-th business day after ``day`` (``n`` >= 0; ``day`` itself need not be a business day)."""
    if n < 0:
        raise ValueError("n must be >= 0")
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


# -- FINRA Reg SHO daily short-sale volume --------------------------------------------------------
#: First trade date of FINRA's daily short-sale volume files on the CDN.
REGSHO_FIRST_DATE = date(2009, 8, 3)
#: Files for a trade date are posted after this hour (US/Eastern) on the trade date.
REGSHO_PUBLICATION_HOUR_ET = 18
EASTERN = ZoneInfo("America/New_York")


def regsho_due(trade_date: date) -> date:
    """Due date of one trade date's Reg SHO files: the trade date itself; raises ValueError on a non-business day."""
    if not is_business_day(trade_date):
        raise ValueError(f"{trade_date.isoformat()} is not a business day: FINRA posts no Reg SHO files for it")
    return trade_date


def regsho_due_at(trade_date: date) -> datetime:
    """The moment one trade date's Reg SHO files are due: 18:00 US/Eastern on the trade date (timezone-aware)."""
    return datetime.combine(regsho_due(trade_date), time(REGSHO_PUBLICATION_HOUR_ET), tzinfo=EASTERN)


def regsho_latest_due(now: datetime) -> date:
    """The newest trade date whose files are due at ``now`` (a timezone-aware datetime)."""
    day = previous_business_day(now.astimezone(EASTERN).date())
    while regsho_due_at(day) > now:
        day = previous_business_day(day - timedelta(days=1))
    return day


# -- FINRA equity short interest ------------------------------------------------------------------
SHORT_INTEREST_PUBLICATION_LAG = 7
SHORT_INTEREST_FIRST_SETTLEMENT = date(2009, 1, 15)


def mid_month_settlement(year: int, month: int) -> date:
    """The 15th, or the previous business day when the 15th is not one."""
    return previous_business_day(date(year, month, 15))


def month_end_settlement(year: int, month: int) -> date:
    """The last business day of the month."""
    return previous_business_day(date(year, month, calendar.monthrange(year, month)[1]))


def short_interest_settlement_dates(start: date, end: date) -> list[date]:
    """Every short-interest settlement date in ``[start, end]``, ascending."""
    out = []
    year, month = start.year, start.month
    while date(year, month, 1) <= end:
        for day in (mid_month_settlement(year, month), month_end_settlement(year, month)):
            if start <= day <= end:
                out.append(day)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def is_short_interest_settlement_date(day: date) -> bool:
    return day in (mid_month_settlement(day.year, day.month), month_end_settlement(day.year, day.month))


def short_interest_publication_date(settlement: date) -> date:
    """The 7th business day after ``settlement``; raises ValueError for a non-settlement date."""
    if not is_short_interest_settlement_date(settlement):
        raise ValueError(f"{settlement} is not a short-interest settlement date")
    return add_business_days(settlement, SHORT_INTEREST_PUBLICATION_LAG)


def latest_published_settlement(as_of: date) -> date:
    """The newest settlement date whose publication date is on or before ``as_of``."""
    candidates = short_interest_settlement_dates(as_of - timedelta(days=62), as_of)
    for settlement in reversed(candidates):
        if short_interest_publication_date(settlement) <= as_of:
            return settlement
    raise ValueError(f"no settlement published by {as_of} in the previous two months")  # pragma: no cover


# -- SEC fails-to-deliver -------------------------------------------------------------------------
FTD_FIRST_MONTH = date(2009, 1, 1)


def ftd_half_month(settlement: date) -> tuple[int, int, str]:
    """(year, month, 'a'|'b') of the SEC half-month file that holds ``settlement``."""
    return settlement.year, settlement.month, "a" if settlement.day <= 14 else "b"


def ftd_period_key(year: int, month: int, half: str) -> str:
    """Partition key of a half-month file, as in its name: ``202009a``."""
    if half not in ("a", "b"):
        raise ValueError(f"half must be 'a' or 'b', got {half!r}")
    return f"{year:04d}{month:02d}{half}"


def parse_ftd_period_key(key: str) -> tuple[int, int, str]:
    """(year, month, half) of a ``YYYYMMa|b`` key; ValueError when it is not one."""
    if len(key) != 7 or not key[:6].isdigit() or key[6] not in ("a", "b") or not 1 <= int(key[4:6]) <= 12:
        raise ValueError(f"{key!r} is not a fails-to-deliver period (YYYYMM followed by a or b)")
    return int(key[:4]), int(key[4:6]), key[6]


def ftd_period_bounds(year: int, month: int, half: str) -> tuple[date, date]:
    """First and last calendar day a half-month file covers."""
    if half == "a":
        return date(year, month, 1), date(year, month, 14)
    if half == "b":
        return date(year, month, 15), date(year, month, calendar.monthrange(year, month)[1])
    raise ValueError(f"half must be 'a' or 'b', got {half!r}")


def ftd_expected_publication(year: int, month: int, half: str) -> date:
    """Day from which the half-month file is expected on sec.gov (assumption: ~2 weeks after period end).

    ``a`` (1st-14th) -> last calendar day of the same month; ``b`` (15th-end) -> the 15th of the next
    month; either rolled forward to the next business day. Poll from there; lateness of a few days is
    normal and is not an error.
    """
    if half == "a":
        target = date(year, month, calendar.monthrange(year, month)[1])
    elif half == "b":
        target = date(year + 1, 1, 15) if month == 12 else date(year, month + 1, 15)
    else:
        raise ValueError(f"half must be 'a' or 'b', got {half!r}")
    return next_business_day(target)


def ftd_periods(start: date, end: date) -> list[tuple[int, int, str]]:
    """Half-month periods overlapping ``[start, end]``, ascending."""
    out = []
    year, month = start.year, start.month
    while date(year, month, 1) <= end:
        for half in ("a", "b"):
            first, last = ftd_period_bounds(year, month, half)
            if first <= end and last >= start:
                out.append((year, month, half))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


# -- options: Cboe chains and OCC reports -----------------------------------------------------------
OPTIONS_FIRST_DATE = date(2022, 1, 3)
#: Cboe index options trade until 16:15 ET: the delayed chain reflects the close from then on.
OPTIONS_CHAIN_DUE_TIME_ET = time(16, 15)
#: OCC's daily volume and open-interest reports are polled from this time (ET) on the trade date.
OCC_DUE_TIME_ET = time(20, 0)
OPTIONS_SESSION_OPEN_ET = time(9, 30)


def _require_options_trade_date(trade_date: date) -> None:
    if not is_business_day(trade_date):
        raise ValueError(f"{trade_date.isoformat()} is not a business day: no option chain or OCC report for it")


def options_chain_due_at(trade_date: date) -> datetime:
    """When a trade date's closing Cboe chain is due: 16:15 US/Eastern on the trade date."""
    _require_options_trade_date(trade_date)
    return datetime.combine(trade_date, OPTIONS_CHAIN_DUE_TIME_ET, tzinfo=EASTERN)


def occ_due_at(trade_date: date) -> datetime:
    """When a trade date's OCC volume-query and series-search snapshot are due: 20:00 US/Eastern."""
    _require_options_trade_date(trade_date)
    return datetime.combine(trade_date, OCC_DUE_TIME_ET, tzinfo=EASTERN)


def options_trade_date_of_quote(quote_time: datetime) -> date:
    """The trade date whose session a quote reflects (rule in the module docstring); ``quote_time`` is aware."""
    local = quote_time.astimezone(EASTERN)
    day = local.date()
    if is_business_day(day) and local.time() >= OPTIONS_SESSION_OPEN_ET:
        return day
    return previous_business_day(day - timedelta(days=1))


def options_latest_due(now: datetime, due_at=options_chain_due_at) -> date:
    """The newest trade date whose chain (or, with ``due_at=occ_due_at``, OCC reports) is due at ``now``."""
    day = previous_business_day(now.astimezone(EASTERN).date())
    while due_at(day) > now:
        day = previous_business_day(day - timedelta(days=1))
    return day


# -- registry used by the CLI and the calendar model ---------------------------------------------
DATASETS = ("finra-weekly", "finra-monthly", "regsho", "short-interest", "ftd", "options-chain", "occ")


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
    if dataset == "regsho":
        return [{"trade_date": day, "due_date": regsho_due(day)} for day in business_days(start, end)]
    if dataset == "short-interest":
        return [{"settlement_date": day, "due_date": short_interest_publication_date(day)}
                for day in short_interest_settlement_dates(start, end)]
    if dataset == "ftd":
        return [{"period": ftd_period_key(y, m, h), "period_start": ftd_period_bounds(y, m, h)[0],
                 "period_end": ftd_period_bounds(y, m, h)[1], "due_date": ftd_expected_publication(y, m, h)}
                for y, m, h in ftd_periods(start, end)]
    if dataset == "options-chain":
        return [{"trade_date": day, "due_date": day, "due_at": options_chain_due_at(day)}
                for day in business_days(start, end)]
    if dataset == "occ":
        return [{"trade_date": day, "due_date": day, "due_at": occ_due_at(day)} for day in business_days(start, end)]
    raise ValueError(f"unknown dataset {dataset!r}; known: {', '.join(DATASETS)}")
