"""Partition definitions, and how a run's partitions translate into dates, tiers and dbt vars."""

from __future__ import annotations

from datetime import date, timedelta

import dagster as dg

from dagster_project.publication_calendar import ATS_FIRST_WEEK, TIERS

#: FINRA weeks start on Monday (day_offset=1); only completed weeks are partitions.
weekly_partitions = dg.WeeklyPartitionsDefinition(start_date=ATS_FIRST_WEEK.isoformat(), day_offset=1)
tier_partitions = dg.StaticPartitionsDefinition(list(TIERS))
week_tier_partitions = dg.MultiPartitionsDefinition({"week": weekly_partitions, "tier": tier_partitions})


def week_tier_key(week: date, tier: str) -> dg.MultiPartitionKey:
    return dg.MultiPartitionKey({"week": week.isoformat(), "tier": tier})


def week_tiers_of(partition_keys) -> list[tuple[date, str]]:
    """The (week, tier) pairs of a run's partition keys, sorted by week then tier order."""
    pairs = []
    for key in partition_keys:
        dims = key.keys_by_dimension if isinstance(key, dg.MultiPartitionKey) else dg.MultiPartitionKey.from_str(key).keys_by_dimension  # noqa: E501
        pairs.append((date.fromisoformat(dims["week"]), dims["tier"]))
    return sorted(set(pairs), key=lambda p: (p[0], TIERS.index(p[1])))


def dbt_vars(pairs: list[tuple[date, str]]) -> dict:
    """dbt vars for a run: the covering week window [week_start, week_end) and its tiers."""
    weeks = [w for w, _ in pairs]
    return {
        "week_start": min(weeks).isoformat(),
        "week_end": (max(weeks) + timedelta(days=7)).isoformat(),
        "tiers": sorted({t for _, t in pairs}, key=TIERS.index),
    }



# -- options: trade date x underlying ----------------------------------------------------------------
def options_underlyings() -> list[str]:
    """Underlyings of the options layer: ``DEALERFLOW_OPTIONS_UNDERLYINGS`` (comma list) or SPX, NDX, SPY, QQQ."""
    import os

    from dagster_project.landing.options import DEFAULT_UNDERLYINGS

    raw = os.environ.get("DEALERFLOW_OPTIONS_UNDERLYINGS", "")
    chosen = [u.strip().upper() for u in raw.split(",") if u.strip()] or list(DEFAULT_UNDERLYINGS)
    return list(dict.fromkeys(chosen))


#: Every calendar day is a partition key (Dagster has no NYSE calendar); non-trading days are skipped with a reason.
#: end_offset=1: the current trade date is a partition, requested after its close.
options_date_partitions = dg.DailyPartitionsDefinition(start_date="2022-01-03", timezone="America/New_York", end_offset=1)
options_partitions = dg.MultiPartitionsDefinition({
    "date": options_date_partitions,
    "underlying": dg.StaticPartitionsDefinition(options_underlyings()),
})


def options_key(trade_date: date, underlying: str) -> dg.MultiPartitionKey:
    return dg.MultiPartitionKey({"date": trade_date.isoformat(), "underlying": underlying.upper()})


def date_underlyings_of(partition_keys) -> list[tuple[date, str]]:
    """The (trade date, underlying) pairs of a run's partition keys, by date then declared underlying order."""
    order = options_partitions.partitions_defs[1].partitions_def.get_partition_keys()
    pairs = []
    for key in partition_keys:
        if not isinstance(key, dg.MultiPartitionKey):
            key = options_partitions.get_partition_key_from_str(str(key))
        dims = key.keys_by_dimension
        pairs.append((date.fromisoformat(dims["date"]), dims["underlying"]))
    return sorted(set(pairs), key=lambda p: (p[0], order.index(p[1]) if p[1] in order else len(order), p[1]))


def options_dbt_vars(pairs: list[tuple[date, str]]) -> dict:
    """dbt vars for an options run: the inclusive date window and its underlyings."""
    dates = [d for d, _ in pairs]
    return {"date_start": min(dates).isoformat(), "date_end": max(dates).isoformat(),
            "underlyings": sorted({u for _, u in pairs})}


# -- FINRA monthly (block-size and non-ATS monthly data) -----------------------------------------------
#: Calendar months from the first ATS block month (Aug 2016); only completed months are partitions.
monthly_partitions = dg.MonthlyPartitionsDefinition(start_date="2016-08-01")


def months_of(partition_keys) -> list[date]:
    """The month starts of a run's monthly partition keys, sorted."""
    return sorted({date.fromisoformat(str(key)) for key in partition_keys})


def monthly_dbt_vars(months: list[date]) -> dict:
    """dbt vars for a monthly run: the covering month window [month_start, month_end)."""
    from dateutil.relativedelta import relativedelta

    return {"month_start": min(months).isoformat(), "month_end": (max(months) + relativedelta(months=1)).isoformat()}


# -- short and settlement data (Reg SHO, short interest, SEC fails-to-deliver) ------------------------
def _short_data_horizon() -> date:
    """Settlement dates and half-months are listed a year ahead, so a long-running daemon never lacks a key."""
    return date.today() + timedelta(days=400)


#: Reg SHO: one partition per weekday holding all six facility files of the trade date (FINRA posts them together,
#: and the marts choose CNMS or the facility sum per date). NYSE holidays are skipped with a reason.
#: end_offset=1: the current trade date is a partition, requested after its 18:00 ET publication.
regsho_partitions = dg.TimeWindowPartitionsDefinition(cron_schedule="0 0 * * 1-5", start="2009-08-03",
                                                      fmt="%Y-%m-%d", timezone="America/New_York", end_offset=1)


def _short_interest_keys() -> list[str]:
    from dagster_project.publication_calendar import SHORT_INTEREST_FIRST_SETTLEMENT, short_interest_settlement_dates

    return [d.isoformat() for d in short_interest_settlement_dates(SHORT_INTEREST_FIRST_SETTLEMENT, _short_data_horizon())]


def _ftd_keys() -> list[str]:
    from dagster_project.publication_calendar import FTD_FIRST_MONTH, ftd_period_key, ftd_periods

    return [ftd_period_key(*p) for p in ftd_periods(FTD_FIRST_MONTH, _short_data_horizon())]


#: FINRA short interest: one partition per settlement date (15th or the business day before, and month end).
short_interest_partitions = dg.StaticPartitionsDefinition(_short_interest_keys())
#: SEC fails-to-deliver: one partition per half-month file, YYYYMMa (1st-14th) and YYYYMMb (15th-end).
ftd_partitions = dg.StaticPartitionsDefinition(_ftd_keys())


def dates_of(partition_keys) -> list[date]:
    """Sorted dates of date-keyed partitions (Reg SHO trade dates, short-interest settlement dates)."""
    return sorted({date.fromisoformat(str(key)) for key in partition_keys})


def run_partition_keys(run_tags: dict, partitions_def: dg.PartitionsDefinition) -> list[str]:
    """Partition keys a run covers, from its tags (one key, or a range run's start and end)."""
    from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG, PARTITION_NAME_TAG

    if PARTITION_NAME_TAG in run_tags:
        return [run_tags[PARTITION_NAME_TAG]]
    if ASSET_PARTITION_RANGE_START_TAG in run_tags:
        return list(partitions_def.get_partition_keys_in_range(dg.PartitionKeyRange(
            run_tags[ASSET_PARTITION_RANGE_START_TAG], run_tags[ASSET_PARTITION_RANGE_END_TAG])))
    return []
