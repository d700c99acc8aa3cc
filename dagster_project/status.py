"""`dealerflow status`: per dataset, the latest published, landed and built partitions, and what is overdue.

Published comes from the publication calendar, landed from the lake, built from the BI snapshot. Each
dataset contributes its rows through a function in ``STATUS_PROVIDERS``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from dagster_project.lake import Lake
from dagster_project.publication_calendar import TIERS, finra_weekly_published
from dagster_project.settings import Paths

#: Partitions due within this window but not landed count as overdue (older gaps are backfill work).
OVERDUE_WINDOW_DAYS = 56


@dataclass(frozen=True)
class StatusRow:
    dataset: str
    scope: str
    latest_published: str
    latest_landed: str
    latest_built: str
    overdue: list[str]


def _snapshot_max(p: Paths, sql: str, params: list) -> str:
    """Latest value in the BI snapshot, or '-' when the snapshot or the mart is not there yet."""
    import duckdb

    if not p.bi_snapshot.is_file():
        return "-"
    try:
        with duckdb.connect(str(p.bi_snapshot), read_only=True) as con:
            value = con.execute(sql, params).fetchone()[0]
    except duckdb.Error:
        return "-"
    return str(value) if value is not None else "-"


def finra_weekly_status(p: Paths, today: date) -> list[StatusRow]:
    lake = Lake(p.lake)
    landed = {(part["week"], part["tier"]) for part in lake.partitions("finra_weekly")}
    rows = []
    for tier in TIERS:
        published = finra_weekly_published(today, start=today - timedelta(days=OVERDUE_WINDOW_DAYS + 35), tiers=(tier,))
        latest_published = max((x.week_start for x in published), default=None)
        tier_landed = sorted(w for w, t in landed if t == tier)
        overdue = [f"{x.week_start} (due {x.due_date})" for x in published
                   if x.due_date >= today - timedelta(days=OVERDUE_WINDOW_DAYS) and (x.week_start.isoformat(), tier) not in landed]
        built = _snapshot_max(p, "select max(week_start_date) from marts.venue_share_weekly where tier = ?", [tier])
        rows.append(StatusRow("finra-weekly", tier, str(latest_published or "-"), tier_landed[-1] if tier_landed else "-",
                              built, overdue))
    return rows


@dataclass(frozen=True)
class DatedDataset:
    """A dataset whose partitions are identified by one date-like key in the calendar and in the lake."""

    name: str              # as in `dealerflow calendar`
    calendar_key: str      # key of publication_calendar.calendar_rows rows
    lake_dataset: str
    lake_key: str          # partition key in the lake folder names
    built_sql: str         # latest partition in the marts
    scope: str = "all"


DATED_DATASETS = [
    DatedDataset("finra-monthly", "month_start", "finra_ats_blocks", "month",
                 "select max(month_start_date) from marts.block_activity_monthly where venue_kind = 'ATS'", "ATS blocks"),
    DatedDataset("finra-monthly", "month_start", "finra_otc_blocks", "month",
                 "select max(month_start_date) from marts.block_activity_monthly where venue_kind = 'OTC'", "non-ATS blocks"),
    DatedDataset("regsho", "trade_date", "regsho_daily", "date", "select max(trade_date) from marts.short_volume_daily"),
    DatedDataset("short-interest", "settlement_date", "short_interest", "settlement",
                 "select max(settlement_date) from marts.short_interest"),
    DatedDataset("ftd", "period", "sec_ftd", "period", "select max(period) from marts.fails_to_deliver"),
    DatedDataset("options-chain", "trade_date", "options_chain", "date", "select max(as_of_date) from marts.gex_levels_daily"),
    DatedDataset("occ", "trade_date", "occ_volume", "date", "select max(trade_date) from marts.occ_volume_daily"),
]


def dated_status(p: Paths, today: date) -> list[StatusRow]:
    from dagster_project.publication_calendar import calendar_rows

    lake = Lake(p.lake)
    rows = []
    for ds in DATED_DATASETS:
        due = [r for r in calendar_rows(ds.name, today - timedelta(days=OVERDUE_WINDOW_DAYS + 62), today)
               if r["due_date"] <= today]
        landed = {part[ds.lake_key] for part in lake.partitions(ds.lake_dataset) if ds.lake_key in part}
        keys = [str(r[ds.calendar_key]) for r in due]
        overdue = [f"{r[ds.calendar_key]} (due {r['due_date']})" for r in due
                   if r["due_date"] >= today - timedelta(days=OVERDUE_WINDOW_DAYS) and str(r[ds.calendar_key]) not in landed]
        rows.append(StatusRow(ds.name, ds.scope, keys[-1] if keys else "-", max(landed) if landed else "-",
                              _snapshot_max(p, ds.built_sql, []), overdue))
    return rows


STATUS_PROVIDERS = [finra_weekly_status, dated_status]


def collect(p: Paths, today: date | None = None) -> list[StatusRow]:
    today = today or date.today()
    return [row for provider in STATUS_PROVIDERS for row in provider(p, today)]


def render(rows: list[StatusRow]) -> str:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="dealerflow status", show_lines=False)
    for column in ("dataset", "scope", "latest published", "latest landed", "latest built", "overdue"):
        table.add_column(column)
    for r in rows:
        overdue = "none" if not r.overdue else f"{len(r.overdue)}: " + ", ".join(r.overdue[:3]) + (" …" if len(r.overdue) > 3 else "")
        table.add_row(r.dataset, r.scope, r.latest_published, r.latest_landed, r.latest_built,
                      overdue if not r.overdue else f"[bold red]{overdue}[/]")
    console = Console(width=160, record=True, force_terminal=False)
    with console.capture() as capture:
        console.print(table)
    return capture.get()
