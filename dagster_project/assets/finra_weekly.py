"""FINRA weekly OTC transparency: the raw lake asset, partitioned by week x tier, with its checks."""


from datetime import date

import dagster as dg
import pandas as pd
import pyarrow.parquet as pq

from dagster_project.errors import DealerflowError
from dagster_project.landing.finra_weekly import LandedPartition, land_api_partition
from dagster_project.partitions import week_tier_partitions, week_tiers_of
from dagster_project.publication_calendar import finra_weekly_due
from dagster_project.resources import FinraSourceResource, HomeResource
from dagster_project.sources.finra_weekly import DATASET, lake_partition

RAW_KEY = dg.AssetKey(["raw", "finra_weekly"])
GX_CHUNK_ROWS = 2_000_000

CHECKS = [
    dg.AssetCheckSpec("fetch_succeeded", asset=RAW_KEY, blocking=False,
                      description="Every requested, published partition was fetched and landed; failures name the partition."),
    dg.AssetCheckSpec("rows_match_record_total", asset=RAW_KEY, blocking=True,
                      description="Rows landed for each (week, tier) equal FINRA's Record-Total for the fetch."),
    dg.AssetCheckSpec("published_window", asset=RAW_KEY, blocking=True,
                      description="No partition holds data before its publication due date (calendar) and no row "
                                  "claims initial publication before it."),
    dg.AssetCheckSpec("raw_expectations", asset=RAW_KEY, blocking=True,
                      description="Great Expectations suite expectations/finra_weekly_raw.json on the landed rows."),
]


@dg.asset(
    key=RAW_KEY,
    partitions_def=week_tier_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    check_specs=CHECKS,
    group_name="finra_weekly",
    kinds={"python", "parquet"},
    description="FINRA weekly OTC transparency (ATS and non-ATS, all summary grains) landed immutably in the lake, "
                "one version per restatement. Unpublished partitions in a range are skipped with a reason.",
    tags={"dealerflow/source": "finra"},
)
def finra_weekly_raw(context: dg.AssetExecutionContext, home: HomeResource, finra: FinraSourceResource):
    lake, today = home.lake, date.today()
    client = finra.client(home.paths)
    pairs = week_tiers_of(context.partition_keys)
    # The availability sensor tags runs for partitions FINRA already lists, even ahead of the calendar.
    source_confirmed = context.run.tags.get("dealerflow/source_confirmed") == "true"
    landed: list[LandedPartition] = []
    skipped, failed = [], []
    for week, tier in pairs:
        due = finra_weekly_due(week, tier)
        if due > today and not source_confirmed:
            skipped.append(f"{week} {tier}: not published until {due}")
            continue
        try:
            landed.extend(land_api_partition(client, lake, week, tier, today, origin=finra.mode))
        except DealerflowError as exc:
            context.log.error(str(exc))
            failed.append(str(exc))
    for reason in skipped:
        context.log.info(f"skipped {reason}")
    if failed and len(failed) == len(pairs) - len(skipped):
        raise dg.Failure(description="; ".join(failed), metadata={"failed": failed})

    yield dg.MaterializeResult(
        asset_key=RAW_KEY,
        metadata={
            "partitions_landed": len({(p.week, p.tier) for p in landed}),
            "new_versions": sum(p.is_new for p in landed),
            "rows": sum(p.rows for p in landed),
            "skipped_unpublished": skipped,
            "failed": failed,
            "source": finra.mode,
        },
    )
    yield dg.AssetCheckResult(check_name="fetch_succeeded", passed=not failed, asset_key=RAW_KEY,
                              severity=dg.AssetCheckSeverity.ERROR, metadata={"failed": failed})
    yield _record_total_check(landed)
    yield _published_window_check(landed, today, source_confirmed)
    yield _expectations_check(home, landed)


def _record_total_check(landed: list[LandedPartition]) -> dg.AssetCheckResult:
    by_partition: dict[tuple, list[LandedPartition]] = {}
    for p in landed:
        by_partition.setdefault((p.week, p.tier), []).append(p)
    mismatches = [f"{w} {t}: {sum(p.rows for p in ps)} rows vs Record-Total {ps[0].record_total}"
                  for (w, t), ps in by_partition.items()
                  if ps[0].record_total is not None and sum(p.rows for p in ps) != ps[0].record_total]
    return dg.AssetCheckResult(check_name="rows_match_record_total", passed=not mismatches, asset_key=RAW_KEY,
                               metadata={"partitions": len(by_partition), "mismatches": mismatches})


def _published_window_check(landed: list[LandedPartition], today: date, source_confirmed: bool) -> dg.AssetCheckResult:
    """Data ahead of the calendar is an error, unless FINRA itself listed it: then the calendar is what is off,
    and the check warns (the data lands; the rule should be reviewed)."""
    early = [f"{p.week} {p.tier}: landed before due date {finra_weekly_due(p.week, p.tier)}"
             for p in landed if finra_weekly_due(p.week, p.tier) > today]
    early += [f"{p.week} {p.tier} {p.kind}: initialPublishedDate {p.first_published} precedes due date "
              f"{finra_weekly_due(p.week, p.tier)}" for p in landed
              if p.first_published is not None and p.first_published < finra_weekly_due(p.week, p.tier)]
    severity = dg.AssetCheckSeverity.WARN if source_confirmed else dg.AssetCheckSeverity.ERROR
    return dg.AssetCheckResult(check_name="published_window", passed=not early, asset_key=RAW_KEY,
                               severity=severity, metadata={"violations": early})


def _expectations_check(home: HomeResource, landed: list[LandedPartition]) -> dg.AssetCheckResult:
    """Validate the rows of every new version in chunks (GX has a fixed cost per validation)."""
    from dagster_project.expectations import validate

    new = [p for p in landed if p.is_new and p.rows]
    results, chunk, chunk_rows = [], [], 0

    def flush():
        if chunk:
            frame = pd.concat(chunk, ignore_index=True)
            results.append(validate("finra_weekly_raw", frame))
            chunk.clear()

    for p in new:
        version = home.lake.latest(DATASET, lake_partition(p.week, p.tier, p.kind))
        table = pq.read_table(version.data_path).drop_columns(["_version_id", "_landed_at", "_content_hash"])
        chunk.append(table.to_pandas())
        chunk_rows += table.num_rows
        if chunk_rows >= GX_CHUNK_ROWS:
            flush()
            chunk_rows = 0
    flush()
    failures = [r.summary() for r in results if not r.success]
    return dg.AssetCheckResult(check_name="raw_expectations", passed=not failures, asset_key=RAW_KEY,
                               metadata={"validated_versions": len(new), "failures": failures})
