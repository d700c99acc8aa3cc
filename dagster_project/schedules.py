"""Schedules derived from the publication calendar, never hand-written per dataset."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import dagster as dg

from dagster_project.partitions import options_key, options_underlyings, week_tier_key
from dagster_project.publication_calendar import TIERS, finra_weekly_due, finra_weekly_latest_due

#: FINRA restates recent weeks: the schedule re-polls this many due weeks per tier; only changed content lands.
REPOLL_WEEKS = 4


def finra_weekly_requests(today: date) -> list[dg.RunRequest]:
    """Run requests for one day: every (week, tier) due today; on the week's first business day also re-polls of
    the trailing due weeks (FINRA restates; unchanged content lands nothing). Non-business days request nothing."""
    from dagster_project.publication_calendar import is_business_day, next_business_day, week_start

    if not is_business_day(today):
        return []
    repoll_day = today == next_business_day(week_start(today))
    requests = []
    for tier in TIERS:
        latest = finra_weekly_latest_due(today, tier)
        if latest is None:
            continue
        for week in (latest - timedelta(days=7 * i) for i in range(REPOLL_WEEKS)):
            due_today = finra_weekly_due(week, tier) == today
            if due_today or repoll_day:
                requests.append(dg.RunRequest(
                    partition_key=week_tier_key(week, tier),
                    run_key=f"finra_weekly|{week}|{tier}|{today}",
                    tags={"dealerflow/reason": "due" if due_today else "repoll"},
                ))
    return requests


def finra_weekly_schedule(job) -> dg.ScheduleDefinition:
    @dg.schedule(job=job, cron_schedule="0 7 * * 1-5", execution_timezone="America/New_York",
                 name="finra_weekly_publication", default_status=dg.DefaultScheduleStatus.STOPPED,
                 description="Requests each FINRA (week, tier) on its publication due date (T1 week+21d, T2/OTCE "
                             "week+35d, holiday-shifted) and re-polls the trailing 4 weeks on the first business day "
                             "of each week for restatements.")
    def _schedule(context: dg.ScheduleEvaluationContext):
        today = context.scheduled_execution_time.date()
        return finra_weekly_requests(today) or dg.SkipReason(f"{today}: no FINRA weekly partition due (holiday or weekend)")

    return _schedule


def options_requests(now: datetime, underlyings: list[str]) -> list[dg.RunRequest]:
    """One run per underlying for the trade date of ``now`` once its chain is due (16:15 ET); the evening run
    after the OCC due time (20:00 ET) fetches the OCC reports and re-polls the chain (unchanged content adds nothing)."""
    from dagster_project.publication_calendar import EASTERN, is_business_day, occ_due_at, options_chain_due_at

    today = now.astimezone(EASTERN).date()
    if not is_business_day(today) or options_chain_due_at(today) > now:
        return []
    phase = "occ" if occ_due_at(today) <= now else "chain"
    return [dg.RunRequest(partition_key=options_key(today, u), run_key=f"options_daily|{today}|{u}|{phase}",
                          tags={"dealerflow/reason": f"due:{phase}"}) for u in underlyings]


def options_schedule(job) -> dg.ScheduleDefinition:
    @dg.schedule(job=job, cron_schedule=["30 16 * * 1-5", "15 20 * * 1-5"], execution_timezone="America/New_York",
                 name="options_after_the_close", default_status=dg.DefaultScheduleStatus.STOPPED,
                 description="Options chains after the close: requests each underlying's trade date once its Cboe "
                             "chain is due (16:15 ET) and again once OCC volume and open interest are due (20:00 ET), "
                             "from the publication calendar; NYSE holidays request nothing.")
    def _schedule(context: dg.ScheduleEvaluationContext):
        requests = options_requests(context.scheduled_execution_time, options_underlyings())
        return requests or dg.SkipReason(f"{context.scheduled_execution_time:%Y-%m-%d %H:%M}: no options partition due")

    return _schedule


#: FINRA may restate recent months: on each due date the schedule also re-polls this many earlier months.
REPOLL_MONTHS = 2


def finra_monthly_requests(today: date) -> list[dg.RunRequest]:
    """Run requests for one day: the month due today (publication calendar) and re-polls of the months before it."""
    from dateutil.relativedelta import relativedelta

    from dagster_project.publication_calendar import finra_monthly_due

    # A month is due a month after it ends, so the month due today started two or three months ago.
    candidates = [(today - relativedelta(months=n)).replace(day=1) for n in (1, 2, 3)]
    due_today = [m for m in candidates if m >= date(2016, 8, 1) and finra_monthly_due(m) == today]
    requests = []
    for month in due_today:
        for n in range(REPOLL_MONTHS + 1):
            target = month - relativedelta(months=n)
            if target < date(2016, 8, 1):
                continue
            requests.append(dg.RunRequest(partition_key=target.isoformat(),
                                          run_key=f"finra_monthly|{target}|{today}",
                                          tags={"dealerflow/reason": "due" if n == 0 else "repoll"}))
    return requests


def finra_monthly_schedule(job) -> dg.ScheduleDefinition:
    @dg.schedule(job=job, cron_schedule="0 7 * * 1-5", execution_timezone="America/New_York",
                 name="finra_monthly_publication", default_status=dg.DefaultScheduleStatus.STOPPED,
                 description="Requests each FINRA month (block-size and non-ATS monthly data) on its publication due "
                             "date (first business day on or after month end + 1 month) and re-polls the two months "
                             "before it for restatements.")
    def _schedule(context: dg.ScheduleEvaluationContext):
        return finra_monthly_requests(context.scheduled_execution_time.date())

    return _schedule


# -- short and settlement data --------------------------------------------------------------------
def regsho_requests(today: date) -> list[dg.RunRequest]:
    """The trade date whose Reg SHO files are due this evening (after 18:00 ET); nothing on non-business days."""
    from dagster_project.publication_calendar import is_business_day

    if not is_business_day(today):
        return []
    return [dg.RunRequest(partition_key=today.isoformat(), run_key=f"regsho|{today}", tags={"dealerflow/reason": "due"})]


def short_interest_requests(today: date, lookback_business_days: int = 3) -> list[dg.RunRequest]:
    """Settlement dates due today or in the last few business days (FINRA is occasionally late; unchanged files
    land nothing new)."""
    from dagster_project.publication_calendar import (
        add_business_days,
        short_interest_publication_date,
        short_interest_settlement_dates,
    )

    requests = []
    for settlement in short_interest_settlement_dates(today - timedelta(days=40), today):
        due = short_interest_publication_date(settlement)
        if due <= today <= add_business_days(due, lookback_business_days):
            requests.append(dg.RunRequest(partition_key=settlement.isoformat(),
                                          run_key=f"short_interest|{settlement}|{today}",
                                          tags={"dealerflow/reason": "due" if due == today else "repoll"}))
    return requests


def ftd_requests(today: date, lookback_days: int = 10) -> list[dg.RunRequest]:
    """Half-month files expected today or in the last ``lookback_days`` (the SEC posts them with a few days' slack)."""
    from dagster_project.publication_calendar import ftd_expected_publication, ftd_period_key, ftd_periods

    requests = []
    for year, month, half in ftd_periods(today - timedelta(days=60), today):
        expected = ftd_expected_publication(year, month, half)
        if expected <= today <= expected + timedelta(days=lookback_days):
            key = ftd_period_key(year, month, half)
            requests.append(dg.RunRequest(partition_key=key, run_key=f"sec_ftd|{key}|{today}",
                                          tags={"dealerflow/reason": "due" if expected == today else "repoll"}))
    return requests


def short_data_schedules(jobs) -> list[dg.ScheduleDefinition]:
    """One calendar-driven schedule per short-data job (jobs in the order regsho, short interest, FTD)."""
    regsho_job, short_interest_job, ftd_job = jobs

    @dg.schedule(job=regsho_job, cron_schedule="30 18 * * 1-5", execution_timezone="America/New_York",
                 name="regsho_publication", default_status=dg.DefaultScheduleStatus.STOPPED,
                 description="Requests each business day's Reg SHO files after FINRA posts them (18:00 ET).")
    def _regsho(context: dg.ScheduleEvaluationContext):
        return regsho_requests(context.scheduled_execution_time.date())

    @dg.schedule(job=short_interest_job, cron_schedule="0 19 * * 1-5", execution_timezone="America/New_York",
                 name="short_interest_publication", default_status=dg.DefaultScheduleStatus.STOPPED,
                 description="Requests each short-interest settlement date on its due date (7th business day after "
                             "settlement) and re-polls it for three business days.")
    def _short_interest(context: dg.ScheduleEvaluationContext):
        return short_interest_requests(context.scheduled_execution_time.date())

    @dg.schedule(job=ftd_job, cron_schedule="0 9 * * 1-5", execution_timezone="America/New_York",
                 name="sec_ftd_publication", default_status=dg.DefaultScheduleStatus.STOPPED,
                 description="Requests each SEC fails-to-deliver half-month from its expected publication date "
                             "(a: month end, b: the 15th of the next month) for ten days.")
    def _ftd(context: dg.ScheduleEvaluationContext):
        return ftd_requests(context.scheduled_execution_time.date())

    return [_regsho, _short_interest, _ftd]


# -- the dealer-flow view -------------------------------------------------------------------------
def dealer_flow_schedule(job) -> dg.ScheduleDefinition:
    """Mondays 09:00 ET: after the 07:00 FINRA weekly run (Tier 1 weeks are due on Mondays, Tier 2/OTC two weeks
    later) and after the previous week's options and Reg SHO data landed."""
    return dg.ScheduleDefinition(
        name="dealer_flow_weekly_refresh", job=job, cron_schedule="0 9 * * 1", execution_timezone="America/New_York",
        default_status=dg.DefaultScheduleStatus.STOPPED,
        description="Rebuilds the dealer-flow view each Monday 09:00 ET, after FINRA's weekly publication and the "
                    "previous week's options, OCC and Reg SHO data.")
