"""Asset checks that validate built warehouse data (the raw assets carry their own checks)."""

import dagster as dg

from dagster_project.partitions import run_partition_keys, week_tier_partitions, week_tiers_of
from dagster_project.resources import FinraSourceResource, HomeResource

STAGING_KEY = dg.AssetKey(["staging", "stg_finra__weekly_summary"])


@dg.asset_check(asset=STAGING_KEY, blocking=True,
                description="Great Expectations suite expectations/finra_weekly_staging.json on the staging rows "
                            "(every landed version) of the weeks and tiers the run rebuilt, read from the BI snapshot.")
def finra_weekly_staging_expectations(context: dg.AssetCheckExecutionContext, home: HomeResource,
                                      finra: FinraSourceResource) -> dg.AssetCheckResult:
    """Validated week by week (one week of rows in memory per process, so a multi-year backfill stays bounded), in
    the landing worker processes when the run has many weeks."""
    pairs = week_tiers_of(run_partition_keys(context.run.tags, week_tier_partitions))
    if not pairs:
        return dg.AssetCheckResult(passed=True, metadata={"note": "run without partitions: nothing to validate"})
    weeks = sorted({w for w, _ in pairs})
    tiers = sorted({t for _, t in pairs})
    outcomes = validate_staging_weeks(str(home.paths.home), weeks, tiers, finra.workers())
    failures = [f"week {week}: {result.summary()}" for week, (_, result) in zip(weeks, outcomes)
                if result is not None and not result.success]
    return dg.AssetCheckResult(passed=not failures, metadata={"rows": sum(n for n, _ in outcomes), "weeks": len(weeks),
                                                              "failures": failures})


STAGING_WEEK_SQL = "select * from staging.stg_finra__weekly_summary where week_start_date = ? and list_contains(?, tier)"
#: Below this many weeks, starting worker processes (each imports GX, ~3 s) costs more than it saves.
PARALLEL_MIN_WEEKS = 8


def validate_staging_weeks(home: str, weeks: list, tiers: list[str], workers: int,
                           min_weeks: int = PARALLEL_MIN_WEEKS) -> list:
    """(rows, SuiteResult or None) of each week, validated in ``workers`` spawned processes when there are at least
    ``min_weeks`` weeks (208 weeks of 450k rows: ~1.35 s each, about half of it GX)."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    from dagster_project.errors import DealerflowError
    from dagster_project.expectations import validate_snapshot_query

    args = [(home, "finra_weekly_staging", STAGING_WEEK_SQL, [week, tiers]) for week in weeks]
    if workers <= 1 or len(weeks) < min_weeks:
        return [validate_snapshot_query(*a) for a in args]
    context = multiprocessing.get_context("spawn")  # never fork a process that runs threads (Dagster, DuckDB)
    try:
        with ProcessPoolExecutor(max_workers=min(workers, len(weeks)), mp_context=context) as pool:
            return list(pool.map(validate_snapshot_query, *zip(*args)))
    except BrokenProcessPool as exc:
        raise DealerflowError(f"a staging validation worker process died ({exc}) while validating weeks "
                              f"{weeks[0]}..{weeks[-1]}; nothing was changed: rerun the check") from exc
