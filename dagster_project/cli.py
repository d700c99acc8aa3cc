"""The ``dealerflow`` command: demo, backfill, build, import, calendar.

Long work shows a progress line; a failure prints one ``error:`` line naming the file or partition
and the problem, and exits non-zero.
"""

from __future__ import annotations

import os
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import click

# Nothing dealerflow runs may phone home.
os.environ.setdefault("DAGSTER_DISABLE_TELEMETRY", "1")
os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")

from dagster_project.errors import DealerflowError  # noqa: E402
from dagster_project.publication_calendar import DATASETS, TIERS  # noqa: E402
from dagster_project.settings import paths  # noqa: E402


class CliError(click.ClickException):
    def show(self, file=None):
        click.echo(f"error: {self.message}", err=True)


def _date(value: str, name: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CliError(f"{name} {value!r} is not a YYYY-MM-DD date") from None


def _tiers(value: str) -> list[str]:
    tiers = [t.strip().upper() for t in value.split(",") if t.strip()]
    unknown = [t for t in tiers if t not in TIERS]
    if unknown or not tiers:
        raise CliError(f"unknown tier(s) {', '.join(unknown) or value!r}; expected a comma list of {', '.join(TIERS)}")
    return sorted(set(tiers), key=TIERS.index)


def _replay_dir(ctx, param, value: str | None) -> str | None:
    """--replay-dir is only read from: it must not resolve into the home's lake, warehouse, quarantine or Dagster
    state (``..`` or a symlink cannot smuggle the pipeline's own files back in as upstream data)."""
    if value is None:
        return None
    resolved, p = Path(value).resolve(), paths()
    for own in (p.lake, p.warehouse.parent, p.quarantine, p.dagster_home):
        own = own.resolve()
        if resolved == own or own in resolved.parents:
            raise CliError(f"--replay-dir {value} resolves to {resolved}, inside dealerflow's own {own}; "
                           "point it at a folder of recorded upstream responses outside the home")
    return str(resolved)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main():
    """dealerflow: public regulatory data behind dealer positioning, as a tested DuckDB warehouse."""


@main.command()
@click.argument("dataset", type=click.Choice(DATASETS))
@click.option("--tier", "tier", default=",".join(TIERS), help="Comma list of tiers (weekly datasets).")
@click.option("--from", "start", required=False, help="First partition start (YYYY-MM-DD).")
@click.option("--to", "end", required=False, help="Last partition start (YYYY-MM-DD).")
def calendar(dataset, tier, start, end):
    """Print each partition's publication due date, from the publication calendar."""
    from dagster_project.publication_calendar import calendar_rows

    end_d = _date(end, "--to") if end else date.today()
    start_d = _date(start, "--from") if start else end_d - timedelta(days=90)
    if start_d > end_d:
        raise CliError(f"--from {start_d} is after --to {end_d}")
    rows = calendar_rows(dataset, start_d, end_d, _tiers(tier)) if dataset == "finra-weekly" else \
        calendar_rows(dataset, start_d, end_d)
    if dataset == "finra-weekly":
        click.echo("week_start,tier,due_date")
        for r in rows:
            click.echo(f"{r['week_start'].isoformat()},{r['tier']},{r['due_date'].isoformat()}")
    elif dataset in ("options-chain", "occ"):
        click.echo("trade_date,due_date,due_at")
        for r in rows:
            click.echo(f"{r['trade_date'].isoformat()},{r['due_date'].isoformat()},{r['due_at'].isoformat()}")
    elif dataset == "finra-monthly":
        click.echo("month_start,due_date")
        for r in rows:
            click.echo(f"{r['month_start'].isoformat()},{r['due_date'].isoformat()}")
    else:  # one column per field of the dataset's calendar rows (trade_date / settlement_date / period, due_date)
        if rows:
            click.echo(",".join(rows[0]))
        for r in rows:
            click.echo(",".join(v.isoformat() if isinstance(v, date) else str(v) for v in r.values()))


@main.command()
@click.option("--from", "start", required=True, help="First week (any day of it), YYYY-MM-DD.")
@click.option("--to", "end", required=True, help="Last week (any day of it), YYYY-MM-DD.")
@click.option("--tiers", default=",".join(TIERS), show_default=True)
@click.option("--source", type=click.Choice(["live", "synthetic", "replay"]), default="live", show_default=True)
@click.option("--replay-dir", type=click.Path(file_okay=False), default=None, callback=_replay_dir, help="Folder of recorded pages (--source replay).")
@click.option("--scale", type=float, default=None, help="Synthetic universe scale (--source synthetic).")
def backfill(start, end, tiers, source, replay_dir, scale):
    """Fetch FINRA weekly data for a range of weeks x tiers and rebuild the affected marts, as one Dagster run."""
    from dagster_project.runner import run_finra_weekly

    start_d, end_d = _date(start, "--from"), _date(end, "--to")
    if start_d > end_d:
        raise CliError(f"--from {start_d} is after --to {end_d}")
    if source == "replay" and not replay_dir:
        raise CliError("--source replay needs --replay-dir")
    _run(lambda: run_finra_weekly(start_d, end_d, _tiers(tiers), source, replay_dir, scale), "backfill")


def _month(value: str, name: str) -> date:
    try:
        return date.fromisoformat(f"{value}-01")
    except ValueError:
        raise CliError(f"{name} {value!r} is not a YYYY-MM month") from None


@main.command(name="backfill-monthly")
@click.option("--from", "start", required=True, help="First month, YYYY-MM.")
@click.option("--to", "end", required=True, help="Last month, YYYY-MM.")
@click.option("--source", type=click.Choice(["live", "synthetic", "replay"]), default="live", show_default=True)
@click.option("--replay-dir", type=click.Path(file_okay=False), default=None, callback=_replay_dir, help="Folder of recorded pages (--source replay).")
@click.option("--scale", type=float, default=None, help="Synthetic universe scale (--source synthetic).")
def backfill_monthly(start, end, source, replay_dir, scale):
    """Fetch FINRA monthly block-size and non-ATS data for a range of months and rebuild their marts, as one Dagster run.

    Months not yet due (see `dealerflow calendar finra-monthly`) are skipped with the reason."""
    from dagster_project.runner import run_finra_monthly

    start_m, end_m = _month(start, "--from"), _month(end, "--to")
    if start_m > end_m:
        raise CliError(f"--from {start} is after --to {end}")
    if start_m < date(2016, 8, 1):
        raise CliError(f"--from {start}: FINRA monthly block data starts with 2016-08")
    if source == "replay" and not replay_dir:
        raise CliError("--source replay needs --replay-dir")
    _run(lambda: run_finra_monthly(start_m, end_m, source, replay_dir, scale), "backfill-monthly")


@main.command(name="backfill-options")
@click.option("--from", "start", required=True, help="First trade date, YYYY-MM-DD.")
@click.option("--to", "end", required=True, help="Last trade date, YYYY-MM-DD.")
@click.option("--underlyings", default=None, help="Comma list (default: every configured underlying, "
                                                   "DEALERFLOW_OPTIONS_UNDERLYINGS or SPX,NDX,SPY,QQQ).")
@click.option("--source", type=click.Choice(["live", "synthetic", "replay"]), default="live", show_default=True)
@click.option("--replay-dir", type=click.Path(file_okay=False), default=None, callback=_replay_dir,
              help="Folder with one recorded <YYYY-MM-DD>/{cboe,occ}/ tree per trade date (--source replay).")
def backfill_options(start, end, underlyings, source, replay_dir):
    """Fetch Cboe chains and OCC volume / open interest for trade dates x underlyings, derive GEX, rebuild the options
    marts, as one Dagster run per block of underlyings. Non-trading and not-yet-due dates are skipped with the reason;
    the live Cboe chain and OCC series-search have no history (import recorded files for past dates)."""
    from dagster_project.runner import run_options

    start_d, end_d = _date(start, "--from"), _date(end, "--to")
    if start_d > end_d:
        raise CliError(f"--from {start_d} is after --to {end_d}")
    if start_d < date(2022, 1, 3):
        raise CliError(f"--from {start_d}: options partitions start on 2022-01-03")
    if source == "replay" and not replay_dir:
        raise CliError("--source replay needs --replay-dir")
    chosen = [u.strip().upper() for u in underlyings.split(",") if u.strip()] if underlyings else None
    _run(lambda: run_options(start_d, end_d, chosen, source, replay_dir), "backfill-options")


@main.command()
@click.option("--as-of", "as_of", default=None,
              help="Build every mart as known on this date (YYYY-MM-DD) into a separate warehouse file, using only "
                   "partitions due and versions published by then; prints its path. The main warehouse and BI "
                   "snapshot are untouched.")
def build(as_of):
    """Rebuild every mart from what the lake holds (no fetching), then publish the BI snapshot."""
    from dagster_project.runner import build_all

    as_of_d = _date(as_of, "--as-of") if as_of else None
    if as_of_d is not None and as_of_d > date.today():
        raise CliError(f"--as-of {as_of_d} is in the future; the latest build is `dealerflow build`")
    _run(lambda: build_all(as_of=as_of_d), "build")


@main.command()
def status():
    """Per dataset: latest published (calendar), landed (lake) and built (warehouse) partitions, and anything overdue."""
    from dagster_project import status as status_module

    click.echo(status_module.render(status_module.collect(paths())), nl=False)


@main.command()
@click.option("--symbol", default=None, help="Symbol for the off-exchange trend chart (default: the most traded).")
@click.option("--out", type=click.Path(dir_okay=False), default=None, help="Where to write the HTML (default: <home>/reports/).")
def report(symbol, out):
    """Write a static HTML report of charts from the warehouse snapshot and print its path."""
    from dagster_project.report import write_report

    try:
        click.echo(write_report(paths(), symbol, Path(out) if out else None))
    except DealerflowError as exc:
        raise CliError(str(exc)) from None


@main.command()
@click.option("--out", type=click.Path(dir_okay=False), default="docs/warehouse.md", show_default=True)
def docs(out):
    """Regenerate the BI guide to the marts (docs/warehouse.md) from the dbt models and the built warehouse."""
    from dagster_project.docs import write
    from dagster_project.resources import DBT_PROJECT_DIR

    target = Path(out)
    write(DBT_PROJECT_DIR / "target" / "manifest.json", paths().bi_snapshot, target.parent / "warehouse_examples.md", target)
    click.echo(target)


@main.group(name="import")
def import_():
    """Land upstream files from disk into the lake."""


@import_.command(name="finra-weekly")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--week-start", required=True, help="Monday of the week the files hold (YYYY-MM-DD).")
@click.option("--kind", type=click.Choice(["ats", "otc"], case_sensitive=False), required=True)
def import_finra_weekly(files, week_start, kind):
    """Land FINRA weekly download files (pipe-delimited, symbol x venue) as raw partitions."""
    from dagster_project.lake import Lake
    from dagster_project.landing.finra_weekly import import_legacy_files

    week = _date(week_start, "--week-start")
    try:
        landed = import_legacy_files([Path(f) for f in files], Lake(paths().lake), week, kind)
    except DealerflowError as exc:
        raise CliError(str(exc)) from None
    for p in landed:
        state = "new version" if p.is_new else "unchanged"
        click.echo(f"{p.week} {p.tier} {p.kind}: {p.rows} rows ({state} {p.version_id})")
    click.echo("run `dealerflow build` to rebuild the marts")


def _import_short(what: str, land) -> None:
    """Run a short-data import; bad files are quarantined and reported as one error line (good ones still land)."""
    try:
        landed = land()
    except DealerflowError as exc:
        raise CliError(str(exc)) from None
    for version in landed:
        click.echo(version.describe())
    click.echo(f"{what}: {len(landed)} partition(s); run `dealerflow build` to rebuild the marts")


@import_.command(name="regsho")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--no-trailer", is_flag=True, help="Accept files whose record-count trailer line was removed.")
def import_regsho(files, no_trailer):
    """Land FINRA Reg SHO daily files named {CNMS|FNSQ|FNQC|FNYX|FNRA|FORF}shvolYYYYMMDD.txt."""
    from dagster_project.lake import Lake
    from dagster_project.landing.short_data import import_regsho_files

    _import_short("Reg SHO", lambda: import_regsho_files([Path(f) for f in files], Lake(paths().lake),
                                                         require_trailer=not no_trailer))


@import_.command(name="short-interest")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--settlement-date", default=None, help="Settlement date, when the files do not carry one (YYYY-MM-DD).")
def import_short_interest(files, settlement_date):
    """Land FINRA short-interest files (CDN shrtYYYYMMDD.csv, Query API CSV/JSON, finra.org export); all pages of
    one export go in one call: each call's files become the settlement date's new version."""
    from dagster_project.lake import Lake
    from dagster_project.landing.short_data import import_short_interest_files

    settlement = _date(settlement_date, "--settlement-date") if settlement_date else None
    _import_short("short interest", lambda: import_short_interest_files([Path(f) for f in files], Lake(paths().lake),
                                                                        settlement))


@import_.command(name="ftd")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--no-trailer", is_flag=True, help="Accept unzipped files whose two trailer lines were removed "
                                                  "(nothing is reconciled; the version records it).")
def import_ftd(files, no_trailer):
    """Land SEC fails-to-deliver files (cnsfailsYYYYMMa|b.zip as published, or the unzipped .txt)."""
    from dagster_project.lake import Lake
    from dagster_project.landing.short_data import import_ftd_files

    _import_short("fails-to-deliver", lambda: import_ftd_files([Path(f) for f in files], Lake(paths().lake),
                                                               require_trailer=not no_trailer))


@main.command(name="backfill-short")
@click.option("--from", "start", required=True, help="First trade / settlement date, YYYY-MM-DD.")
@click.option("--to", "end", required=True, help="Last trade / settlement date, YYYY-MM-DD.")
@click.option("--datasets", default="regsho,short-interest,ftd", show_default=True,
              help="Comma list of regsho, short-interest, ftd (FTD: half-months overlapping the range).")
@click.option("--source", type=click.Choice(["live", "synthetic", "replay"]), default="live", show_default=True)
@click.option("--replay-dir", type=click.Path(file_okay=False), default=None, callback=_replay_dir,
              help="Folder mirroring the sources (finra_cdn/, finra_api/, sec/) for --source replay.")
@click.option("--scale", type=float, default=None, help="Synthetic universe scale (--source synthetic).")
def backfill_short(start, end, datasets, source, replay_dir, scale):
    """Fetch Reg SHO, short interest and SEC fails-to-deliver for a date range and rebuild the short_data marts."""
    from dagster_project.runner import SHORT_DATA_DATASETS, run_short_data

    start_d, end_d = _date(start, "--from"), _date(end, "--to")
    if start_d > end_d:
        raise CliError(f"--from {start_d} is after --to {end_d}")
    chosen = [d.strip() for d in datasets.split(",") if d.strip()]
    unknown = [d for d in chosen if d not in SHORT_DATA_DATASETS]
    if unknown or not chosen:
        raise CliError(f"unknown dataset(s) {', '.join(unknown) or datasets!r}; expected a comma list of "
                       f"{', '.join(SHORT_DATA_DATASETS)}")
    if source == "replay" and not replay_dir:
        raise CliError("--source replay needs --replay-dir")
    ordered = [d for d in SHORT_DATA_DATASETS if d in chosen]
    _run(lambda: run_short_data(start_d, end_d, ordered, source, replay_dir, scale), "backfill-short")


@import_.command(name="cboe-chain")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--underlying", default=None, help="Underlying ticker (default: from the file's feed symbol or root).")
@click.option("--date", "trade_date", default=None,
              help="Trade date (default: the session the file's quote time reflects; a Saturday-evening quote is "
                   "Friday's close).")
def import_cboe_chain(files, underlying, trade_date):
    """Land Cboe option chains (delayed-quotes JSON or quote-table CSV download) and derive their GEX."""
    from dagster_project.landing.options import derive_and_land_gex, import_chain_files
    from dagster_project.lake import Lake

    day = _date(trade_date, "--date") if trade_date else None
    lake = Lake(paths().lake)
    try:
        landed = import_chain_files([Path(f) for f in files], lake, underlying, day)
        for chain in landed:
            gex = derive_and_land_gex(lake, chain.trade_date, chain.underlying)
            state = "new version" if chain.is_new else "unchanged"
            click.echo(f"{chain.label}: {chain.rows} contracts ({state} {chain.version_id}); "
                       f"GEX version {gex.version_id}")
    except DealerflowError as exc:
        raise CliError(str(exc)) from None
    click.echo("run `dealerflow build` to rebuild the marts")


@main.command()
@click.option("--weeks", type=int, default=8, show_default=True, help="How many recent weeks to backfill.")
@click.option("--scale", type=float, default=0.05, show_default=True, help="Synthetic universe scale (1.0 = realistic).")
def demo(weeks, scale):
    """Offline demo: backfill recent data from the synthetic sources into the warehouse, then summarise."""
    from dagster_project.demo import run_demo

    if weeks < 1:
        raise CliError("--weeks must be at least 1")
    _run(lambda: run_demo(weeks, scale), "demo")


def _run(fn, what: str):
    started = time.monotonic()
    from rich.console import Console

    console = Console(stderr=True)
    try:
        with console.status(f"{what}: running (Dagster run, dbt build, checks)…"):
            outcome = fn()
    except DealerflowError as exc:
        raise CliError(str(exc)) from None
    console.print(f"{what}: done in {time.monotonic() - started:.1f}s")
    if outcome:
        click.echo(outcome)


if __name__ == "__main__":
    sys.exit(main())
