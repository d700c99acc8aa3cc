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
