"""FINRA monthly data (block-size summaries, non-ATS monthly totals): raw lake assets with checks, and their dbt models."""

from datetime import date

import dagster as dg
import pandas as pd
import pyarrow.parquet as pq

from dagster_project.errors import DealerflowError
from dagster_project.landing.finra_monthly import LandedMonth, land_month
from dagster_project.lake import META_COLUMNS
from dagster_project.partitions import monthly_partitions, months_of
from dagster_project.publication_calendar import finra_monthly_due
from dagster_project.resources import FinraSourceResource, HomeResource
from dagster_project.sources import finra_monthly as fm

RAW_KEYS = {d.lake_name: dg.AssetKey(["raw", d.lake_name]) for d in fm.DATASETS}
#: Great Expectations suite (expectations/<name>.json) per lake dataset.
SUITES = {fm.ATS_BLOCKS.lake_name: "finra_monthly_ats_blocks_raw", fm.OTC_BLOCKS.lake_name: "finra_monthly_otc_blocks_raw",
          fm.MONTHLY_SUMMARY.lake_name: "finra_monthly_summary_raw"}
#: Invariants of the block datasets, checked on every landed month: (check name, function, description).
BLOCK_INVARIANTS = (
    ("block_category_nesting", fm.nesting_violations,
     "Per venue and month, 10K-200K <= min(10K, 200K) and 2K-100K <= min(2K, 100K), in trades and in shares."),
    ("block_within_total", fm.within_total_violations,
     "Per venue, month and category, block trades and shares do not exceed the venue's total trades and shares."),
    ("block_categories_complete", fm.category_coverage_violations,
     "Every venue of a month appears once in each of the six block categories."),
)


def _checks() -> list[dg.AssetCheckSpec]:
    specs = []
    for dataset in fm.DATASETS:
        key = RAW_KEYS[dataset.lake_name]
        specs += [
            dg.AssetCheckSpec("fetch_succeeded", asset=key, blocking=False,
                              description="Every requested, published month was fetched and landed; failures name it."),
            dg.AssetCheckSpec("rows_match_record_total", asset=key, blocking=True,
                              description="Rows landed for each partition equal FINRA's Record-Total for the fetch."),
            dg.AssetCheckSpec("published_window", asset=key, blocking=True,
                              description="No month is landed before its publication due date (calendar) and no row "
                                          "claims initial publication before it."),
            dg.AssetCheckSpec("raw_expectations", asset=key, blocking=True,
                              description=f"Great Expectations suite expectations/{SUITES[dataset.lake_name]}.json."),
        ]
        if dataset.kind:
            specs += [dg.AssetCheckSpec(name, asset=key, blocking=True, description=text)
                      for name, _fn, text in BLOCK_INVARIANTS]
    return specs


def monthly_client(finra: FinraSourceResource, home: HomeResource):
    """The FINRA source for monthly datasets: the synthetic monthly stand-in, or the resource's live/replay client."""
    if finra.mode == "synthetic":
        from dagster_project.synthetic.finra_monthly import SyntheticFinraMonthlyClient
        from dagster_project.synthetic.finra_weekly import WeeklyConfig

        return SyntheticFinraMonthlyClient(home.paths.home / "synthetic",
                                           WeeklyConfig(finra.synthetic_seed, finra.synthetic_scale))
    return finra.client(home.paths)


@dg.multi_asset(
    name="finra_monthly_raw",
    specs=[dg.AssetSpec(RAW_KEYS[d.lake_name], group_name="finra_monthly", kinds={"python", "parquet"},
                        tags={"dealerflow/source": "finra"},
                        description=f"FINRA Query API {d.api_name} landed immutably in the lake, one version per "
                                    f"restatement (partition month" + (" x tier" if d.tiers else "") + ").")
           for d in fm.DATASETS],
    partitions_def=monthly_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    check_specs=_checks(),
)
def finra_monthly_raw(context: dg.AssetExecutionContext, home: HomeResource, finra: FinraSourceResource):
    """Fetch blocksSummary, otcBlocksSummary and monthlySummary for the run's months; unpublished months are skipped."""
    lake, today = home.lake, date.today()
    client = monthly_client(finra, home)
    months = months_of(context.partition_keys)
    landed: dict[str, list[LandedMonth]] = {d.lake_name: [] for d in fm.DATASETS}
    failed: dict[str, list[str]] = {d.lake_name: [] for d in fm.DATASETS}
    skipped, attempted = [], 0
    for month in months:
        due = finra_monthly_due(month)
        if due > today:
            skipped.append(f"{month:%Y-%m}: not published until {due}")
            continue
        for dataset in fm.DATASETS:
            for tier in dataset.partitions(month):
                attempted += 1
                try:
                    landed[dataset.lake_name].append(land_month(client, lake, dataset, month, tier, origin=finra.mode))
                except DealerflowError as exc:
                    context.log.error(str(exc))
                    failed[dataset.lake_name].append(str(exc))
    for reason in skipped:
        context.log.info(f"skipped {reason}")
    all_failed = [f for fs in failed.values() for f in fs]
    if all_failed and len(all_failed) == attempted:
        raise dg.Failure(description="; ".join(all_failed), metadata={"failed": all_failed})

    for dataset in fm.DATASETS:
        key, parts = RAW_KEYS[dataset.lake_name], landed[dataset.lake_name]
        yield dg.MaterializeResult(asset_key=key, metadata={
            "partitions_landed": len(parts), "new_versions": sum(p.is_new for p in parts),
            "rows": sum(p.rows for p in parts), "skipped_unpublished": skipped,
            "failed": failed[dataset.lake_name], "source": finra.mode})
        yield dg.AssetCheckResult(check_name="fetch_succeeded", asset_key=key, passed=not failed[dataset.lake_name],
                                  severity=dg.AssetCheckSeverity.ERROR, metadata={"failed": failed[dataset.lake_name]})
        mismatches = [f"{p.what}: {p.rows} rows vs Record-Total {p.record_total}" for p in parts if p.rows != p.record_total]
        yield dg.AssetCheckResult(check_name="rows_match_record_total", asset_key=key, passed=not mismatches,
                                  metadata={"partitions": len(parts), "mismatches": mismatches})
        early = published_window_violations(parts, today)
        yield dg.AssetCheckResult(check_name="published_window", asset_key=key, passed=not early,
                                  metadata={"violations": early})
        tables = {p: _read(home, dataset, p) for p in parts}
        yield _expectations_check(dataset, key, [t for p, t in tables.items() if p.is_new and p.rows])
        if dataset.kind:
            for name, fn, _text in BLOCK_INVARIANTS:
                violations = [v for t in tables.values() for v in fn(dataset, t)]
                yield dg.AssetCheckResult(check_name=name, asset_key=key, passed=not violations,
                                          metadata={"months": len(tables), "violations": violations[:50],
                                                    "violation_count": len(violations)})


def published_window_violations(parts: list[LandedMonth], today: date) -> list[str]:
    """Months landed before their due date, or whose rows claim initial publication before it."""
    out = [f"{p.what}: landed {today} before due date {finra_monthly_due(p.month)}"
           for p in parts if finra_monthly_due(p.month) > today]
    out += [f"{p.what}: initialPublishedDate {p.first_published} precedes due date {finra_monthly_due(p.month)}"
            for p in parts if p.first_published is not None and p.first_published < finra_monthly_due(p.month)]
    return out


def _read(home: HomeResource, dataset: fm.MonthlyDataset, part: LandedMonth):
    version = home.lake.latest(dataset.lake_name, dataset.lake_partition(part.month, part.tier))
    return pq.read_table(version.data_path).drop_columns(list(META_COLUMNS))


def _expectations_check(dataset: fm.MonthlyDataset, key: dg.AssetKey, tables) -> dg.AssetCheckResult:
    from dagster_project.expectations import validate

    result = validate(SUITES[dataset.lake_name], pd.concat([t.to_pandas() for t in tables], ignore_index=True)) if tables else None
    failures = [result.summary()] if result is not None and not result.success else []
    return dg.AssetCheckResult(check_name="raw_expectations", asset_key=key, passed=not failures,
                               metadata={"validated_versions": len(tables), "failures": failures})
