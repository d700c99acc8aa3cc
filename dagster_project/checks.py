"""Asset checks that validate built warehouse data (the raw assets carry their own checks)."""

import dagster as dg

from dagster_project.partitions import run_partition_keys, week_tier_partitions, week_tiers_of
from dagster_project.resources import HomeResource

STAGING_KEY = dg.AssetKey(["staging", "stg_finra__weekly_summary"])


@dg.asset_check(asset=STAGING_KEY, blocking=True,
                description="Great Expectations suite expectations/finra_weekly_staging.json on the staging rows "
                            "(every landed version) of the weeks and tiers the run rebuilt, read from the BI snapshot.")
def finra_weekly_staging_expectations(context: dg.AssetCheckExecutionContext, home: HomeResource) -> dg.AssetCheckResult:
    import duckdb

    from dagster_project.expectations import validate

    pairs = week_tiers_of(run_partition_keys(context.run.tags, week_tier_partitions))
    if not pairs:
        return dg.AssetCheckResult(passed=True, metadata={"note": "run without partitions: nothing to validate"})
    weeks = sorted({w for w, _ in pairs})
    tiers = sorted({t for _, t in pairs})
    with duckdb.connect(str(home.paths.bi_snapshot), read_only=True) as con:
        frame = con.execute("""select * from staging.stg_finra__weekly_summary
                               where week_start_date between ? and ? and list_contains(?, tier)""",
                            [weeks[0], weeks[-1], tiers]).df()
    result = validate("finra_weekly_staging", frame)
    return dg.AssetCheckResult(passed=result.success, metadata={"rows": len(frame), "summary": result.summary(),
                                                                "failures": result.failures})
