"""Sensors that ask the sources what is actually published, so late and early publications are both picked up."""

from datetime import date, timedelta

import dagster as dg

from dagster_project.partitions import week_tier_key
from dagster_project.publication_calendar import TIERS, finra_weekly_due
from dagster_project.resources import FinraSourceResource, HomeResource

#: How far back the availability sensor looks; older gaps are backfills, not publication events.
LOOKBACK_DAYS = 120


def finra_weekly_missing(available: list[dict[str, str]], landed: set[tuple[str, str]], today: date) -> list[tuple[str, str, bool]]:
    """(week, tier, early) for each partition FINRA lists as published but the lake does not hold yet."""
    missing = []
    horizon = today - timedelta(days=LOOKBACK_DAYS)
    for part in available:
        week, tier = part.get("weekStartDate"), part.get("tierIdentifier")
        if tier not in TIERS or not week:
            continue
        week_date = date.fromisoformat(week)
        if week_date < horizon or week_date.weekday() != 0 or (week, tier) in landed:
            continue
        missing.append((week, tier, finra_weekly_due(week_date, tier) > today))
    return sorted(set(missing))


def finra_weekly_availability_sensor(job) -> dg.SensorDefinition:
    @dg.sensor(job=job, name="finra_weekly_availability", minimum_interval_seconds=3600,
               default_status=dg.DefaultSensorStatus.STOPPED,
               description="Asks FINRA which (week, tier) partitions are published (partitions endpoint) and requests "
                           "the ones the lake does not hold yet, so a late or early publication is not missed.")
    def _sensor(context: dg.SensorEvaluationContext, home: HomeResource, finra: FinraSourceResource):
        client = finra.client(home.paths)
        available = client.available_partitions("weeklySummary")
        landed = {(p["week"], p["tier"]) for p in home.lake.partitions("finra_weekly")}
        missing = finra_weekly_missing(available, landed, date.today())
        if not missing:
            return dg.SkipReason(f"all {len(available)} published partitions in the last {LOOKBACK_DAYS} days are landed")
        return [dg.RunRequest(partition_key=week_tier_key(date.fromisoformat(week), tier),
                              run_key=f"finra_weekly_available|{week}|{tier}",
                              tags={"dealerflow/reason": "published-early" if early else "published",
                                    "dealerflow/source_confirmed": "true"})
                for week, tier, early in missing]

    return _sensor


#: Reg SHO days and short-interest settlements the short-data sensor probes (older gaps are backfill work).
SHORT_LOOKBACK_DAYS = 21


def short_data_due_missing(today: date, landed_regsho: set[str], landed_settlements: set[str]) -> dict[str, list[date]]:
    """Due (by the calendar) but not landed: Reg SHO trade dates and short-interest settlement dates."""
    from dagster_project.publication_calendar import (business_days, regsho_due, short_interest_publication_date,
                                                      short_interest_settlement_dates)

    start = today - timedelta(days=SHORT_LOOKBACK_DAYS)
    return {
        "regsho": [d for d in business_days(start, today) if regsho_due(d) <= today and d.isoformat() not in landed_regsho],
        "short_interest": [d for d in short_interest_settlement_dates(start - timedelta(days=14), today)
                           if short_interest_publication_date(d) <= today and d.isoformat() not in landed_settlements],
    }


def short_data_availability_sensor(regsho_job, short_interest_job) -> dg.SensorDefinition:
    from dagster_project.resources import ShortDataSourceResource

    @dg.sensor(jobs=[regsho_job, short_interest_job], name="short_data_availability", minimum_interval_seconds=1800,
               default_status=dg.DefaultSensorStatus.STOPPED,
               description="Probes FINRA's CDN for Reg SHO days and short-interest files that are due but not landed "
                           "(403/404 = not published yet) and requests the ones that appeared, so a late posting "
                           "is picked up without waiting for the next schedule tick.")
    def _sensor(context: dg.SensorEvaluationContext, home: HomeResource, short_data: ShortDataSourceResource):
        from dagster_project.errors import NotPublishedError
        from dagster_project.sources.regsho import fetch_regsho_file
        from dagster_project.sources.short_interest import fetch_short_interest_file

        lake, today = home.lake, date.today()
        missing = short_data_due_missing(
            today,
            {p["date"] for p in lake.partitions("regsho_daily")},
            {p["settlement"] for p in lake.partitions("short_interest")})
        cdn = short_data.finra_cdn(home.paths)
        requests, waiting = [], []
        for job, probe, days in ((regsho_job, lambda d: fetch_regsho_file(cdn, "CNMS", d), missing["regsho"]),
                                 (short_interest_job, lambda d: fetch_short_interest_file(cdn, d), missing["short_interest"])):
            for day in days:
                try:
                    probe(day)
                except NotPublishedError:
                    waiting.append(f"{job.name} {day}")
                    continue
                requests.append(dg.RunRequest(job_name=job.name, partition_key=day.isoformat(),
                                              run_key=f"{job.name}_available|{day}",
                                              tags={"dealerflow/reason": "published"}))
        return requests or dg.SkipReason(f"nothing new; not yet published: {', '.join(waiting) or 'none'}")

    return _sensor
