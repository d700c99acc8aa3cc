"""Publication calendar rules for FINRA equity short interest and SEC fails-to-deliver (pure functions).

Business days are NYSE trading days (weekdays minus ``holidays.financial_holidays("NYSE")``). FINRA's
settlement calendar follows settlement (bank) days, which differ from NYSE days on Columbus and
Veterans Day; FINRA publishes its own schedule, so treat these rules as the default expectation a
scheduler polls from, not as truth: a 403 from the CDN still means "not yet".

Short interest (FINRA "Equity Short Interest" page):
  * settlement dates: the 15th of each month, or the previous business day if the 15th is not one,
    and the last business day of the month;
  * publication: the 7th business day after the settlement date (2026-01-15 -> 2026-01-27).

SEC fails-to-deliver (assumption, see :func:`ftd_expected_publication`):
  * half-month files ``cnsfails{YYYYMM}a`` cover settlement dates on the 1st-14th and ``b`` the 15th to
    month end;
  * a file appears about two weeks after its half-month ends: the ``a`` file by the last calendar day
    of the same month, the ``b`` file by the 15th of the next month (both rolled forward to a business
    day). The real zips agree: 202009a is stamped 2020-09-30, 202103b is stamped 2021-04-15.
"""

from __future__ import annotations

import calendar
from datetime import date, timedelta
from functools import lru_cache

import holidays


@lru_cache(maxsize=None)
def _nyse_holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.financial_holidays("NYSE", years=[year]).keys())


def is_business_day(day: date) -> bool:
    """NYSE trading day: a weekday that is not an NYSE holiday."""
    return day.weekday() < 5 and day not in _nyse_holidays(day.year)


def previous_business_day(day: date, *, inclusive: bool = False) -> date:
    """The business day before ``day`` (or ``day`` itself when ``inclusive`` and it is one)."""
    current = day if inclusive else day - timedelta(days=1)
    while not is_business_day(current):
        current -= timedelta(days=1)
    return current


def next_business_day(day: date, *, inclusive: bool = False) -> date:
    current = day if inclusive else day + timedelta(days=1)
    while not is_business_day(current):
        current += timedelta(days=1)
    return current


def add_business_days(day: date, n: int) -> date:
    """The ``n``-th business day after ``day`` (``n`` >= 0; ``day`` itself need not be a business day)."""
    if n < 0:
        raise ValueError("n must be >= 0")
    current = day
    for _ in range(n):
        current = next_business_day(current)
    return current


def business_days(start: date, end: date) -> list[date]:
    """Business days in ``[start, end]``."""
    out, current = [], start
    while current <= end:
        if is_business_day(current):
            out.append(current)
        current += timedelta(days=1)
    return out


# ---------------------------------------------------------------- short interest

SHORT_INTEREST_PUBLICATION_LAG = 7


def mid_month_settlement(year: int, month: int) -> date:
    """The 15th, or the previous business day when the 15th is not one."""
    return previous_business_day(date(year, month, 15), inclusive=True)


def month_end_settlement(year: int, month: int) -> date:
    """The last business day of the month."""
    return previous_business_day(date(year, month, calendar.monthrange(year, month)[1]), inclusive=True)


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


# ---------------------------------------------------------------- SEC fails-to-deliver

def ftd_half_month(settlement: date) -> tuple[int, int, str]:
    """(year, month, 'a'|'b') of the SEC half-month file that holds ``settlement``."""
    return settlement.year, settlement.month, "a" if settlement.day <= 14 else "b"


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
    return next_business_day(target, inclusive=True)


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
