"""Run dealerflow's Dagster jobs in process (CLI, demo, tests) and turn failures into one clear message."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import dagster as dg
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

from dagster_project.errors import DealerflowError
from dagster_project.instance import prepare_dagster_home
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
    """Execute ``job`` in process over one partition, or one rectangle of partitions as a single run."""
    if str(first_key) == str(last_key):
        return job.execute_in_process(instance=instance, partition_key=str(first_key), raise_on_error=False,
                                      run_config=quiet_run_config())
    return job.execute_in_process(instance=instance, raise_on_error=False, run_config=quiet_run_config(), tags={
        ASSET_PARTITION_RANGE_START_TAG: str(first_key), ASSET_PARTITION_RANGE_END_TAG: str(last_key)})


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
    job = defs.resolve_job_def("finra_weekly")
    first, last = week_start(start), week_start(end)
    lines = []
    with dg.DagsterInstance.get() as instance:
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
        if not evaluation.passed:
            details = {k: v.value for k, v in (evaluation.metadata or {}).items()}
            detail = next((v for v in details.values() if isinstance(v, list) and v), details)
            problems.append(f"check {evaluation.asset_check_key.name} failed: {detail}")
    if problems or not result.success:
        raise DealerflowError(f"{what}: " + (" | ".join(problems) if problems else "run failed"))


#: dbt tag -> the lake datasets its models read. `dealerflow build` builds a tag only once its data is landed
#: (DuckDB cannot scan an empty glob). Each dataset registers its tag here.
DBT_TAG_LAKE_DATASETS: dict[str, tuple[str, ...]] = {"finra_weekly": ("finra_weekly",)}


def _landed(p: Paths, dataset: str) -> bool:
    return any((p.lake / dataset).glob("**/v=*/manifest.json"))


def build_all(p: Paths | None = None) -> str:
    """Rebuild every dbt model whose lake data exists, then publish the BI snapshot."""
    from dagster_project.resources import WarehouseResource, dbt_resource

    p = p or paths()
    tags = [tag for tag, datasets in DBT_TAG_LAKE_DATASETS.items() if all(_landed(p, d) for d in datasets)]
    if not tags:
        raise DealerflowError(f"{p.lake}: the lake holds no data yet; run `dealerflow backfill` or `dealerflow import` first")
    warehouse = WarehouseResource(home=str(p.home))
    with warehouse.writing():
        select = " ".join(f"tag:{t}" for t in tags)
        invocation = dbt_resource().cli(["build", "--select", select], raise_on_error=False)
        invocation.wait()
        if not invocation.is_successful():
            failed = [r.get("unique_id") for r in invocation.get_artifact("run_results.json").get("results", [])
                      if r.get("status") in ("error", "fail")]
            raise DealerflowError(f"dbt build failed: {', '.join(failed) or 'see dbt log'}")
        target = warehouse.publish()
    return f"built all marts; BI snapshot: {target}"


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
        top = con.execute(
            """select combined_rank, mpid, venue_name, combined_share from marts.venue_share_weekly_all_tiers
               where venue_kind = 'ATS' and week_start_date = ? order by combined_rank limit 5""", [complete]).fetchall()
    lines = [
        f"FINRA weekly OTC transparency: {weeks} weeks ({first} .. {last}), {raw_rows:,} raw rows in current versions",
        f"complete weeks through {complete}; {provisional} recent week(s) provisional (Tier 2/OTC not yet published)",
        f"top ATS venues, all tiers, week of {complete}:",
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
