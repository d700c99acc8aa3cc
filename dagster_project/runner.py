"""Run dealerflow's Dagster jobs in process (CLI, demo, tests) and turn failures into one clear message."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import dagster as dg
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

from dagster_project.errors import DealerflowError
from dagster_project.instance import prepare_dagster_home, reclaim_crashed_runs, runner_tags
from dagster_project.partitions import week_tier_key
from dagster_project.publication_calendar import TIERS, week_start
from dagster_project.settings import Paths, paths


def _contiguous_blocks(tiers: list[str]) -> list[list[str]]:
    """Tier ranges must be contiguous in declaration order (T1, T2, OTCE) to form one rectangle of partitions."""
    blocks: list[list[str]] = []
    for tier in sorted(tiers, key=TIERS.index):
        if blocks and TIERS.index(tier) == TIERS.index(blocks[-1][-1]) + 1:
            blocks[-1].append(tier)
        else:
            blocks.append([tier])
    return blocks


#: In-process runs log warnings and errors only; the CLI shows its own progress. DEALERFLOW_LOG_LEVEL overrides.
def quiet_run_config() -> dict:
    import os

    return {"loggers": {"console": {"config": {"log_level": os.environ.get("DEALERFLOW_LOG_LEVEL", "WARNING")}}}}


def execute(job, instance, first_key, last_key):
    """Execute ``job`` in process over one partition, or one rectangle of partitions as a single run.

    Runs left behind by a killed dealerflow process are failed first, freeing the pool slot they held."""
    reclaim_crashed_runs(instance)
    if str(first_key) == str(last_key):
        return job.execute_in_process(instance=instance, partition_key=str(first_key), raise_on_error=False,
                                      run_config=quiet_run_config(), tags=runner_tags())
    return job.execute_in_process(instance=instance, raise_on_error=False, run_config=quiet_run_config(), tags={
        ASSET_PARTITION_RANGE_START_TAG: str(first_key), ASSET_PARTITION_RANGE_END_TAG: str(last_key), **runner_tags()})


def run_finra_weekly(start: date, end: date, tiers: list[str], source: str = "live", replay_dir: str | None = None,
                     scale: float | None = None, p: Paths | None = None) -> str:
    """Backfill weeks [start, end] x tiers as one run per contiguous tier block; raise on any failure."""
    from dagster_project.definitions import build_defs
    from dagster_project.resources import FinraSourceResource

    p = p or paths()
    prepare_dagster_home(p)
    finra_kwargs = {"mode": source, "replay_dir": str(Path(replay_dir).resolve()) if replay_dir else ""}
    if scale is not None:
        finra_kwargs["synthetic_scale"] = scale
    defs = build_defs(finra=FinraSourceResource(**finra_kwargs), home=str(p.home))
    first, last = week_start(start), week_start(end)
    lines = []
    with dg.DagsterInstance.get() as instance:
        job = defs.resolve_job_def("finra_weekly")  # resolved while the instance is open (Dagster's load context)
        for block in _contiguous_blocks(tiers):
            result = execute(job, instance, week_tier_key(first, block[0]), week_tier_key(last, block[-1]))
            raise_for_result(result, f"weeks {first}..{last} tiers {','.join(block)}")
            lines.append(f"run {result.run_id}: weeks {first}..{last} x {','.join(block)} succeeded")
    return "\n".join(lines)


def raise_for_result(result, what: str) -> None:
    """Raise DealerflowError with the first step failure or failed check of a run."""
    problems = []
    for event in result.all_events:
        if event.event_type == dg.DagsterEventType.STEP_FAILURE:
            error = event.step_failure_data.error
            message = error.message.strip() if error else "step failed"
            cause = error.cause if error else None
            while cause is not None:  # the user's exception is the innermost cause
                message = cause.message.strip()
                cause = cause.cause
            problems.append(f"{event.step_key}: {message.splitlines()[-1] if message else 'failed'}")
    for evaluation in result.get_asset_check_evaluations():
        # Warnings (e.g. an early publication FINRA itself listed) are reported in Dagster, not failures.
        if not evaluation.passed and evaluation.severity != dg.AssetCheckSeverity.WARN:
            details = {k: v.value for k, v in (evaluation.metadata or {}).items()}
            detail = next((v for v in details.values() if isinstance(v, list) and v), details)
            problems.append(f"check {evaluation.asset_check_key.name} failed: {detail}")
    if problems or not result.success:
        raise DealerflowError(f"{what}: " + (" | ".join(problems) if problems else "run failed"))


def raise_for_dbt(invocation, what: str) -> None:
    """Raise DealerflowError naming the failed dbt nodes of a finished invocation."""
    if not invocation.is_successful():
        failed = [r.get("unique_id") for r in invocation.get_artifact("run_results.json").get("results", [])
                  if r.get("status") in ("error", "fail")]
        raise DealerflowError(f"{what} failed: {', '.join(failed) or 'see dbt log'}")


def run_ids_of(message: str) -> list[str]:
    """The Dagster run ids in a runner message (one "run <id>: ..." line per run)."""
    return [line.split()[1].rstrip(":") for line in message.splitlines() if line.startswith("run ")]


#: dbt tag -> the lake datasets its models read. `dealerflow build` builds a tag only once its data is landed
#: (DuckDB cannot scan an empty glob). Each dataset registers its tag here.
DBT_TAG_LAKE_DATASETS: dict[str, tuple[str, ...]] = {"finra_weekly": ("finra_weekly",)}
DBT_TAG_LAKE_DATASETS["short_data"] = ("regsho_daily", "short_interest", "sec_ftd")
DBT_TAG_LAKE_DATASETS["finra_monthly"] = ("finra_ats_blocks", "finra_otc_blocks", "finra_monthly_summary")
#: OCC staging reads an empty typed relation until OCC data lands, so imported chains alone build the GEX marts.
DBT_TAG_LAKE_DATASETS["options"] = ("options_chain", "gex")
#: Tags whose staging models read an empty typed relation for a dataset not landed yet: built once ANY is landed.
DBT_TAGS_BUILT_WHEN_ANY_LANDED = {"short_data"}
#: The dealer-flow view needs FINRA weekly; options and short data join in when built (typed empty relations if not).
DBT_TAG_LAKE_DATASETS["dealer_flow"] = ("finra_weekly",)


def _landed(p: Paths, dataset: str) -> bool:
    return any((p.lake / dataset).glob("**/v=*/manifest.json"))


def landed_dbt_tags(p: Paths) -> list[str]:
    """The dbt tags whose lake data exists; raises when the lake holds nothing."""
    tags = [tag for tag, datasets in DBT_TAG_LAKE_DATASETS.items()
            if (any if tag in DBT_TAGS_BUILT_WHEN_ANY_LANDED else all)(_landed(p, d) for d in datasets)]
    if not tags:
        raise DealerflowError(f"{p.lake}: the lake holds no data yet; run `dealerflow backfill` or `dealerflow import` first")
    return tags


def build_all(p: Paths | None = None, as_of: date | None = None) -> str:
    """Rebuild every dbt model whose lake data exists in ONE dbt invocation (dbt orders the tags, dealer_flow last),
    then publish the BI snapshot. With ``as_of``, build a separate point-in-time warehouse instead (build_as_of)."""
    from datetime import datetime, timezone

    from dagster_project.resources import WarehouseResource, dbt_resource, reusing_dbt_parse

    p = p or paths()
    if as_of is not None:
        return f"built all marts as known on {as_of}: {build_as_of(as_of, p)}"
    tags = landed_dbt_tags(p)
    warehouse = WarehouseResource(home=str(p.home))
    with warehouse.writing():
        select = " ".join(f"tag:{t}" for t in tags)
        target = p.home / "dbt" / "target" / f"build-{datetime.now(timezone.utc):%Y%m%dT%H%M%S%f}"
        with reusing_dbt_parse(p, target):
            invocation = dbt_resource().cli(["build", "--select", select], raise_on_error=False, target_path=target)
            invocation.wait()
        raise_for_dbt(invocation, "dbt build")
        snapshot = warehouse.publish()
    return f"built all marts; BI snapshot: {snapshot}"


def asof_warehouse_path(p: Paths, as_of: date) -> Path:
    return p.home / "warehouse" / "asof" / f"dealerflow-asof-{as_of.isoformat()}.duckdb"


def build_as_of(as_of: date, p: Paths | None = None) -> Path:
    """Build every mart as known on ``as_of`` (dbt var as_of, full refresh) into its own warehouse file; returns it.

    Only versions published by ``as_of`` (by the data's own publication date, else the calendar's due date:
    macros/point_in_time.sql) of partitions due by then are used. The main warehouse, its writer lock and the BI
    snapshot are never touched. The file is built in a private folder under the same name (DuckDB views name their
    database after the file) and moved into place when dbt succeeded.
    """
    import os
    import shutil

    import duckdb
    from filelock import FileLock

    from dagster_project.reference import write_publication_calendar
    from dagster_project.warehouse import STORAGE_VERSION

    p = p or paths()
    select = " ".join(f"tag:{t}" for t in landed_dbt_tags(p))
    target = asof_warehouse_path(p, as_of)
    target.parent.mkdir(parents=True, exist_ok=True)
    # One build per date at a time; a stable work folder and target path let dbt reuse its parse of the same profile.
    lock = FileLock(str(target.parent / f".building-{as_of.isoformat()}.lock"))
    workdir = target.parent / f".building-{as_of.isoformat()}"
    with lock:
        shutil.rmtree(workdir, ignore_errors=True)
        workdir.mkdir(parents=True)
        building = workdir / target.name
        duckdb.connect(str(building), config={"storage_compatibility_version": STORAGE_VERSION}).close()
        write_publication_calendar(p)
        _dbt_build_as_of(p, as_of, select, building)
        os.replace(building, target)
        shutil.rmtree(workdir, ignore_errors=True)
    return target


def _dbt_build_as_of(p: Paths, as_of: date, select: str, building: Path) -> None:
    from dagster_project.resources import dbt_env, dbt_resource, dbt_run_vars_env, scoped_environ

    env = {**dbt_env(p), "DEALERFLOW_WAREHOUSE": str(building), **dbt_run_vars_env({"as_of": as_of.isoformat()})}
    with scoped_environ(env):
        invocation = dbt_resource().cli(
            ["build", "--select", select, "--full-refresh"],
            raise_on_error=False, target_path=p.home / "dbt" / "target" / f"asof-{as_of.isoformat()}")
        invocation.wait()
    raise_for_dbt(invocation, f"dbt build as of {as_of}")


def summary(p: Paths | None = None) -> str:
    """A short, human summary of what the warehouse holds (read from the BI snapshot)."""
    from dagster_project.warehouse import connect_snapshot

    p = p or paths()
    with connect_snapshot(p) as con:
        weeks, first, last = con.execute(
            "select count(distinct week_start_date), min(week_start_date), max(week_start_date) from marts.venue_share_weekly"
        ).fetchone()
        raw_rows = con.execute("select coalesce(sum(row_count), 0) from intermediate.int_finra_weekly_current_versions").fetchone()[0]
        complete = con.execute(
            "select max(week_start_date) from marts.venue_share_weekly_all_tiers where is_complete").fetchone()[0]
        provisional = con.execute(
            "select count(distinct week_start_date) from marts.venue_share_weekly_all_tiers where not is_complete").fetchone()[0]
        shown = complete or last  # with no complete week yet, show the latest one and say it is provisional
        top = con.execute(
            """select combined_rank, mpid, venue_name, combined_share from marts.venue_share_weekly_all_tiers
               where venue_kind = 'ATS' and week_start_date = ? order by combined_rank limit 5""", [shown]).fetchall()
    lines = [
        f"FINRA weekly OTC transparency: {weeks} weeks ({first} .. {last}), {raw_rows:,} raw rows in current versions",
        (f"complete weeks through {complete}; " if complete else "no week has every tier published yet; ")
        + f"{provisional} recent week(s) provisional (Tier 2/OTC not yet published)",
        f"top ATS venues, all tiers, week of {shown}{'' if complete else ' (provisional)'}:",
    ]
    lines += [f"  {rank:>2}. {mpid:<5} {name[:40]:<40} {share:6.2%}" for rank, mpid, name, share in top]
    lines.append(f"BI snapshot (read-only, DuckDB >= 1.4 clients): {p.bi_snapshot}")
    return "\n".join(lines)


def weeks_between(start: date, end: date) -> list[date]:
    first, weeks = week_start(start), []
    while first <= end:
        weeks.append(first)
        first += timedelta(days=7)
    return weeks


def run_finra_monthly(start: date, end: date, source: str = "live", replay_dir: str | None = None,
                      scale: float | None = None, p: Paths | None = None) -> str:
    """Backfill the months from ``start``'s month to ``end``'s month as one Dagster run; raise on any failure."""
    from dagster_project.definitions import build_defs
    from dagster_project.resources import FinraSourceResource

    p = p or paths()
    prepare_dagster_home(p)
    finra_kwargs = {"mode": source, "replay_dir": str(Path(replay_dir).resolve()) if replay_dir else ""}
    if scale is not None:
        finra_kwargs["synthetic_scale"] = scale
    defs = build_defs(finra=FinraSourceResource(**finra_kwargs), home=str(p.home))
    first, last = start.replace(day=1), end.replace(day=1)
    with dg.DagsterInstance.get() as instance:
        job = defs.resolve_job_def("finra_monthly")
        result = execute(job, instance, first.isoformat(), last.isoformat())
    raise_for_result(result, f"months {first:%Y-%m}..{last:%Y-%m}")
    return f"run {result.run_id}: FINRA monthly {first:%Y-%m}..{last:%Y-%m} succeeded"


def run_options(start: date, end: date, underlyings: list[str] | None = None, source: str = "live",
                replay_dir: str | None = None, p: Paths | None = None) -> str:
    """Backfill trade dates [start, end] x underlyings (chains, OCC, GEX, marts) as one run per contiguous block of
    underlyings in their configured order; raise on any failure or failed check."""
    from dagster_project.definitions import build_defs
    from dagster_project.partitions import options_key, options_underlyings
    from dagster_project.resources import OptionsSourceResource

    p = p or paths()
    prepare_dagster_home(p)
    configured = options_underlyings()
    chosen = [u.upper() for u in (underlyings or configured)]
    unknown = [u for u in chosen if u not in configured]
    if unknown:
        raise DealerflowError(f"underlying(s) {', '.join(unknown)} not configured; partitions exist for "
                              f"{', '.join(configured)} (set DEALERFLOW_OPTIONS_UNDERLYINGS)")
    options = OptionsSourceResource(mode=source, replay_dir=str(Path(replay_dir).resolve()) if replay_dir else "")
    defs = build_defs(home=str(p.home), options=options)
    blocks: list[list[str]] = []
    for u in sorted(set(chosen), key=configured.index):
        if blocks and configured.index(u) == configured.index(blocks[-1][-1]) + 1:
            blocks[-1].append(u)
        else:
            blocks.append([u])
    lines = []
    with dg.DagsterInstance.get() as instance:
        job = defs.resolve_job_def("options_daily")
        for block in blocks:
            result = execute(job, instance, options_key(start, block[0]), options_key(end, block[-1]))
            raise_for_result(result, f"options {start}..{end} {','.join(block)}")
            lines.append(f"run {result.run_id}: options {start}..{end} x {','.join(block)} succeeded")
    return "\n".join(lines)


#: Short-data dataset names (CLI / demo) -> their Dagster job.
SHORT_DATA_DATASETS = ("regsho", "short-interest", "ftd")


def short_data_partition_keys(dataset: str, start: date, end: date) -> list[str]:
    """Partition keys of a short-data dataset within [start, end] (half-months overlapping it for FTD)."""
    from dagster_project.partitions import ftd_partitions, regsho_partitions, short_interest_partitions
    from dagster_project.publication_calendar import ftd_period_key, ftd_periods

    if dataset == "ftd":
        wanted = {ftd_period_key(*p) for p in ftd_periods(start, end)}
        return [k for k in ftd_partitions.get_partition_keys() if k in wanted]
    partitions = {"regsho": regsho_partitions, "short-interest": short_interest_partitions}[dataset]
    return [k for k in partitions.get_partition_keys() if start.isoformat() <= k <= end.isoformat()]


def run_short_data(start: date, end: date, datasets: list[str], source: str = "live", replay_dir: str | None = None,
                   scale: float | None = None, p: Paths | None = None,
                   windows: dict[str, tuple[date, date]] | None = None) -> str:
    """Backfill Reg SHO / short interest / FTD partitions in [start, end] (or a dataset's own window), one run per
    dataset; the short_data marts are rebuilt once, in the last run. Raise on any failure."""
    from dagster_project.assets.short_data import RAW_KEYS
    from dagster_project.definitions import build_defs
    from dagster_project.jobs import SHORT_DATA_JOBS
    from dagster_project.resources import ShortDataSourceResource

    p = p or paths()
    prepare_dagster_home(p)
    kwargs = {"mode": source, "replay_dir": str(Path(replay_dir).resolve()) if replay_dir else ""}
    if scale is not None:
        kwargs["synthetic_scale"] = scale
    defs = build_defs(short_data=ShortDataSourceResource(**kwargs), home=str(p.home))
    planned = [(d, short_data_partition_keys(d, *(windows or {}).get(d, (start, end)))) for d in datasets]
    lines = [f"{d}: no partition in {'..'.join(map(str, (windows or {}).get(d, (start, end))))}" for d, k in planned if not k]
    planned = [(d, k) for d, k in planned if k]
    with dg.DagsterInstance.get() as instance:
        for i, (dataset, keys) in enumerate(planned):
            last = i == len(planned) - 1
            reclaim_crashed_runs(instance)
            tags = {ASSET_PARTITION_RANGE_START_TAG: keys[0], ASSET_PARTITION_RANGE_END_TAG: keys[-1], **runner_tags()}
            result = defs.resolve_job_def(SHORT_DATA_JOBS[dataset]).execute_in_process(
                instance=instance, raise_on_error=False, run_config=quiet_run_config(), tags=tags,
                asset_selection=None if last else [RAW_KEYS[dataset]])
            raise_for_result(result, f"{dataset} {keys[0]}..{keys[-1]}")
            lines.append(f"run {result.run_id}: {dataset} {keys[0]}..{keys[-1]} ({len(keys)} partitions) succeeded"
                         + ("; short_data marts rebuilt" if last else ""))
    return "\n".join(lines)


def short_data_summary(p: Paths | None = None) -> str:
    """Row counts and date ranges of the short and settlement marts (read from the BI snapshot)."""
    from dagster_project.warehouse import connect_snapshot

    p = p or paths()
    marts = [("short_volume_daily", "trade_date"), ("short_volume_weekly", "week_start_date"),
             ("dark_short_index_daily", "trade_date"), ("short_interest", "settlement_date"),
             ("fails_to_deliver", "settlement_date"), ("fails_to_deliver_weekly", "week_start_date")]
    lines = ["short and settlement marts:"]
    with connect_snapshot(p) as con:
        for name, column in marts:
            rows, first, last = con.execute(f"select count(*), min({column}), max({column}) from marts.{name}").fetchone()
            lines.append(f"  marts.{name:<24} {rows:>9,} rows  {first} .. {last}")
        weighting = con.execute("select string_agg(distinct universe || '/' || weighting, ', ') "
                                "from marts.dark_short_index_daily").fetchone()[0]
    lines.append(f"  dark short index universe/weighting: {weighting}")
    return "\n".join(lines)


def options_summary(p: Paths | None = None) -> str:
    """Options marts in the BI snapshot: row counts and the newest trade date's GEX levels."""
    from dagster_project.warehouse import connect_snapshot

    p = p or paths()
    with connect_snapshot(p) as con:
        counts = {t: con.execute(f"select count(*) from marts.{t}").fetchone()[0]
                  for t in ("gex_levels_daily", "gex_by_strike", "occ_volume_daily")}
        first, last = con.execute("select min(as_of_date), max(as_of_date) from marts.gex_levels_daily").fetchone()
        levels = con.execute(
            """select underlying, spot, total_gex_usd_per_1pct, zero_gamma, call_wall, put_wall, regime
               from marts.gex_levels_daily where as_of_date = ? order by underlying""", [last]).fetchall()
    lines = [f"options: gex_levels_daily {counts['gex_levels_daily']:,} rows ({first} .. {last}), gex_by_strike "
             f"{counts['gex_by_strike']:,} rows, occ_volume_daily {counts['occ_volume_daily']:,} rows",
             f"GEX levels on {last} ($bn per 1% move):"]
    for u, spot, total, zero, call_wall, put_wall, regime in levels:
        zg = f"{zero:,.1f}" if zero is not None else "none"
        lines.append(f"  {u:<4} spot {spot:>10,.2f}  GEX {float(total) / 1e9:>7.2f} ({regime})  zero gamma {zg:>9}  "
                     f"call wall {call_wall:,.0f}  put wall {put_wall:,.0f}")
    return "\n".join(lines)


def run_dealer_flow(p: Paths | None = None) -> str:
    """Rebuild the dealer-flow view (Dagster job ``dealer_flow``) from the marts already built; raise on failure."""
    from dagster_project.definitions import build_defs

    p = p or paths()
    prepare_dagster_home(p)
    defs = build_defs(home=str(p.home))
    with dg.DagsterInstance.get() as instance:
        reclaim_crashed_runs(instance)
        result = defs.resolve_job_def("dealer_flow").execute_in_process(
            instance=instance, raise_on_error=False, run_config=quiet_run_config(), tags=runner_tags())
    raise_for_result(result, "dealer_flow")
    return f"run {result.run_id}: dealer-flow view rebuilt"


def dealer_flow_summary(p: Paths | None = None, symbols: tuple[str, ...] = ("SPY", "QQQ")) -> str:
    """The latest dealer-flow rows of a few symbols: the newest week with GEX and the newest with FINRA data."""
    from dagster_project.warehouse import connect_snapshot

    p = p or paths()
    lines = []
    with connect_snapshot(p) as con:
        rows, weeks = con.execute("select count(*), count(distinct week_start_date) from marts.dealer_flow_weekly").fetchone()
        lines.append(f"dealer_flow_weekly: {rows:,} rows over {weeks} weeks; latest rows for {', '.join(symbols)}:")
        for symbol in symbols:
            found = con.execute(
                """select week_start_date, gex_status, total_gex_usd_per_1pct, zero_gamma, gex_regime, occ_status,
                          occ_customer_put_call_ratio, finra_status, ats_fraction, ats_persistence_weeks,
                          short_volume_status, short_ratio, short_interest
                   from marts.dealer_flow_weekly
                   where symbol = ? and week_start_date in (
                       (select max(week_start_date) from marts.dealer_flow_weekly where symbol = ? and gex_status <> 'missing'),
                       (select max(week_start_date) from marts.dealer_flow_weekly where symbol = ? and finra_status <> 'missing'))
                   order by week_start_date""", [symbol, symbol, symbol]).fetchall()
            for (week, gex_status, gex, zero, regime, occ_status, pcr, finra_status, ats, persistence, sv_status, ratio,
                 si) in found:
                gex_text = f"GEX {float(gex) / 1e9:+.2f}bn ({regime}, zero gamma {zero:,.1f})" if gex is not None and zero is not None \
                    else (f"GEX {float(gex) / 1e9:+.2f}bn ({regime})" if gex is not None else "GEX -")
                lines.append(
                    f"  {symbol:<4} {week}  {gex_text} [{gex_status}]  OCC cust P/C "
                    f"{'-' if pcr is None else f'{pcr:.2f}'} [{occ_status}]  ATS frac "
                    f"{'-' if ats is None else f'{ats:.1%}'} persist {'-' if persistence is None else persistence} "
                    f"[{finra_status}]  short ratio {'-' if ratio is None else f'{ratio:.1%}'} [{sv_status}]  "
                    f"SI {'-' if si is None else f'{si:,}'}")
    return "\n".join(lines)
