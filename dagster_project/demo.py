"""The offline demo: every dataset's synthetic source through the real pipeline, then a summary."""

from __future__ import annotations

from datetime import date, timedelta

from dagster_project.publication_calendar import TIERS, finra_weekly_latest_due
from dagster_project.settings import Paths, paths


def demo_steps() -> list:
    """Each step is ``(name, fn(p, today, weeks, scale) -> str)``; datasets append their own step here."""
    return [("FINRA weekly OTC transparency", _finra_weekly),
            ("FINRA monthly block-size and non-ATS data", _finra_monthly),
            ("Short and settlement data (Reg SHO, short interest, fails-to-deliver)", _short_data),
            ("Options: Cboe chains, OCC volume and open interest, GEX", _options),
            ("Dealer-flow view (GEX, OCC, FINRA ATS, short data per week and symbol)", _dealer_flow)]


def _finra_weekly(p: Paths, today: date, weeks: int, scale: float) -> str:
    from dagster_project.runner import run_finra_weekly

    last = finra_weekly_latest_due(today, "T1")
    first = last - timedelta(days=7 * (weeks - 1))
    return run_finra_weekly(first, last, list(TIERS), "synthetic", None, scale, p=p)


def demo_months(today: date, weeks: int) -> list[date]:
    """Months covered by the demo's weeks that are due by ``today``; the latest due month when none is."""
    from dagster_project.publication_calendar import finra_monthly_due, month_start

    last = finra_weekly_latest_due(today, "T1")
    first = last - timedelta(days=7 * (weeks - 1))
    months, month = [], month_start(first)
    while month <= last + timedelta(days=4):
        if finra_monthly_due(month) <= today:
            months.append(month)
        month = month_start(month + timedelta(days=31))
    if months:
        return months
    month = month_start(today)
    while finra_monthly_due(month) > today:
        month = month_start(month - timedelta(days=1))
    return [month]


def _finra_monthly(p: Paths, today: date, weeks: int, scale: float) -> str:
    from dagster_project.runner import run_finra_monthly

    from dagster_project.warehouse import connect_snapshot

    months = demo_months(today, weeks)
    lines = [run_finra_monthly(months[0], months[-1], "synthetic", None, scale, p=p)]
    with connect_snapshot(p) as con:
        blocks, firms = (con.execute(f"select count(*) from marts.{t} where month_start_date between ? and ?",
                                     [months[0], months[-1]]).fetchone()[0]
                         for t in ("block_activity_monthly", "non_ats_firm_monthly"))
        top = con.execute("""select mpid, venue_name, block_market_share from marts.block_activity_monthly
                             where month_start_date = ? and venue_kind = 'ATS' and block_category = '10K'
                             order by block_share_rank limit 3""", [months[-1]]).fetchall()
    lines.append(f"FINRA monthly {months[0]:%Y-%m}..{months[-1]:%Y-%m}: {blocks:,} block_activity_monthly rows, "
                 f"{firms:,} non_ats_firm_monthly rows; top ATS by 10K-share block volume, {months[-1]:%Y-%m}:")
    lines += [f"  {mpid:<5} {name[:40]:<40} {share:6.2%}" for mpid, name, share in top]
    return "\n".join(lines)


def _short_data(p: Paths, today: date, weeks: int, scale: float) -> str:
    """Reg SHO days and FTD half-months of the demo's FINRA weeks (same synthetic universe, so the dark short index
    uses the Tier 1 symbols of each week), and the short-interest settlement dates from two weeks before them."""
    from dagster_project.runner import run_short_data, short_data_summary

    last = finra_weekly_latest_due(today, "T1")
    first = last - timedelta(days=7 * (weeks - 1))
    end = last + timedelta(days=4)
    windows = {"short-interest": (first - timedelta(days=16), end)}
    return "\n".join([run_short_data(first, end, ["regsho", "short-interest", "ftd"], "synthetic", None, scale, p=p,
                                     windows=windows), short_data_summary(p)])


def _options(p: Paths, today: date, weeks: int, scale: float) -> str:
    """Synthetic chains and OCC reports for every configured underlying over the trading days of the newest FINRA
    week that every tier has published, so the dealer-flow view shows GEX beside final FINRA, short and fails data."""
    from dagster_project.publication_calendar import business_days
    from dagster_project.runner import options_summary, run_options

    week = finra_weekly_latest_due(today, "T2")
    days = business_days(week, week + timedelta(days=4))
    return "\n".join([run_options(days[0], days[-1], None, "synthetic", p=p), options_summary(p)])


def _dealer_flow(p: Paths, today: date, weeks: int, scale: float) -> str:
    """After every dataset: rebuild the dealer-flow view and show the latest rows of SPY and QQQ."""
    from dagster_project.runner import dealer_flow_summary, run_dealer_flow

    return "\n".join([run_dealer_flow(p), dealer_flow_summary(p)])


def run_demo(weeks: int = 8, scale: float = 0.05, p: Paths | None = None, today: date | None = None,
             progress=lambda message: None) -> str:
    p, today = p or paths(), today or date.today()
    outputs = []
    for name, step in demo_steps():
        progress(f"demo: {name}")
        outputs.append(step(p, today, weeks, scale))
    from dagster_project.report import write_report
    from dagster_project.runner import summary

    outputs.append(summary(p))
    progress("demo: writing the report")
    outputs.append(f"report: {write_report(p)}")
    return "\n".join(outputs)
