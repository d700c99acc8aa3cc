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
    else:
        click.echo("month_start,due_date")
        for r in rows:
            click.echo(f"{r['month_start'].isoformat()},{r['due_date'].isoformat()}")


@main.command()
@click.option("--from", "start", required=True, help="First week (any day of it), YYYY-MM-DD.")
@click.option("--to", "end", required=True, help="Last week (any day of it), YYYY-MM-DD.")
@click.option("--tiers", default=",".join(TIERS), show_default=True)
@click.option("--source", type=click.Choice(["live", "synthetic", "replay"]), default="live", show_default=True)
@click.option("--replay-dir", type=click.Path(file_okay=False), default=None, help="Folder of recorded pages (--source replay).")
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


@main.command()
def build():
    """Rebuild every mart from what the lake holds (no fetching), then publish the BI snapshot."""
    from dagster_project.runner import build_all

    _run(build_all, "build")


@main.command()
def status():
    """Per dataset: latest published (calendar), landed (lake) and built (warehouse) partitions, and anything overdue."""
    from dagster_project import status as status_module

    click.echo(status_module.render(status_module.collect(paths())), nl=False)


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
