"""Land small, deterministic lake partitions of every source directly through the landing code (no Dagster runs),
so a test can build the warehouse once with ``runner.build_all``. Synthetic upstream files are written under
``<home>/synthetic`` in the replay layout and fetched back through ReplayFetcher, as the pipeline does."""

from __future__ import annotations

from datetime import date, datetime, time, timezone
from pathlib import Path

from dagster_project.lake import Lake
from dagster_project.landing import finra_weekly as landing_weekly
from dagster_project.landing import options as landing_options
from dagster_project.landing import short_data as landing_short
from dagster_project.publication_calendar import EASTERN, TIERS, business_days, finra_weekly_due
from dagster_project.settings import Paths
from dagster_project.sources.finra_api import FinraReplayClient, write_replay_partition
from dagster_project.sources.finra_weekly import weekly_dataset_for
from dagster_project.sources.transport import ReplayFetcher
from dagster_project.synthetic.finra_weekly import WeeklyConfig, records_to_pages, week_records

SEED = 20240101
SCALE = 0.01


def finra_week_frame(week: date, tier: str, scale: float = SCALE):
    return week_records(week, tier, WeeklyConfig(SEED, scale))


def land_finra_week(p: Paths, week: date, tiers=TIERS, scale: float = SCALE, frames: dict | None = None,
                    today: date = date(2026, 11, 21)) -> None:
    """Land (week, tier) partitions as FINRA's Query API would serve them; ``frames`` overrides a tier's rows
    (e.g. a restatement with a later lastUpdateDate)."""
    root = p.home / "synthetic" / "finra_api"
    lake = Lake(p.lake)
    for tier in tiers:
        frame = (frames or {}).get(tier)
        frame = finra_week_frame(week, tier, scale) if frame is None else frame
        write_replay_partition(root, weekly_dataset_for(week, today), {"weekStartDate": week.isoformat(),
                                                                       "tierIdentifier": tier},
                               pages=records_to_pages(frame))
        landing_weekly.land_api_partition(FinraReplayClient(root), lake, week, tier, today, "test")


def restated(frame, published_on: date, factor: float = 2.0):
    """The same rows with ATS share quantities multiplied (whole shares) and republished on ``published_on``."""
    out = frame.copy()
    ats = out["summaryTypeCode"].str.startswith("ATS")
    out.loc[ats, "totalWeeklyShareQuantity"] = (out.loc[ats, "totalWeeklyShareQuantity"] * factor).round(0)
    out["lastUpdateDate"] = published_on.isoformat()
    return out


def fetched_at(day: date, hour: int = 19) -> datetime:
    """A fetch moment on ``day`` after the evening publication times (Reg SHO 18:00 ET)."""
    return datetime.combine(day, time(hour, 30), tzinfo=EASTERN).astimezone(timezone.utc)


def land_regsho(p: Paths, start: date, end: date, scale: float = SCALE, fetched_on=None) -> None:
    """Reg SHO files of every business day in [start, end], fetched on their trade date (or ``fetched_on(day)``)."""
    root = p.home / "synthetic" / "short"
    landing_short.write_synthetic_sources(root, landing_short.REGSHO_DATASET, start, end, seed=SEED, scale=scale)
    lake = Lake(p.lake)
    for day in business_days(start, end):
        when = fetched_at(fetched_on(day) if fetched_on else day)
        landing_short.fetch_and_land_regsho_day(ReplayFetcher("FINRA_CDN", root), lake, day, "test", now=lambda: when)


def land_short_interest(p: Paths, settlements: list[date], scale: float = SCALE) -> None:
    from dagster_project.publication_calendar import short_interest_publication_date

    root = p.home / "synthetic" / "short"
    lake = Lake(p.lake)
    for settlement in settlements:
        landing_short.write_synthetic_sources(root, landing_short.SHORT_INTEREST_DATASET, settlement, settlement,
                                              seed=SEED, scale=scale)
        when = fetched_at(short_interest_publication_date(settlement))
        landing_short.fetch_and_land_short_interest(lake, settlement, "test", cdn=ReplayFetcher("FINRA_CDN", root),
                                                    now=lambda: when)


def land_ftd(p: Paths, start: date, end: date, scale: float = SCALE) -> list[str]:
    """SEC fails-to-deliver half-months overlapping [start, end] (their zips carry the SEC's date stamp)."""
    from dagster_project.publication_calendar import ftd_period_key, ftd_periods

    root = p.home / "synthetic" / "short"
    landing_short.write_synthetic_sources(root, landing_short.FTD_DATASET, start, end, seed=SEED, scale=scale)
    fetcher = ReplayFetcher("SEC", root)
    links = landing_short.ftd_links_by_period(fetcher)
    periods = [ftd_period_key(*period) for period in ftd_periods(start, end)]
    lake = Lake(p.lake)
    for period in periods:
        landing_short.fetch_and_land_ftd(fetcher, lake, period, links, "test")
    return periods


def land_options(p: Paths, days: list[date], underlyings=("SPY", "QQQ")) -> None:
    """Synthetic Cboe chains and OCC volume for each trade date and underlying, and the GEX derived from them."""
    from dagster_project.synthetic.options import write_replay

    lake = Lake(p.lake)
    for day in days:
        root = p.home / "synthetic" / "options" / day.isoformat()
        write_replay(root, day, list(underlyings), seed=0)
        for u in underlyings:
            landing_options.fetch_and_land_chain(ReplayFetcher("CBOE", root), lake, day, u, "test")
            landing_options.fetch_and_land_occ_volume(ReplayFetcher("OCC", root), lake, day, u, "test")
            landing_options.derive_and_land_gex(lake, day, u)


def export_marts(warehouse: Path) -> dict[str, bytes]:
    """Every table of the marts schema as CSV bytes, rows sorted by all columns (the comparison the as-of test makes)."""
    import duckdb

    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        tables = [r[0] for r in con.execute("select table_name from information_schema.tables "
                                            "where table_schema = 'marts' order by 1").fetchall()]
        out = {}
        for table in tables:
            frame = con.execute(f"select * from marts.{table} order by all").df()
            out[table] = frame.to_csv(index=False).encode()
        return out
    finally:
        con.close()


def due(week: date, tier: str = "T1") -> date:
    return finra_weekly_due(week, tier)

