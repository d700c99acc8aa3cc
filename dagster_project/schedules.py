"""Schedules derived from the publication calendar, never hand-written per dataset."""

from __future__ import annotations

from datetime import date, timedelta

import dagster as dg

from dagster_project.partitions import week_tier_key
from dagster_project.publication_calendar import TIERS, finra_weekly_due, finra_weekly_latest_due

#: FINRA restates recent weeks: the schedule re-polls this many due weeks per tier; only changed content lands.
REPOLL_WEEKS = 4


def finra_weekly_requests(today: date) -> list[dg.RunRequest]:
    """Run requests for one day: each (week, tier) newly due today, and re-polls of the trailing weeks on Mondays."""
    requests = []
    for tier in TIERS:
        latest = finra_weekly_latest_due(today, tier)
        if latest is None:
            continue
        weeks = [latest - timedelta(days=7 * i) for i in range(REPOLL_WEEKS)]
        for week in weeks:
            newly_due = finra_weekly_due(week, tier) == today
            if newly_due or (today.weekday() == 0 and week != latest) or (week == latest and today.weekday() == 0):
                requests.append(dg.RunRequest(
                    partition_key=week_tier_key(week, tier),
                    run_key=f"finra_weekly|{week}|{tier}|{today}",
                    tags={"dealerflow/reason": "due" if newly_due else "repoll"},
                ))
    return requests


def finra_weekly_schedule(job) -> dg.ScheduleDefinition:
    @dg.schedule(job=job, cron_schedule="0 7 * * 1-5", execution_timezone="America/New_York",
                 name="finra_weekly_publication", default_status=dg.DefaultScheduleStatus.STOPPED,
                 description="Requests each FINRA (week, tier) on its publication due date (T1 week+21d, T2/OTCE "
                             "week+35d, holiday-shifted) and re-polls the trailing weeks on Mondays for restatements.")
    def _schedule(context: dg.ScheduleEvaluationContext):
        return finra_weekly_requests(context.scheduled_execution_time.date())

    return _schedule
