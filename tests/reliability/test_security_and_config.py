"""Security and operating configuration: secrets, paths that must not escape, parameterised SQL, one writer."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from click.testing import CliRunner

from dagster_project.cli import main
from dagster_project.errors import DealerflowError, SourceError
from dagster_project.instance import RUNNER_TAG, prepare_dagster_home, reclaim_crashed_runs
from dagster_project.settings import Paths
from dagster_project.sources.finra_api import FinraReplayClient, write_replay_partition
from reliability_support import W1, W2, W3, HomeSnapshot, assert_preserved, built_once, error_lines, finra_partition
from support.finra_api_server import FinraApiServer

TOKEN = "tok-live-7c1e9a5f0b3d"


# -- a live-mode run with a token, one bad partition among good ones ------------------------------------------
@pytest.fixture(scope="module")
def live_run(tmp_path_factory, weekly_replay):
    return built_once("live_run", lambda: run_live(tmp_path_factory, weekly_replay))


def run_live(tmp_path_factory, weekly_replay):
    """``run_finra_weekly`` in live mode against the fake FINRA API, with a bearer token; W2's page drifted."""
    from dagster_project.runner import run_finra_weekly

    root = tmp_path_factory.mktemp("live_token")
    served = root / "served"
    client = FinraReplayClient(weekly_replay)
    for week in (W1, W2, W3):
        filters = {"weekStartDate": week.isoformat(), "tierIdentifier": "T1"}
        records = [r for page in client.fetch_partition("weeklySummary", filters).pages for r in json.loads(page)]
        if week == W2:
            records[3]["venueRegion"] = "EU"  # schema drift in one partition
        write_replay_partition(served, "weeklySummary", filters, records=records)
    home = root / "home"
    env = {"DEALERFLOW_FINRA_TOKEN": TOKEN, "DEALERFLOW_HTTP_RETRIES": "1", "DEALERFLOW_HTTP_BACKOFF": "0"}
    mp = pytest.MonkeyPatch()
    logger = logging.getLogger()
    records: list[logging.LogRecord] = []
    handler = logging.Handler(level=logging.DEBUG)
    handler.emit = records.append
    logger.addHandler(handler)
    old_level = logger.level
    logger.setLevel(logging.DEBUG)
    try:
        with FinraApiServer(served) as server:
            mp.setenv("DEALERFLOW_FINRA_API_URL", server.url)
            for key, value in env.items():
                mp.setenv(key, value)
            mp.setenv("DEALERFLOW_HOME", str(home))
            mp.setenv("DAGSTER_HOME", str(home / "dagster"))
            with pytest.raises(DealerflowError) as err:
                run_finra_weekly(W1, W3, ["T1"], "live", p=Paths(home))
            requests = list(server.requests)
    finally:
        mp.undo()
        logger.removeHandler(handler)
        logger.setLevel(old_level)
    logged = "\n".join(f"{r.getMessage()} {r.args!r}" for r in records)
    return home, str(err.value), requests, logged


def test_a_bad_partition_is_named_and_the_good_ones_still_build(live_run):
    home, error, _, _ = live_run
    assert f"weeklySummary tierIdentifier=T1 weekStartDate={W2}" in error, error
    assert "schema drift: unexpected field(s) venueRegion" in error, error
    assert "check fetch_succeeded failed" in error, error
    snap = HomeSnapshot.of(home)
    assert snap.partitions() == {finra_partition(w, "T1", k) for w in (W1, W3) for k in ("ATS", "OTC")}
    with duckdb.connect(str(Paths(home).bi_snapshot), read_only=True) as con:
        weeks = dict(con.execute("select week_start_date, count(*) from marts.venue_share_weekly group by 1").fetchall())
    assert set(weeks) == {W1, W3} and all(n > 0 for n in weeks.values())
    assert snap.marts["venue_share_weekly"].count(b"\n") == sum(weeks.values()) + 1


def test_the_token_is_sent_but_never_logged_stored_or_shown(live_run):
    home, error, requests, logged = live_run
    assert requests and all(r["headers"].get("Authorization") == f"Bearer {TOKEN}" for r in requests)
    assert TOKEN not in error and TOKEN not in logged
    leaks = [str(f) for f in home.rglob("*") if f.is_file() and TOKEN.encode() in f.read_bytes()]
    assert not leaks, f"the token was written to {leaks}"


def test_run_logs_name_the_failed_partition_without_the_token(live_run):
    home, _, _, _ = live_run
    with dg.DagsterInstance.from_config(str(home / "dagster")) as instance:
        (run,) = instance.get_runs()
        messages = [e.message or "" for e in instance.all_logs(run.run_id)]
    assert any(f"weekStartDate={W2}" in m and "schema drift" in m for m in messages)
    assert not any(TOKEN in m for m in messages)


# -- paths that must not escape their root -----------------------------------------------------------------
@pytest.mark.parametrize("inside", ["lake", "lake/finra_weekly", "warehouse", "quarantine"])
def test_replay_dir_resolving_into_the_home_is_refused(tmp_path, inside):
    home = tmp_path / "home"
    (home / inside).mkdir(parents=True)
    (tmp_path / "recorded").mkdir()
    sneaky = tmp_path / "recorded" / ".." / "home" / inside
    before = HomeSnapshot.of(home)
    result = CliRunner().invoke(main, ["backfill", "--source", "replay", "--replay-dir", str(sneaky), "--from",
                                       W1.isoformat(), "--to", W1.isoformat(), "--tiers", "T1"],
                                env={"DEALERFLOW_HOME": str(home)})
    assert result.exit_code != 0
    (error,) = error_lines(result.stderr)
    assert error == (f"error: --replay-dir {sneaky} resolves to {(home / inside).resolve()}, inside dealerflow's own "
                     f"{(home / inside.split('/')[0]).resolve()}; point it at a folder of recorded upstream responses "
                     "outside the home")
    assert not (home / "dagster").exists(), "nothing may run"
    assert_preserved(before, HomeSnapshot.of(home))


@pytest.mark.parametrize("filters", [{"weekStartDate": "../../../etc", "tierIdentifier": "T1"},
                                     {"weekStartDate": "2026-08-03", "tierIdentifier": "T1/../../x"}])
def test_replay_partition_values_cannot_climb_out_of_the_replay_folder(tmp_path, filters):
    with pytest.raises(SourceError, match=r"refusing replay path segment .* \(outside the replay folder\)"):
        FinraReplayClient(tmp_path).fetch_partition("weeklySummary", filters)


def test_user_supplied_symbol_reaches_sql_only_as_a_bound_parameter(tmp_path):
    """``dealerflow report --symbol`` with SQL in it: answered as an unknown symbol, the marts untouched."""
    from dagster_project import report

    db = tmp_path / "bi.duckdb"
    with duckdb.connect(str(db)) as con:
        con.execute("create schema marts")
        con.execute("create table marts.symbol_offexchange_weekly as select date '2026-08-03' as week_start_date, "
                    "'SPY' as symbol, 1.0 as ats_share_quantity, 1.0 as otc_share_quantity, 0.5 as ats_fraction, "
                    "2.0 as offexchange_share_quantity")
    hostile = "SPY' or '1'='1'; drop table marts.symbol_offexchange_weekly; --"
    with duckdb.connect(str(db)) as con:
        section = report.symbol_trend_section(con, hostile)
        assert section.missing == f"no weeks for symbol {hostile!r}"
        assert con.execute("select count(*) from marts.symbol_offexchange_weekly").fetchone()[0] == 1


def test_no_sql_in_dagster_project_interpolates_cli_input():
    """Every f-string handed to ``execute`` interpolates only constants or identifiers chosen by the code."""
    import ast

    allowed = {"TOP_VENUES", "cols", "partition", "table", "name", "column", "t", "measure", "left", "right",
               "combined", "rows", "len", "STORAGE_VERSION", "_sql_path", "tmp", "current", "dataset", "c", "chr",
               "target", "BLOCK_CATEGORIES", "qty"}
    offenders = []
    for path in sorted(Path(__file__).resolve().parents[2].joinpath("dagster_project").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", "") in ("execute", "sql") and node.args:
                arg = node.args[0]
                if isinstance(arg, ast.JoinedStr):
                    names = {n.id for v in arg.values if isinstance(v, ast.FormattedValue) for n in ast.walk(v.value)
                             if isinstance(n, ast.Name)}
                    if names - allowed:
                        offenders.append(f"{path.name}:{node.lineno} interpolates {sorted(names - allowed)}")
    assert not offenders, offenders


# -- one writer: the Dagster instance configuration, and crashed runs do not hold the pool ----------------------
def test_dagster_instance_limits_warehouse_runs_to_one(tmp_path, monkeypatch):
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    prepare_dagster_home(Paths(tmp_path / "home"))
    with dg.DagsterInstance.get() as instance:
        config = instance.get_concurrency_config()
    limits = [(l.key, l.value, l.limit) if hasattr(l, "key") else (l["key"], l.get("value"), l["limit"])
              for l in config.run_queue_config.tag_concurrency_limits]
    assert ("dealerflow/warehouse", "duckdb", 1) in limits
    assert config.pool_config.default_pool_limit == 1
    from dagster_project.definitions import build_defs
    from dagster_project.jobs import WAREHOUSE_TAGS

    defs = build_defs(home=str(tmp_path / "home"))
    writing = [job for job in defs.resolve_all_job_defs() if not job.name.startswith("__")]
    assert writing and all(job.tags.get("dealerflow/warehouse") == WAREHOUSE_TAGS["dealerflow/warehouse"] for job in writing)


def test_a_run_whose_process_died_releases_the_warehouse_pool_slot(tmp_path, monkeypatch):
    import socket

    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    prepare_dagster_home(Paths(tmp_path / "home"))
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    with dg.DagsterInstance.get() as instance:
        storage = instance.event_log_storage
        storage.set_concurrency_slots("warehouse", 1)
        crashed = instance.add_run(dg.DagsterRun(job_name="finra_weekly", run_id="crashed-run",
                                                 status=dg.DagsterRunStatus.STARTED,
                                                 tags={RUNNER_TAG: f"{socket.gethostname()}:{dead.pid}"}))
        alive = instance.add_run(dg.DagsterRun(job_name="finra_weekly", run_id="live-run",
                                               status=dg.DagsterRunStatus.STARTED,
                                               tags={RUNNER_TAG: f"{socket.gethostname()}:{os.getpid()}"}))
        assert storage.claim_concurrency_slot("warehouse", crashed.run_id, "finra_weekly_dbt").is_claimed
        assert not storage.claim_concurrency_slot("warehouse", alive.run_id, "finra_weekly_dbt").is_claimed

        assert reclaim_crashed_runs(instance) == ["crashed-run"]
        assert instance.get_run_by_id("crashed-run").status == dg.DagsterRunStatus.FAILURE
        assert instance.get_run_by_id("live-run").status == dg.DagsterRunStatus.STARTED
        assert storage.claim_concurrency_slot("warehouse", alive.run_id, "finra_weekly_dbt").is_claimed
