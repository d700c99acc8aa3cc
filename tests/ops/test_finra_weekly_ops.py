"""Operating FINRA weekly: calendar-driven schedule ticks, the availability sensor, concurrent backfills, validation."""

import os
import subprocess
import sys
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import dagster as dg
import duckdb
import pytest

from dagster_project.assets.dbt import finra_weekly_dbt_assets
from dagster_project.jobs import finra_weekly_job
from dagster_project.lake import Lake
from dagster_project.resources import FinraSourceResource, HomeResource
from dagster_project.schedules import finra_weekly_schedule
from dagster_project.sensors import finra_weekly_availability_sensor, finra_weekly_missing
from dagster_project.settings import Paths
from dagster_project.synthetic.finra_weekly import WeeklyConfig, write_weekly

NY = ZoneInfo("America/New_York")
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def job():
    return finra_weekly_job(finra_weekly_dbt_assets())


def tick(job, day: date) -> list[tuple[str, str]]:
    from dagster_project.assets.finra_weekly import finra_weekly_raw
    from dagster_project.resources import WarehouseResource, dbt_resource

    schedule = finra_weekly_schedule(job)
    defs = dg.Definitions(assets=[finra_weekly_raw, finra_weekly_dbt_assets()], jobs=[job], schedules=[schedule],
                          resources={"home": HomeResource(), "finra": FinraSourceResource(), "warehouse": WarehouseResource(),
                                     "dbt": dbt_resource()})
    with dg.instance_for_test() as instance:
        context = dg.build_schedule_context(instance=instance, repository_def=defs.get_repository_def(),
                                            scheduled_execution_time=datetime(day.year, day.month, day.day, 7, tzinfo=NY))
        result = schedule.evaluate_tick(context)
    return sorted((str(r.partition_key), r.tags["dealerflow/reason"]) for r in (result.run_requests or []))


def test_monday_requests_due_partitions_and_repolls(job):
    requests = tick(job, date(2026, 11, 16))
    due = [k for k, reason in requests if reason == "due"]
    assert due == ["OTCE|2026-10-12", "T1|2026-10-26", "T2|2026-10-12"]
    assert len(requests) == 12  # 3 tiers x (1 due + 3 re-polled weeks)
    assert ("T1|2026-10-05", "repoll") in requests


def test_midweek_requests_nothing(job):
    assert tick(job, date(2026, 11, 18)) == []


def test_holiday_monday_shifts_to_tuesday(job):
    assert tick(job, date(2023, 2, 20)) == []            # Presidents' Day
    requests = tick(job, date(2023, 2, 21))
    assert [k for k, reason in requests if reason == "due"] == ["OTCE|2023-01-16", "T1|2023-01-30", "T2|2023-01-16"]


def test_thanksgiving_and_weekends_request_nothing(job):
    assert tick(job, date(2026, 11, 26)) == []
    assert tick(job, date(2026, 11, 21)) == []


def test_month_end_monday(job):
    requests = tick(job, date(2026, 8, 31))
    assert [k for k, reason in requests if reason == "due"] == ["OTCE|2026-07-27", "T1|2026-08-10", "T2|2026-07-27"]


def test_sensor_requests_published_but_missing_partitions(job, tmp_path):
    replay = tmp_path / "replay"
    today = date.today()
    week = today - timedelta(days=today.weekday() + 35)   # a Monday five weeks back: T1 and T2 due already
    write_weekly(replay, week, week, tiers=("T1", "T2"), config=WeeklyConfig(scale=0.01))
    home = HomeResource(home=str(tmp_path / "home"))
    sensor = finra_weekly_availability_sensor(job)
    context = dg.build_sensor_context(resources={"home": home, "finra": FinraSourceResource(mode="replay", replay_dir=str(replay))})
    requests = sensor(context)
    assert sorted(str(r.partition_key) for r in requests) == [f"T1|{week}", f"T2|{week}"]
    assert all(r.tags["dealerflow/source_confirmed"] == "true" for r in requests)
    # once landed, nothing is requested
    from dagster_project.landing.finra_weekly import land_api_partition
    from dagster_project.sources.finra_api import FinraReplayClient

    for tier in ("T1", "T2"):
        land_api_partition(FinraReplayClient(replay), Lake(home.paths.lake), week, tier, today, "replay")
    assert isinstance(sensor(context), dg.SkipReason)


def test_early_publications_are_flagged_early():
    today = date(2026, 11, 21)
    available = [{"weekStartDate": "2026-11-02", "tierIdentifier": "T1"},   # due 2026-11-23: early
                 {"weekStartDate": "2026-10-26", "tierIdentifier": "T1"},   # due 2026-11-16
                 {"weekStartDate": "2026-10-26", "tierIdentifier": "T2"},   # landed
                 {"weekStartDate": "2020-01-06", "tierIdentifier": "T1"}]   # outside the look-back
    missing = finra_weekly_missing(available, {("2026-10-26", "T2")}, today)
    assert missing == [("2026-10-26", "T1", False), ("2026-11-02", "T1", True)]


def test_two_backfills_started_together_both_succeed(tmp_path):
    replay = tmp_path / "replay"
    write_weekly(replay, date(2026, 8, 3), date(2026, 8, 17), config=WeeklyConfig(scale=0.01))
    env = {**os.environ, "DEALERFLOW_HOME": str(tmp_path / "home")}
    cmd = [str(Path(sys.executable).parent / "dealerflow"), "backfill", "--source", "replay", "--replay-dir", str(replay)]
    first = subprocess.Popen(cmd + ["--from", "2026-08-03", "--to", "2026-08-10"], env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    second = subprocess.Popen(cmd + ["--from", "2026-08-17", "--to", "2026-08-17"], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    outs = [first.communicate(timeout=300), second.communicate(timeout=300)]
    assert first.returncode == 0, outs[0][1][-2000:]
    assert second.returncode == 0, outs[1][1][-2000:]
    with duckdb.connect(str(Paths(tmp_path / "home").bi_snapshot), read_only=True) as con:
        weeks = con.execute("select distinct week_start_date from marts.venue_share_weekly order by 1").fetchall()
    assert [w[0] for w in weeks] == [date(2026, 8, 3), date(2026, 8, 10), date(2026, 8, 17)]


def test_dagster_definitions_validate(tmp_path):
    result = subprocess.run([str(Path(sys.executable).parent / "dagster"), "definitions", "validate", "-w", "workspace.yaml"],
                            cwd=REPO, capture_output=True, text=True, timeout=300,
                            env={**os.environ, "DAGSTER_HOME": str(tmp_path)})
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Validation successful" in result.stdout + result.stderr


def test_short_data_sensor_requests_only_what_the_cdn_has(tmp_path):
    from dagster_project.definitions import defs
    from dagster_project.publication_calendar import business_days, regsho_due
    from dagster_project.resources import ShortDataSourceResource
    from dagster_project.synthetic.short_data import write_regsho_files

    today = date.today()
    due = [d for d in business_days(today - timedelta(days=21), today) if regsho_due(d) <= today]
    published, late = due[:-2], due[-2:]          # the CDN does not have the last two due days yet (403)
    replay = tmp_path / "replay"
    write_regsho_files(replay, ["AAPL", "MSFT"], published[0], published[-1])
    sensor = defs.get_sensor_def("short_data_availability")
    with dg.instance_for_test() as instance:
        context = dg.build_sensor_context(instance=instance, repository_def=defs.get_repository_def(), resources={
            "home": HomeResource(home=str(tmp_path / "home")),
            "short_data": ShortDataSourceResource(mode="replay", replay_dir=str(replay))})
        result = sensor.evaluate_tick(context)
    requested = sorted((r.job_name, r.partition_key) for r in result.run_requests)
    assert requested == [("regsho_daily", d.isoformat()) for d in published]
    assert all(d.isoformat() not in str(requested) for d in late)
