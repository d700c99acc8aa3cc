"""Asset checks that validate built warehouse data (the raw assets carry their own checks)."""

import dagster as dg

from dagster_project.partitions import run_partition_keys, week_tier_partitions, week_tiers_of
from dagster_project.resources import HomeResource

STAGING_KEY = dg.AssetKey(["staging", "stg_finra__weekly_summary"])


@dg.asset_check(asset=STAGING_KEY, blocking=True,
                description="Great Expectations suite expectations/finra_weekly_staging.json on the staging rows "
                            "(every landed version) of the weeks and tiers the run rebuilt, read from the BI snapshot.")
def finra_weekly_staging_expectations(context: dg.AssetCheckExecutionContext, home: HomeResource) -> dg.AssetCheckResult:
    """Validated week by week (one week of rows in memory at a time, so a multi-year backfill stays bounded)."""
    from dagster_project.expectations import validate
    from dagster_project.warehouse import connect_snapshot

    pairs = week_tiers_of(run_partition_keys(context.run.tags, week_tier_partitions))
    if not pairs:
        return dg.AssetCheckResult(passed=True, metadata={"note": "run without partitions: nothing to validate"})
    weeks = sorted({w for w, _ in pairs})
    tiers = sorted({t for _, t in pairs})
    rows, failures = 0, []
    with connect_snapshot(home.paths) as con:
        for week in weeks:
            table = con.sql("""select * from staging.stg_finra__weekly_summary
                               where week_start_date = ? and list_contains(?, tier)""", params=[week, tiers]).to_arrow_table()
            if not table.num_rows:
                continue
            rows += table.num_rows
            result = validate("finra_weekly_staging", table)
            if not result.success:
                failures.append(f"week {week}: {result.summary()}")
    return dg.AssetCheckResult(passed=not failures, metadata={"rows": rows, "weeks": len(weeks), "failures": failures})
